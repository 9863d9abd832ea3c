/**
 * Where bench results go and what every results file records about the run that produced it.
 *
 *  - Full runs write `bench/results/<name>.json` (committed: README figures come from these files).
 *  - `--quick` runs write `bench/results/quick/<name>.json` (git-ignored), so a quick run never
 *    overwrites the committed full results and leaves `git status` clean.
 *  - `--out DIR` (or EDGEWATCH_BENCH_OUT, which the runner sets for its children) overrides both.
 *
 * Provenance (the `provenance` member of every results file): git commit (and whether the tree had
 * uncommitted changes), sha256 of the .wasm measured, Node and V8 versions, CPU model, cores, the
 * 1/5/15-minute load average before and after the run (information only), `foreign_cpu` — the CPU
 * the rest of the machine used while the bench ran (harness/bench/foreign-cpu.ts: /proc/stat busy
 * time minus the bench's own process tree), `cpu_probe_before`/`_after` — a fixed pure-JS workload
 * timed in fresh processes (cpu-probe.ts: the hypervisor's slowdowns that foreign CPU cannot see),
 * with the ns of a cold memory load per CPU (`mem_ns`: a pointer chase in the same processes),
 * `page_fault_probe` — what one fresh page of memory costs here (page-fault-probe.ts) — and `noisy`: true when foreign CPU averaged more than
 * 10 % of one core or any 5 s window exceeded 25 % (neighbours competed for the CPU: wall-clock
 * figures from such a run are not comparable). The load average is not the rule: a bench that
 * saturates the machine itself raises it without being disturbed. Where /proc is not readable the
 * old rule applies (1-minute load average above the core count). The report shows the flag next to
 * every bench.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { arch, cpus, loadavg, platform } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSyncChild } from "../process/child-lifetime.js";
import { clockTicks, ForeignCpuSampler, foreignVerdict, type ForeignCpu } from "./foreign-cpu.js";
import { probeCpu, type CpuProbe } from "./cpu-probe.js";
import { probePageFaults, type PageFaultProbe } from "./page-fault-probe.js";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Committed results of full runs. */
export const COMMITTED_RESULTS_DIR = join(REPO_ROOT, "bench/results");
/** Results of --quick runs (git-ignored). */
export const QUICK_RESULTS_DIR = join(COMMITTED_RESULTS_DIR, "quick");
/** The filter build a bench measures (EDGEWATCH_WASM overrides it). */
export const BENCH_WASM = process.env.EDGEWATCH_WASM ? resolve(process.env.EDGEWATCH_WASM) : join(REPO_ROOT, "build/edgewatch.wasm");

export interface BenchArgs {
  quick: boolean;
  target: string;
  /** Results directory for this run. */
  outDir: string;
}

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** The options every bench script shares: --quick, --target, --out (and the runner's env vars). */
export function benchArgs(argv: string[] = process.argv.slice(2)): BenchArgs {
  const quick = argv.includes("--quick") || process.env.EDGEWATCH_BENCH_QUICK === "1";
  const target = argValue(argv, "--target") ?? process.env.EDGEWATCH_TARGET ?? "embedded";
  const out = argValue(argv, "--out") ?? (process.env.EDGEWATCH_BENCH_OUT || undefined);
  return { quick, target, outDir: out ? resolve(out) : resultsDir(quick) };
}

export function resultsDir(quick: boolean): string {
  return quick ? QUICK_RESULTS_DIR : COMMITTED_RESULTS_DIR;
}

/**
 * glibc malloc settings for bench processes: keep freed memory instead of returning it to the
 * kernel (as Envoy's tcmalloc does). With glibc's defaults every large Buffer (an HTTP body, a
 * shared-data value) is a fresh mmap, and on a VM where a page fault costs 10–12 µs (this one, provenance `page_fault_probe`:
 * copying 700 KB into a fresh Buffer took 2.6 ms, into a reused one 25 µs) those faults, not the
 * filter, would dominate the embedded host's figures. Recorded in every results file.
 */
export const MALLOC_TUNING: Record<string, string> = {
  MALLOC_MMAP_THRESHOLD_: "33554432",
  MALLOC_TRIM_THRESHOLD_: "536870912",
  MALLOC_TOP_PAD_: "67108864",
};

export function mallocTuned(env: NodeJS.ProcessEnv = process.env): boolean {
  return Object.entries(MALLOC_TUNING).every(([k, v]) => env[k] === v);
}

/**
 * V8 young generation for bench:reload: semi-spaces of 1 MiB instead of Node's default 16 MiB. With
 * the default, one scavenge in the reload bench's process took 4–9 ms (--trace-gc), and whichever
 * reload it landed in became the p99. Four interleaved pairs of 200 reloads, 10k CIDRs, 2 workers
 * (2026-12-06): pull p99 4.0–5.0 ms tuned vs 5.6–7.3 default, max 5.0–8.3 vs 11.7–14.8; push-snapshot
 * p99 7.2–9.4 vs 8.6–13.0, max 7.9–14.6 vs 12.5–24.4; p50 and CPU alike. Envoy's C++ host has no such
 * pauses, so they are the embedded host's artefact, not the filter's cost. Recorded in every results
 * file (`node_flags`).
 *
 * And old-generation headroom: the heap may grow to 4× what a full collection left
 * (--heap-growing-percent=300) before the next one starts. Each push leaves a dead canary VM whose
 * wasm memory (0.5 MiB at 10k CIDRs, several MiB at 100k) counts towards V8's old-generation limit
 * until a full collection frees it (Envoy unmaps a canary's memory when it discards it), and with a
 * 17 MiB live heap V8's own growing factor left 1–2 MiB of room: at 100k CIDRs 35–74 of 200 reloads
 * held a full collection's finalisation pause (2–16 ms) and its concurrent marking on the second
 * core. Two interleaved pairs each way (2026-12-07, 2 workers, reload.json gc_major_reloads):
 * push-snapshot 100k 43/35 → 5/5 such reloads, p99 20.2/15.9 → 12.9/14.6 ms, p50 7.3/7.5 → 6.7/6.8;
 * push 100k 64/74 → 23/25, p99 34.3/36.0 → 32.6/27.4; 10k within the noise (push-snapshot p99
 * 7.8/10.7 → 8.5/9.0, push 9.7/10.7 → 9.7/7.2).
 */
export const RELOAD_V8_FLAGS: readonly string[] = ["--max-semi-space-size=1", "--heap-growing-percent=300"];

/** The V8 flags among RELOAD_V8_FLAGS this process runs with. */
function tuningFlags(): string[] {
  return process.execArgv.filter((a) => RELOAD_V8_FLAGS.includes(a));
}

/**
 * Run this bench script under MALLOC_TUNING (and the given V8 flags): when the variables or flags are
 * not set, re-run the same command with them (glibc reads the variables at process start, V8 its
 * heap flags) and exit with its code. Returns only in the tuned process.
 * EDGEWATCH_BENCH_MALLOC=default keeps glibc's defaults, EDGEWATCH_BENCH_V8=default Node's (to compare).
 */
export function ensureBenchTuning(v8Flags: readonly string[] = []): void {
  const wantFlags = process.env.EDGEWATCH_BENCH_V8 === "default" ? [] : v8Flags.filter((f) => !process.execArgv.includes(f));
  const wantMalloc = !mallocTuned() && process.env.EDGEWATCH_BENCH_MALLOC !== "default";
  if (!wantMalloc && wantFlags.length === 0) return;
  // The re-run dies with this process (SIGTERM: it stops its own children), e.g. when a runner's time bound kills it.
  const env = wantMalloc ? { ...process.env, ...MALLOC_TUNING } : process.env;
  const r = spawnSyncChild(process.execPath, [...process.execArgv, ...wantFlags, ...process.argv.slice(1)], { stdio: "inherit", env }, "TERM");
  process.exit(r.status ?? 1);
}

export interface LoadAverage {
  "1m": number;
  "5m": number;
  "15m": number;
}

export interface Provenance {
  bench: string;
  git_commit: string | null;
  /** Tracked files differed from the commit when the run started (bench/results and Markdown excluded: they change nothing a bench runs). */
  git_dirty: boolean | null;
  wasm_path: string;
  wasm_sha256: string | null;
  wasm_bytes: number | null;
  node: string;
  v8: string;
  platform: string;
  cpu_model: string;
  cores: number;
  loadavg_before: LoadAverage;
  loadavg_after: LoadAverage | null;
  /** CPU used by other processes than the bench's own tree during the run (null: /proc not readable). */
  foreign_cpu: ForeignCpu | null;
  /** The machine's speed before and after the run (harness/bench/cpu-probe.ts; null: probe failed). */
  cpu_probe_before: CpuProbe | null;
  cpu_probe_after: CpuProbe | null;
  /** µs per fresh page of memory on this machine (harness/bench/page-fault-probe.ts; null: no fault seen). */
  page_fault_probe: PageFaultProbe | null;
  /** Foreign CPU above its limits (or, without /proc, the 1-minute load average above the core count). */
  noisy: boolean;
  noisy_reason: string | null;
  quick: boolean;
  target: string;
  /** Envoy's version (server_info) on Envoy targets; null on the embedded host. */
  envoy_version: string | null;
  started_at: string;
  finished_at: string | null;
  duration_s: number | null;
  command: string;
  /** glibc malloc settings of the bench process ("default" = glibc's own). */
  malloc: string;
  /** V8 heap flags the bench process runs with (RELOAD_V8_FLAGS; "default" = Node's own). */
  node_flags: string;
}

function load(): LoadAverage {
  const [a, b, c] = loadavg();
  const r = (x: number) => Math.round(x * 100) / 100;
  return { "1m": r(a), "5m": r(b), "15m": r(c) };
}

function git(args: string[]): string | null {
  try {
    return execFileSync("git", args, { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

export function wasmDigest(path: string): { sha256: string | null; bytes: number | null } {
  if (!existsSync(path)) return { sha256: null, bytes: null };
  const bytes = readFileSync(path);
  return { sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length };
}

/**
 * Decide `noisy`: by foreign CPU when it was measured (the load average is then information only),
 * else by the 1-minute load average before or after against the core count.
 */
export function noisyVerdict(cores: number, before: LoadAverage, after: LoadAverage | null, foreign: ForeignCpu | null = null): { noisy: boolean; reason: string | null } {
  if (foreign) {
    const reason = foreignVerdict(foreign);
    return { noisy: reason !== null, reason };
  }
  const worst = Math.max(before["1m"], after?.["1m"] ?? 0);
  if (worst > cores) {
    return { noisy: true, reason: `1-minute load average ${worst} exceeded the ${cores} cores (before ${before["1m"]}, after ${after?.["1m"] ?? "?"}; foreign CPU not measurable here)` };
  }
  return { noisy: false, reason: null };
}

/** Records the run's provenance: call at the start of a bench, `finish()` before writing results. */
export class RunRecord {
  readonly provenance: Provenance;
  private readonly t0 = Date.now();
  private readonly sampler = ForeignCpuSampler.start();

  constructor(bench: string, opts: { quick: boolean; target?: string; wasmPath?: string; envoyVersion?: string | null }) {
    const wasmPath = opts.wasmPath ?? BENCH_WASM;
    const digest = wasmDigest(wasmPath);
    const status = git(["status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)bench/results", ":(exclude,glob)**/*.md"]);
    const cpu = cpus();
    const before = load();
    this.provenance = {
      bench,
      git_commit: git(["rev-parse", "HEAD"]),
      git_dirty: status === null ? null : status.length > 0,
      wasm_path: wasmPath.startsWith(REPO_ROOT) ? wasmPath.slice(REPO_ROOT.length + 1) : wasmPath,
      wasm_sha256: digest.sha256,
      wasm_bytes: digest.bytes,
      node: process.version,
      v8: process.versions.v8,
      platform: `${platform()}/${arch()}`,
      cpu_model: cpu[0]?.model?.trim() ?? "unknown",
      cores: cpu.length,
      loadavg_before: before,
      loadavg_after: null,
      foreign_cpu: null,
      cpu_probe_before: probeCpu(),
      cpu_probe_after: null,
      page_fault_probe: probePageFaults(),
      noisy: false,
      noisy_reason: null,
      quick: opts.quick,
      target: opts.target ?? "embedded",
      envoy_version: opts.envoyVersion ?? null,
      started_at: new Date(this.t0).toISOString(),
      finished_at: null,
      duration_s: null,
      command: process.argv.slice(1).map((a) => (a.startsWith(REPO_ROOT) ? a.slice(REPO_ROOT.length + 1) : a)).join(" "),
      malloc: mallocTuned() ? Object.entries(MALLOC_TUNING).map(([k, v]) => `${k}=${v}`).join(" ") : "default",
      node_flags: tuningFlags().join(" ") || "default",
    };
  }

  setEnvoyVersion(v: string | null): void {
    this.provenance.envoy_version = v;
  }

  /** Take the closing load average and foreign CPU, decide `noisy`; returns the provenance to store. */
  finish(): Provenance {
    const p = this.provenance;
    p.loadavg_after = load();
    p.foreign_cpu = this.sampler?.stop(p.cores, clockTicks()) ?? null;
    p.cpu_probe_after = probeCpu();
    const v = noisyVerdict(p.cores, p.loadavg_before, p.loadavg_after, p.foreign_cpu);
    p.noisy = v.noisy;
    p.noisy_reason = v.reason;
    p.finished_at = new Date().toISOString();
    p.duration_s = Math.round((Date.now() - this.t0) / 100) / 10;
    return p;
  }
}

/** Write `<dir>/<file>` atomically (tmp + rename), creating the directory. Returns the path. */
export function writeResultFile(dir: string, file: string, body: unknown): string {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, file);
  writeFileSync(`${out}.tmp`, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(`${out}.tmp`, out);
  return out;
}

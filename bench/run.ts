/**
 * Runs the selected bench modules, one child process each (isolated heaps, no cross-bench JIT or GC
 * state), then writes the report and prints the tables. `--quick` keeps the whole run around two
 * minutes on a 2-core machine. Every child is bounded by a timeout.
 *
 * CLI: tsx bench/run.ts [--quick] [--target embedded|envoy|envoy-local] [--only reload,overhead]
 *                       [--compare OLD] [--tolerance 0.15]
 * (the same as `edgewatch bench`; exit codes: 0 ok, 1 a bench failed or got slower, 2 usage, 3 environment)
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compareBenches, consoleTables, formatCompare, loadResults, writeReport } from "./report.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const RESULTS_DIR = join(ROOT, "bench/results");

export interface BenchModule {
  name: string;
  script: string;
  description: string;
  /** Result files it writes (under bench/results). */
  outputs: string[];
  /** Targets it can run against; the embedded host is always supported. */
  targets: string[];
  /** Time bound for the child process. */
  timeoutMs: { quick: number; full: number };
}

export const BENCHES: BenchModule[] = [
  {
    name: "overhead",
    script: "bench/overhead.ts",
    description: "per-request overhead: the same traffic without and with the filter (ratio, wasm µs/request, p50/p99), memory after N requests",
    outputs: ["overhead.json"],
    targets: ["embedded"],
    timeoutMs: { quick: 150_000, full: 4 * 3_600_000 },
  },
  {
    name: "reload",
    script: "bench/reload.ts",
    description: "rule reload latency, publish → enforced on every worker (push and pull)",
    outputs: ["reload.json", "reload-micro.json"],
    targets: ["embedded"],
    timeoutMs: { quick: 150_000, full: 3_600_000 },
  },
  {
    name: "telemetry",
    script: "bench/telemetry.ts",
    description: "telemetry cost per request (call-level driver: the filter with stubbed host calls)",
    outputs: ["telemetry.json"],
    targets: ["embedded"],
    timeoutMs: { quick: 120_000, full: 3_600_000 },
  },
  {
    name: "trace",
    script: "bench/trace.ts",
    description: "trace path cost per request and OTLP export cost (call-level driver)",
    outputs: ["trace.json"],
    targets: ["embedded"],
    timeoutMs: { quick: 120_000, full: 3_600_000 },
  },
];

export interface RunOptions {
  quick: boolean;
  target: string;
  only?: string[];
  compare?: string;
  tolerance: number;
  /** Called with progress lines (the CLI shows them). */
  log?: (line: string) => void;
}

export interface BenchOutcome {
  name: string;
  status: "ok" | "failed" | "skipped" | "timeout" | "missing";
  exitCode?: number | null;
  seconds: number;
  note?: string;
}

export interface RunResult {
  outcomes: BenchOutcome[];
  reportPath?: string;
  compareOk?: boolean;
  compareText?: string;
  tables: string;
}

export function selectBenches(only?: string[]): BenchModule[] {
  if (!only || only.length === 0) return BENCHES;
  const unknown = only.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0) {
    throw new Error(`unknown bench(es): ${unknown.join(", ")} (known: ${BENCHES.map((b) => b.name).join(", ")})`);
  }
  return BENCHES.filter((b) => only.includes(b.name));
}

function runChild(b: BenchModule, opts: RunOptions): Promise<{ code: number | null; timedOut: boolean }> {
  const args = ["--import", "tsx", join(ROOT, b.script)];
  if (opts.quick) args.push("--quick");
  if (opts.target !== "embedded") args.push("--target", opts.target);
  return new Promise((res) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
      env: {
        ...process.env,
        EDGEWATCH_BENCH_QUICK: opts.quick ? "1" : "",
        EDGEWATCH_TARGET: opts.target,
      },
      detached: false,
    });
    let timedOut = false;
    const limit = opts.quick ? b.timeoutMs.quick : b.timeoutMs.full;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    }, limit);
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.once("SIGINT", forward);
    child.on("exit", (code) => {
      clearTimeout(timer);
      process.off("SIGINT", forward);
      res({ code, timedOut });
    });
    child.on("error", () => {
      clearTimeout(timer);
      process.off("SIGINT", forward);
      res({ code: 127, timedOut: false });
    });
  });
}

export async function runBenches(opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  mkdirSync(RESULTS_DIR, { recursive: true });
  const selected = selectBenches(opts.only);
  const outcomes: BenchOutcome[] = [];
  for (const b of selected) {
    const started = Date.now();
    if (!existsSync(join(ROOT, b.script))) {
      outcomes.push({ name: b.name, status: "missing", seconds: 0, note: `${b.script} not found` });
      log(`[bench] ${b.name}: ${b.script} not found — skipped`);
      continue;
    }
    if (!b.targets.includes(opts.target)) {
      outcomes.push({ name: b.name, status: "skipped", seconds: 0, note: `runs on ${b.targets.join("/")} only` });
      log(`[bench] ${b.name}: runs on ${b.targets.join("/")} only — skipped for target ${opts.target}`);
      continue;
    }
    log(`[bench] ${b.name}: ${b.description}${opts.quick ? " (quick)" : ""}`);
    const { code, timedOut } = await runChild(b, opts);
    const seconds = (Date.now() - started) / 1000;
    const status = timedOut ? "timeout" : code === 0 ? "ok" : "failed";
    outcomes.push({ name: b.name, status, exitCode: code, seconds });
    log(`[bench] ${b.name}: ${status} in ${seconds.toFixed(1)}s${code && code !== 0 ? ` (exit ${code})` : ""}`);
  }

  // Combined file: one baseline a CI job can keep and pass to --compare later.
  const benches: Record<string, unknown> = {};
  for (const b of BENCHES) {
    for (const out of b.outputs) {
      const p = join(RESULTS_DIR, out);
      if (!existsSync(p)) continue;
      try {
        benches[out.replace(/\.json$/, "")] = JSON.parse(readFileSync(p, "utf8"));
      } catch {
        /* a broken result file is reported by the bench that wrote it */
      }
    }
  }
  writeFileSync(
    join(RESULTS_DIR, "summary.json"),
    `${JSON.stringify({ generated_at: new Date().toISOString(), quick: opts.quick, target: opts.target, outcomes, benches }, null, 2)}\n`,
  );

  const rep = writeReport(RESULTS_DIR);
  const ranNames = outcomes.filter((o) => o.status === "ok").flatMap((o) => BENCHES.find((b) => b.name === o.name)!.outputs.map((f) => f.replace(/\.json$/, "")));
  const tables = consoleTables(RESULTS_DIR, ranNames);
  const result: RunResult = { outcomes, reportPath: rep.path, tables };
  if (opts.compare) {
    // Only what this run measured is compared; stale files from earlier runs are left out.
    const fresh = loadResults(RESULTS_DIR).filter((b) => ranNames.includes(b.name));
    const r = compareBenches(loadResults(opts.compare), fresh, opts.tolerance);
    result.compareOk = r.ok;
    result.compareText = formatCompare(r);
  }
  return result;
}

async function main(): Promise<number> {
  const { runCli } = await import("../harness/cli/main.js");
  return runCli([process.argv[0], "edgewatch", "bench", ...process.argv.slice(2)]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => process.exit(code));
}

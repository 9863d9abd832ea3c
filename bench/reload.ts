/**
 * Rule-reload bench (`npm run bench:reload`, `--quick` for CI, `--target envoy|envoy-local`).
 *
 * Reload latency = from publishing a document to the first response that enforces it on EVERY
 * worker. The proxy runs on a Target through harness/stack (the same code on the embedded host and
 * on Envoy); each worker has a pinned keep-alive probe (worker identified over admin, per-worker
 * listener stats). After publishing version k, every probe sends requests from a client address
 * that document k denies with rule id "v<k>" until the answer names "v<k>"; the case's latency is
 * the slowest worker's first enforcing answer.
 *   push       the plugin configuration carries the document (ECDS: canary, then a new root context
 *              in every VM; on Envoy the push resolves when config_reload grew);
 *   push-snapshot  the plugin configuration is a snapshot configuration (binary, Envoy BytesValue:
 *              settings + the document's rules snapshot, built by the filter's own .wasm BEFORE the
 *              clock, `edgewatch rules snapshot --plugin`); every VM loads the snapshot;
 *   pull       the rules service serves the document's rules snapshot, built by the filter's own
 *              .wasm BEFORE the clock starts (a publisher builds it once, `edgewatch rules snapshot`);
 *              the fetcher checks it and shares it as received; every other VM loads it;
 *   pull-json  the rules service serves the JSON document; the fetcher parses and indexes it.
 * Documents: `cidrs` CIDRs (a random /24 list in `cidrs_text` plus the probe rule). Strings and
 * snapshots are prepared before the clock starts. After a case's reloads (embedded in this process):
 * the VMs' linear memory and the pages written in it, which a VM keeps (vm_memory_mib, vm_written_mib).
 *
 * In wasm (reload-micro.json, embedded only, process CPU time): parse + index per size (JSON, CIDR
 * scan and sort/index parts of the SAME run, so they add up to its total), snapshot size and load
 * time, rule-table bytes per VM, lookup and full-decision cost.
 *
 * Writes reload.json and reload-micro.json into the results directory (bench/results, or
 * bench/results/quick with --quick). CPU columns: process CPU from publish to the last worker's
 * first enforcing answer (embedded: every VM and the probes share this process's one JS thread, so
 * push work Envoy spreads over worker threads is serialised here; with --own-process the proxy runs
 * in a process of its own and the columns hold its CPU alone; null on Envoy targets).
 *
 * CLI: tsx bench/reload.ts [--quick] [--target T] [--out DIR] [--modes push,push-snapshot,pull,pull-json]
 *      [--cidrs 10,1000,...] [--workers 1,2,4] [--reloads N] [--reloads-1m N] [--no-micro] [--own-process]
 */
import { RunRecord, benchArgs, ensureBenchTuning, writeResultFile, BENCH_WASM, RELOAD_V8_FLAGS } from "../harness/bench/results.js";
import { COMMON_OPTIONS, checkUsage } from "../harness/bench/usage.js";
import { SlowPhaseRetry, caseProbeFields, probeCpu, type CaseProbes, type CpuProbe } from "../harness/bench/cpu-probe.js";
import { percentile, quantileStats } from "../harness/bench/pair-stats.js";
import { pauseMsIn, recordGcPauses } from "../harness/bench/gc-pauses.js";
import { reloadParts, type ReloadParts } from "../harness/bench/reload-parts.js";
import { getTarget } from "../harness/targets/registry.js";
import { embeddedProcessTarget } from "../harness/targets/embedded-process.js";
import { canPin, pinProcess } from "../harness/process/cpu-affinity.js";
import { TARGET_NAMES, type TargetName } from "../harness/targets/target.js";
import type { VmMemory } from "../harness/host/vm-memory.js";
import { proxyOptions } from "../harness/stack/proxy-options.js";
import { startStack, type Stack } from "../harness/stack/stack.js";
import { SnapshotBuilder } from "../harness/rules/snapshot-builder.js";
import { encodeSnapshotConfiguration } from "../harness/rules/snapshot-configuration.js";

type Mode = "push" | "push-snapshot" | "pull" | "pull-json";

interface Args {
  quick: boolean;
  target: TargetName;
  outDir: string;
  modes: Mode[];
  cidrs: number[];
  workers: number[];
  /** Worker counts also run at these sizes (the 1/2/4 comparison). */
  workerSweepAt: number[];
  reloads: number;
  reloads1m: number;
  micro: boolean;
  probeGapMs: number;
  /** Embedded: run the proxy in a process of its own (harness/targets/embedded-process.ts) instead of this one. */
  ownProcess: boolean;
  /** The proxy's process on CPU 1, this one on CPU 0 (embedded in its own process, ≥ 2 CPUs, taskset). */
  pinned: boolean;
  /** Requests through the proxy before a case's first reload (JIT warm-up). */
  warmRequests: number;
  /** Measure a case again when its probes say it ran in a slow phase, at most this many times. */
  retrySlow: number;
}

function parseArgs(argv: string[]): Args {
  const common = benchArgs(argv);
  const val = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (name: string, def: number[]): number[] => {
    const v = val(name);
    return v ? v.split(",").map(Number) : def;
  };
  const quick = common.quick;
  const ownProcess = argv.includes("--own-process");
  if (!TARGET_NAMES.includes(common.target as TargetName)) throw new Error(`unknown target ${common.target}`);
  return {
    quick,
    target: common.target as TargetName,
    outDir: common.outDir,
    modes: (val("--modes") ?? "push,push-snapshot,pull,pull-json").split(",") as Mode[],
    cidrs: list("--cidrs", quick ? [10, 10_000, 100_000] : [10, 100, 1_000, 10_000, 100_000, 1_000_000]),
    workers: list("--workers", [2]),
    workerSweepAt: list("--worker-sweep-at", quick ? [] : [10_000, 100_000]),
    reloads: Number(val("--reloads") ?? (quick ? 20 : 200)),
    reloads1m: Number(val("--reloads-1m") ?? (quick ? 5 : 30)),
    micro: !argv.includes("--no-micro"),
    probeGapMs: Number(val("--probe-gap-ms") ?? 1),
    ownProcess,
    pinned: common.target === "embedded" && ownProcess && !argv.includes("--no-pin") && canPin(2),
    warmRequests: Number(val("--warm-requests") ?? (quick ? 1000 : 4000)),
    retrySlow: Number(val("--retry-slow") ?? (quick ? 0 : 2)),
  };
}

/**
 * The target a case runs on. Embedded: inside this process (the test suite's target), or with
 * --own-process in a process of its own, as Envoy runs: the CPU columns then hold the proxy's work
 * alone. Measured both ways, interleaved (12/2026, 2 workers, 3 runs in-process, 4 in its own
 * process): p50 alike (push-snapshot 10k 2.7–4.3 ms in-process, 2.7–5.0 own process), tails worse
 * in the own process (pull 100k p99 5.2–7.6 vs 13.5–30 ms; the proxy process alone used up to
 * 30–36 ms CPU in one reload, p99, and every probe exchange crosses processes): the default stays
 * in-process until that is understood.
 */
function benchTarget(args: Args) {
  return args.target === "embedded" && args.ownProcess ? embeddedProcessTarget : getTarget(args.target);
}

const PROBE_ADDR = "192.0.2.1";
const MAX_RULES_BYTES = 64 << 20;

/** `n` distinct random /24s outside 192.0.2.0/24, as cidrs_text lines. */
function bulkList(n: number, seed: number): string {
  const seen = new Set<number>();
  let x = seed >>> 0;
  while (seen.size < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const a = (x & 0xffffff00) >>> 0;
    if (a >>> 8 === ((192 << 16) | (0 << 8) | 2)) continue;
    seen.add(a);
  }
  const out: string[] = [];
  for (const a of seen) out.push(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`);
  return out.join("\n");
}

/**
 * Rule document for version k, probe rule "v<k>" + the bulk list (cidrs − 1 entries, `bulkBytes`:
 * its JSON string), as UTF-8 bytes (inside `prefix` … `suffix` when given), joined from the bulk
 * list's bytes encoded once: no document-sized JS string per reload. Such a string (flattened for the
 * UTF-8 copy) is a large object in V8's old generation (167 KB at 10k CIDRs, 1.7 MB at 100k), and
 * the bench's own preparation should not add to the full collections whose pauses land in the
 * reloads it measures (at 10k CIDRs it was not what brought them on: dead canary VMs are, see
 * RELOAD_V8_FLAGS).
 */
function docUtf8(k: number, bulkBytes: Buffer, prefix = "", suffix = ""): Buffer {
  return Buffer.concat([Buffer.from(`${prefix}{"version":${k},"access":[{"id":"v${k}","cidrs":["192.0.2.0/24"]},{"id":"bulk","cidrs_text":`), bulkBytes, Buffer.from(`}]}${suffix}`)]);
}

/** p50 of `xs` (unsorted), null when empty. */
function p50Of(xs: number[], round: (v: number) => number): number | null {
  return xs.length === 0 ? null : round(percentile([...xs].sort((a, b) => a - b), 50));
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
/** 95 % bootstrap interval of percentile p of xs, ms rounded as the other columns. */
const ci = (xs: number[], p: number): [number, number] => {
  const q = quantileStats(xs, p);
  return [round3(q.ci95_low), round3(q.ci95_high)];
};
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/**
 * Drive every worker's probe until each answers with rule `want`; returns ms from t0 to the slowest
 * worker's first enforcing answer. Probes pause `gapMs` between attempts (on the embedded host they
 * share the JS thread with the reload).
 */
async function waitAllWorkers(stack: Stack, want: string, t0: number, gapMs: number, timeoutMs = 60_000): Promise<number> {
  const times = await stack.probes.firstAcceptedEach(
    () => ({ path: "/bench", headers: { "x-forwarded-for": PROBE_ADDR } }),
    (a) => a.headers["x-edgewatch-rule"] === want,
    { t0, gapMs, timeoutMs, what: `answer under rule ${want}` },
  );
  return Math.max(...times);
}

/** A case's attempt that met a slow phase: its probes and what it read. */
export interface SlowReloadAttempt extends CaseProbes {
  p50_ms: number;
  p99_ms: number;
}

export interface ReloadCase {
  target: TargetName;
  mode: Mode;
  cidrs: number;
  workers: number;
  reloads: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  /**
   * 95 % bootstrap intervals of p50_ms and p99_ms (harness/bench/pair-stats.ts quantileStats): what
   * another run of as many reloads could read. A p99 of 200 reloads rests on their three slowest,
   * so its interval is wide where a few reloads met a GC pause or a slow phase.
   */
  p50_ci95_ms: [number, number];
  p99_ci95_ms: [number, number];
  max_ms: number;
  mean_ms: number;
  min_ms: number;
  /** The proxy process's CPU from publish to the last worker's first enforcing answer (embedded only). */
  cpu_p50_ms: number | null;
  cpu_p99_ms: number | null;
  /**
   * Minor page faults of the proxy's process per reload, p50 (embedded only): fresh memory touched — the
   * canary VM of a push, buffers of new sizes. The run's provenance `page_fault_probe` prices one
   * (10–12 µs on the Firecracker VM of the committed runs, a large part of the CPU column; ~0.1–0.3 µs
   * on bare metal).
   */
  page_faults_p50: number | null;
  /**
   * Embedded in this process only (null otherwise): V8 GC pauses of the process inside the reload
   * windows (harness/bench/gc-pauses.ts). A pause stops the host and the probes alike, and Envoy's
   * C++ host has none: gc_ms_p99 is the p99 over reloads of the pause ms in a window, gc_major_reloads
   * how many windows held a full collection's finalisation, and p99_without_gc_ms the p99 of each
   * latency less its window's pause ms (what the reload took on this host without its GC).
   */
  gc_ms_p99: number | null;
  gc_major_reloads: number | null;
  p99_without_gc_ms: number | null;
  /**
   * Push modes on the embedded host: where the proxy spent the update (UpdateTiming), p50 of each
   * part over the reloads: the canary (a fresh VM: instantiate, _start, configure) and its page
   * faults; the new roots of all VMs together (serial on the host's one JS thread) and the slowest
   * single VM (what Envoy's threads, configuring in parallel, would wait for). Null otherwise.
   */
  canary_ms_p50: number | null;
  /** The canary's instantiation and `_start` alone, a part of canary_ms (p50 over the reloads). */
  canary_start_ms_p50?: number | null;
  canary_page_faults_p50: number | null;
  vms_ms_p50: number | null;
  vm_max_ms_p50: number | null;
  /**
   * Push modes on the embedded host: where the time of the median reloads (those between the 45th
   * and 55th percentile of latency) and of the slowest 5 % (at least 2) went, means over those
   * reloads, so the parts of a row add up to its latency: the canary's instantiation and `_start`,
   * its configure, the new roots of every VM, and the rest (the probes' round trips, the event
   * loop, GC pauses outside those parts). gc_ms: the GC pauses inside those reloads' windows,
   * wherever they fell. Null otherwise.
   */
  reload_parts?: { median: ReloadParts; slowest: ReloadParts } | null;
  /** Bytes of the JSON document (push: the whole plugin configuration; push-snapshot: the snapshot configuration). */
  doc_bytes: number;
  /**
   * How many times the case was measured (1 + slow_attempts.length): an attempt whose probes said the
   * machine ran in a slow phase was discarded (its probes and p50/p99 kept here) and the case measured
   * again once a probe was steady, at most --retry-slow times.
   */
  attempts?: number;
  slow_attempts?: SlowReloadAttempt[];
  /** harness/bench/cpu-probe.ts run just before and just after the case (caseProbeFields): CPU ms per CPU (null when it failed). */
  cpu_probe_ms?: number[] | null;
  cpu_probe_after_ms?: number[] | null;
  /** The same probes' price of a cold memory load, ns per CPU. */
  mem_probe_ns?: number[] | null;
  mem_probe_after_ns?: number[] | null;
  /**
   * Embedded in this process only (null otherwise), read after the case's reloads (warm-ups
   * included): the largest VM's linear memory, and the most pages any VM has written (≈ its
   * resident memory, harness/host/vm-memory.ts), MiB. A linear memory never shrinks, so this is
   * what a VM keeps after that many reloads, beside the rule tables it needs (reload-micro.json).
   */
  vm_memory_mib?: number | null;
  vm_written_mib?: number | null;
  /** Bytes the fetcher received per reload (pull: the snapshot; pull-json: the document). */
  fetched_bytes: number | null;
  /** 200 responses of the rules service during the case (one per reload + the initial one). */
  fetches: number | null;
  snapshot_fetches: number | null;
}

async function runCase(args: Args, builder: SnapshotBuilder, mode: Mode, cidrs: number, workers: number, reloads: number): Promise<ReloadCase> {
  const base = { client_address: { source: "xff", xff_trusted_hops: 1 }, max_rules_bytes: MAX_RULES_BYTES };
  const bulkBytes = Buffer.from(JSON.stringify(bulkList(Math.max(0, cidrs - 1), 0x5eed + cidrs)), "utf8");
  /** The plugin configuration of version k: the settings of `base` and the document as "rules". */
  const pushConfig = (k: number) => docUtf8(k, bulkBytes, `${JSON.stringify(base).slice(0, -1)},"rules":`, "}");
  const pull = mode === "pull" || mode === "pull-json";
  /** The rules snapshot of a document text, built by the filter's .wasm (before the clock starts). */
  const snapshotOf = (text: Uint8Array) => {
    const b = builder.build(text, MAX_RULES_BYTES);
    if (!b.ok) throw new Error(`snapshot build failed: ${b.reason}: ${b.message}`);
    return b.snapshot!;
  };
  /** The snapshot configuration of version k: the settings of pushConfig and the document's snapshot. */
  const snapshotConfig = (k: number) => encodeSnapshotConfiguration(base, snapshotOf(docUtf8(k, bulkBytes)));
  let opts = proxyOptions().withWorkers(workers).withXffTrustedHops(0);
  opts = pull
    ? opts
        .withRulesService()
        .withPlugin({ ...base, rules_service: { cluster: "rules", authority: "rules.bench", path: "/rules", long_poll_ms: 30_000, timeout_ms: 35_000, tick_ms: 100, lease_ms: 2000 } })
    : opts.withPlugin(pushConfig(0));
  const stack = await startStack(benchTarget(args), opts);
  // The proxy process on CPU 1, this one (probes, rules service, upstream) on CPU 0: unpinned, the
  // kernel woke the proxy on the prober's CPU (wake-affine), serialising the two.
  if (args.pinned && stack.proxy.pid !== undefined) pinProcess(stack.proxy.pid, "1");
  const lat: number[] = [];
  const cpu: number[] = [];
  const faults: number[] = [];
  const parts = { canary: [] as number[], canaryStart: [] as number[], canaryFaults: [] as number[], vms: [] as number[], vmMax: [] as number[] };
  let docBytes = 0;
  let fetchedBytes: number | null = null;
  const embedded = args.target === "embedded";
  /** Measured reload windows [t0, t0 + latency] (performance.now() ms), matched with GC pauses at the end. */
  const windows: Array<[number, number]> = [];
  const gc = embedded && !args.ownProcess ? recordGcPauses() : null;
  /** The proxy's CPU (ms) and minor page faults: its own process (one reading), or this one when it runs in-process. */
  const proxy = stack.proxy;
  const usage = async (): Promise<{ cpuMs: number; faults: number }> => {
    if (!proxy.processUsage) return { cpuMs: cpuMs(), faults: process.resourceUsage().minorPageFault };
    const u = await proxy.processUsage();
    return { cpuMs: u.cpuUs / 1000, faults: u.minorPageFaults };
  };
  try {
    const svc = stack.rules;
    /** Publish version `next` (pull); the snapshot is built before the clock starts. */
    const prepare = (next: number) => {
      const text = docUtf8(next, bulkBytes);
      if (mode !== "pull") return { text, snapshot: undefined };
      return { text, snapshot: snapshotOf(text) };
    };
    let k = 0;
    if (pull) {
      const p = prepare(svc!.version + 1);
      svc!.publish(p.text, { snapshot: p.snapshot });
      k = svc!.version;
      await waitAllWorkers(stack, `v${k}`, performance.now(), args.probeGapMs);
    } else {
      await waitAllWorkers(stack, "v0", performance.now(), args.probeGapMs);
    }
    // Warm-up traffic (not measured): a fresh embedded proxy process runs its first few thousand
    // requests through cold JIT code (Node's HTTP server, undici's llhttp behind V8's generic
    // JS-to-wasm wrapper, the host): 3–4× the CPU per request of a warm one (12/2026), which every
    // probe of the first cases paid. Envoy has no JIT to warm; the reloads measure a warm proxy.
    await stack.client.many(args.warmRequests, 8, (j) => ({ path: "/warm", headers: { "x-forwarded-for": `198.18.${(j >> 8) & 255}.${1 + (j % 254)}` } }));
    // Warm-up reloads (not measured): VM heaps and host buffers reach their steady size (until then
    // a reload touches fresh memory: page faults), and the wasm code tiers up.
    const warm = Math.min(20, Math.max(5, Math.floor(reloads / 10)));
    for (let i = 0; i < reloads + warm; i++) {
      let t0: number;
      let c0: number;
      let f0: number;
      let want: string;
      let pushed: Promise<void> = Promise.resolve();
      if (pull) {
        const next = svc!.version + 1;
        const p = prepare(next);
        docBytes = p.text.length;
        fetchedBytes = p.snapshot ? p.snapshot.length : p.text.length;
        ({ cpuMs: c0, faults: f0 } = await usage());
        t0 = performance.now();
        svc!.publish(p.text, { snapshot: p.snapshot });
        want = `v${next}`;
      } else {
        k++;
        // The configuration as bytes, prepared before the clock like a pull's snapshot: Envoy receives
        // it as bytes (xDS), and turning this bench's concatenated string into them (flatten +
        // UTF-8 copy: fresh pages, ~730 page faults at 100k CIDRs) is not the proxy's reload work.
        const cfg = mode === "push" ? pushConfig(k) : snapshotConfig(k);
        docBytes = cfg.length;
        ({ cpuMs: c0, faults: f0 } = await usage());
        t0 = performance.now();
        pushed = stack.push(cfg);
        want = `v${k}`;
      }
      const [ms] = await Promise.all([waitAllWorkers(stack, want, t0, args.probeGapMs), pushed]);
      const after = await usage();
      if (i >= warm) {
        lat.push(ms);
        windows.push([t0, t0 + ms]);
        cpu.push(after.cpuMs - c0);
        faults.push(after.faults - f0);
        const t = pull ? null : ((await proxy.lastUpdateTiming?.()) ?? null);
        if (t !== null) {
          parts.canary.push(t.canaryMs);
          parts.canaryStart.push(t.canaryStartMs);
          parts.canaryFaults.push(t.canaryPageFaults);
          parts.vms.push(t.vmMs.reduce((a, b) => a + b, 0));
          parts.vmMax.push(Math.max(...t.vmMs));
        }
      }
      await new Promise((r) => setTimeout(r, 2)); // traffic-free gap between reloads
    }
    const logs = stack.logs();
    const rejected = logs.split("\n").find((l) => /rejected \(reason=/.test(l));
    if (rejected) throw new Error(`unexpected rejection: ${rejected}`);
    const sorted = [...lat].sort((a, b) => a - b);
    const cpuSorted = [...cpu].sort((a, b) => a - b);
    const pauses = gc?.stop() ?? null;
    const inWindow = pauses === null ? null : windows.map(([a, b]) => pauseMsIn(pauses, a, b));
    const p99Of = (xs: number[]) => round3(percentile([...xs].sort((a, b) => a - b), 99));
    const vmMem = (await proxy.vmMemory?.()) ?? null;
    const mibMax = (pick: (v: VmMemory) => number) => (vmMem === null || vmMem.length === 0 ? null : round3(Math.max(...vmMem.map(pick)) / 1048576));
    return {
      target: args.target,
      mode,
      cidrs,
      workers,
      reloads: lat.length,
      p50_ms: round3(percentile(sorted, 50)),
      p90_ms: round3(percentile(sorted, 90)),
      p99_ms: round3(percentile(sorted, 99)),
      p50_ci95_ms: ci(lat, 50),
      p99_ci95_ms: ci(lat, 99),
      max_ms: round3(sorted[sorted.length - 1]!),
      mean_ms: round3(lat.reduce((a, b) => a + b, 0) / lat.length),
      min_ms: round3(sorted[0]!),
      cpu_p50_ms: embedded ? round3(percentile(cpuSorted, 50)) : null,
      cpu_p99_ms: embedded ? round3(percentile(cpuSorted, 99)) : null,
      page_faults_p50: embedded ? p50Of(faults, (v) => v) : null,
      gc_ms_p99: inWindow === null ? null : p99Of(inWindow.map((w) => w.ms)),
      gc_major_reloads: inWindow === null ? null : inWindow.filter((w) => w.major > 0).length,
      p99_without_gc_ms: inWindow === null ? null : p99Of(lat.map((ms, i) => ms - inWindow[i]!.ms)),
      canary_ms_p50: p50Of(parts.canary, round3),
      canary_start_ms_p50: p50Of(parts.canaryStart, round3),
      canary_page_faults_p50: p50Of(parts.canaryFaults, (v) => v),
      vms_ms_p50: p50Of(parts.vms, round3),
      vm_max_ms_p50: p50Of(parts.vmMax, round3),
      reload_parts: reloadParts(lat, parts.canaryStart, parts.canary, parts.vms, inWindow === null ? null : inWindow.map((w) => w.ms)),
      doc_bytes: docBytes,
      vm_memory_mib: mibMax((v) => v.memoryBytes),
      vm_written_mib: mibMax((v) => v.writtenBytes),
      fetched_bytes: pull ? fetchedBytes : null,
      fetches: pull ? svc!.fetchCount : null,
      snapshot_fetches: pull ? svc!.snapshotFetchCount : null,
    };
  } finally {
    gc?.stop();
    await stack.close();
  }
}

// ---- inside wasm ----------------------------------------------------------------------------

export interface ParseRow {
  cidrs: number;
  /** Parts of the run whose total is the median total (so they add up to it). */
  json_ms: number;
  scan_ms: number;
  sort_index_ms: number;
  parse_index_ms: number;
  /** Median of parse_index over the runs, and its minimum. */
  parse_index_p50_ms: number;
  parse_index_min_ms: number;
  snapshot_bytes: number;
  /** Snapshot → rule set (checksum, copy, validation, parent links) in one VM. */
  snapshot_load_ms: number;
  rule_table_bytes: number;
  runs: number;
}

interface LookupRow {
  cidrs: number;
  lookup_ns: number;
  decision_ns: number;
  lookup_hit_rate: number;
}

async function micro(sizes: number[], quick: boolean): Promise<{ parse: ParseRow[]; lookup: LookupRow[] }> {
  const { RulesUnit } = await import("../test/rules/unit-module.js");
  const u = await RulesUnit.create();
  const ex = u.u.exports as unknown as Record<string, (...a: number[]) => number>;
  ex.setBenchClock(2); // process CPU time
  const parse: ParseRow[] = [];
  let lookup: LookupRow[] = [];
  for (const n of sizes) {
    const runs = n >= 1_000_000 ? (quick ? 3 : 7) : quick ? 7 : 25;
    const doc = `{"version":1,"access":[{"id":"bulk","cidrs_text":${JSON.stringify(bulkList(n, 0xc0ffee))}}]}`;
    const len = u.u.put(new TextEncoder().encode(doc));
    const rows: number[][] = [];
    for (let i = 0; i < runs + 2; i++) {
      u.heapBytes(); // full collection first: measure this load, not the previous one's garbage
      if (ex.benchPhases(len) !== n) throw new Error(`phases: expected ${n} CIDRs`);
      if (i >= 2) rows.push(u.u.out().split(" ").map(Number).slice(0, 3));
    }
    const totals = rows.map((r) => r[0]! + r[1]! + r[2]!);
    const order = totals.map((t, i) => [t, i] as const).sort((a, b) => a[0] - b[0]);
    const mid = rows[order[order.length >> 1]![1]]!;
    if (ex.loadRules(len, 256 << 20) !== 1) throw new Error(`load failed: ${u.u.out()}`);
    const [, cidrCount, , tableBytes] = u.u.out().split(" ").map(Number);
    if (cidrCount !== n) throw new Error(`expected ${n} CIDRs, got ${cidrCount}`);
    const snapBytes = u.snapshotEncode().length;
    const loads: number[] = [];
    for (let i = 0; i < runs; i++) {
      u.heapBytes();
      ex.benchSnapshotLoad();
      loads.push(Number(u.u.out()));
    }
    loads.sort((a, b) => a - b);
    parse.push({
      cidrs: n,
      json_ms: round3(mid[0]! / 1000),
      scan_ms: round3(mid[1]! / 1000),
      sort_index_ms: round3(mid[2]! / 1000),
      parse_index_ms: round3((mid[0]! + mid[1]! + mid[2]!) / 1000),
      parse_index_p50_ms: round3(order[order.length >> 1]![0] / 1000),
      parse_index_min_ms: round3(order[0]![0] / 1000),
      snapshot_bytes: snapBytes,
      snapshot_load_ms: round3(loads[loads.length >> 1]! / 1000),
      rule_table_bytes: tableBytes!,
      runs,
    });
    process.stdout.write(`  wasm ${n} CIDRs: parse+index ${parse.at(-1)!.parse_index_ms} ms CPU, snapshot ${snapBytes} bytes loads in ${parse.at(-1)!.snapshot_load_ms} ms, tables ${tableBytes} bytes\n`);
    if (n === 100_000) {
      // Lookups of random IPv4 addresses inside wasm (no host calls): best of 5 runs of 2M.
      const N = quick ? 1_000_000 : 5_000_000;
      let lookupNs = Infinity;
      let decisionNs = Infinity;
      let hits = 0;
      for (let i = 0; i < 5; i++) {
        let t = cpuMs();
        hits = u.benchLookups4(N, 7n);
        lookupNs = Math.min(lookupNs, ((cpuMs() - t) * 1e6) / N);
        t = cpuMs();
        u.benchEvaluate4(N, 7n);
        decisionNs = Math.min(decisionNs, ((cpuMs() - t) * 1e6) / N);
      }
      lookup = [{ cidrs: n, lookup_ns: round3(lookupNs), decision_ns: round3(decisionNs), lookup_hit_rate: round3(hits / N) }];
    }
  }
  return { parse, lookup };
}

/** One line of ReloadCase.reload_parts for the run's output. */
function partsText(label: string, p: ReloadParts): string {
  return `${label} ${p.reloads} reloads: ${p.latency_ms.toFixed(2)} ms = canary instantiate + _start ${p.canary_start_ms.toFixed(2)} + configure ${p.canary_configure_ms.toFixed(2)}` +
    ` + VMs ${p.vms_ms.toFixed(2)} + rest ${p.other_ms.toFixed(2)}${p.gc_ms !== null ? ` (GC pauses inside: ${p.gc_ms.toFixed(2)})` : ""}`;
}

function table(rows: ReloadCase[]): string {
  const head = ["mode", "cidrs", "workers", "reloads", "p50 ms", "p90 ms", "p99 ms", "(95 %)", "max ms", "p99 -GC", "(full GCs)", "cpu p50", "cpu p99", "canary", "(faults)", "VMs", "(slowest)", "VM MiB", "(written)", "fetched", "fetches"];
  const ms = (v: number | null) => v?.toFixed(2) ?? "-";
  const lines = rows.map((r) => [
    r.mode, String(r.cidrs), String(r.workers), String(r.reloads), r.p50_ms.toFixed(2), r.p90_ms.toFixed(2), r.p99_ms.toFixed(2), `${r.p99_ci95_ms[0].toFixed(2)}…${r.p99_ci95_ms[1].toFixed(2)}`, r.max_ms.toFixed(2),
    ms(r.p99_without_gc_ms), r.gc_major_reloads === null ? "-" : String(r.gc_major_reloads), ms(r.cpu_p50_ms), ms(r.cpu_p99_ms), ms(r.canary_ms_p50), r.canary_page_faults_p50 === null ? "-" : String(r.canary_page_faults_p50), ms(r.vms_ms_p50), ms(r.vm_max_ms_p50),
    r.vm_memory_mib?.toFixed(1) ?? "-", r.vm_written_mib?.toFixed(1) ?? "-",
    r.fetched_bytes === null ? "-" : String(r.fetched_bytes), r.fetches === null ? "-" : String(r.fetches),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cols: string[]) => cols.map((c, i) => (i < 1 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  ");
  return [fmt(head), fmt(w.map((n) => "-".repeat(n))), ...lines.map(fmt)].join("\n");
}

async function envoyVersion(target: TargetName, stack: Stack | null): Promise<string | null> {
  if (target === "embedded" || !stack) return null;
  try {
    const r = await fetch(`${stack.proxy.adminUrl}/server_info`);
    const j = (await r.json()) as { version?: string };
    return j.version ?? null;
  } catch {
    return null;
  }
}

const USAGE = `usage: npx tsx bench/reload.ts [options]

Rule reload latency, publish → enforced on every worker (push, push-snapshot, pull, pull-json), and the parse/load
cost inside wasm. → reload.json and reload-micro.json in the results directory.

options:
  --target T            embedded | envoy | envoy-local (default embedded; EDGEWATCH_TARGET)
  --modes LIST          push,push-snapshot,pull,pull-json (default all four)
  --cidrs LIST          document sizes (default 10,100,1000,10000,100000,1000000; --quick 10,10000,100000)
  --workers LIST        worker counts (default 2)
  --worker-sweep-at LIST  sizes also run on 1 and 4 workers (default 10000,100000; --quick none)
  --reloads N           reloads per case (default 200; --quick 20)
  --reloads-1m N        reloads at 1,000,000 CIDRs (default 30; --quick 5)
  --probe-gap-ms N      pause between a probe's requests (default 1)
  --no-micro            skip the in-wasm parse/load measurements (reload-micro.json)
  --own-process         embedded: run the proxy in a process of its own (default: inside the bench process)
  --retry-slow N        measure a case again when the CPU/memory probes around it say the machine ran
                        in a slow phase, after waiting up to 60 s for a steady probe; at most N more
                        attempts (default 2; --quick 0); the discarded ones stay in the file
  --warm-requests N     requests through the proxy before a case's first reload (default 4000; --quick 1000)
  --no-pin              with --own-process: do not pin the proxy's process to CPU 1 and the bench to CPU 0 (taskset)
${COMMON_OPTIONS}`;

async function main(): Promise<number> {
  checkUsage(USAGE);
  // glibc malloc as Envoy's tcmalloc keeps memory; V8 scavenges short and full collections rarer (results.ts RELOAD_V8_FLAGS).
  ensureBenchTuning(RELOAD_V8_FLAGS);
  const args = parseArgs(process.argv.slice(2));
  const target = benchTarget(args);
  const avail = await target.availability();
  if (!avail.available) {
    process.stderr.write(`reload bench: target '${args.target}' is not available: ${avail.reason}\n`);
    return 3;
  }
  if (args.pinned) pinProcess(process.pid, "0");
  const run = new RunRecord("reload", { quick: args.quick, target: args.target });
  const builder = await SnapshotBuilder.load(BENCH_WASM);
  const method =
    "latency = publish → the slowest worker's first response enforcing the new rules (one probe pinned per worker over admin); " +
    "p50_ci95_ms / p99_ci95_ms = 95 % bootstrap intervals of p50 and p99 (2,000 resamples of the case's reloads); " +
    "push = plugin configuration update (ECDS) carrying the JSON document; push-snapshot = the same update as a snapshot configuration (binary: settings + the rules snapshot the filter's .wasm built before the clock); " +
    "pull = rules service serving the snapshot the filter's .wasm built before the clock; " +
    "pull-json = rules service serving the JSON document; cpu_* and page_faults_* = the proxy process's CPU and minor page faults over the same interval; " +
    (args.target === "embedded"
      ? args.ownProcess
        ? "the embedded proxy ran in a process of its own (--own-process, as Envoy does), its VMs on one JS thread (push work Envoy spreads over worker threads is serialised); the probes, rules service and upstream in the bench process; "
        : "the embedded proxy ran inside the bench process: its VMs, the probes, the rules service and the upstream on one JS thread (push work Envoy spreads over worker threads is serialised), so cpu_* counts all of them; "
      : "") +
    "the embedded host's process runs with 1 MiB V8 semi-spaces and old-generation headroom of 4× the live heap (provenance node_flags): with Node's defaults its scavenges took 4–9 ms and the dead canary VMs' memories brought on a full collection every few reloads, pauses Envoy's C++ host does not have; " +
    (args.target === "embedded" && !args.ownProcess
      ? "gc_ms_p99 / gc_major_reloads / p99_without_gc_ms = the process's V8 GC pauses inside the reload windows: p99 of their ms per window, windows holding a full collection, p99 of latency less the window's pause ms"
      : "gc_* null: the proxy's GC pauses are measured only when it runs in the bench process");
  process.stdout.write(
    `reload bench on ${args.target}: modes ${args.modes.join(",")}, cidrs ${args.cidrs.join(",")}, workers ${args.workers.join(",")}` +
      `${args.workerSweepAt.length ? ` (1,2,4 at ${args.workerSweepAt.join(",")})` : ""}, ${args.reloads} reloads (${args.reloads1m} at 1M)${args.quick ? " [quick]" : ""}\n`,
  );
  const cases: ReloadCase[] = [];
  const write = (extra: object = {}) =>
    writeResultFile(args.outDir, "reload.json", { bench: "reload", quick: args.quick, target: args.target, proxy_process: args.target !== "embedded" ? null : args.ownProcess ? "own" : "bench", cpu_pinning: args.pinned ? "proxy process on CPU 1; the bench (probes, rules service, upstream) on CPU 0 (taskset)" : null, method, provenance: run.provenance, cases, ...extra });
  let versionProbe: Stack | null = null;
  // The machine's speed before and after each case (its VM's CPUs drift apart for minutes at a
  // time); nothing runs between two cases, so one case's after-probe is the next one's before-probe.
  // A case measured in a slow phase (by the probes alone) is measured again once a probe is steady,
  // at most --retry-slow times; the discarded attempts stay in the file (cpu-probe.ts SlowPhaseRetry).
  const retry = new SlowPhaseRetry(args.retrySlow);
  let probe = retry.seen(probeCpu());
  for (const mode of args.modes) {
    for (const cidrs of args.cidrs) {
      // 1M: the snapshot modes only (pull: the goal); a 16 MB JSON document per push or fetch is minutes of bench.
      if (cidrs >= 1_000_000 && mode !== "pull" && mode !== "push-snapshot") continue;
      const workerSet = args.workerSweepAt.includes(cidrs) ? [...new Set([1, 2, 4, ...args.workers])].sort() : args.workers;
      for (const workers of workerSet) {
        const reloads = cidrs >= 1_000_000 ? args.reloads1m : args.reloads;
        const slowAttempts: SlowReloadAttempt[] = [];
        let run: ReloadCase;
        let before: CpuProbe | null;
        for (;;) {
          run = await runCase(args, builder, mode, cidrs, workers, reloads);
          before = probe;
          probe = probeCpu();
          if (!retry.slow(before, probe) || slowAttempts.length >= retry.retries) break;
          slowAttempts.push({ ...caseProbeFields(before, probe), p50_ms: run.p50_ms, p99_ms: run.p99_ms });
          process.stdout.write(`  ${mode} ${cidrs} CIDRs ${workers} worker(s): slow phase (p50 ${run.p50_ms.toFixed(2)} ms, p99 ${run.p99_ms.toFixed(2)} ms discarded), measuring again\n`);
          probe = await retry.steadyProbe();
        }
        const r: ReloadCase = { ...run, ...caseProbeFields(before, probe), attempts: slowAttempts.length + 1, slow_attempts: slowAttempts };
        cases.push(r);
        process.stdout.write(
          `  ${mode} ${cidrs} CIDRs ${workers} worker(s): p50 ${r.p50_ms.toFixed(2)} ms, p99 ${r.p99_ms.toFixed(2)} ms, max ${r.max_ms.toFixed(2)} ms` +
            `${r.cpu_p50_ms !== null ? `; CPU p50 ${r.cpu_p50_ms.toFixed(2)} ms` : ""}` +
            `${r.p99_without_gc_ms !== null ? `; p99 less GC pauses ${r.p99_without_gc_ms.toFixed(2)} ms (${r.gc_major_reloads} reloads met a full GC)` : ""}` +
            ` (${r.reloads} reloads${r.fetches !== null ? `, ${r.fetches} fetches` : ""})\n` +
            (r.reload_parts ? `    ${partsText("median", r.reload_parts.median)}\n    ${partsText("slowest", r.reload_parts.slowest)}\n` : ""),
        );
        write();
      }
    }
  }
  if (args.target !== "embedded") {
    // One short-lived stack to read the proxy's version for the results file.
    versionProbe = await startStack(target, proxyOptions().withWorkers(1));
    run.setEnvoyVersion(await envoyVersion(args.target, versionProbe));
    await versionProbe.close();
  }
  let microOut: { parse: ParseRow[]; lookup: LookupRow[] } | null = null;
  if (args.micro && args.target === "embedded") {
    const sizes = args.quick ? [10_000, 100_000] : [10, 100, 1_000, 10_000, 100_000, 1_000_000];
    microOut = await micro(sizes, args.quick);
  }
  const provenance = run.finish();
  write();
  if (microOut) writeResultFile(args.outDir, "reload-micro.json", { bench: "reload-micro", quick: args.quick, target: args.target, provenance, ...microOut });
  process.stdout.write(`\n${table(cases)}\n`);
  if (microOut) {
    const m = microOut.parse.find((p) => p.cidrs === 100_000);
    if (m) {
      process.stdout.write(
        `\n100,000 CIDRs inside wasm: parse+index ${m.parse_index_ms} ms CPU (JSON ${m.json_ms} + CIDR scan ${m.scan_ms} + sort/index ${m.sort_index_ms}); ` +
          `snapshot ${m.snapshot_bytes} bytes, loads in ${m.snapshot_load_ms} ms; rule tables ${m.rule_table_bytes} bytes per VM\n`,
      );
    }
  }
  process.stdout.write(`${provenance.noisy ? `NOISY: ${provenance.noisy_reason}\n` : ""}wrote ${args.outDir}/reload.json\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`reload bench: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);

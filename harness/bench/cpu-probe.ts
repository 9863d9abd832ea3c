/**
 * A speed probe of the machine, recorded before and after every bench (provenance `cpu_probe_before`
 * / `cpu_probe_after`): the same pure-JS workload (Map and string work, no I/O, ~0.1 s) timed in a
 * fresh Node process pinned to each CPU in turn (taskset; without it, PROBE_RUNS unpinned runs),
 * CPU milliseconds each.
 *
 * Why: on the 2-core VM the benches were taken on, the hypervisor's neighbours slow the guest without
 * any trace inside it (steal 0, no foreign CPU, load average normal). At one moment on 2026-12-06 a
 * fresh process ran a workload in 345 ms, the next in 520 ms, alternating for minutes, where an hour
 * earlier 28 runs in a row had stayed within 331–359 ms: pinned, CPU 0 took 421–494 ms and CPU 1
 * 344–358 ms at the same time. Two full bench:reload runs 30 minutes apart on the same code differed
 * up to 2×. The foreign-CPU rule cannot see that; this probe can. The figure is comparable between
 * results files of the same machine only, and it is information, not a verdict: runs that spread
 * more than PROBE_SPREAD_LIMIT (slowest / fastest) are marked `unsteady`, and the report prints
 * each CPU's figure beside the run.
 *
 * The same child then prices a cold memory load (`mem_ns`, one per run): a pointer chase through a
 * random cycle over MEM_PROBE_MIB (one 4-byte link per 64-byte line, so every step is a dependent
 * load of a line — and mostly of a page — not in the caches), ns per step. The filter's added cost
 * per request on the embedded proxy is mostly such loads: between two requests Node's own HTTP work
 * (~100 µs of CPU) evicts the filter's code and data, and with the caches flushed between streams the
 * filter's added time grows from ~3 µs to ~10–18 µs at call level. On the Firecracker VM these benches
 * were taken on a step took 130–170 ns over 16 MiB (220–260 over 64 MiB: a VM's nested page walks),
 * and the hypervisor's neighbours move it without any trace in the CPU figure.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { canPin } from "../process/cpu-affinity.js";

export const PROBE_RUNS = 3;
/** Slowest over fastest run above this: the machine's speed moved while probing. */
export const PROBE_SPREAD_LIMIT = 1.15;
/** Size of the memory probe's pointer-chase buffer (beyond this VM's share of the last-level cache). */
export const MEM_PROBE_MIB = 16;
/**
 * A case's memory probe above the median of every memory probe in its file by this factor: memory ran
 * slow. (The median, not the fastest: one run of the probe spreads ±20 % by itself, 102–207 ns within
 * one steady bench:overhead run here, where the CPU probe stays within a few %.)
 */
export const MEM_SLOW_LIMIT = 1.25;

export interface CpuProbe {
  /** CPU ms of each run (user + system of the workload, in its own process): run i on CPU i when pinned. */
  runs_ms: number[];
  pinned: boolean;
  /** The middle run (of an even count, the slower of the two middle ones). */
  median_ms: number;
  /** Slowest / fastest run. */
  spread: number;
  unsteady: boolean;
  /** ns per cold dependent load of each run (same order as runs_ms); absent in files from before it. */
  mem_ns?: number[];
}

// Warm once (JIT), then time two passes; prints the CPU microseconds of the timed part, then the ns
// per step of the memory chase.
const WORKLOAD = `
function work() {
  const m = new Map();
  let s = 0;
  for (let i = 0; i < 1e6; i++) {
    const k = "k" + (i & 4095);
    m.set(k, (m.get(k) ?? 0) + i);
    s += k.length;
  }
  return s + m.size;
}
work();
const t = process.cpuUsage();
let x = work() + work();
const c = process.cpuUsage(t);
// Memory: a random cycle through one int per 64-byte line, then a timed chase along it.
const a = new Int32Array((${MEM_PROBE_MIB} << 20) >> 2);
const lines = a.length >> 4;
const order = new Int32Array(lines);
for (let i = 0; i < lines; i++) order[i] = i;
let r = 0x2545f491;
for (let i = lines - 1; i > 0; i--) {
  r ^= r << 13; r ^= r >>> 17; r ^= r << 5;
  const j = (r >>> 0) % (i + 1);
  const o = order[i]; order[i] = order[j]; order[j] = o;
}
for (let i = 0; i < lines; i++) a[order[i] << 4] = order[(i + 1) % lines] << 4;
let q = 0;
for (let i = 0; i < lines; i++) q = a[q]; // one lap: the page tables and the code warm
const steps = 400000;
const t0 = process.hrtime.bigint();
for (let i = 0; i < steps; i++) q = a[q];
const ns = Number(process.hrtime.bigint() - t0) / steps;
process.stdout.write(String(c.user + c.system) + " " + ns.toFixed(1) + (x < 0 || q < 0 ? "!" : ""));
`;

/** Summarises probe runs (exported for tests). */
export function summarise(runsMs: number[], pinned = false, memNs?: number[]): CpuProbe {
  const sorted = [...runsMs].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1]!;
  const spread = sorted[sorted.length - 1]! / sorted[0]!;
  const out: CpuProbe = { runs_ms: runsMs, pinned, median_ms: median, spread: Math.round(spread * 100) / 100, unsteady: spread > PROBE_SPREAD_LIMIT };
  if (memNs !== undefined) out.mem_ns = memNs;
  return out;
}

/** Runs the probe (one pinned run per CPU, up to 8; else PROBE_RUNS unpinned); null when a run fails. */
export function probeCpu(): CpuProbe | null {
  // Every CPU of the machine, not this process's affinity (bench:overhead pins its coordinator to CPU 0).
  const cores = cpus().length;
  const pinned = cores <= 8 && canPin(1);
  const runs = pinned ? cores : PROBE_RUNS;
  const out: number[] = [];
  const mem: number[] = [];
  for (let i = 0; i < runs; i++) {
    const node = [process.execPath, "-e", WORKLOAD];
    const [file, ...args] = pinned ? ["taskset", "-c", String(i), ...node] : node;
    const r = spawnSync(file!, args, { encoding: "utf8", timeout: 20_000, env: { PATH: process.env.PATH ?? "" } });
    const [us, ns] = String(r.stdout).split(" ").map(Number);
    if (r.status !== 0 || !Number.isFinite(us) || us! <= 0 || !Number.isFinite(ns) || ns! <= 0) return null;
    out.push(Math.round(us! / 100) / 10);
    mem.push(Math.round(ns!));
  }
  return summarise(out, pinned, mem);
}

/** ", CPU probe 118/121 → 119/120 ms, cold load 160/158 → 161/157 ns" (per CPU when pinned, else the median), "unsteady" marked. */
export function probeShort(before: unknown, after: unknown): string {
  const one = (p: unknown) => {
    if (!p || typeof p !== "object") return "?";
    const x = p as Partial<CpuProbe>;
    const ms = x.pinned ? (x.runs_ms ?? []).map((v) => Math.round(v)).join("/") : String(Math.round(x.median_ms ?? 0));
    return `${ms} ms${x.unsteady ? " (unsteady)" : ""}`;
  };
  const mem = (p: unknown) => {
    const m = (p as Partial<CpuProbe> | null | undefined)?.mem_ns;
    if (!Array.isArray(m) || m.length === 0) return "?";
    return (p as Partial<CpuProbe>).pinned ? m.join("/") : String([...m].sort((a, b) => a - b)[m.length >> 1]);
  };
  if (!before && !after) return "";
  const hasMem = [before, after].some((p) => Array.isArray((p as Partial<CpuProbe> | null | undefined)?.mem_ns));
  return `, CPU probe ${one(before)} → ${one(after)}${hasMem ? `, cold load ${mem(before)} → ${mem(after)} ns` : ""}`;
}

/** The probe runs a case holds under `key` (`cpu_probe_ms` before it, `cpu_probe_after_ms` after), or null. */
function caseRuns(c: Record<string, unknown>, key: string): number[] | null {
  const v = c[key];
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && x > 0) ? (v as number[]) : null;
}

/**
 * Was a case measured in a slow phase of the machine? Benches probe before and after each case
 * (`cpu_probe_ms`, `cpu_probe_after_ms`: one run per CPU; `mem_probe_ns`, `mem_probe_after_ns`: the
 * same runs' cold-load price); a case is slow when either CPU probe spread past PROBE_SPREAD_LIMIT
 * (one CPU slower than the other) or its slowest run exceeds the fastest run anywhere in the file
 * (the run's own probes and every case's) by that factor — or when a memory probe of the case
 * exceeds the median of the file's memory probes by MEM_SLOW_LIMIT. Undefined for cases without a probe.
 */
export function caseSlowPhase(c: Record<string, unknown>, allRuns: number[], allMem: number[] = []): { slow: boolean; text: string } | undefined {
  const before = caseRuns(c, "cpu_probe_ms");
  const after = caseRuns(c, "cpu_probe_after_ms");
  const probes = [before, after].filter((r): r is number[] => r !== null);
  if (probes.length === 0) return undefined;
  const best = Math.min(...allRuns.filter((v) => v > 0), ...probes.flat());
  let slow = probes.some((r) => Math.max(...r) / Math.min(...r) > PROBE_SPREAD_LIMIT || Math.max(...r) / best > PROBE_SPREAD_LIMIT);
  const ms = (r: number[] | null) => (r === null ? "?" : r.map((v) => Math.round(v)).join("/"));
  let text = after === null ? `CPU probe before the case ${ms(before)} ms` : `CPU probe before → after the case ${ms(before)} → ${ms(after)} ms`;
  text += `, fastest in the file ${Math.round(best)} ms`;
  const memBefore = caseRuns(c, "mem_probe_ns");
  const memAfter = caseRuns(c, "mem_probe_after_ns");
  const mems = [memBefore, memAfter].filter((r): r is number[] => r !== null);
  if (mems.length > 0) {
    const all = [...allMem.filter((v) => v > 0), ...(allMem.length === 0 ? mems.flat() : [])].sort((a, b) => a - b);
    const memMedian = all[all.length >> 1]!;
    if (mems.some((r) => Math.max(...r) / memMedian > MEM_SLOW_LIMIT)) slow = true;
    text += `; cold load ${memAfter === null ? ms(memBefore) : `${ms(memBefore)} → ${ms(memAfter)}`} ns, median in the file ${Math.round(memMedian)} ns`;
  }
  return { slow, text };
}

/** A case's probe readings (caseProbeFields): CPU ms and cold-load ns per CPU before and after it, null when a probe failed. */
export type CaseProbes = {
  cpu_probe_ms: number[] | null;
  cpu_probe_after_ms: number[] | null;
  mem_probe_ns: number[] | null;
  mem_probe_after_ns: number[] | null;
};

/**
 * A case's probe fields, as benches record them and caseSlowPhase reads them: the probe taken just
 * before the case and the one just after (either null when it failed).
 */
export function caseProbeFields(before: CpuProbe | null, after: CpuProbe | null): CaseProbes {
  return {
    cpu_probe_ms: before?.runs_ms ?? null,
    cpu_probe_after_ms: after?.runs_ms ?? null,
    mem_probe_ns: before?.mem_ns ?? null,
    mem_probe_after_ns: after?.mem_ns ?? null,
  };
}

/** Every value of one probe figure a results file holds: its provenance's before/after probes' and each case's. */
function fileProbeValues(provenance: unknown, cases: Array<Record<string, unknown>>, field: "runs_ms" | "mem_ns", caseKeys: readonly string[]): number[] {
  const p = (provenance ?? {}) as { cpu_probe_before?: Partial<CpuProbe> | null; cpu_probe_after?: Partial<CpuProbe> | null };
  const out: number[] = [...(p.cpu_probe_before?.[field] ?? []), ...(p.cpu_probe_after?.[field] ?? [])];
  for (const c of cases) for (const k of caseKeys) out.push(...(caseRuns(c, k) ?? []));
  return out;
}

/** Every CPU probe run a results file holds (ms). */
export function allProbeRuns(provenance: unknown, cases: Array<Record<string, unknown>>): number[] {
  return fileProbeValues(provenance, cases, "runs_ms", ["cpu_probe_ms", "cpu_probe_after_ms"]);
}

/** Every memory-probe figure a results file holds (ns per cold load). */
export function allMemProbes(provenance: unknown, cases: Array<Record<string, unknown>>): number[] {
  return fileProbeValues(provenance, cases, "mem_ns", ["mem_probe_ns", "mem_probe_after_ns"]);
}

/**
 * Slow-phase retries for a bench's cases: a case whose probes say it ran in a slow phase of the
 * machine (the report's own criterion, caseSlowPhase, against every probe reading taken so far in
 * the run) is measured again, up to `retries` times, after waiting for a steady probe. The decision
 * rests on the probes alone, never on the case's figures, and the discarded attempts stay in the
 * results file (`slow_attempts`), so a reader sees what was measured again and why.
 */
export class SlowPhaseRetry {
  private readonly runs: number[] = [];
  private readonly mem: number[] = [];

  constructor(
    readonly retries: number,
    /** How long to wait for a steady probe before an attempt (ms); probes every `everyMs`. */
    private readonly waitMs = 60_000,
    private readonly everyMs = 5_000,
    private readonly probe: () => CpuProbe | null = probeCpu,
  ) {}

  /** Records a probe's readings as part of this run (every probe taken counts towards "fastest"). */
  seen(p: CpuProbe | null): CpuProbe | null {
    if (p !== null) {
      this.runs.push(...p.runs_ms);
      this.mem.push(...(p.mem_ns ?? []));
    }
    return p;
  }

  /** Was the case between these probes measured in a slow phase (false without probes)? */
  slow(before: CpuProbe | null, after: CpuProbe | null): boolean {
    this.seen(after);
    return caseSlowPhase(caseProbeFields(before, after), this.runs, this.mem)?.slow ?? false;
  }

  /** A probe taken once the machine runs steady again (or the last one after waitMs): the next attempt's "before". */
  async steadyProbe(): Promise<CpuProbe | null> {
    const until = Date.now() + this.waitMs;
    for (;;) {
      const p = this.seen(this.probe());
      const steady = p !== null && !(caseSlowPhase(caseProbeFields(p, null), this.runs, this.mem)?.slow ?? false);
      if (steady || Date.now() + this.everyMs > until) return p;
      await new Promise((r) => setTimeout(r, this.everyMs));
    }
  }
}

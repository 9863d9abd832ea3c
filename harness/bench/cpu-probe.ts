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
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { canPin } from "../process/cpu-affinity.js";

export const PROBE_RUNS = 3;
/** Slowest over fastest run above this: the machine's speed moved while probing. */
export const PROBE_SPREAD_LIMIT = 1.15;

export interface CpuProbe {
  /** CPU ms of each run (user + system of the workload, in its own process): run i on CPU i when pinned. */
  runs_ms: number[];
  pinned: boolean;
  /** The middle run (of an even count, the slower of the two middle ones). */
  median_ms: number;
  /** Slowest / fastest run. */
  spread: number;
  unsteady: boolean;
}

// Warm once (JIT), then time two passes; prints the CPU microseconds of the timed part.
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
process.stdout.write(String(c.user + c.system) + (x < 0 ? "!" : ""));
`;

/** Summarises probe runs (exported for tests). */
export function summarise(runsMs: number[], pinned = false): CpuProbe {
  const sorted = [...runsMs].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1]!;
  const spread = sorted[sorted.length - 1]! / sorted[0]!;
  return { runs_ms: runsMs, pinned, median_ms: median, spread: Math.round(spread * 100) / 100, unsteady: spread > PROBE_SPREAD_LIMIT };
}

/** Runs the probe (one pinned run per CPU, up to 8; else PROBE_RUNS unpinned); null when a run fails. */
export function probeCpu(): CpuProbe | null {
  // Every CPU of the machine, not this process's affinity (bench:overhead pins its coordinator to CPU 0).
  const cores = cpus().length;
  const pinned = cores <= 8 && canPin(1);
  const runs = pinned ? cores : PROBE_RUNS;
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const node = [process.execPath, "-e", WORKLOAD];
    const [file, ...args] = pinned ? ["taskset", "-c", String(i), ...node] : node;
    const r = spawnSync(file!, args, { encoding: "utf8", timeout: 20_000, env: { PATH: process.env.PATH ?? "" } });
    const us = Number(r.stdout);
    if (r.status !== 0 || !Number.isFinite(us) || us <= 0) return null;
    out.push(Math.round(us / 100) / 10);
  }
  return summarise(out, pinned);
}

/** ", CPU probe 118/121 → 119/120 ms" (per CPU when pinned, else the median), "unsteady" marked. */
export function probeShort(before: unknown, after: unknown): string {
  const one = (p: unknown) => {
    if (!p || typeof p !== "object") return "?";
    const x = p as Partial<CpuProbe>;
    const ms = x.pinned ? (x.runs_ms ?? []).map((v) => Math.round(v)).join("/") : String(Math.round(x.median_ms ?? 0));
    return `${ms} ms${x.unsteady ? " (unsteady)" : ""}`;
  };
  if (!before && !after) return "";
  return `, CPU probe ${one(before)} → ${one(after)}`;
}

/** The probe runs a case holds under `key` (`cpu_probe_ms` before it, `cpu_probe_after_ms` after), or null. */
function caseRuns(c: Record<string, unknown>, key: string): number[] | null {
  const v = c[key];
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && x > 0) ? (v as number[]) : null;
}

/**
 * Was a case measured in a slow phase of the machine? Benches probe before and after each case
 * (`cpu_probe_ms`, `cpu_probe_after_ms`: one run per CPU); a case is slow when either probe spread
 * past PROBE_SPREAD_LIMIT (one CPU slower than the other) or its slowest run exceeds the fastest run
 * anywhere in the file (the run's own probes and every case's) by that factor. Undefined for cases
 * without a probe.
 */
export function caseSlowPhase(c: Record<string, unknown>, allRuns: number[]): { slow: boolean; text: string } | undefined {
  const before = caseRuns(c, "cpu_probe_ms");
  const after = caseRuns(c, "cpu_probe_after_ms");
  const probes = [before, after].filter((r): r is number[] => r !== null);
  if (probes.length === 0) return undefined;
  const best = Math.min(...allRuns.filter((v) => v > 0), ...probes.flat());
  const slow = probes.some((r) => Math.max(...r) / Math.min(...r) > PROBE_SPREAD_LIMIT || Math.max(...r) / best > PROBE_SPREAD_LIMIT);
  const ms = (r: number[] | null) => (r === null ? "?" : r.map((v) => Math.round(v)).join("/"));
  const text = after === null ? `CPU probe before the case ${ms(before)} ms` : `CPU probe before → after the case ${ms(before)} → ${ms(after)} ms`;
  return { slow, text: `${text}, fastest in the file ${Math.round(best)} ms` };
}

/** Every probe run a results file holds: its provenance's before/after and each case's. */
export function allProbeRuns(provenance: unknown, cases: Array<Record<string, unknown>>): number[] {
  const p = (provenance ?? {}) as { cpu_probe_before?: Partial<CpuProbe> | null; cpu_probe_after?: Partial<CpuProbe> | null };
  const out: number[] = [...(p.cpu_probe_before?.runs_ms ?? []), ...(p.cpu_probe_after?.runs_ms ?? [])];
  for (const c of cases) for (const k of ["cpu_probe_ms", "cpu_probe_after_ms"]) out.push(...(caseRuns(c, k) ?? []));
  return out;
}

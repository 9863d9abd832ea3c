/**
 * Runs fuzz families for a number of cases or a time budget, deterministically from a seed:
 * cases are drawn in chunks with fc.sample(arb, { seed: chunkSeed(seed, family, k) }), so case i of a
 * family is reproducible from (seed, family, i) alone (see replayCase).
 */
import fc from "fast-check";
import { FAMILY_FACTORIES, type FamilyRunner, type FamilyStats, type Violation } from "./families.js";

export const FAMILY_NAMES = Object.keys(FAMILY_FACTORIES);

export interface FuzzRunOptions {
  families?: string[];
  seed: number;
  /** Cases per family. */
  cases: number;
  /** Per-family wall-clock budget (ms); the family stops early when exceeded. */
  timeBudgetMs?: number;
  chunk?: number;
  onProgress?: (family: string, done: number, stats: FamilyStats) => void;
  /** Custom runners (tests), by name. */
  factories?: Record<string, () => Promise<FamilyRunner<unknown>>>;
}

export interface FuzzSummary {
  seed: number;
  casesRequested: number;
  families: Array<Omit<FamilyStats, "violations"> & { violations: Violation[]; stoppedBy: "cases" | "time"; casesPerSecond: number }>;
  totals: { cases: number; traps: number; newViolations: number; knownViolations: number; requests: number };
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function chunkSeed(seed: number, family: string, chunk: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ hash(family) ^ Math.imul(chunk + 1, 0x85ebca6b)) | 0;
}

export const DEFAULT_CHUNK = 256;

/** The exact input of case `index` of `family` for `seed`. */
export function caseAt<C>(arb: fc.Arbitrary<C>, seed: number, family: string, index: number, chunk = DEFAULT_CHUNK): C {
  const k = Math.floor(index / chunk);
  return fc.sample(arb, { seed: chunkSeed(seed, family, k), numRuns: chunk })[index % chunk];
}

export async function runFamily(runner: FamilyRunner<unknown>, opts: { seed: number; cases: number; timeBudgetMs?: number; chunk?: number; onProgress?: FuzzRunOptions["onProgress"] }): Promise<FuzzSummary["families"][number]> {
  const chunk = opts.chunk ?? DEFAULT_CHUNK;
  const deadline = opts.timeBudgetMs ? performance.now() + opts.timeBudgetMs : Infinity;
  const t0 = performance.now();
  let index = 0;
  let stoppedBy: "cases" | "time" = "cases";
  outer: for (let k = 0; index < opts.cases; k++) {
    const batch = fc.sample(runner.arb, { seed: chunkSeed(opts.seed, runner.name, k), numRuns: Math.min(chunk, opts.cases - k * chunk) });
    for (const c of batch) {
      if (performance.now() > deadline) { stoppedBy = "time"; break outer; }
      await runner.run(c, index);
      index++;
      if (opts.onProgress && index % 1000 === 0) opts.onProgress(runner.name, index, runner.stats);
    }
  }
  const s = runner.stats;
  const secs = (performance.now() - t0) / 1000;
  return { ...s, stoppedBy, casesPerSecond: Math.round(s.cases / Math.max(secs, 1e-3)) };
}

export async function runFuzz(opts: FuzzRunOptions): Promise<FuzzSummary> {
  const names = opts.families ?? FAMILY_NAMES;
  const factories = { ...FAMILY_FACTORIES, ...(opts.factories ?? {}) };
  const out: FuzzSummary = { seed: opts.seed, casesRequested: opts.cases, families: [], totals: { cases: 0, traps: 0, newViolations: 0, knownViolations: 0, requests: 0 } };
  for (const name of names) {
    const f = factories[name];
    if (!f) throw new Error(`unknown fuzz family "${name}" (known: ${Object.keys(factories).join(", ")})`);
    const runner = await f();
    try {
      const r = await runFamily(runner, opts);
      out.families.push(r);
      out.totals.cases += r.cases;
      out.totals.traps += r.traps;
      out.totals.requests += r.requests;
      out.totals.newViolations += Object.values(r.byKind).reduce((a, b) => a + b, 0);
      out.totals.knownViolations += Object.values(r.known).reduce((a, b) => a + b, 0);
    } finally {
      await runner.close();
    }
  }
  return out;
}

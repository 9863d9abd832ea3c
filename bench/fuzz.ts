/**
 * Long fuzz run (issue #8): every family of harness/fuzz/families.ts for --cases cases (default
 * 50,000 per family), seeded and reproducible (case i of a family is a function of (seed, family, i):
 * harness/fuzz/runner.ts caseAt). Families run in parallel child processes (--parallel, default 2).
 * Writes bench/results/fuzz.json (summary per family: cases, accepted/rejected, requests, traps,
 * violations by kind, known issues, cases per mutation class, first violations with their input) and
 * prints it. Exit code 1 when a family found a trap or a new (not known) violation, or stopped on
 * its time budget before --cases.
 *
 *   npx tsx bench/fuzz.ts [--seed 1] [--cases 50000] [--families rules-push,xff] [--parallel 2]
 *                         [--max-minutes 120]   (per family)
 */
import { fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FAMILY_NAMES, runFamily, type FuzzSummary } from "../harness/fuzz/runner.js";
import { FAMILY_FACTORIES } from "../harness/fuzz/families.js";
import { KNOWN_ISSUES } from "../harness/fuzz/families.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function opt(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}
function num(name: string, def: number): number {
  const v = opt(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: expected a number, got ${v}`);
  return n;
}

const SEED = num("seed", 1);
const CASES = num("cases", 50_000);
const PARALLEL = Math.max(1, num("parallel", 2));
const MAX_MINUTES = num("max-minutes", 120);
const FAMILIES = (opt("families") ?? FAMILY_NAMES.join(",")).split(",").filter(Boolean);
const OUT = resolve(ROOT, opt("out") ?? "bench/results/fuzz.json");

type FamilyResult = FuzzSummary["families"][number];

/** Child: run one family and send its summary back. */
async function runChild(family: string): Promise<void> {
  const factory = FAMILY_FACTORIES[family];
  if (!factory) throw new Error(`unknown family ${family}`);
  const runner = await factory();
  try {
    const r = await runFamily(runner, {
      seed: SEED, cases: CASES, timeBudgetMs: MAX_MINUTES * 60_000,
      onProgress: (f, done, st) => {
        if (done % 5000 === 0) process.stdout.write(`[fuzz] ${f}: ${done}/${CASES} traps=${st.traps} new=${JSON.stringify(st.byKind)} known=${JSON.stringify(st.known)}\n`);
      },
    });
    await new Promise<void>((res) => process.send!(r, () => res()));
  } finally {
    await runner.close();
  }
}

async function main(): Promise<void> {
  for (const f of FAMILIES) if (!FAMILY_FACTORIES[f]) throw new Error(`unknown family "${f}" (known: ${FAMILY_NAMES.join(", ")})`);
  const t0 = performance.now();
  const results: FamilyResult[] = [];
  const queue = [...FAMILIES];
  const startOne = (family: string) => new Promise<void>((res, rej) => {
    const child = fork(fileURLToPath(import.meta.url), ["--role", "family", family, ...process.argv.slice(2)], {
      execArgv: ["--import", "tsx", "--max-old-space-size=4096"], stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let got = false;
    child.on("message", (m: FamilyResult) => { got = true; results.push(m); });
    child.on("exit", (code) => (got && code === 0 ? res() : rej(new Error(`family ${family}: child exited with ${code}`))));
  });
  const lanes = Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      process.stdout.write(`[fuzz] ${f}: start (seed ${SEED}, ${CASES} cases)\n`);
      await startOne(f);
    }
  });
  await Promise.all(lanes);
  results.sort((a, b) => FAMILIES.indexOf(a.family) - FAMILIES.indexOf(b.family));
  const totals = {
    cases: results.reduce((a, r) => a + r.cases, 0),
    requests: results.reduce((a, r) => a + r.requests, 0),
    traps: results.reduce((a, r) => a + r.traps, 0),
    newViolations: results.reduce((a, r) => a + Object.values(r.byKind).reduce((x, y) => x + y, 0), 0),
    knownViolations: results.reduce((a, r) => a + Object.values(r.known).reduce((x, y) => x + y, 0), 0),
  };
  const summary = {
    date: new Date().toISOString(),
    seed: SEED,
    casesPerFamily: CASES,
    durationS: Math.round((performance.now() - t0) / 1000),
    totals,
    families: results.map((r) => ({
      family: r.family, cases: r.cases, accepted: r.accepted, rejected: r.rejected, requests: r.requests, traps: r.traps,
      newViolations: r.byKind, knownIssues: r.known, stoppedBy: r.stoppedBy, casesPerSecond: r.casesPerSecond,
      byMutation: r.byMutation, violations: r.violations.slice(0, 20),
    })),
    knownIssues: KNOWN_ISSUES.map((k) => k.id),
    pass: totals.traps === 0 && totals.newViolations === 0 && results.every((r) => r.stoppedBy === "cases" && r.cases === CASES),
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(summary, null, 2) + "\n");
  const table = [
    "family          cases  accepted  rejected  requests  traps  new  known",
    ...summary.families.map((f) => `${f.family.padEnd(14)} ${String(f.cases).padStart(6)} ${String(f.accepted).padStart(9)} ${String(f.rejected).padStart(9)} ${String(f.requests).padStart(9)} ${String(f.traps).padStart(6)} ${String(Object.values(f.newViolations).reduce((a, b) => a + b, 0)).padStart(4)} ${String(Object.values(f.knownIssues).reduce((a, b) => a + b, 0)).padStart(6)}`),
  ].join("\n");
  process.stdout.write(`${JSON.stringify({ ...summary, families: summary.families.map(({ violations: _v, byMutation: _b, ...rest }) => rest) }, null, 2)}\n\n${table}\nwritten ${OUT}\n`);
  if (!summary.pass) process.exitCode = 1;
}

const roleAt = process.argv.indexOf("--role");
const role = roleAt >= 0 ? process.argv[roleAt + 1] : "main";
(role === "family" ? runChild(process.argv[roleAt + 2]) : main()).catch((err) => {
  process.stderr.write(`fuzz (${role}): ${(err as Error).stack ?? err}\n`);
  process.exit(2);
});

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
 *                         [--max-minutes 120]   (per family)   [--out FILE]   [--help]
 * Progress: each family prints a line at most every 10 s (cases done, rate, time left); the parent
 * prints a summary line every 30 s. Family processes exit when the parent goes away (Ctrl-C, kill).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { FAMILY_NAMES, runFamily, type FuzzSummary } from "../harness/fuzz/runner.js";
import { FAMILY_FACTORIES } from "../harness/fuzz/families.js";
import { KNOWN_ISSUES } from "../harness/fuzz/families.js";
import { exitIfOrphaned, exitWithParent, forkChild } from "../harness/process/child-lifetime.js";
import { RunRecord } from "../harness/bench/results.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const USAGE = `usage: npx tsx bench/fuzz.ts [options]

Long seeded fuzz run of every family (harness/fuzz/families.ts) in parallel child processes; writes
bench/results/fuzz.json and prints a summary table. A full run (default 50,000 cases per family, 6
families) takes tens of minutes to hours on 2 cores.

options:
  --seed N          PRNG seed (default 1); case i of a family depends only on (seed, family, i)
  --cases N         cases per family (default 50000)
  --families LIST   comma-separated subset of: ${FAMILY_NAMES.join(", ")}
  --parallel N      families run at once, one process each (default 2)
  --max-minutes N   time budget per family (default 120); a family stopped by it fails the run
  --out FILE        result file (default bench/results/fuzz.json)
  -h, --help        this text

exit codes: 0 pass, 1 a trap, a new violation or a family stopped by its time budget, 2 bad usage
or a failed child process`;

let parsed: ReturnType<typeof parseCli>;
function parseCli() {
  return parseArgs({
    args: process.argv.slice(2),
    options: {
      seed: { type: "string" },
      cases: { type: "string" },
      families: { type: "string" },
      parallel: { type: "string" },
      "max-minutes": { type: "string" },
      out: { type: "string" },
      role: { type: "string" }, // internal: --role family NAME
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
}
try {
  parsed = parseCli();
} catch (err) {
  process.stderr.write(`fuzz: ${(err as Error).message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (parsed.values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

function num(name: "seed" | "cases" | "parallel" | "max-minutes", def: number): number {
  const v = parsed.values[name];
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`fuzz: --${name}: expected a number, got ${v}\n`);
    process.exit(2);
  }
  return n;
}

const SEED = num("seed", 1);
const CASES = num("cases", 50_000);
const PARALLEL = Math.max(1, num("parallel", 2));
const MAX_MINUTES = num("max-minutes", 120);
const FAMILIES = (parsed.values.families ?? FAMILY_NAMES.join(",")).split(",").filter(Boolean);
const OUT = resolve(ROOT, parsed.values.out ?? "bench/results/fuzz.json");

type FamilyResult = FuzzSummary["families"][number];

/** Child: run one family and send its summary back. */
async function runChild(family: string): Promise<void> {
  exitWithParent();
  const factory = FAMILY_FACTORIES[family];
  if (!factory) throw new Error(`unknown family ${family}`);
  const runner = await factory();
  const t0 = performance.now();
  let lastLine = 0;
  try {
    const r = await runFamily(runner, {
      seed: SEED, cases: CASES, timeBudgetMs: MAX_MINUTES * 60_000,
      onProgress: (f, done, st) => {
        exitIfOrphaned(); // cases can run back to back without yielding to the event loop
        const now = performance.now();
        if (now - lastLine < 10_000 && done < CASES) return;
        lastLine = now;
        const rate = done / ((now - t0) / 1000);
        const left = rate > 0 ? Math.round((CASES - done) / rate) : 0;
        process.stdout.write(`[fuzz] ${f}: ${done}/${CASES} cases (${Math.floor((done * 100) / CASES)}%, ${rate.toFixed(0)}/s, ~${left} s left) traps=${st.traps} new=${JSON.stringify(st.byKind)} known=${JSON.stringify(st.known)}\n`);
      },
    });
    await new Promise<void>((res) => process.send!(r, () => res()));
  } finally {
    await runner.close();
  }
  // Leave the IPC channel: its "disconnect" listener (exitWithParent) keeps this process alive, and
  // the parent waits for the exit. On "disconnect" exitWithParent's handler exits with 0.
  process.disconnect();
}

async function main(): Promise<void> {
  for (const f of FAMILIES) if (!FAMILY_FACTORIES[f]) throw new Error(`unknown family "${f}" (known: ${FAMILY_NAMES.join(", ")})`);
  const run = new RunRecord("fuzz", { quick: false }); // which commit and .wasm these verdicts are about
  const t0 = performance.now();
  const results: FamilyResult[] = [];
  const queue = [...FAMILIES];
  let done = 0;
  const heartbeat = setInterval(() => {
    process.stdout.write(`[fuzz] ${done}/${FAMILIES.length} families done, ${Math.round((performance.now() - t0) / 1000)} s elapsed\n`);
  }, 30_000);
  heartbeat.unref();
  const startOne = (family: string) => new Promise<void>((res, rej) => {
    const child = forkChild(fileURLToPath(import.meta.url), ["--role", "family", family, ...process.argv.slice(2)], {
      execArgv: ["--import", "tsx", "--max-old-space-size=4096"],
    });
    process.stdout.write(`[fuzz] ${family}: start (seed ${SEED}, ${CASES} cases, pid ${child.pid})\n`);
    child.on("exit", () => done++);
    let got = false;
    child.on("message", (m: FamilyResult) => { got = true; results.push(m); });
    child.on("exit", (code) => (got && code === 0 ? res() : rej(new Error(`family ${family}: child exited with ${code}`))));
  });
  const lanes = Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      await startOne(f);
    }
  });
  await Promise.all(lanes);
  clearInterval(heartbeat);
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
    provenance: run.finish(),
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

const role = parsed.values.role ?? "main";
(role === "family" ? runChild(parsed.positionals[0]) : main()).catch((err) => {
  process.stderr.write(`fuzz (${role}): ${(err as Error).stack ?? err}\n`);
  process.exit(2);
});

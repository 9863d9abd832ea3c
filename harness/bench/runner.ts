/**
 * Runs the selected bench modules (harness/bench/registry.ts), one child process each (isolated
 * heaps, no cross-bench JIT or GC state), then writes summary.json and REPORT.md into the results
 * directory and returns the tables. Every child is bounded by a timeout. `edgewatch bench` is the
 * command line for it.
 *
 * Results directory: bench/results (full runs, committed) or bench/results/quick (--quick,
 * git-ignored), see harness/bench/results.ts.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { withParentDeath } from "../process/child-lifetime.js";
import { BENCHES, selectBenches, type BenchModule } from "./registry.js";
import { compareBenches, consoleTables, formatCompare, loadResults, quickMismatch, writeReport } from "./report.js";
import { MALLOC_TUNING, REPO_ROOT, RunRecord, resultsDir, writeResultFile } from "./results.js";

export interface RunOptions {
  quick: boolean;
  target: string;
  only?: string[];
  compare?: string;
  tolerance: number;
  /** Results directory (default: bench/results, or bench/results/quick with --quick). */
  outDir?: string;
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
  outDir: string;
  outcomes: BenchOutcome[];
  reportPath?: string;
  compareOk?: boolean;
  compareText?: string;
  tables: string;
}

function runChild(b: BenchModule, opts: RunOptions, outDir: string): Promise<{ code: number | null; timedOut: boolean }> {
  const args = ["--import", "tsx", join(REPO_ROOT, b.script)];
  if (opts.quick) args.push("--quick");
  if (opts.target !== "embedded") args.push("--target", opts.target);
  return new Promise((res) => {
    // TERM when the runner dies: the bench stops its own children (harness/process/child-lifetime.ts).
    const [cmd, argv] = withParentDeath(process.execPath, args, "TERM");
    const child = spawn(cmd, argv, {
      cwd: REPO_ROOT,
      stdio: ["ignore", "inherit", "inherit"],
      env: {
        ...process.env,
        EDGEWATCH_BENCH_QUICK: opts.quick ? "1" : "",
        EDGEWATCH_TARGET: opts.target,
        EDGEWATCH_BENCH_OUT: outDir,
        ...(process.env.EDGEWATCH_BENCH_MALLOC === "default" ? {} : MALLOC_TUNING),
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
  const outDir = opts.outDir ?? resultsDir(opts.quick);
  mkdirSync(outDir, { recursive: true });
  const selected = selectBenches(opts.only);
  // A quick run compared with a full baseline (or the reverse) compares different methods.
  if (opts.compare) {
    const mixed = quickMismatch(loadResults(opts.compare), opts.quick);
    if (mixed) throw new Error(mixed);
  }
  const record = new RunRecord("all", { quick: opts.quick, target: opts.target });
  const outcomes: BenchOutcome[] = [];
  for (const b of selected) {
    const started = Date.now();
    if (!existsSync(join(REPO_ROOT, b.script))) {
      outcomes.push({ name: b.name, status: "missing", seconds: 0, note: `${b.script} not found` });
      log(`[bench] ${b.name}: ${b.script} not found — skipped`);
      continue;
    }
    if (!b.targets.includes(opts.target)) {
      outcomes.push({ name: b.name, status: "skipped", seconds: 0, note: `runs on ${b.targets.join("/")} only` });
      log(`[bench] ${b.name}: runs on ${b.targets.join("/")} only — skipped for target ${opts.target}`);
      continue;
    }
    log(`[bench] ${b.name}: ${b.description}${opts.quick ? " (quick)" : ""} → ${outDir}`);
    const { code, timedOut } = await runChild(b, opts, outDir);
    const seconds = (Date.now() - started) / 1000;
    const status = timedOut ? "timeout" : code === 0 ? "ok" : "failed";
    outcomes.push({ name: b.name, status, exitCode: code, seconds });
    log(`[bench] ${b.name}: ${status} in ${seconds.toFixed(1)}s${code && code !== 0 ? ` (exit ${code})` : ""}`);
  }

  // Combined file: one baseline a CI job can keep and pass to --compare later.
  const benches: Record<string, unknown> = {};
  for (const b of BENCHES) {
    for (const out of b.outputs) {
      const p = join(outDir, out);
      if (!existsSync(p)) continue;
      try {
        benches[out.replace(/\.json$/, "")] = JSON.parse(readFileSync(p, "utf8"));
      } catch {
        /* a broken result file is reported by the bench that wrote it */
      }
    }
  }
  writeResultFile(outDir, "summary.json", {
    generated_at: new Date().toISOString(),
    quick: opts.quick,
    target: opts.target,
    provenance: record.finish(),
    outcomes,
    benches,
  });

  const rep = writeReport(outDir);
  const ranNames = outcomes
    .filter((o) => o.status === "ok")
    .flatMap((o) => BENCHES.find((b) => b.name === o.name)!.outputs.map((f) => f.replace(/\.json$/, "")));
  const tables = consoleTables(outDir, ranNames);
  const result: RunResult = { outDir, outcomes, reportPath: rep.path, tables };
  if (opts.compare) {
    // Only what this run measured is compared; stale files from earlier runs are left out.
    const fresh = loadResults(outDir).filter((b) => ranNames.includes(b.name));
    const r = compareBenches(loadResults(opts.compare), fresh, opts.tolerance);
    result.compareOk = r.ok;
    result.compareText = formatCompare(r);
  }
  return result;
}

import type { Command } from "commander";
import { parseFloatOption, parseList } from "../args.js";
import { EXIT, envError, usageError } from "../exit-codes.js";
import { TARGET_NAMES, checkTargetAvailable, checkWasm, type TargetName } from "../env.js";
import { parseTarget } from "./check.js";

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description(
      "run the bench suite (overhead, reload, telemetry, signature, trace), write <name>.json, summary.json and REPORT.md (tables + SVG charts) into bench/results (full runs) or bench/results/quick (--quick, git-ignored), print the tables, and optionally compare with a baseline",
    )
    .option("--target <name>", `where to run: ${TARGET_NAMES.join(" | ")} (reload and overhead run on every target: reload through harness/stack, overhead on Envoy against a filter-less twin listener of the same process; telemetry and trace measure the filter itself and are skipped elsewhere)`, parseTarget, "embedded")
    .option("--quick", "short runs (a few minutes in total on a 2-core machine); results go to bench/results/quick, never over the committed full results")
    .option("--out <dir>", "results directory (default bench/results, or bench/results/quick with --quick)")
    .option("--only <names>", "comma-separated subset: overhead,reload,telemetry,trace", parseList)
    .option("--compare <old>", "baseline to compare with: an old summary.json, a single <name>.json, or a results directory")
    .option("--tolerance <fraction>", "allowed slowdown before --compare fails (0.15 = 15%)", parseFloatOption("--tolerance", 0, 100), 0.15)
    .addHelpText(
      "after",
      `
Exit codes: 0 ok, 1 a bench failed or a metric got worse than --tolerance vs --compare, 2 usage error,
3 environment missing (no build, target unavailable).

Examples:
  edgewatch bench --quick
  edgewatch bench --only overhead --quick
  cp bench/results/quick/summary.json /tmp/base.json && edgewatch bench --quick --compare /tmp/base.json --tolerance 0.2
A quick run is only compared with a quick baseline, a full run with a full one.`,
    )
    .action(async (opts: { target: TargetName; quick?: boolean; only?: string[]; out?: string; compare?: string; tolerance: number }) => {
      await checkWasm();
      const { selectBenches } = await import("../../bench/registry.js");
      const { runBenches } = await import("../../bench/runner.js");
      let selected;
      try {
        selected = selectBenches(opts.only);
      } catch (err) {
        throw usageError((err as Error).message);
      }
      if (!selected.some((b) => b.targets.includes(opts.target))) {
        throw envError(
          `no selected bench runs on target '${opts.target}' yet (${selected.map((b) => `${b.name}: ${b.targets.join("/")}`).join(", ")})`,
          "the benches drive the embedded host or the filter directly; use --target embedded",
        );
      }
      const avail = await checkTargetAvailable(opts.target);
      if (!avail.available) throw envError(`target '${opts.target}' is not available: ${avail.reason}`, avail.hint);
      if (opts.compare) {
        const { existsSync } = await import("node:fs");
        if (!existsSync(opts.compare)) throw usageError(`--compare: ${opts.compare} does not exist`);
      }
      let r;
      try {
        r = await runBenches({
          quick: Boolean(opts.quick),
          target: opts.target,
          only: opts.only,
          outDir: opts.out,
          compare: opts.compare,
          tolerance: opts.tolerance,
        });
      } catch (err) {
        throw usageError((err as Error).message);
      }
      process.stdout.write(`${r.tables}\n`);
      process.stdout.write(`report: ${r.reportPath}\n`);
      const bad = r.outcomes.filter((o) => o.status === "failed" || o.status === "timeout");
      const missing = r.outcomes.filter((o) => o.status === "missing");
      for (const o of r.outcomes) process.stdout.write(`  ${o.name.padEnd(10)} ${o.status}${o.note ? ` (${o.note})` : ""} ${o.seconds.toFixed(1)}s\n`);
      if (r.compareText) process.stdout.write(`${r.compareText}\n`);
      if (bad.length > 0) {
        process.stderr.write(`edgewatch: bench failed: ${bad.map((o) => `${o.name} (${o.status})`).join(", ")}\n`);
        process.exitCode = EXIT.CHECK_FAILED;
      } else if (r.compareOk === false) {
        process.exitCode = EXIT.CHECK_FAILED;
      } else if (missing.length > 0 && opts.only && missing.every((m) => opts.only!.includes(m.name))) {
        throw envError(`bench module(s) not found: ${missing.map((m) => m.note).join(", ")}`);
      } else {
        process.exitCode = EXIT.OK;
      }
    });
}

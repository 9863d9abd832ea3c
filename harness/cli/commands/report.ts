import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { parseFloatOption } from "../args.js";
import { EXIT, usageError } from "../exit-codes.js";
import { REPO_ROOT } from "../env.js";

export function registerReport(program: Command): void {
  program
    .command("report")
    .description("write bench/results/REPORT.md (tables + SVG charts) from the result files, or compare two result sets without running benches")
    .option("--dir <dir>", "results directory", resolve(REPO_ROOT, "bench/results"))
    .option("--compare <old>", "baseline: a summary.json, a single <name>.json or a results directory")
    .option("--against <new>", "what to compare with the baseline (default: --dir)")
    .option("--tolerance <fraction>", "allowed slowdown (0.15 = 15%)", parseFloatOption("--tolerance", 0, 100), 0.15)
    .option("--readme", "also regenerate README.md's measured figures (the block between the results markers) from the same files")
    .addHelpText(
      "after",
      `
A metric counts as slower when it moved in its bad direction (latency, µs, bytes up; rps, ratio down)
by more than the tolerance, and by more than a small absolute floor (0.05 ms, 0.5 µs, 64 KiB).
Exit codes: 0 ok, 1 something got slower than the tolerance, 2 usage or unreadable input.

Examples:
  edgewatch report
  edgewatch report --readme      # after full runs: REPORT.md and README's figures from bench/results
  edgewatch report --compare /tmp/base/summary.json --tolerance 0.2`,
    )
    .action(async (opts: { dir: string; compare?: string; against?: string; tolerance: number; readme?: boolean }) => {
      const { compare, formatCompare, writeReport } = await import("../../bench/report.js");
      if (opts.compare) {
        const against = opts.against ?? opts.dir;
        for (const p of [opts.compare, against]) if (!existsSync(p)) throw usageError(`${p} does not exist`);
        let r;
        try {
          r = compare(opts.compare, against, opts.tolerance);
        } catch (err) {
          throw usageError((err as Error).message);
        }
        process.stdout.write(`${formatCompare(r)}\n`);
        process.exitCode = r.ok ? EXIT.OK : EXIT.CHECK_FAILED;
        return;
      }
      if (!existsSync(opts.dir)) throw usageError(`${opts.dir} does not exist`, "run `edgewatch bench --quick` first");
      const rep = writeReport(opts.dir);
      process.stdout.write(`wrote ${rep.path} (${rep.benches.join(", ") || "no results"}; ${rep.charts.length} charts)\n`);
      if (opts.readme) {
        const { loadResults } = await import("../../bench/report.js");
        const { updateReadme } = await import("../../bench/readme.js");
        const readme = resolve(REPO_ROOT, "README.md");
        try {
          const changed = updateReadme(readme, loadResults(opts.dir).filter((b) => b.sections.length > 0));
          process.stdout.write(`${changed ? "updated" : "unchanged"}: ${readme} (measured figures)\n`);
        } catch (err) {
          throw usageError((err as Error).message);
        }
      }
      process.exitCode = EXIT.OK;
    });
}

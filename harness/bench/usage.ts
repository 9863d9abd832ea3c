/**
 * `--help` of the bench scripts: print the script's usage and exit 0 before anything runs (no
 * build check, no malloc re-exec, no child process, no results file). Call it first in the script's
 * body, before any side effect.
 */
export function exitOnHelp(usage: string, argv: string[] = process.argv.slice(2)): void {
  if (!argv.includes("--help") && !argv.includes("-h")) return;
  process.stdout.write(`${usage.trim()}\n`);
  process.exit(0);
}

/** The options benchArgs() reads (harness/bench/results.ts), for every bench script's usage. */
export const COMMON_OPTIONS = `  --quick           short run; results go to bench/results/quick (git-ignored), not over the committed files
  --out DIR         results directory (default bench/results, or bench/results/quick with --quick)
  -h, --help        this text
environment: EDGEWATCH_WASM=path (build measured), EDGEWATCH_BENCH_MALLOC=default (glibc's malloc defaults)`;

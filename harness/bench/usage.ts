/**
 * The command line of a bench script, checked before anything runs (no build check, no malloc
 * re-exec, no child process, no results file): `--help` prints the script's usage and exits 0; an
 * option its usage does not name (a typo such as `--out-dir` for `--out`) prints the option and the
 * usage on stderr and exits 2, so a mistyped option never runs the bench with defaults and writes
 * over the committed results. `internal`: options the script passes only to its own children.
 * Call it first in the script's body, before any side effect.
 */
export function checkUsage(usage: string, argv: string[] = process.argv.slice(2), internal: readonly string[] = []): void {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  const unknown = unknownOptions(usage, argv, internal);
  if (unknown.length === 0) return;
  process.stderr.write(`unknown option${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}\n\n${usage.trim()}\n`);
  process.exit(2);
}

/**
 * The arguments shaped like options that the usage text never names. `--name=value` counts as
 * unknown too: these scripts read `--name value` only, and would run with the default instead.
 */
export function unknownOptions(usage: string, argv: readonly string[], internal: readonly string[] = []): string[] {
  const known = new Set([...usage.matchAll(/(?<![\w-])--[a-z0-9][a-z0-9-]*/g)].map((m) => m[0]));
  for (const o of internal) known.add(o);
  return argv.filter((a) => a.startsWith("--") && !known.has(a));
}

/** The options benchArgs() reads (harness/bench/results.ts), for every bench script's usage. */
export const COMMON_OPTIONS = `  --quick           short run; results go to bench/results/quick (git-ignored), not over the committed files
  --out DIR         results directory (default bench/results, or bench/results/quick with --quick)
  -h, --help        this text
environment: EDGEWATCH_WASM=path (build measured), EDGEWATCH_BENCH_MALLOC=default (glibc's malloc defaults)`;

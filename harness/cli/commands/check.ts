import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { EXIT, envError, usageError } from "../exit-codes.js";
import { REPO_ROOT, TARGET_NAMES, checkTargetAvailable, type TargetName } from "../env.js";
import { CHECK_SUMMARY_ENV, type CheckSummary } from "../check-reporter.js";

/** The conformance suite: scenarios written against Target and the stack, run on every target. */
export const CONFORMANCE_DIR = "test/conformance";

export interface CheckOptions {
  targets: TargetName[];
  filter?: string[];
  /** Extra test paths/patterns (default: the conformance suite). */
  tests?: string[];
}

export function registerCheck(program: Command): void {
  program
    .command("check")
    .description(
      "run the conformance suite (test/conformance, vitest) against the embedded host, Envoy in Docker (envoy) and/or a local envoy binary (envoy-local): " +
        "one line per scenario and an `N passed, N failed, N skipped` total. Every target given is required: an unavailable one fails loudly (exit 3), and so does a run in which no test ran",
    )
    .option("--target <name>", `target to check: ${TARGET_NAMES.join(" | ")} (repeat it, or a comma list, for several)`, collectTargets, [])
    .option("-t, --filter <pattern...>", "only tests whose name matches (vitest -t)")
    .argument("[tests...]", `test files or directories (default: the conformance suite, ${CONFORMANCE_DIR}; 'all' = the whole suite)`)
    .addHelpText(
      "after",
      `
Environment passed to vitest: EDGEWATCH_TARGETS=<targets> and EDGEWATCH_REQUIRE_TARGET=<targets>.
Exit codes: 0 all tests passed, 1 a test failed or no test ran, 2 usage error, 3 target unavailable (e.g. no Docker for --target envoy).

Examples:
  edgewatch check                                # conformance on the embedded host
  edgewatch check --target envoy                 # the same scenarios against Envoy in Docker
  edgewatch check --target embedded,envoy-local  # both, one run
  edgewatch check all                            # the whole vitest suite`,
    )
    .action(async (tests: string[], opts: { target: TargetName[]; filter?: string[] }) => {
      const targets = opts.target.length > 0 ? opts.target : (["embedded"] as TargetName[]);
      process.exitCode = await runCheck({ targets, filter: opts.filter, tests });
    });
}

function collectTargets(value: string, previous: TargetName[]): TargetName[] {
  const out = [...previous];
  for (const v of value.split(",").map((x) => x.trim()).filter(Boolean)) {
    const t = parseTarget(v);
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

export function parseTarget(text: string): TargetName {
  if (!(TARGET_NAMES as readonly string[]).includes(text)) {
    throw usageError(`unknown target '${text}'`, `one of: ${TARGET_NAMES.join(", ")}`);
  }
  return text as TargetName;
}

/**
 * Default test selection: the conformance suite, the test files under test/conformance that run
 * their scenarios per target (call describeTargets from harness/targets/describe-targets.ts).
 */
export function conformancePaths(root: string = REPO_ROOT): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".test.ts") && /\bdescribeTargets\(/.test(readFileSync(p, "utf8"))) out.push(relative(root, p));
    }
  };
  const dir = join(root, CONFORMANCE_DIR);
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

export async function runCheck(opts: CheckOptions): Promise<number> {
  if (opts.targets.length === 0) throw usageError("no target given");
  for (const target of opts.targets) {
    const avail = await checkTargetAvailable(target);
    if (!avail.available) throw envError(`target '${target}' is not available: ${avail.reason}`, avail.hint);
  }
  let paths = opts.tests && opts.tests.length > 0 ? opts.tests : conformancePaths();
  if (paths.length === 0) throw usageError(`no conformance tests found (${CONFORMANCE_DIR}/*.test.ts calling describeTargets)`, "pass test paths, or 'all' for the whole suite");
  if (paths.length === 1 && paths[0] === "all") paths = [];
  const vitestBin = resolve(REPO_ROOT, "node_modules/vitest/vitest.mjs");
  if (!existsSync(vitestBin)) throw envError("vitest is not installed", "run npm ci");
  const reporter = resolve(REPO_ROOT, "harness/cli/check-reporter.ts");
  const args = ["run", ...paths, `--reporter=${reporter}`];
  for (const f of opts.filter ?? []) args.push("-t", f);
  const targets = opts.targets.join(",");
  process.stderr.write(`[check] target ${targets}: vitest run ${paths.join(" ") || "(whole suite)"}\n`);
  const dir = mkdtempSync(join(tmpdir(), "edgewatch-check-"));
  const summaryFile = join(dir, "summary.json");
  try {
    const code = await new Promise<number>((resolveCode) => {
      const child = spawn(process.execPath, [vitestBin, ...args], {
        cwd: REPO_ROOT,
        stdio: "inherit",
        env: { ...process.env, EDGEWATCH_TARGETS: targets, EDGEWATCH_REQUIRE_TARGET: targets, [CHECK_SUMMARY_ENV]: summaryFile },
      });
      const forward = (sig: NodeJS.Signals) => child.kill(sig);
      process.once("SIGINT", forward);
      process.once("SIGTERM", forward);
      child.on("exit", (c, sig) => {
        process.off("SIGINT", forward);
        process.off("SIGTERM", forward);
        resolveCode(sig ? EXIT.CHECK_FAILED : c ?? EXIT.CHECK_FAILED);
      });
      child.on("error", () => resolveCode(EXIT.ENVIRONMENT));
    });
    const summary = existsSync(summaryFile) ? (JSON.parse(readFileSync(summaryFile, "utf8")) as CheckSummary) : undefined;
    if (summary && summary.passed + summary.failed === 0) {
      process.stderr.write(`[check] no test ran on target ${targets}: nothing was checked\n`);
      return EXIT.CHECK_FAILED;
    }
    // vitest: 1 = failed tests (or no test files found).
    return code === 0 && summary !== undefined ? EXIT.OK : EXIT.CHECK_FAILED;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

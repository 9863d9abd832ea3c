import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { EXIT, envError, usageError } from "../exit-codes.js";
import { REPO_ROOT, TARGET_NAMES, checkTargetAvailable, type TargetName } from "../env.js";

export interface CheckOptions {
  target: TargetName;
  filter?: string[];
  /** Extra test paths/patterns (default: the conformance suite). */
  tests?: string[];
}

export function registerCheck(program: Command): void {
  program
    .command("check")
    .description(
      "run the conformance suite (vitest) against one target: the embedded host, Envoy in Docker (envoy) or a local envoy binary (envoy-local). " +
        "The target is required: if it is unavailable the command fails loudly (exit 3) instead of skipping",
    )
    .option("--target <name>", `target to check: ${TARGET_NAMES.join(" | ")}`, parseTarget, "embedded")
    .option("-t, --filter <pattern...>", "only tests whose name matches (vitest -t)")
    .argument("[tests...]", "test files or directories (default: the conformance suite = every test file using describeTargets; 'all' = the whole suite)")
    .addHelpText(
      "after",
      `
Environment passed to vitest: EDGEWATCH_TARGETS=<target> and EDGEWATCH_REQUIRE_TARGET=<target>.
Exit codes: 0 all tests passed, 1 a test failed, 2 usage error, 3 target unavailable (e.g. no Docker for --target envoy).

Examples:
  edgewatch check                      # conformance on the embedded host
  edgewatch check --target envoy       # the same tests against Envoy in Docker
  edgewatch check all                  # the whole vitest suite`,
    )
    .action(async (tests: string[], opts: { target: TargetName; filter?: string[] }) => {
      process.exitCode = await runCheck({ target: opts.target, filter: opts.filter, tests });
    });
}

export function parseTarget(text: string): TargetName {
  if (!(TARGET_NAMES as readonly string[]).includes(text)) {
    throw usageError(`unknown target '${text}'`, `one of: ${TARGET_NAMES.join(", ")}`);
  }
  return text as TargetName;
}

/**
 * Default test selection: the conformance suite, i.e. every test file that runs its scenarios per
 * target (calls describeTargets from harness/targets/registry.ts). Empty when there is none.
 */
export function conformancePaths(root: string = REPO_ROOT): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== "node_modules" && !e.name.startsWith(".")) walk(p);
      } else if (e.name.endsWith(".test.ts") && /\bdescribeTargets\(/.test(readFileSync(p, "utf8"))) {
        out.push(relative(root, p));
      }
    }
  };
  if (existsSync(join(root, "test"))) walk(join(root, "test"));
  return out.sort();
}

export async function runCheck(opts: CheckOptions): Promise<number> {
  const avail = await checkTargetAvailable(opts.target);
  if (!avail.available) {
    throw envError(`target '${opts.target}' is not available: ${avail.reason}`, avail.hint);
  }
  let paths = opts.tests && opts.tests.length > 0 ? opts.tests : conformancePaths();
  if (paths.length === 0) throw usageError("no conformance tests found (test files calling describeTargets)", "pass test paths, or 'all' for the whole suite");
  if (paths.length === 1 && paths[0] === "all") paths = [];
  const args = ["vitest", "run", ...paths];
  for (const f of opts.filter ?? []) args.push("-t", f);
  const vitestBin = resolve(REPO_ROOT, "node_modules/vitest/vitest.mjs");
  if (!existsSync(vitestBin)) throw envError("vitest is not installed", "run npm ci");
  process.stderr.write(`[check] target ${opts.target}: vitest run ${paths.join(" ") || "(whole suite)"}\n`);
  const code = await new Promise<number>((resolveCode) => {
    const child = spawn(process.execPath, [vitestBin, ...args.slice(1)], {
      cwd: REPO_ROOT,
      stdio: "inherit",
      env: { ...process.env, EDGEWATCH_TARGETS: opts.target, EDGEWATCH_REQUIRE_TARGET: opts.target },
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
  if (code === 0) return EXIT.OK;
  // vitest: 1 = failed tests (or no test files found).
  return EXIT.CHECK_FAILED;
}

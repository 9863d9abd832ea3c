/**
 * describeTargets(): the test suite's per-target blocks (vitest). A target left out by
 * EDGEWATCH_TARGETS is not registered at all; a selected target this machine cannot run is
 * registered with describe.skip, and one line says why, once per target per test run (not once
 * per test, nor once per test file):
 *   [edgewatch] skipping envoy target: no container runtime found (Docker/Podman socket): …
 * Target selection itself is registry.ts (no vitest there: the CLI and the benches load it).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "vitest";
import { getTarget, planTargets, REQUIRE_TARGET_ENV, selectedTargetNames, skipLine } from "./registry.js";
import { TARGET_NAMES, TargetUnavailableError, type Target, type TargetAvailability, type TargetName } from "./target.js";

/**
 * Register `body` once per target, inside describe(title). Targets left out by EDGEWATCH_TARGETS
 * are not registered (a run chose them away); selected targets that cannot run here are registered
 * with describe.skip (so the skipped tests stay visible in the report) and announced by one skip
 * line per target per run; a required target that cannot run gets a single failing test carrying
 * the reason.
 */
export function describeTargets(title: string, body: (target: Target) => void, opts: { targets?: TargetName[] } = {}): void {
  const candidates = opts.targets ?? [...TARGET_NAMES];
  describe(title, async () => {
    const av: Partial<Record<TargetName, TargetAvailability>> = {};
    const selected = selectedTargetNames();
    await Promise.all(candidates.filter((n) => selected.includes(n)).map(async (n) => (av[n] = await getTarget(n).availability())));
    for (const plan of planTargets(candidates, av)) {
      const target = getTarget(plan.name);
      if (plan.mode === "run") {
        describe(`[${plan.name}]`, () => body(target));
      } else if (plan.mode === "skip") {
        if (!selected.includes(plan.name)) continue;
        announceSkipOnce(plan.name, plan.reason);
        describe.skip(`[${plan.name}] (skipped: ${plan.reason})`, () => body(target));
      } else {
        describe(`[${plan.name}]`, () => {
          it(`requires the ${plan.name} target (${REQUIRE_TARGET_ENV})`, () => {
            throw new TargetUnavailableError(plan.name, plan.reason);
          });
        });
      }
    }
  });
}

// -- one skip line per target per run -------------------------------------------------------------

const announcedHere = new Set<string>();

/**
 * Vitest runs test files in worker processes (pool: forks), so a per-process Set would print the
 * line once per file. Workers share their parent (the vitest process): an exclusively created
 * marker file keyed by that pid lets exactly one worker print it.
 */
function announceSkipOnce(name: TargetName, reason: string): void {
  if (announcedHere.has(name)) return;
  announcedHere.add(name);
  const runKey = typeof process.send === "function" ? process.ppid : process.pid;
  const dir = path.join(os.tmpdir(), "edgewatch-skip-lines");
  let first = true;
  try {
    fs.mkdirSync(dir, { recursive: true });
    pruneOldMarkers(dir);
    fs.closeSync(fs.openSync(path.join(dir, `${runKey}-${name}`), "wx"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") first = false;
  }
  if (first) process.stderr.write(`${skipLine(name, reason)}\n`);
}

function pruneOldMarkers(dir: string): void {
  const cutoff = Date.now() - 24 * 3600 * 1000;
  for (const f of fs.readdirSync(dir)) {
    try {
      const p = path.join(dir, f);
      if (fs.statSync(p).mtimeMs < cutoff) fs.rmSync(p, { force: true });
    } catch {
      // another worker removed it
    }
  }
}

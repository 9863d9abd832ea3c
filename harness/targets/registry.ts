/**
 * Target selection for tests and benches.
 *
 *   EDGEWATCH_TARGETS=embedded,envoy      run only these targets (default: all three)
 *   EDGEWATCH_REQUIRE_TARGET=envoy        an unavailable listed target FAILS instead of skipping
 *                                         (comma-separated; implies it is selected)
 *
 * describeTargets() registers a vitest block per selected target. A target left out by
 * EDGEWATCH_TARGETS is not registered at all; a selected target this machine cannot run is
 * registered with describe.skip, and one line says why, once per target per test run (not once
 * per test, nor once per test file):
 *   [edgewatch] skipping envoy target: no container runtime found (Docker/Podman socket): …
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "vitest";
import type { ProxyConfig } from "../config/proxy-config.js";
import { TARGET_NAMES, TargetUnavailableError, type StartedTarget, type Target, type TargetAvailability, type TargetName } from "./target.js";

export const TARGETS_ENV = "EDGEWATCH_TARGETS";
export const REQUIRE_TARGET_ENV = "EDGEWATCH_REQUIRE_TARGET";

const loaders: Record<TargetName, () => Promise<Target>> = {
  embedded: async () => (await import("./embedded.js")).embeddedTarget,
  envoy: async () => (await import("./envoy-container.js")).envoyContainerTarget,
  "envoy-local": async () => (await import("./envoy-local.js")).envoyLocalTarget,
};

const availabilityCache = new Map<TargetName, Promise<TargetAvailability>>();

/** A target by name. Its module (testcontainers for `envoy`) loads on first use. */
export function getTarget(name: TargetName): Target {
  if (!TARGET_NAMES.includes(name)) throw new Error(`unknown target ${JSON.stringify(name)} (known: ${TARGET_NAMES.join(", ")})`);
  return {
    name,
    availability(): Promise<TargetAvailability> {
      let p = availabilityCache.get(name);
      if (!p) {
        p = loaders[name]()
          .then((t) => t.availability())
          .catch((e: unknown) => ({ available: false, reason: `target module failed to load: ${(e as Error).message.split("\n")[0]}` }));
        availabilityCache.set(name, p);
      }
      return p;
    },
    async start(cfg: ProxyConfig): Promise<StartedTarget> {
      return (await loaders[name]()).start(cfg);
    },
  };
}

/** Parse a comma-separated target list; unknown names are an error, not silently ignored. */
export function parseTargetList(value: string | undefined, envName: string): TargetName[] | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const names = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!TARGET_NAMES.includes(n as TargetName)) throw new Error(`${envName}: unknown target ${JSON.stringify(n)} (known: ${TARGET_NAMES.join(", ")})`);
  }
  return [...new Set(names)] as TargetName[];
}

export function requiredTargetNames(env: NodeJS.ProcessEnv = process.env): TargetName[] {
  return parseTargetList(env[REQUIRE_TARGET_ENV], REQUIRE_TARGET_ENV) ?? [];
}

/** EDGEWATCH_TARGETS (default all), plus any required target. */
export function selectedTargetNames(env: NodeJS.ProcessEnv = process.env): TargetName[] {
  const selected = parseTargetList(env[TARGETS_ENV], TARGETS_ENV) ?? [...TARGET_NAMES];
  for (const r of requiredTargetNames(env)) if (!selected.includes(r)) selected.push(r);
  return TARGET_NAMES.filter((n) => selected.includes(n));
}

/** Selected targets that can run here (optionally restricted to `only`), in TARGET_NAMES order. */
export async function availableTargets(opts: { only?: TargetName[]; env?: NodeJS.ProcessEnv } = {}): Promise<Target[]> {
  const names = selectedTargetNames(opts.env).filter((n) => !opts.only || opts.only.includes(n));
  const targets = names.map(getTarget);
  const av = await Promise.all(targets.map((t) => t.availability()));
  return targets.filter((_, i) => av[i]!.available);
}

export type TargetPlan =
  | { name: TargetName; mode: "run" }
  | { name: TargetName; mode: "skip"; reason: string }
  | { name: TargetName; mode: "fail"; reason: string };

/**
 * What describeTargets does for each candidate target: run it, skip it (not selected, or cannot
 * run here) or fail it (required but cannot run). Pure, so the policy is testable.
 */
export function planTargets(candidates: readonly TargetName[], availability: Partial<Record<TargetName, TargetAvailability>>, env: NodeJS.ProcessEnv = process.env): TargetPlan[] {
  const selected = selectedTargetNames(env);
  const required = requiredTargetNames(env);
  return candidates.map((name): TargetPlan => {
    if (!selected.includes(name)) return { name, mode: "skip", reason: `not selected (${TARGETS_ENV}=${env[TARGETS_ENV]})` };
    const av = availability[name] ?? { available: false, reason: "availability unknown" };
    if (av.available) return { name, mode: "run" };
    const reason = av.reason ?? "unavailable";
    return required.includes(name) ? { name, mode: "fail", reason } : { name, mode: "skip", reason };
  });
}

export function skipLine(name: TargetName, reason: string): string {
  return `[edgewatch] skipping ${name} target: ${reason}`;
}

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

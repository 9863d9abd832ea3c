/**
 * Target selection for tests and benches.
 *
 *   EDGEWATCH_TARGETS=embedded,envoy      run only these targets (default: all three)
 *   EDGEWATCH_REQUIRE_TARGET=envoy        an unavailable listed target FAILS instead of skipping
 *                                         (comma-separated; implies it is selected)
 *
 * The CLI and the benches use it as it is; the test suite registers its per-target blocks through
 * describe-targets.ts (the one module here that loads vitest: a bench or the CLI that loaded it
 * carried vitest's sources in its heap, which every full GC then marked).
 */
import type { ProxyConfig } from "../config/proxy-config.js";
import { TARGET_NAMES, type StartedTarget, type Target, type TargetAvailability, type TargetName } from "./target.js";

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

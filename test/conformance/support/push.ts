/**
 * Push scenarios' shared assertions (push-reload, push-snapshot): what every worker enforces right
 * now, and a refused push as a user sees it. Public stack API only, so they run on every target.
 */
import { expect } from "vitest";
import type { Stack } from "../../../harness/stack/stack.js";
import { ConfigRejectedError } from "../../../harness/targets/target.js";

/** A request from client `addr` (X-Forwarded-For; the plugin trusts one hop). */
export const fromAddress = (addr: string) => ({ path: "/", headers: { "x-forwarded-for": addr } });

/** Every worker answers a request from `addr` with `rule` (undefined = allowed), right now. */
export async function expectEnforcedEverywhere(stack: Stack, addr: string, rule: string | undefined): Promise<void> {
  const answers = await stack.probes.onEach(fromAddress(addr));
  expect(answers.map((a) => a.headers["x-edgewatch-rule"]), addr).toEqual(answers.map(() => rule));
}

/**
 * Push `configuration` and expect it refused: a ConfigRejectedError, the failure counter
 * edgewatch_rules_reload_failures_total{reason} grown, `reason=<reason>` and `message` logged.
 */
export async function expectPushRefused(stack: Stack, configuration: object | string | Uint8Array, reason: string, message: RegExp): Promise<void> {
  const failures = () => stack.admin.metric("edgewatch_rules_reload_failures_total", { reason });
  const before = await failures();
  const logBefore = stack.logMark();
  const err = await stack.push(configuration).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigRejectedError);
  expect(err).toMatchObject({ code: "EDGEWATCH_CONFIG_REJECTED", target: stack.target });
  expect(await failures()).toBeGreaterThan(before);
  const logged = stack.logsSince(logBefore);
  expect(logged).toContain(`reason=${reason}`);
  expect(logged).toMatch(message);
}

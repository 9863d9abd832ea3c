/**
 * Bug: naming the rules cluster with the "rules_cluster" shorthand skips the rules_service checks
 * that only apply when a cluster is set:
 *   - timeout_ms must be greater than long_poll_ms   (else every long poll times out: a fetch
 *     failure per poll, rules never arrive by pull)
 *   - authority must not be empty
 * {"rules_service":{"cluster":"rules","long_poll_ms":60000}} is rejected, but
 * {"rules_cluster":"rules","rules_service":{"long_poll_ms":60000}} is accepted.
 * Where: assembly/config/parse.ts: parseRulesService() runs the cross-field checks with the
 * cluster it saw; the shorthand is applied after the member loop.
 * Fix: run the rules_service cross-field checks after rules_cluster / collector_cluster are merged.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FuzzHost } from "./support.js";

let h: FuzzHost;
beforeAll(async () => { h = await FuzzHost.start({ configuration: `{"tracing":{"enabled":false}}` }); });
afterAll(async () => { await h?.close(); });

describe("issue-8: rules_cluster shorthand bypasses rules_service validation", () => {
  it("control: the long form with timeout_ms ≤ long_poll_ms is rejected", async () => {
    expect((await h.push(JSON.stringify({ tracing: { enabled: false }, rules_service: { cluster: "fuzz_rules", long_poll_ms: 60000 } }))).accepted).toBe(false);
  });

  it("the shorthand with timeout_ms (default 35000) ≤ long_poll_ms 60000 is rejected", async () => {
    const r = await h.push(JSON.stringify({ tracing: { enabled: false }, rules_cluster: "fuzz_rules", rules_service: { long_poll_ms: 60000 } }));
    expect(h.trapped()).toBe(false);
    expect(r.accepted).toBe(false);
  });

  it("the shorthand with an empty authority is rejected", async () => {
    const r = await h.push(JSON.stringify({ tracing: { enabled: false }, rules_cluster: "fuzz_rules", rules_service: { authority: "" } }));
    expect(r.accepted).toBe(false);
  });
});

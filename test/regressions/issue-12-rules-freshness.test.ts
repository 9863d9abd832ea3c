/**
 * Bug (issue #12.1): rules freshness cried wolf on a healthy, stable fleet. The only freshness
 * signal, edgewatch_rules_last_success_seconds, moved only when a NEW document was accepted; a 304
 * or a long poll that ended with no change did not refresh it. With the rules service up and rules
 * that simply had not changed, `edgewatch doctor --rules-max-age 60` reported "FAIL rules freshness
 * … the rules service is unreachable" after 66 s, and EdgewatchRulesStale fired on every stable fleet.
 * Fix: edgewatch_rules_last_check_seconds (any valid answer, 304 and unchanged long polls included)
 * apart from edgewatch_rules_last_change_seconds; doctor and the alert use the check.
 *
 * Through the embedded proxy (2 workers) and the rules-service fixture holding long polls of 200 ms;
 * doctor's own evaluation runs on live scrapes. The outage case keeps the check honest: when the
 * service is down the same doctor still FAILs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { startStack, type Stack } from "../../harness/stack/stack.js";
import { getTarget } from "../../harness/targets/registry.js";
import { collect, evaluate } from "../../harness/cli/doctor.js";

const MAX_AGE_S = 2;
let s: Stack;

beforeAll(async () => {
  s = await startStack(getTarget("embedded"), proxyOptions().withWorkers(2).withRulesService().withPlugin({
    client_address: { source: "xff", xff_trusted_hops: 1 },
    rules_service: { cluster: "rules", authority: "rules.test", path: "/rules", long_poll_ms: 200, timeout_ms: 1000, backoff_base_ms: 50, backoff_max_ms: 200, tick_ms: 20, lease_ms: 400 },
  }));
}, 60_000);
afterAll(async () => { await s?.close(); });

async function freshness(): Promise<{ verdict: string; detail: string }> {
  const data = await collect({ adminUrl: s.proxy.adminUrl, durationMs: 300, scrapes: 2 });
  const r = evaluate({ adminUrl: s.proxy.adminUrl, ...data, rulesMaxAgeS: MAX_AGE_S, heartbeatMaxAgeS: 30 });
  return r.find((c) => c.check === "rules freshness")!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("issue-12: rules freshness follows the last successful check, not the last change", () => {
  it("stable rules behind a healthy rules service stay fresh long after the last change", async () => {
    s.rules!.publish({ access: [{ id: "scanners", cidrs: ["203.0.113.0/24"] }] });
    await s.probes.untilEach({ path: "/", headers: { "x-forwarded-for": "203.0.113.9" } }, (a) => a.headers["x-edgewatch-rule"] === "scanners", { timeoutMs: 10_000, what: "rules enforced" });
    const changedAt = Date.now() / 1000;
    await sleep((MAX_AGE_S + 2) * 1000); // no change, the long polls keep ending with 304
    expect(s.rules!.fetchCount, "no new document was served").toBe(1);
    expect(s.rules!.requests.filter((r) => r.status === 304).length, "long polls ended normally").toBeGreaterThan(3);

    const prom = await s.admin.prometheus();
    expect(prom.value("edgewatch_rules_last_change_seconds")).toBeLessThanOrEqual(Math.ceil(changedAt));
    expect(prom.value("edgewatch_rules_last_check_seconds")).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 1);
    const f = await freshness();
    expect(f.verdict, f.detail).toBe("PASS");
    expect(f.detail).toMatch(/rules last changed [3-9]s ago/);
  }, 30_000);

  it("a rules service that is down still makes the freshness check FAIL", async () => {
    s.rules!.setFault("down");
    await sleep((MAX_AGE_S + 2) * 1000);
    const f = await freshness();
    s.rules!.setFault(null);
    expect(f.verdict, f.detail).toBe("FAIL");
    expect(f.detail).toMatch(/last successful rules check \d+s ago \(max 2s\)/);
  }, 30_000);

  it("a service that answers (304 included) but serves a document the filter rejects is not fresh", async () => {
    s.rules!.publish({ access: [{ id: "scanners", cidrs: ["203.0.113.0/24"] }] }); // healthy again
    await sleep(1000);
    expect((await freshness()).verdict).toBe("PASS");
    s.rules!.publish(`{"version": 99, "access": [{"id": "bad", "cidrs": ["10.0.0.300/32"]}]}`);
    await sleep((MAX_AGE_S + 2) * 1000); // the rejected document's ETag is held: 304s, but not for the rules in force
    const f = await freshness();
    expect(f.verdict, f.detail).toBe("FAIL");
    expect((await s.admin.prometheus()).value("edgewatch_rules_version")).toBe(2); // last good rules kept
  }, 30_000);
});

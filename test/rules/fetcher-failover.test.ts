/**
 * Pull delivery, host side: the one fetcher per proxy holds a lease in shared data. When the VMs
 * holding it go away, another VM of the same process takes the lease and fetching continues.
 * Embedded only: two embedded proxies sharing shared data and queues stand for more VMs of one
 * Envoy process (Envoy offers no way to drop a worker's VMs from the outside). The pull behaviours a
 * user sees (one fetch per change, cold start, bad documents, failures) are in
 * test/conformance/pull-reload.test.ts and run on every target.
 */
import { describe, expect, it } from "vitest";
import { startRulesService } from "../../harness/fixtures/rules-service.js";
import { startRulesProxy, rulesServiceConfig, eventually, XFF_ONE_HOP, SharedDataStore, SharedQueueStore, type RulesProxy } from "./support.js";

const doc = (rule: string, cidr: string) => ({ access: [{ id: rule, cidrs: [cidr] }] });

async function enforcedEverywhere(px: RulesProxy, addr: string, rule: string | undefined, timeoutMs = 10_000): Promise<void> {
  await eventually(async () => {
    for (let w = 0; w < px.workers; w++) {
      const r = await px.get("/", { "x-forwarded-for": addr }, px.probes[w]);
      if (r.headers["x-edgewatch-rule"] !== rule) return false;
    }
    return true;
  }, timeoutMs, `${addr} → ${rule ?? "allowed"} on every worker`);
}

describe("pull: fetcher failover", () => {
  it("when the fetcher's VMs go away, another VM takes the lease and fetching continues", async () => {
    const svc = await startRulesService();
    const stores = { sharedData: new SharedDataStore(), queues: new SharedQueueStore() };
    const plugin = { ...XFF_ONE_HOP, rules_service: rulesServiceConfig() };
    const a = await startRulesProxy({ workers: 2, rulesService: true, rulesServiceInstance: svc, stores, plugin });
    const b = await startRulesProxy({ workers: 2, rulesService: true, rulesServiceInstance: svc, stores, plugin });
    try {
      svc.publish(doc("one", "192.0.2.0/24"));
      await enforcedEverywhere(a, "192.0.2.1", "one");
      await enforcedEverywhere(b, "192.0.2.1", "one");
      expect(svc.fetchCount).toBe(1);
      const leaderOf = (px: RulesProxy) => px.logs.some((e) => e.message.includes("is now the rules fetcher"));
      expect(Number(leaderOf(a)) + Number(leaderOf(b))).toBe(1);
      const [leader, other] = leaderOf(a) ? [a, b] : [b, a];
      await leader.close();
      svc.publish(doc("two", "198.51.100.0/24"));
      await enforcedEverywhere(other, "198.51.100.1", "two", 10_000);
      expect(leaderOf(other)).toBe(true);
      expect(svc.fetchesOf(2)).toBe(1);
    } finally {
      await a.close();
      await b.close();
      await svc.close();
    }
  });
});

/**
 * Pull delivery through real HTTP: the rules-service fixture behind cluster "rules", one fetcher
 * per proxy (lease in shared data), snapshots handed to every worker VM through shared data and
 * queues. Exactly one fetch per change for 1, 2 and 4 workers; cold start; bad documents and
 * fetch failures keep the last good rules; 100 reloads under concurrent traffic.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Client } from "undici";
import { startRulesProxy, rulesServiceConfig, eventually, sleep, STAT, XFF_ONE_HOP, SharedDataStore, SharedQueueStore, type RulesProxy } from "./support.js";
import { startRulesService } from "../../harness/fixtures/rules-service.js";

let p: RulesProxy | undefined;
afterEach(async () => { await p?.close(); p = undefined; });

const doc = (rule: string, cidr: string, extra: object = {}) => ({ access: [{ id: rule, cidrs: [cidr] }], ...extra });

/** Wait until every worker enforces `rule` for `addr` (or allows when rule is undefined). */
async function enforcedEverywhere(px: RulesProxy, addr: string, rule: string | undefined, timeoutMs = 10_000): Promise<void> {
  await eventually(async () => {
    for (let w = 0; w < px.workers; w++) {
      const r = await px.get("/", { "x-forwarded-for": addr }, px.probes[w]);
      if (r.headers["x-edgewatch-rule"] !== rule) return false;
    }
    return true;
  }, timeoutMs, `${addr} → ${rule ?? "allowed"} on every worker`);
}

describe("pull: one fetcher per proxy", () => {
  for (const workers of [1, 2, 4]) {
    it(`exactly one fetch per change with ${workers} worker(s)`, async () => {
      p = await startRulesProxy({ workers, rulesService: true, plugin: { ...XFF_ONE_HOP, rules_service: rulesServiceConfig() } });
      const svc = p.rules!;
      for (let k = 1; k <= 5; k++) {
        const v = svc.publish(doc(`v${k}`, `198.51.${k}.0/24`));
        await enforcedEverywhere(p, `198.51.${k}.7`, `v${k}`);
        if (k > 1) await enforcedEverywhere(p, `198.51.${k - 1}.7`, undefined);
        expect(svc.fetchesOf(v), `version ${v}`).toBe(1);
      }
      await sleep(100); // let any stray poller show up
      expect(svc.fetchCount).toBe(5);
      expect(svc.maxHeldPolls).toBe(1);
      // Every request the service saw came from one long-poll loop: never two at once.
      expect(p.gauge(STAT("rules_version"))).toBe(5n);
      expect(p.counter(STAT("rules_reload_total"))).toBe(5n);
      expect(p.gauge(STAT("rules_cidrs"))).toBe(1n);
      expect(p.logs.filter((e) => e.message.includes("is now the rules fetcher")).length).toBe(1);
    });
  }

  it("a worker reconfigured later loads the current rules from shared data without a new fetch", async () => {
    p = await startRulesProxy({ workers: 2, rulesService: true, plugin: { ...XFF_ONE_HOP, rules_service: rulesServiceConfig() } });
    const svc = p.rules!;
    svc.publish(doc("first", "203.0.113.0/24"));
    await enforcedEverywhere(p, "203.0.113.1", "first");
    // New root contexts everywhere (ECDS-style update with a different telemetry setting).
    await p.push({ ...XFF_ONE_HOP, rules_service: rulesServiceConfig(), telemetry: { heartbeat_ms: 500 } });
    await enforcedEverywhere(p, "203.0.113.1", "first", 200);
    await sleep(200);
    expect(svc.fetchCount).toBe(1);
    svc.publish(doc("second", "192.0.2.0/24"));
    await enforcedEverywhere(p, "192.0.2.1", "second");
    expect(svc.fetchCount).toBe(2);
  });
});

describe("pull: fetcher failover", () => {
  it("when the fetcher's VMs go away, another VM takes the lease and fetching continues", async () => {
    // Two embedded proxies sharing shared data and queues = more VMs of one Envoy process.
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

describe("pull: cold start", () => {
  it("fail-open by default, counted", async () => {
    p = await startRulesProxy({ rulesService: true, plugin: { ...XFF_ONE_HOP, rules_service: rulesServiceConfig() } });
    const r = await p.get("/", { "x-forwarded-for": "203.0.113.1" });
    expect(r.status).toBe(200);
    expect(p.counter(STAT("rules_cold_start_total"))).toBeGreaterThan(0n);
  });

  it("cold_start deny: 503 until the first rules arrive", async () => {
    p = await startRulesProxy({ rulesService: true, plugin: { ...XFF_ONE_HOP, rules_service: rulesServiceConfig({ cold_start: "deny" }) } });
    const r = await p.get("/", { "x-forwarded-for": "198.51.100.1" });
    expect(r.status).toBe(503);
    p.rules!.publish(doc("x", "203.0.113.0/24"));
    await enforcedEverywhere(p, "203.0.113.1", "x");
    expect((await p.get("/", { "x-forwarded-for": "198.51.100.1" })).status).toBe(200);
  });
});

describe("pull: bad documents and fetch failures keep the last good rules", () => {
  it("rejects each bad document class with its reason; then applies the next good one", async () => {
    p = await startRulesProxy({ workers: 2, rulesService: true, plugin: { ...XFF_ONE_HOP, max_rules_bytes: 1 << 20, rules_service: rulesServiceConfig() } });
    const svc = p.rules!;
    svc.publish(doc("good", "192.0.2.0/24"));
    await enforcedEverywhere(p, "192.0.2.9", "good");
    const cases: Array<[string, () => void, string, RegExp]> = [
      ["malformed JSON", () => svc.publish('{"access": [ {"id": "x"'), "json", /malformed JSON/],
      ["garbage fault", () => svc.setFault("garbage"), "json", /malformed JSON|invalid UTF-8/],
      ["huge fault", () => svc.setFault("huge"), "size", /max_rules_bytes/],
      ["bad CIDR", () => svc.publish(doc("bad", "192.0.2.0/33")), "cidr", /\$\.access\[0\]\.cidrs\[0\]: bad CIDR/],
      ["unknown field", () => svc.publish({ ...doc("bad", "10.0.0.0/8"), extra: true }), "schema", /unknown field "extra"/],
      ["wrong type", () => svc.publish({ access: [{ id: "bad", cidrs: [42] }] }), "schema", /cidrs\[0\]: expected string, got number/],
      ["duplicate id", () => svc.publish({ access: [{ id: "d", cidrs: ["10.0.0.0/8"] }, { id: "d", cidrs: ["11.0.0.0/8"] }] }), "schema", /duplicate rule id/],
      ["deep nesting", () => svc.publish(`{"version": 99, "description": ${"[".repeat(40)}${"]".repeat(40)}}`), "json", /nesting too deep/],
      ["older version", () => svc.publish(doc("old", "10.0.0.0/8"), { docVersion: 0 }), "version", /older than version/],
    ];
    for (const [name, act, reason, msg] of cases) {
      const counter = STAT(`reason=.=${reason};.;rules_reload_failures_total`);
      const before = p.counter(counter);
      const warnsBefore = p.warnings().length;
      act();
      await eventually(() => p!.counter(counter) > before, 5000, `${name}: failure counted`);
      svc.setFault(null);
      const warns = p.warnings().slice(warnsBefore).join("\n");
      expect(warns, name).toContain(`reason=${reason}`);
      expect(warns, name).toMatch(msg);
      await enforcedEverywhere(p, "192.0.2.9", "good", 200);
      expect(p.gauge(STAT("rules_version"))).toBe(1n);
    }
    svc.publish(doc("better", "198.51.100.0/24"));
    await enforcedEverywhere(p, "198.51.100.9", "better");
    await enforcedEverywhere(p, "192.0.2.9", undefined);
  });

  it("service down: fetch failures back off and are counted; rules stay; recovers", async () => {
    p = await startRulesProxy({ workers: 2, rulesService: true, plugin: { ...XFF_ONE_HOP, rules_service: rulesServiceConfig({ backoff_base_ms: 20, backoff_max_ms: 200 }) } });
    const svc = p.rules!;
    svc.publish(doc("kept", "192.0.2.0/24"));
    await enforcedEverywhere(p, "192.0.2.9", "kept");
    const fetchFailures = STAT("reason=.=fetch;.;rules_reload_failures_total");
    svc.setFault("down");
    const start = Date.now();
    await eventually(() => p!.counter(fetchFailures) >= 4n, 5000, "fetch failures");
    const elapsed = Date.now() - start;
    const n = svc.requests.filter((r) => r.at > 0).length;
    // Backoff: far fewer attempts than a tight loop would make.
    expect(n).toBeLessThan(200);
    expect(elapsed).toBeGreaterThan(20);
    expect(p.warnings().join("\n")).toMatch(/reason=fetch/);
    await enforcedEverywhere(p, "192.0.2.9", "kept", 200);
    svc.setFault(null);
    svc.publish(doc("back", "198.51.100.0/24"));
    await enforcedEverywhere(p, "198.51.100.9", "back", 10_000);
  });

  it("slow service: the call times out (counted as fetch) and the fetcher retries", async () => {
    p = await startRulesProxy({ workers: 1, rulesService: true, plugin: { ...XFF_ONE_HOP, rules_service: rulesServiceConfig({ long_poll_ms: 100, timeout_ms: 300 }) } });
    const svc = p.rules!;
    svc.publish(doc("kept", "192.0.2.0/24"));
    await enforcedEverywhere(p, "192.0.2.9", "kept");
    svc.setFault("slow");
    await eventually(() => p!.counter(STAT("reason=.=fetch;.;rules_reload_failures_total")) >= 1n, 5000, "timeout counted");
    await enforcedEverywhere(p, "192.0.2.9", "kept", 200);
    svc.setFault(null);
    svc.publish(doc("after", "198.51.100.0/24"));
    await enforcedEverywhere(p, "198.51.100.9", "after", 10_000);
  });
});

describe("100 reloads under concurrent traffic", () => {
  for (const mode of ["pull", "push"] as const) {
    it(`${mode}: zero failures not caused by a rule`, async () => {
      const rulesService = mode === "pull";
      const plugin = (k: number) => ({ ...XFF_ONE_HOP, ...(rulesService ? { rules_service: rulesServiceConfig() } : { rules: stableDoc(k) }) });
      const stableDoc = (k: number) => ({ version: k, access: [{ id: "stable", cidrs: ["192.0.2.0/24"] }, { id: `churn-${k}`, cidrs: [`10.${k % 250}.0.0/16`] }] });
      p = await startRulesProxy({ workers: 2, rulesService, plugin: plugin(0) });
      const px = p;
      if (rulesService) {
        px.rules!.publish(stableDoc(0));
        await enforcedEverywhere(px, "192.0.2.1", "stable");
      }
      let stop = false;
      const tally = { ok: 0, denied: 0, bad: [] as string[] };
      const clients = Array.from({ length: 4 }, () => new Client(px.proxy.listenerUrl, { pipelining: 1 }));
      const loops = clients.map(async (c, i) => {
        let n = 0;
        while (!stop) {
          const denied = (n++ + i) % 2 === 0;
          const addr = denied ? `192.0.2.${n % 250}` : `198.51.100.${n % 250}`;
          try {
            const r = await c.request({ path: "/api/t", method: "GET", headers: { "x-forwarded-for": addr } });
            await r.body.text();
            const rule = r.headers["x-edgewatch-rule"];
            if (denied && r.statusCode === 403 && rule === "stable") tally.denied++;
            else if (!denied && r.statusCode === 200) tally.ok++;
            else tally.bad.push(`${addr} → ${r.statusCode} ${rule ?? ""}`);
          } catch (err) {
            tally.bad.push(`${addr} → ${(err as Error).message}`);
          }
        }
      });
      for (let k = 1; k <= 100; k++) {
        if (rulesService) px.rules!.publish(stableDoc(k));
        else await px.push(plugin(k));
        await enforcedEverywhere(px, `10.${k % 250}.1.1`, `churn-${k}`);
      }
      stop = true;
      await Promise.all(loops);
      for (const c of clients) await c.close();
      expect(tally.bad).toEqual([]);
      expect(tally.ok).toBeGreaterThan(100);
      expect(tally.denied).toBeGreaterThan(100);
      // push: the document's own version; pull: the service writes its version (101 publishes).
      expect(p.gauge(STAT("rules_version"))).toBe(rulesService ? 101n : 100n);
      if (rulesService) expect(px.rules!.fetchCount).toBe(101);
    });
  }
});

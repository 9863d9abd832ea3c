/**
 * Access rules pushed in the plugin configuration, on every target: CIDR matching (IPv4, IPv6,
 * IPv4-mapped, most specific prefix wins), deny / allow / log (dry-run) actions, path and header
 * conditions, custom replies, allow-list mode, decision counters on every worker.
 * Client addresses come from X-Forwarded-For with one trusted hop (the proxy appends its peer).
 */
import { describe, expect } from "vitest";
import { it } from "vitest";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { describeTargets } from "../../harness/targets/describe-targets.js";
import { itLosesNothing, useStack } from "./support/hooks.js";

const XFF_ONE_HOP = { client_address: { source: "xff", xff_trusted_hops: 1 } };

const RULES = {
  version: 7,
  access: [
    { id: "everything-v4", action: "deny", cidrs: ["0.0.0.0/0"], status: 451, body: "everything\n" },
    { id: "ten", action: "allow", cidrs: ["10.0.0.0/8"] },
    { id: "ten-one", action: "deny", cidrs: ["10.1.0.0/16"], headers: { "X-Block-Reason": "lab" } },
    { id: "host32", action: "allow", cidrs: ["10.1.2.3/32"] },
    { id: "v6-doc", action: "deny", cidrs: ["2001:db8::/32"] },
    { id: "v6-host", action: "allow", cidrs: ["2001:db8::8/128"] },
    { id: "mapped", action: "deny", cidrs: ["::ffff:172.16.0.0/108"] },
    { id: "dry-run", action: "log", cidrs: ["10.2.0.0/16"] },
    { id: "admin", action: "deny", cidrs: ["10.3.0.0/16"], path_prefix: "/admin" },
    { id: "bot", action: "deny", cidrs: ["10.4.0.0/16"], header: { name: "user-agent", contains: "EvilBot" } },
  ],
};

type Case = [client: string, status: number, rule: string | undefined];

describe("access rules", () => {
  describeTargets("deny, allow and log rules", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withPlugin({ ...XFF_ONE_HOP, rules: RULES }));
    const from = (addr: string, path = "/api/x", extra: Record<string, string> = {}) => ref.stack.client.get(path, { "x-forwarded-for": addr, ...extra });
    async function expectCases(cases: Case[]): Promise<void> {
      for (const [addr, status, rule] of cases) {
        const r = await from(addr);
        expect([r.status, r.headers["x-edgewatch-rule"]], addr).toEqual([status, rule]);
      }
    }

    it("IPv4: the most specific prefix wins (/0, /8, /16, /32 nested)", async () => {
      await expectCases([
        ["8.8.8.8", 451, "everything-v4"],
        ["255.255.255.255", 451, "everything-v4"],
        ["10.9.9.9", 200, undefined],
        ["10.1.200.1", 403, "ten-one"],
        ["10.1.2.3", 200, undefined],
        ["10.1.2.3:5678", 200, undefined],
      ]);
    });

    it("IPv6: compressed forms, a /128 allow inside a /32 deny, brackets with a port; IPv4 /0 does not cover IPv6", async () => {
      await expectCases([
        ["2001:db8:0:0::9", 403, "v6-doc"],
        ["2001:db8::8", 200, undefined],
        ["[2001:db8::1]:443", 403, "v6-doc"],
        ["2001:db9::1", 200, undefined],
      ]);
    });

    it("IPv4-mapped IPv6: a mapped client meets the IPv4 rules, a mapped CIDR matches IPv4 clients", async () => {
      await expectCases([
        ["::ffff:10.1.200.1", 403, "ten-one"],
        ["172.16.4.4", 403, "mapped"],
      ]);
    });

    it("a deny answers with the rule's status, body and headers, and names the rule", async () => {
      const a = await from("8.8.4.4");
      expect([a.status, a.body, a.upstream]).toEqual([451, "everything\n", null]);
      const b = await from("10.1.3.3");
      expect([b.status, b.body, b.headers["x-block-reason"], b.headers["x-edgewatch-rule"]]).toEqual([403, "access denied\n", "lab", "ten-one"]);
    });

    it("an allowed request reaches the upstream untouched by the rules", async () => {
      const r = await from("10.9.1.1", "/api/items?q=1");
      expect(r.status).toBe(200);
      expect(r.upstream?.path).toBe("/api/items?q=1");
      expect(r.headers["x-edgewatch-rule"]).toBeUndefined();
    });

    it("a log rule is a dry run: the request passes and the decision is counted", async () => {
      const before = await ref.stack.admin.metric("edgewatch_decisions_total", { rule: "dry-run", action: "log" });
      const r = await from("10.2.5.5");
      expect(r.status).toBe(200);
      expect(r.upstream).not.toBeNull();
      expect(await ref.stack.admin.metric("edgewatch_decisions_total", { rule: "dry-run", action: "log" })).toBe(before + 1);
    });

    it("a path condition: the rule applies under its prefix only, elsewhere the covering rule decides", async () => {
      expect((await from("10.3.1.1", "/admin/users")).headers["x-edgewatch-rule"]).toBe("admin");
      const other = await from("10.3.1.1", "/public");
      expect([other.status, other.headers["x-edgewatch-rule"]]).toEqual([200, undefined]);
    });

    it("a header condition: the rule applies when the header matches only", async () => {
      expect((await from("10.4.1.1", "/", { "user-agent": "Mozilla EvilBot/1.0" })).headers["x-edgewatch-rule"]).toBe("bot");
      expect((await from("10.4.1.1", "/", { "user-agent": "curl/8" })).status).toBe(200);
    });

    it("every worker enforces the rules and counts its decisions", async () => {
      const s = ref.stack;
      const before = await s.admin.metric("edgewatch_decisions_total", { rule: "ten-one", action: "deny" });
      const answers = await s.probes.onEach({ path: "/api", headers: { "x-forwarded-for": "10.1.7.7" } });
      expect(answers.map((a) => [a.status, a.headers["x-edgewatch-rule"]])).toEqual(answers.map(() => [403, "ten-one"]));
      expect(await s.admin.metric("edgewatch_decisions_total", { rule: "ten-one", action: "deny" })).toBe(before + s.workers);
    });

    it("the rules gauges show the document's version and CIDR count", async () => {
      const prom = await ref.stack.admin.prometheus();
      expect(prom.value("edgewatch_rules_version")).toBe(7);
      expect(prom.value("edgewatch_rules_cidrs")).toBe(10);
    });

    itLosesNothing(ref);
  });

  describeTargets("allow-list mode", (target) => {
    const rules = {
      mode: "allow",
      default_reply: { status: 403, body: "not allowed\n", headers: { "x-why": "allow-list" } },
      access: [
        { id: "office", action: "allow", cidrs: ["198.51.100.0/24", "2001:db8:1::/48"] },
        { id: "kiosk", action: "deny", cidrs: ["198.51.100.66/32"] },
      ],
    };
    const ref = useStack(target, proxyOptions().withWorkers(1).withPlugin({ ...XFF_ONE_HOP, rules }));
    const from = (addr: string) => ref.stack.client.get("/", { "x-forwarded-for": addr });

    it("only listed networks pass; a deny inside an allowed network still denies", async () => {
      expect((await from("198.51.100.7")).status).toBe(200);
      expect((await from("2001:db8:1:2::3")).status).toBe(200);
      const k = await from("198.51.100.66");
      expect([k.status, k.headers["x-edgewatch-rule"]]).toEqual([403, "kiosk"]);
    });

    it("everyone else gets the default reply as rule _default, counted", async () => {
      const before = await ref.stack.admin.metric("edgewatch_decisions_total", { rule: "_default", action: "deny" });
      const o = await from("192.0.2.1");
      expect([o.status, o.body, o.headers["x-edgewatch-rule"], o.headers["x-why"]]).toEqual([403, "not allowed\n", "_default", "allow-list"]);
      expect(await ref.stack.admin.metric("edgewatch_decisions_total", { rule: "_default", action: "deny" })).toBe(before + 1);
    });

    itLosesNothing(ref);
  });
});

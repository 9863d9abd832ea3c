/**
 * Access rules through real HTTP: the product filter in the embedded proxy (2 workers), rules pushed
 * in the plugin configuration. CIDR edge cases, allow-list mode, conditions, client-address sources
 * and XFF spoofing attempts, custom replies, decision counters, push reload and the rejection of
 * each bad-input class with the old rules still enforced.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRulesProxy, withRules, STAT, XFF_ONE_HOP, type RulesProxy } from "./support.js";

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

describe("access rules over HTTP (push)", () => {
  let p: RulesProxy;
  beforeAll(async () => { p = await startRulesProxy({ workers: 2, plugin: withRules(RULES) }); });
  afterAll(async () => { await p?.close(); });

  const from = (addr: string, path = "/api/x", extra: Record<string, string> = {}) => p.get(path, { "x-forwarded-for": addr, ...extra });

  it("most specific prefix wins: /0, /32, /128, overlaps, compressed and mapped IPv6", async () => {
    const cases: Array<[string, number, string | undefined]> = [
      ["8.8.8.8", 451, "everything-v4"],          // /0
      ["10.9.9.9", 200, undefined],               // allow /8 under deny /0
      ["10.1.200.1", 403, "ten-one"],             // deny /16 inside allow /8
      ["10.1.2.3", 200, undefined],               // allow /32 inside deny /16
      ["2001:db8:0:0::9", 403, "v6-doc"],         // compressed IPv6
      ["2001:db8::8", 200, undefined],            // /128 allow inside deny /32
      ["2001:db9::1", 200, undefined],            // v4 /0 does not cover IPv6
      ["::ffff:10.1.200.1", 403, "ten-one"],      // IPv4-mapped IPv6 client → IPv4 rules
      ["172.16.4.4", 403, "mapped"],              // IPv4-mapped CIDR rule → IPv4 client
      ["[2001:db8::1]:443", 403, "v6-doc"],       // brackets + port
      ["10.1.2.3:5678", 200, undefined],          // v4 + port
      ["255.255.255.255", 451, "everything-v4"],
    ];
    for (const [addr, status, rule] of cases) {
      const r = await from(addr);
      expect(r.status, addr).toBe(status);
      expect(r.headers["x-edgewatch-rule"], addr).toBe(rule);
    }
  });

  it("deny replies carry status, body, headers and the rule id", async () => {
    const a = await from("8.8.4.4");
    expect(a.status).toBe(451);
    expect(a.body).toBe("everything\n");
    const b = await from("10.1.3.3");
    expect(b.status).toBe(403);
    expect(b.body).toBe("access denied\n");
    expect(b.headers["x-block-reason"]).toBe("lab");
    expect(b.headers["x-edgewatch-rule"]).toBe("ten-one");
  });

  it("log rules are a dry run: the request passes and the rule is counted", async () => {
    const before = p.counter(STAT("rule=.=dry-run;.;action=.=log;.;decisions_total"));
    const r = await from("10.2.5.5");
    expect(r.status).toBe(200);
    expect(p.counter(STAT("rule=.=dry-run;.;action=.=log;.;decisions_total"))).toBe(before + 1n);
  });

  it("path and header conditions; a failing condition falls back to the covering rule", async () => {
    expect((await from("10.3.1.1", "/admin/users")).headers["x-edgewatch-rule"]).toBe("admin");
    expect((await from("10.3.1.1", "/public")).status).toBe(200); // falls back to allow "ten"
    expect((await from("10.4.1.1", "/", { "user-agent": "Mozilla EvilBot/1.0" })).headers["x-edgewatch-rule"]).toBe("bot");
    expect((await from("10.4.1.1", "/", { "user-agent": "curl/8" })).status).toBe(200);
  });

  it("counts decisions per rule and action, across workers", async () => {
    const name = STAT("rule=.=ten-one;.;action=.=deny;.;decisions_total");
    const before = p.counter(name);
    for (let i = 0; i < p.workers; i++) {
      const r = await p.get("/api", { "x-forwarded-for": "10.1.7.7" }, p.probes[i]);
      expect(r.status).toBe(403);
    }
    expect(p.counter(name)).toBe(before + BigInt(p.workers));
    expect(p.gauge(STAT("rules_version"))).toBe(7n);
    expect(p.gauge(STAT("rules_cidrs"))).toBe(10n);
  });
});

describe("client address and XFF spoofing", () => {
  let p: RulesProxy;
  // Default client_address (connection): the test client is 127.0.0.1.
  beforeAll(async () => {
    p = await startRulesProxy({ plugin: { rules: { access: [{ id: "loopback", cidrs: ["127.0.0.0/8", "::1"] }, { id: "lan", action: "allow", cidrs: ["10.0.0.0/8"] }] } } });
  });
  afterAll(async () => { await p?.close(); });

  it("default (connection): a client-set X-Forwarded-For does not bypass", async () => {
    const attempts: Array<Record<string, string>> = [{}, { "x-forwarded-for": "10.0.0.1" }, { "x-forwarded-for": "10.0.0.1, 10.0.0.2" },
      { "x-envoy-external-address": "10.0.0.1" }, { "x-real-ip": "10.0.0.1" }, { forwarded: "for=10.0.0.1" }];
    for (const h of attempts) {
      const r = await p.get("/", h);
      expect(r.status, JSON.stringify(h)).toBe(403);
      expect(r.headers["x-edgewatch-rule"]).toBe("loopback");
    }
  });

  it("xff with trusted hops counts from the right; extra client entries are ignored", async () => {
    // HCM appends the peer: XFF seen by the filter = <client values>, <node address>.
    await p.push({ client_address: { source: "xff", xff_trusted_hops: 1 }, rules: { access: [{ id: "attacker", cidrs: ["203.0.113.0/24"] }, { id: "loopback", cidrs: ["127.0.0.0/8"] }] } });
    // Attacker prepends a "good" address: the trusted entry is still the rightmost client-supplied one.
    expect((await p.get("/", { "x-forwarded-for": "10.0.0.1, 203.0.113.9" })).headers["x-edgewatch-rule"]).toBe("attacker");
    // Two header lines form one list (Envoy joins them).
    expect((await p.get("/", { "x-forwarded-for": ["10.0.0.1", "203.0.113.9"] })).headers["x-edgewatch-rule"]).toBe("attacker");
    // Too few entries → fall back to the connection address, as Envoy does.
    expect((await p.get("/")).headers["x-edgewatch-rule"]).toBe("loopback");
    // Garbage in the trusted position → connection address.
    expect((await p.get("/", { "x-forwarded-for": "not-an-ip" })).headers["x-edgewatch-rule"]).toBe("loopback");
    // Two trusted hops: the entry before the last two.
    await p.push({ client_address: { source: "xff", xff_trusted_hops: 2 }, rules: { access: [{ id: "attacker", cidrs: ["203.0.113.0/24"] }] } });
    expect((await p.get("/", { "x-forwarded-for": "203.0.113.9, 10.9.9.9" })).headers["x-edgewatch-rule"]).toBe("attacker");
    expect((await p.get("/", { "x-forwarded-for": "10.9.9.9, 203.0.113.9" })).status).toBe(200);
  });

  it("envoy_external: the address Envoy computed; a client cannot set it on an edge request", async () => {
    await p.push({ client_address: { source: "envoy_external" }, rules: { access: [{ id: "loopback", cidrs: ["127.0.0.0/8"] }, { id: "lan", action: "allow", cidrs: ["10.0.0.0/8"] }] } });
    // With XFF present the request is external: HCM overwrites x-envoy-external-address with the peer.
    const r = await p.get("/", { "x-forwarded-for": "10.0.0.1", "x-envoy-external-address": "10.0.0.1" });
    expect(r.status).toBe(403);
    expect(r.headers["x-edgewatch-rule"]).toBe("loopback");
  });
});

describe("allow-list mode", () => {
  let p: RulesProxy;
  beforeAll(async () => {
    p = await startRulesProxy({ plugin: withRules({ mode: "allow", default_reply: { status: 403, body: "not allowed\n", headers: { "x-why": "allow-list" } },
      access: [{ id: "office", action: "allow", cidrs: ["198.51.100.0/24", "2001:db8:1::/48"] }, { id: "kiosk", action: "deny", cidrs: ["198.51.100.66/32"] }] }) });
  });
  afterAll(async () => { await p?.close(); });

  it("only listed addresses pass; the implicit deny is rule _default", async () => {
    expect((await p.get("/", { "x-forwarded-for": "198.51.100.7" })).status).toBe(200);
    expect((await p.get("/", { "x-forwarded-for": "2001:db8:1:2::3" })).status).toBe(200);
    const k = await p.get("/", { "x-forwarded-for": "198.51.100.66" });
    expect([k.status, k.headers["x-edgewatch-rule"]]).toEqual([403, "kiosk"]);
    const o = await p.get("/", { "x-forwarded-for": "192.0.2.1" });
    expect([o.status, o.body, o.headers["x-edgewatch-rule"], o.headers["x-why"]]).toEqual([403, "not allowed\n", "_default", "allow-list"]);
    expect(p.counter(STAT("rule=.=_default;.;action=.=deny;.;decisions_total"))).toBeGreaterThan(0n);
  });
});

describe("push reload and rejection of bad documents", () => {
  let p: RulesProxy;
  const good = (v: number, cidr: string) => withRules({ version: v, access: [{ id: `block-v${v}`, cidrs: [cidr] }] });
  beforeAll(async () => { p = await startRulesProxy({ workers: 2, plugin: good(1, "192.0.2.0/24") }); });
  afterAll(async () => { await p?.close(); });

  async function enforcedEverywhere(addr: string, rule: string | undefined): Promise<void> {
    for (let w = 0; w < p.workers; w++) {
      const r = await p.get("/", { "x-forwarded-for": addr }, p.probes[w]);
      expect(r.headers["x-edgewatch-rule"], `worker ${w}`).toBe(rule);
    }
  }

  it("a pushed configuration swaps the rules on every worker", async () => {
    await enforcedEverywhere("192.0.2.5", "block-v1");
    const reloads = p.counter(STAT("rules_reload_total"));
    await p.push(good(2, "198.51.100.0/24"));
    await enforcedEverywhere("192.0.2.5", undefined);
    await enforcedEverywhere("198.51.100.5", "block-v2");
    expect(p.gauge(STAT("rules_version"))).toBe(2n);
    // Counted once per document, although the canary, the main thread and each worker validated it.
    expect(p.counter(STAT("rules_reload_total"))).toBe(reloads + 1n);
    expect(Number(p.gauge(STAT("rules_last_change_seconds")))).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(Number(p.gauge(STAT("rules_last_check_seconds")))).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  const base = { version: 9, access: [{ id: "new", cidrs: ["203.0.113.0/24"] }] };
  const bad: Array<[string, string, string, RegExp]> = [
    ["malformed JSON", `{"client_address":{"source":"xff","xff_trusted_hops":1},"rules":{"version":9,"access":[}}`, "json", /malformed JSON/],
    ["bad CIDR", JSON.stringify(withRules({ ...base, access: [{ id: "new", cidrs: ["203.0.113.0/24", "203.0.113.0/99"] }] })), "cidr", /\$\.rules\.access\[0\]\.cidrs\[1\]: bad CIDR/],
    ["oversize", JSON.stringify({ ...withRules(base), max_rules_bytes: 1024, rules: { ...base, description: "x".repeat(2000) } }), "size", /max_rules_bytes/],
    ["unknown field", JSON.stringify(withRules({ ...base, acess: [] })), "schema", /\$\.rules: unknown field "acess"/],
    ["wrong type", JSON.stringify(withRules({ ...base, version: "9" })), "schema", /\$\.rules\.version: expected an integer/],
    ["duplicate id", JSON.stringify(withRules({ ...base, access: [base.access[0], base.access[0]] })), "schema", /duplicate rule id "new"/],
    ["deep nesting", `{"rules":{"version":9,"description":${"[".repeat(40)}${"]".repeat(40)}}}`, "json", /nesting too deep/],
  ];
  for (const [name, config, reason, msg] of bad) {
    it(`rejects ${name}: reason logged, failure counted, old rules still enforced`, async () => {
      const counter = STAT(`reason=.=${reason};.;rules_reload_failures_total`);
      const failures = p.counter(counter);
      const version = p.gauge(STAT("rules_version"));
      const warnsBefore = p.warnings().length;
      await expect(p.push(config)).rejects.toMatchObject({ code: "PLUGIN_CONFIG_REJECTED" });
      const warns = p.warnings().slice(warnsBefore).join("\n");
      expect(warns).toContain(`reason=${reason}`);
      expect(warns).toMatch(msg);
      expect(p.counter(counter)).toBeGreaterThan(failures);
      expect(p.gauge(STAT("rules_version"))).toBe(version);
      await enforcedEverywhere("198.51.100.5", "block-v2");
      await enforcedEverywhere("203.0.113.5", undefined);
    });
  }

  it("accepts a configuration without rules (pull-only / no rules) and then allows everything", async () => {
    await p.push(XFF_ONE_HOP);
    await enforcedEverywhere("198.51.100.5", undefined);
    expect(p.gauge(STAT("rules_cidrs"))).toBe(0n);
  });
});

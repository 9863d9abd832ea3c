/**
 * The blast-radius guard compiled to wasm (assembly/rules/blast-radius.ts) and the client sample
 * (assembly/filter/client-sample.ts): which addresses a document denies outright (conditions, log
 * rules, allow rules, allow-list mode), the whole-space sweep for IPv4 and IPv6, the sample's
 * de-duplication, recency and bound, the limits, and a property test against the independent
 * brute-force reference (harness/fuzz/reference/blast-radius.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { SafetyUnit } from "./unit-module.js";
import { validateRulesDocument } from "../../harness/fuzz/reference/schema.js";
import { deniesOutrightRef, deniesWholeFamilyRef } from "../../harness/fuzz/reference/blast-radius.js";
import { parseClientAddressRef } from "../../harness/fuzz/reference/net.js";

let u: SafetyUnit;
beforeAll(async () => { u = await SafetyUnit.create(); }, 180_000);

function load(doc: object): void {
  const r = u.load(doc);
  if (!r.ok) throw new Error(`document rejected: ${r.reason} ${r.message}`);
}

describe("what a document denies outright", () => {
  it("counts unconditional deny rules only; conditional denies, log rules and allow rules do not deny an address", () => {
    load({
      access: [
        { id: "admin-only", cidrs: ["0.0.0.0/0", "::/0"], path_prefix: "/admin" },
        { id: "bad-bot", cidrs: ["0.0.0.0/0"], header: { name: "user-agent", contains: "EvilBot" } },
        { id: "scanners", cidrs: ["203.0.113.0/24", "2001:db8:bad::/48"] },
        { id: "try-feed", action: "log", cidrs: ["100.64.0.0/10"] },
        { id: "office", action: "allow", cidrs: ["203.0.113.128/25"] },
      ],
    });
    expect(u.denies("8.8.8.8")).toBe(false);           // only conditional denies cover it
    expect(u.denies("203.0.113.5")).toBe(true);        // scanners
    expect(u.denies("203.0.113.200")).toBe(false);     // office allow inside scanners
    expect(u.denies("100.64.1.1")).toBe(false);        // dry run
    expect(u.denies("2001:db8:bad::1")).toBe(true);
    expect(u.denies("2001:db8::1")).toBe(false);
    expect(u.wholeSpace()).toEqual({ v4: false, v6: false });
  });

  it("a conditional deny in front of an unconditional one does not hide it; a log rule does not either", () => {
    load({ access: [
      { id: "net", cidrs: ["10.0.0.0/8"] },
      { id: "admin", cidrs: ["10.1.0.0/16"], path_prefix: "/admin" },
      { id: "dry", action: "log", cidrs: ["10.2.0.0/16"] },
      { id: "cond-allow", action: "allow", cidrs: ["10.3.0.0/16"], header: { name: "x-key", equals: "k" } },
    ] });
    expect(u.denies("10.1.2.3")).toBe(true);
    expect(u.denies("10.2.2.3")).toBe(true);
    expect(u.denies("10.3.2.3")).toBe(false); // a request with the header passes
    expect(u.denies("10.4.2.3")).toBe(true);
  });

  it("allow-list mode denies everything no allow rule covers", () => {
    load({ mode: "allow", access: [{ id: "office", action: "allow", cidrs: ["198.51.100.0/24", "2001:db8:1::/48"] }, { id: "kiosk", cidrs: ["198.51.100.66/32"] }] });
    expect(u.denies("192.0.2.1")).toBe(true);
    expect(u.denies("198.51.100.7")).toBe(false);
    expect(u.denies("198.51.100.66")).toBe(true);
    expect(u.denies("2001:db8:1::9")).toBe(false);
    expect(u.denies("2001:db8:2::9")).toBe(true);
    expect(u.wholeSpace()).toEqual({ v4: false, v6: false });
  });
});

describe("whole-space sweep", () => {
  const cases: Array<[string, object, { v4: boolean; v6: boolean }]> = [
    ["deny 0.0.0.0/0", { access: [{ id: "all", cidrs: ["0.0.0.0/0"] }] }, { v4: true, v6: false }],
    ["deny ::/0", { access: [{ id: "all", cidrs: ["::/0"] }] }, { v4: false, v6: true }],
    ["both", { access: [{ id: "all", cidrs: ["0.0.0.0/0", "::/0"] }] }, { v4: true, v6: true }],
    ["two /1 halves", { access: [{ id: "lo", cidrs: ["0.0.0.0/1"] }, { id: "hi", cidrs: ["128.0.0.0/1"] }] }, { v4: true, v6: false }],
    ["halves minus one /32", { access: [{ id: "lo", cidrs: ["0.0.0.0/1", "128.0.0.0/1"] }, { id: "x", action: "allow", cidrs: ["255.255.255.255"] }] }, { v4: false, v6: false }],
    ["/0 with a carve-out", { access: [{ id: "all", cidrs: ["0.0.0.0/0"] }, { id: "ten", action: "allow", cidrs: ["10.0.0.0/8"] }] }, { v4: false, v6: false }],
    ["/0 behind a conditional allow on the same prefix", { access: [{ id: "k", action: "allow", cidrs: ["::/0"], header: { name: "x-k", equals: "1" } }, { id: "all", cidrs: ["::/0"] }] }, { v4: false, v6: false }],
    ["/0 in front of a conditional allow on the same prefix (listed first decides)", { access: [{ id: "all", cidrs: ["::/0"] }, { id: "k", action: "allow", cidrs: ["::/0"], header: { name: "x-k", equals: "1" } }] }, { v4: false, v6: true }],
    ["conditional /0 (admin-only)", { access: [{ id: "admin", cidrs: ["0.0.0.0/0", "::/0"], path_prefix: "/admin" }] }, { v4: false, v6: false }],
    ["log /0", { access: [{ id: "dry", action: "log", cidrs: ["0.0.0.0/0", "::/0"] }] }, { v4: false, v6: false }],
    ["nested denies covering all", { access: [{ id: "a", cidrs: ["0.0.0.0/0"] }, { id: "b", cidrs: ["10.0.0.0/8", "10.1.0.0/16"] }, { id: "c", action: "log", cidrs: ["10.1.2.0/24"] }] }, { v4: true, v6: false }],
    ["allow mode, no allow rule", { mode: "allow" }, { v4: true, v6: true }],
    ["allow mode, IPv4 allows only", { mode: "allow", access: [{ id: "office", action: "allow", cidrs: ["10.0.0.0/8"] }] }, { v4: false, v6: true }],
    ["allow mode, allow rule that is a dry run", { mode: "allow", access: [{ id: "x", action: "log", cidrs: ["0.0.0.0/0", "::/0"] }] }, { v4: true, v6: true }],
    ["v6 tail end", { access: [{ id: "a", cidrs: ["::/1", "8000::/2", "c000::/2"] }, { id: "b", action: "allow", cidrs: ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"] }] }, { v4: false, v6: false }],
    ["v6 tiled", { access: [{ id: "a", cidrs: ["::/1", "8000::/2", "c000::/2"] }] }, { v4: false, v6: true }],
    ["empty deny list", {}, { v4: false, v6: false }],
  ];
  for (const [name, doc, want] of cases) {
    it(name, () => {
      load(doc);
      expect(u.wholeSpace()).toEqual(want);
    });
  }
});

describe("client sample", () => {
  it("keeps distinct addresses, newest last, at most sample_size; a re-seen address moves to the newest end", () => {
    u.resetSample();
    for (let i = 1; i <= 10; i++) u.offer(`192.0.2.${i}`);
    for (let i = 0; i < 50; i++) u.offer("192.0.2.1"); // a flood from one address
    expect(u.flush(16)).toBe(10);
    for (let i = 11; i <= 14; i++) u.offer(`192.0.2.${i}`);
    u.offer("192.0.2.3");
    u.offer("2001:db8::7");
    expect(u.flush(16)).toBe(15);
    const e = u.sampleEntries();
    expect(e.length).toBe(15);
    expect(e[e.length - 1]).toBe("20010db800000000:7");
    expect(e.filter((x) => x === "0:ffffc0000203").length).toBe(1); // 192.0.2.3 once, near the end
    expect(e.indexOf("0:ffffc0000203")).toBeGreaterThan(e.indexOf("0:ffffc000020e"));
    for (let i = 20; i < 40; i++) u.offer(`198.51.100.${i}`);
    expect(u.flush(16)).toBe(16);
    // the pending set holds 16 addresses per flush: the 16 kept are among the 20 offered
    const kept = u.sampleEntries();
    expect(kept.every((x) => x.startsWith("0:ffffc6336"))).toBe(true);
  });

  it("reservoir: a VM's contribution per tick is a fair pick among the distinct addresses it saw", () => {
    const hits = new Map<string, number>();
    for (let round = 0; round < 200; round++) {
      u.resetSample();
      for (let i = 0; i < 64; i++) u.offer(`10.0.0.${i}`);
      u.flush(1024);
      for (const x of u.sampleEntries()) hits.set(x, (hits.get(x) ?? 0) + 1);
    }
    // each of the 64 addresses is kept with probability 16/64: ~50 of 200 rounds
    expect(hits.size).toBe(64);
    for (const [, n] of hits) { expect(n).toBeGreaterThan(15); expect(n).toBeLessThan(100); }
  });
});

describe("measurement and limits", () => {
  function sample(addrs: string[]): void {
    u.resetSample();
    for (let i = 0; i < addrs.length; i += 16) {
      for (const a of addrs.slice(i, i + 16)) u.offer(a);
      u.flush(1024);
    }
  }
  const clients = [...Array.from({ length: 60 }, (_, i) => `192.0.2.${i + 1}`), ...Array.from({ length: 40 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`)];

  it("counts the sampled clients a document denies and compares with max_deny_fraction", () => {
    sample(clients);
    load({ access: [{ id: "v6", cidrs: ["2001:db8::/32"] }] });
    expect(u.measure(0.5, 20)).toMatchObject({ sampled: 100, denied: 40, wholeV4: false, wholeV6: false, exceeds: false });
    expect(u.measure(0.39, 20).exceeds).toBe(true);
    load({ access: [{ id: "most", cidrs: ["192.0.2.0/24"] }, { id: "v6", cidrs: ["2001:db8::/32"] }] });
    expect(u.measure(0.5, 20)).toMatchObject({ denied: 100, exceeds: true });
    expect(u.measure(1, 20).exceeds).toBe(false);
    expect(u.measure(0.5, 101).exceeds).toBe(false); // fewer clients than min_clients: not judged
  });

  it("the README's admin-only and bad-bot rules deny nobody outright; whole-space denial is rejected whatever the sample", () => {
    sample(clients);
    load({ access: [{ id: "admin-only", cidrs: ["0.0.0.0/0", "::/0"], path_prefix: "/admin" }, { id: "bad-bot", cidrs: ["0.0.0.0/0"], header: { name: "user-agent", contains: "EvilBot" } }] });
    expect(u.measure()).toMatchObject({ denied: 0, exceeds: false });
    u.resetSample();
    load({ access: [{ id: "all", cidrs: ["0.0.0.0/0"] }] });
    expect(u.measure(1, 1_000_000)).toMatchObject({ sampled: 0, wholeV4: true, exceeds: true, override: false });
    load({ allow_large_blast_radius: true, access: [{ id: "all", cidrs: ["0.0.0.0/0"] }] });
    expect(u.measure()).toMatchObject({ wholeV4: true, exceeds: true, override: true });
  });

  it("allow_large_blast_radius must be a boolean", () => {
    const r = u.load({ allow_large_blast_radius: "yes" });
    expect(r).toMatchObject({ ok: false, reason: "schema" });
  });
});

describe("agrees with the brute-force reference", () => {
  const v4Cidr = fc.oneof(
    fc.constantFrom("0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8", "10.1.0.0/16", "255.255.255.255/32", "0.0.0.0/32"),
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 8 })).map(([a, b, l]) => `${a}.${b}.0.0/${l * 2}`),
  );
  const v6Cidr = fc.oneof(
    fc.constantFrom("::/0", "::/1", "8000::/1", "2001:db8::/32", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "::/128"),
    fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 8 })).map(([g, l]) => `${g.toString(16)}::/${l * 2}`),
  );
  const rule = fc.record({
    action: fc.constantFrom("deny", "deny", "allow", "log"),
    cidrs: fc.array(fc.oneof(v4Cidr, v6Cidr), { minLength: 1, maxLength: 4 }),
    cond: fc.constantFrom(0, 0, 1, 2),
  });
  const docArb = fc.record({ mode: fc.constantFrom("deny", "deny", "allow"), rules: fc.array(rule, { maxLength: 6 }) }).map(({ mode, rules }) => ({
    mode,
    access: rules.map((r, i) => ({
      id: `r${i}`, action: r.action, cidrs: r.cidrs,
      ...(r.cond === 1 ? { path_prefix: "/admin" } : r.cond === 2 ? { header: { name: "x-h", equals: "1" } } : {}),
    })),
  }));

  it("on random documents: whole-space verdicts and per-address denial", () => {
    fc.assert(fc.property(docArb, fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 8 }), (doc, picks) => {
      const text = JSON.stringify(doc);
      load(doc);
      const ref = validateRulesDocument(Buffer.from(text)).value!;
      expect(u.wholeSpace(), text).toEqual({ v4: deniesWholeFamilyRef(ref, true), v6: deniesWholeFamilyRef(ref, false) });
      // addresses at and around CIDR boundaries, plus random ones
      const addrs = ["0.0.0.0", "255.255.255.255", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "10.1.2.3", "2001:db8::1"];
      for (const [a, b] of picks) addrs.push(`${a % 256}.${b % 256}.${(a >> 8) % 256}.${(b >> 8) % 256}`, `${(a % 0xffff).toString(16)}::${(b % 0xffff).toString(16)}`);
      for (const a of addrs) {
        expect(u.denies(a), `${a} in ${text}`).toBe(deniesOutrightRef(ref, parseClientAddressRef(a)!));
      }
    }), { numRuns: 400 });
  });
});

/**
 * Unit tests of the rules code compiled to wasm (test/filters-unit/rules-unit.ts): JSON parser
 * (never traps, strict RFC 8259, UTF-8, depth), CIDR/address parsing, the LPM index with fallback,
 * rule-document validation (one case per bad-input class), snapshot codec, settings parser.
 */
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { RulesUnit } from "./unit-module.js";

let u: RulesUnit;
beforeAll(async () => {
  u = await RulesUnit.create();
}, 120_000);

const ALLOW = 0, DENY = 1, LOG = 2;

describe("JSON parser", () => {
  it("accepts RFC 8259 documents", () => {
    for (const t of ['{}', '[]', '0', '-0.5e+3', '"x"', 'true', 'false', 'null', ' {"a":[1,2,{"b":null}],"c":"\\u00e9\\n"} ',
      '"\\ud83d\\ude00"', '[1e5, 1E-5, 0.25]', '"é日本😀"']) {
      expect(u.json(t).ok, t).toBe(true);
    }
  });

  it("rejects malformed documents with a message", () => {
    for (const t of ['', ' ', '{', '{"a"}', '{"a":}', '[1,]', '[,1]', '{"a":1,}', '01', '1.', '.5', '-', '1e', '+1', 'tru', 'nul',
      '"abc', '"\\x"', '"\\u12G4"', '{"a":1}x', '[1 2]', '{1:2}', "'a'", '"a\tb"', 'NaN', 'Infinity', '[1]]', '{"a" 1}']) {
      const r = u.json(t);
      expect(r.ok, JSON.stringify(t)).toBe(false);
      expect(r.message).toMatch(/at byte \d+/);
    }
  });

  it("validates UTF-8 inside strings and rejects raw non-ASCII outside", () => {
    const bad = [
      [0x22, 0xc0, 0xaf, 0x22],             // overlong '/'
      [0x22, 0xed, 0xa0, 0x80, 0x22],       // UTF-16 surrogate
      [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], // > U+10FFFF
      [0x22, 0xe2, 0x82, 0x22],             // truncated
      [0x22, 0x80, 0x22],                   // lone continuation
      [0xef, 0xbb, 0xbf, 0x7b, 0x7d],       // BOM outside a string
    ];
    for (const b of bad) expect(u.json(new Uint8Array(b)).ok, String(b)).toBe(false);
    expect(u.json(new Uint8Array([0x22, 0xe2, 0x82, 0xac, 0x22])).ok).toBe(true); // €
  });

  it("limits nesting depth to 32", () => {
    expect(u.json("[".repeat(32) + "]".repeat(32)).ok).toBe(true);
    const r = u.json("[".repeat(33) + "]".repeat(33));
    expect(r.ok).toBe(false);
    expect(r.kind).toBe(3);
    expect(u.json("[".repeat(100000)).ok).toBe(false);
  });

  it("decodes escapes and numbers", () => {
    expect(u.jsonString('"a\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00"')).toBe('a"b\\c/d\né😀');
    expect(u.jsonString('"\\ud800x"')).toBe("\ufffdx");
    expect(u.jsonNumber("0.25")).toBe(0.25);
    expect(u.jsonNumber("-12.5e2")).toBe(-1250);
    expect(u.jsonNumber("9007199254740991")).toBe(9007199254740991);
    expect(u.jsonNumber("1e-3")).toBeCloseTo(0.001, 15);
  });

  it("strings of \\n escapes, backslashes, quotes and other bytes at every offset of the 8-byte fast path (property test)", () => {
    const piece = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom("\\n", "1.2.3.0/24\\n", "a", "abcdefg", "n") },
      { weight: 1, arbitrary: fc.constantFrom("\\\\", "\\\\n", "\\\"", "\\u0041", "\\t", "\\x", "\\", "\"", "é", "\t", "\u0001", "]", "\\]") },
    );
    fc.assert(fc.property(fc.integer({ min: 0, max: 15 }), fc.array(piece, { maxLength: 30 }), fc.string({ maxLength: 20 }), (lead, pieces, tail) => {
      const text = "[" + " ".repeat(lead) + '"' + pieces.join("") + '"' + tail.replace(/[^ ,\]]/g, " ") + "]";
      let want: unknown;
      try { want = JSON.parse(text); } catch { want = undefined; }
      const r = u.json(text);
      expect(r.ok, text).toBe(want !== undefined);
      if (want !== undefined) expect(u.jsonString(text.slice(1, text.lastIndexOf("]")).trim()), text).toBe((want as string[])[0]);
    }), { numRuns: 3000 });
  });

  it("never traps on arbitrary input (property test)", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => { u.json(b); }), { numRuns: 2000 });
    fc.assert(fc.property(fc.json(), (s) => { expect(u.json(s).ok).toBe(true); }), { numRuns: 1000 });
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => {
      const ours = u.json(s).ok;
      let v8 = true;
      try { JSON.parse(s); } catch { v8 = false; }
      // V8 accepts lone surrogates (we validate UTF-8 on bytes, where TextEncoder maps them to U+FFFD).
      expect(ours).toBe(v8);
    }), { numRuns: 2000 });
  });
});

describe("CIDR and address parsing", () => {
  it("parses IPv4 and IPv6 CIDRs, masks host bits", () => {
    const cases: Array<[string, string]> = [
      ["0.0.0.0/0", "v4 0.0.0.0/0"],
      ["10.1.2.3/8", "v4 10.0.0.0/8"],
      ["192.168.1.1", "v4 192.168.1.1/32"],
      ["255.255.255.255/32", "v4 255.255.255.255/32"],
      ["::/0", "v6 0:0:0:0:0:0:0:0/0"],
      ["::1", "v6 0:0:0:0:0:0:0:1/128"],
      ["2001:db8::/32", "v6 2001:db8:0:0:0:0:0:0/32"],
      ["2001:DB8:0:0:1::1/128", "v6 2001:db8:0:0:1:0:0:1/128"],
      ["fe80::1:2:3:4/64", "v6 fe80:0:0:0:0:0:0:0/64"],
      ["1:2:3:4:5:6:7:8/128", "v6 1:2:3:4:5:6:7:8/128"],
      ["1::", "v6 1:0:0:0:0:0:0:0/128"],
      ["::ffff:10.0.0.0/104", "v4 10.0.0.0/8"],
      ["::ffff:1.2.3.4", "v4 1.2.3.4/32"],
      ["::ffff:0:0/96", "v4 0.0.0.0/0"],
      ["64:ff9b::192.0.2.33/128", "v6 64:ff9b:0:0:0:0:c000:221/128"],
    ];
    for (const [input, want] of cases) expect(u.cidr(input), input).toBe(want);
  });

  it("rejects malformed CIDRs", () => {
    for (const t of ["", "/", "1.2.3/24", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/08",
      "1.2.3.4/-1", "::/129", "1:::2", "1::2::3", ":1", "1:", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "g::",
      "1.2.3.4 ", " 1.2.3.4", "[::1]", "1.2.3.4:80", "::1%eth0", "1.2.3.4/24/8", "::ffff:1.2.3", "1:2:3:4:5:6:7:1.2.3.4"]) {
      expect(u.cidr(t), JSON.stringify(t)).toBeNull();
    }
  });

  it("parses client addresses with ports, brackets, zones and mapped IPv6", () => {
    const cases: Array<[string, string | null]> = [
      ["1.2.3.4", "v4 1.2.3.4"],
      ["1.2.3.4:5678", "v4 1.2.3.4"],
      [" 9.9.9.9 ", "v4 9.9.9.9"],
      ["[::1]:8080", "v6 0:0:0:0:0:0:0:1"],
      ["[::1]", "v6 0:0:0:0:0:0:0:1"],
      ["::1", "v6 0:0:0:0:0:0:0:1"],
      ["[::ffff:10.1.2.3]:443", "v4 10.1.2.3"],
      ["::ffff:10.1.2.3", "v4 10.1.2.3"],
      ["fe80::1%eth0", "v6 fe80:0:0:0:0:0:0:1"],
      ["[fe80::1%25eth0]:80", "v6 fe80:0:0:0:0:0:0:1"],
      ["1.2.3.4:99999", null],
      ["[::1]:", null],
      ["[::1", null],
      ["unknown", null],
      ["", null],
      ["1.2.3.4:80:90", null],
    ];
    for (const [input, want] of cases) expect(u.client(input), input).toBe(want);
  });
});

describe("rule documents: matching", () => {
  it("most specific prefix wins; /0, /32, /128, overlaps", () => {
    const r = u.load({
      version: 3,
      access: [
        { id: "all", action: "deny", cidrs: ["0.0.0.0/0"] },
        { id: "ten", action: "allow", cidrs: ["10.0.0.0/8"] },
        { id: "ten-one", action: "deny", cidrs: ["10.1.0.0/16"] },
        { id: "host", action: "allow", cidrs: ["10.1.2.3/32", "2001:db8::1/128"] },
        { id: "v6", action: "deny", cidrs: ["2001:db8::/32"] },
        { id: "dry", action: "log", cidrs: ["10.2.0.0/16"] },
      ],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.version).toBe(3);
    expect(r.cidrs).toBe(7);
    expect(u.decide("8.8.8.8")).toEqual({ action: DENY, rule: "all" });
    expect(u.decide("10.9.9.9")).toEqual({ action: ALLOW, rule: "ten" });
    expect(u.decide("10.1.9.9")).toEqual({ action: DENY, rule: "ten-one" });
    expect(u.decide("10.1.2.3:4444")).toEqual({ action: ALLOW, rule: "host" });
    expect(u.decide("10.1.2.4")).toEqual({ action: DENY, rule: "ten-one" });
    expect(u.decide("[2001:db8::1]:80")).toEqual({ action: ALLOW, rule: "host" });
    expect(u.decide("2001:db8::2")).toEqual({ action: DENY, rule: "v6" });
    expect(u.decide("2001:db9::2")).toEqual({ action: ALLOW, rule: "" }); // ::/0 not listed; v4 0/0 does not cover v6
    expect(u.decide("::ffff:10.1.9.9")).toEqual({ action: DENY, rule: "ten-one" });
    // log rule: counted, then falls back to the covering allow rule "ten" → request passes as Log
    expect(u.decide("10.2.3.4")).toEqual({ action: LOG, rule: "dry" });
    expect(u.decide("255.255.255.255")).toEqual({ action: DENY, rule: "all" });
    expect(u.decide("0.0.0.0")).toEqual({ action: DENY, rule: "all" });
  });

  it("a log rule under a deny still denies (dry run never weakens enforcement)", () => {
    const r = u.load({ access: [
      { id: "block", cidrs: ["192.0.2.0/24"] },
      { id: "try-narrower", action: "log", cidrs: ["192.0.2.128/25"] },
      { id: "try-new", action: "log", cidrs: ["198.51.100.0/24"] },
    ] });
    expect(r.ok).toBe(true);
    expect(u.decide("192.0.2.200")).toEqual({ action: DENY, rule: "block" });
    expect(u.decide("198.51.100.7")).toEqual({ action: LOG, rule: "try-new" });
    expect(u.decide("203.0.113.1")).toEqual({ action: ALLOW, rule: "" });
  });

  it("rules with a condition fall back to the next less specific rule (condition unreadable here)", () => {
    const r = u.load({ access: [
      { id: "wide", cidrs: ["172.16.0.0/12"] },
      { id: "admin-only", cidrs: ["172.16.5.0/24"], path_prefix: "/admin", status: 451 },
      { id: "hdr", action: "allow", cidrs: ["172.16.6.0/24"], header: { name: "X-Debug", equals: "1" } },
    ] });
    expect(r.ok).toBe(true);
    // The unit host has no request headers: both conditions fail → fall back to "wide".
    expect(u.decide("172.16.5.9")).toEqual({ action: DENY, rule: "wide" });
    expect(u.decide("172.16.6.9")).toEqual({ action: DENY, rule: "wide" });
  });

  it("equal prefixes in several rules: the first listed wins", () => {
    const r = u.load({ access: [
      { id: "first", action: "log", cidrs: ["203.0.113.0/24"] },
      { id: "second", action: "deny", cidrs: ["203.0.113.0/24"] },
      { id: "third", action: "allow", cidrs: ["203.0.113.0/24"] },
    ] });
    expect(r.ok).toBe(true);
    expect(u.decide("203.0.113.5")).toEqual({ action: DENY, rule: "second" });
  });

  it("thousands of rules on one network address (sort fallback for many ties)", () => {
    const access = Array.from({ length: 5000 }, (_, i) => ({ id: `r${i}`, cidrs: [`10.0.0.0/${8 + (i % 25)}`] }));
    expect(u.load({ access }).ok).toBe(true);
    expect(u.decide("10.0.0.0").rule).toBe("r24");  // /32
    expect(u.decide("10.0.0.1").rule).toBe("r23");  // /31
    expect(u.decide("10.1.0.0").rule).toBe("r7");   // /15
    expect(u.decide("11.0.0.0").rule).toBe("");
  });

  it("allow-list mode: only addresses matching an allow rule pass", () => {
    const r = u.load({ mode: "allow", default_reply: { status: 403, body: "not on the list\n" }, access: [
      { id: "office", action: "allow", cidrs: ["198.51.100.0/24", "2001:db8:1::/48"] },
      { id: "office-kiosk", action: "deny", cidrs: ["198.51.100.66"] },
    ] });
    expect(r.ok).toBe(true);
    expect(u.decide("198.51.100.7")).toEqual({ action: ALLOW, rule: "office" });
    expect(u.decide("198.51.100.66")).toEqual({ action: DENY, rule: "office-kiosk" });
    expect(u.decide("8.8.8.8")).toEqual({ action: DENY, rule: "_default" });
    expect(u.decide("2001:db8:1::5")).toEqual({ action: ALLOW, rule: "office" });
    expect(u.decide("2001:db8:2::5")).toEqual({ action: DENY, rule: "_default" });
  });

  it("cidrs_text: one CIDR per line in one JSON string, comments, commas, escaped slashes", () => {
    const text = "# blocklist\n10.0.0.0/8\n\n192.0.2.1 , 192.0.2.2\r\n2001:db8::/32 # v6\n198.51.100.0\\/24\n\t203.0.113.0/24";
    const doc = `{"access":[{"id":"big","cidrs_text":${JSON.stringify(text).replace("\\\\/", "\\/")}}]}`;
    const r = u.load(doc);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    expect(r.cidrs).toBe(6);
    for (const a of ["10.2.3.4", "192.0.2.1", "192.0.2.2", "2001:db8::9", "198.51.100.9", "203.0.113.200"]) {
      expect(u.decide(a).rule, a).toBe("big");
    }
    expect(u.decide("192.0.2.3").rule).toBe("");
  });

  it("matches a brute-force reference on random overlapping prefixes (property test)", () => {
    const prefix = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }));
    fc.assert(fc.property(fc.array(fc.array(prefix, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 20, maxLength: 20 }), (rules, probes) => {
        const mask = (len: number) => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
        const doc = { access: rules.map((cs, i) => ({ id: `r${i}`, action: i % 3 === 2 ? "allow" : "deny",
          cidrs: cs.map(([a, l]) => `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${l}`) })) };
        expect(u.load(doc).ok).toBe(true);
        // also probe the rules' own network addresses
        const all = probes.concat(rules.flat().map(([a, l]) => (a & mask(l)) >>> 0));
        for (const ip of all) {
          let best = -1, bestLen = -1;
          rules.forEach((cs, i) => cs.forEach(([a, l]) => {
            if (((ip & mask(l)) >>> 0) === ((a & mask(l)) >>> 0) && (l > bestLen || (l === bestLen && i < best))) { best = i; bestLen = l; }
          }));
          const want = best < 0 ? { action: ALLOW, rule: "" } : { action: best % 3 === 2 ? ALLOW : DENY, rule: `r${best}` };
          const txt = `${(ip >>> 24) & 255}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
          expect(u.decide(txt), txt).toEqual(want);
        }
      }), { numRuns: 300 });
  });
});

describe("rule documents: one test per bad-input class", () => {
  const good = { version: 1, access: [{ id: "a", cidrs: ["10.0.0.0/8"] }] };
  const cases: Array<[string, string | Uint8Array | object, string, RegExp]> = [
    ["malformed JSON", '{"version":1,"access":[{"id":"a","cidrs":["10.0.0.0/8"]}]', "json", /malformed JSON.*byte/],
    ["bad CIDR", { access: [{ id: "a", cidrs: ["10.0.0.0/8", "10.0.0.300/32"] }] }, "cidr", /\$\.access\[0\]\.cidrs\[1\]: bad CIDR "10\.0\.0\.300\/32"/],
    ["bad CIDR in cidrs_text", { access: [{ id: "a", cidrs_text: "10.0.0.0/8\n10.0.0.0/40" }] }, "cidr", /cidrs_text: bad CIDR "10\.0\.0\.0\/40" on line 2/],
    ["unknown field", { access: [{ id: "a", cidrs: ["10.0.0.0/8"], acton: "deny" }] }, "schema", /\$\.access\[0\]: unknown field "acton"/],
    ["unknown top-level field", { version: 1, rules: [] }, "schema", /\$: unknown field "rules"/],
    ["wrong type", { version: "1", access: [] }, "schema", /\$\.version: expected an integer/],
    ["wrong type (cidrs)", { access: [{ id: "a", cidrs: "10.0.0.0/8" }] }, "schema", /\$\.access\[0\]\.cidrs: expected array, got string/],
    ["duplicate id", { access: [{ id: "a", cidrs: ["10.0.0.0/8"] }, { id: "a", cidrs: ["11.0.0.0/8"] }] }, "schema", /\$\.access\[1\]\.id: duplicate rule id "a"/],
    ["deep nesting", `{"access":[{"id":"a","cidrs":["1.0.0.0/8"],"description":"x"}],"sampling":${"[".repeat(40)}${"]".repeat(40)}}`, "json", /nesting too deep/],
    ["bad id", { access: [{ id: "a b", cidrs: ["10.0.0.0/8"] }] }, "schema", /must match/],
    ["missing id", { access: [{ cidrs: ["10.0.0.0/8"] }] }, "schema", /\.id: required/],
    ["bad action", { access: [{ id: "a", action: "block", cidrs: ["10.0.0.0/8"] }] }, "schema", /\.action/],
    ["bad status", { access: [{ id: "a", status: 99, cidrs: ["10.0.0.0/8"] }] }, "schema", /\.status/],
    ["bad rate", { sampling: { default_rate: 1.5 } }, "schema", /default_rate/],
    ["negative version", { version: -1 }, "schema", /version/],
    ["reserved id", { access: [{ id: "_default", cidrs: ["10.0.0.0/8"] }] }, "schema", /reserved/],
    ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), "json", /invalid UTF-8/],
  ];
  for (const [name, doc, reason, msg] of cases) {
    it(name, () => {
      expect(u.load(good).ok).toBe(true);
      const r = u.load(doc as never);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.reason).toBe(reason);
      expect(r.message).toMatch(msg);
      // the previously loaded set is untouched
      expect(u.decide("10.1.1.1")).toEqual({ action: DENY, rule: "a" });
    });
  }

  it("oversize document", () => {
    const r = u.load(good, 10);
    expect(r).toMatchObject({ ok: false, reason: "size" });
  });
});

describe("snapshot codec", () => {
  it("round-trips a rule set and keeps every decision", () => {
    const cidrs: string[] = [];
    for (let i = 0; i < 2000; i++) cidrs.push(`${10 + (i % 50)}.${(i * 7) & 255}.${(i * 13) & 255}.0/${16 + (i % 17)}`);
    const r = u.load({ version: 9, mode: "deny", sampling: { default_rate: 0.25, routes: { api: 1 }, slow_threshold_ms: 500 }, access: [
      { id: "many", cidrs }, { id: "v6", action: "log", cidrs: ["2001:db8::/32", "2001:db8:1::/48"] },
      { id: "cond", cidrs: ["10.0.0.0/8"], header: { name: "x-a", prefix: "b" }, headers: { "X-Reason": "test" }, body: "no" },
    ] });
    expect(r.ok).toBe(true);
    const probes: string[] = [];
    for (let i = 0; i < 3000; i++) probes.push(`${10 + (i % 60)}.${(i * 31) & 255}.${(i * 17) & 255}.${i & 255}`);
    probes.push("2001:db8:1::1", "2001:db8:2::1", "2001:db9::1");
    const before = probes.map((p) => u.decide(p));
    const size = u.snapshotRoundTrip();
    expect(size).toBeGreaterThan(0);
    expect(probes.map((p) => u.decide(p))).toEqual(before);
  });

  it("rejects truncated or corrupted blobs without trapping", () => {
    expect(u.load({ version: 2, access: [{ id: "a", cidrs: ["10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32"] }] }).ok).toBe(true);
    const blob = u.snapshotEncode();
    expect(u.snapshotDecode(blob)).toBe(true);
    for (let n = 0; n < blob.length; n += 3) expect(u.snapshotDecode(blob.slice(0, n))).toBe(false);
    fc.assert(fc.property(fc.integer({ min: 0, max: blob.length - 1 }), fc.integer({ min: 0, max: 255 }), (i, v) => {
      const b = blob.slice();
      b[i] = v;
      u.snapshotDecode(b); // must not trap; may accept harmless changes
    }), { numRuns: 2000 });
  });
});

describe("plugin configuration parser", () => {
  it("defaults for an empty configuration", () => {
    const r = u.config("");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.summary.source).toBe(0);
    expect(r.summary.rulesNode).toBe(-1);
    expect(r.summary.rulesService.cluster).toBe("");
    expect(r.summary.telemetry.heartbeatMs).toBe(1000);
  });

  it("fills every section", () => {
    const r = u.config(JSON.stringify({
      client_address: { source: "xff", xff_trusted_hops: 2 },
      telemetry: { enabled: false, routes_cap: 7, exact_codes: [200, 503], path_routes: [{ prefix: "/api", route: "api" }], method_label: true, heartbeat_ms: 250 },
      tracing: { enabled: true, service_name: "edge", trust_parent: "trusted", trusted_cidrs: ["10.0.0.0/8", "::1"],
        collector: { cluster: "otel", authority: "c", path: "/v1/traces", batch_max: 10, buffer_max: 20, flush_ms: 30, timeout_ms: 40, backoff_base_ms: 5, backoff_max_ms: 50 } },
      rules_service: { cluster: "rules", authority: "rules.local", path: "/v1/rules", long_poll_ms: 1000, timeout_ms: 2000, backoff_base_ms: 10, backoff_max_ms: 100, cold_start: "deny", lease_ms: 500 },
      max_rules_bytes: 4096,
      rules: { version: 1 },
    }));
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    const s = r.summary;
    expect(s).toMatchObject({ source: 2, hops: 2, maxRulesBytes: 4096 });
    expect(s.telemetry).toEqual({ enabled: false, routesCap: 7, methodLabel: true, heartbeatMs: 250, pathRoutes: [["/api", "api"]], exactCodes: [200, 503] });
    expect(s.tracing).toMatchObject({ enabled: true, serviceName: "edge", trustParent: 2, trustedCidrs: 2, collector: { cluster: "otel", batchMax: 10, flushMs: 30 } });
    expect(s.rulesService).toEqual({ cluster: "rules", authority: "rules.local", path: "/v1/rules", longPollMs: 1000, timeoutMs: 2000, coldStartDeny: true, leaseMs: 500 });
    expect(s.rulesNode).toBeGreaterThan(0);
    expect(s.rulesBytes).toBe('{"version":1}'.length);
  });

  it("accepts the config tooling's shorthands rules_cluster / collector_cluster", () => {
    const r = u.config('{"rules_cluster":"edgewatch_rules","collector_cluster":"otel_collector"}');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.summary.rulesService.cluster).toBe("edgewatch_rules");
    expect(r.summary.tracing.collector.cluster).toBe("otel_collector");
  });

  it("rejects unknown fields, wrong types, duplicates, bad CIDRs and bad JSON", () => {
    const bad: Array<[string, string, RegExp]> = [
      ['{"telemetry":{"enabld":true}}', "schema", /\$\.telemetry: unknown field "enabld"/],
      ['{"client_address":{"source":"header"}}', "schema", /source/],
      ['{"client_address":{"xff_trusted_hops":-1}}', "schema", /xff_trusted_hops/],
      ['{"telemetry":{"heartbeat_ms":"1s"}}', "schema", /heartbeat_ms/],
      ['{"tracing":{"trusted_cidrs":["10.0.0.0/33"]}}', "cidr", /trusted_cidrs\[0\]: bad CIDR/],
      ['{"rules_service":{"cluster":"r","long_poll_ms":5000,"timeout_ms":1000}}', "schema", /timeout_ms/],
      ['{"max_rules_bytes":1,"max_rules_bytes":2}', "schema", /duplicate field/],
      ['{"rules_service":', "json", /malformed/],
      ['[]', "schema", /expected object/],
    ];
    for (const [text, reason, msg] of bad) {
      const r = u.config(text);
      expect(r.ok, text).toBe(false);
      if (r.ok) continue;
      expect(r.reason, text).toBe(reason);
      expect(r.message, text).toMatch(msg);
    }
  });
});

describe("scale: 100,000 CIDRs", () => {
  it("loads, fits in ≤ 1 MiB of tables, and keeps lookups correct", () => {
    const lines: string[] = [];
    const set = new Set<number>();
    let x = 12345;
    while (set.size < 100_000) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      set.add(x & 0xffffff00);
    }
    for (const a of set) lines.push(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`);
    const doc = JSON.stringify({ version: 1, access: [{ id: "big", cidrs_text: lines.join("\n") }] });
    const t0 = performance.now();
    const r = u.load(doc, 64 << 20);
    const ms = performance.now() - t0;
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.cidrs).toBe(100_000);
    expect(r.tableBytes).toBeLessThanOrEqual(1 << 20);
    const sample = [...set].slice(0, 500);
    for (const a of sample) expect(u.decide(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.77`).rule).toBe("big");
    console.log(`100k CIDRs: first load ${ms.toFixed(1)} ms, tables ${r.tableBytes} bytes`);
  });
});

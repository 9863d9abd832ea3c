/**
 * The fuzzing oracles themselves (harness/fuzz/reference/*): they must tell valid from invalid
 * documents the way the documented schema does, and a family must report a violation when its
 * expectation is wrong (a planted oracle error), so a green fuzz run means something.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { validatePluginConfiguration, validateRulesDocument, evaluateRef, cidrsTextTokensRef } from "../../harness/fuzz/reference/schema.js";
import { parseCidrRef, parseClientAddressRef, resolveClientRef, addrText } from "../../harness/fuzz/reference/net.js";
import { parseTraceparentRef, parseTracestateRef } from "../../harness/fuzz/reference/w3c.js";
import { arbDocCase, arbConfigCase } from "../../harness/fuzz/arbitraries.js";
import { xffFamily } from "../../harness/fuzz/families.js";

const rules = (s: string) => validateRulesDocument(Buffer.from(s));

describe("reference rule-document validator", () => {
  it.each([
    ['{"version":1,"access":[{"id":"a","cidrs":["10.0.0.0/8"]}]}', true, null],
    ['{"access":[]}', true, null],
    ['{"access":[{"id":"a","cidrs":[]}],"mode":"allow","default_reply":{"status":451}}', true, null],
    ['{"access":[{"id":"a","cidrs_text":"10.0.0.0/8 # c\\n::1, 192.0.2.1"}]}', true, null],
    ['{"version":1.0}', false, "schema"],
    ['{"version":-1}', false, "schema"],
    ['{"version":1234567890123456}', false, "schema"],
    ['{"version":1,"version":1}', false, "schema"],
    ['{"v\\u0065rsion":1,"version":1}', false, "schema"],
    ['{"access":[{"id":"a","cidrs":["10.0.0.0/33"]}]}', false, "cidr"],
    ['{"access":[{"id":"a","cidrs":["010.0.0.0/8"]}]}', false, "cidr"],
    ['{"access":[{"id":"a","cidrs_text":"10.0.0.0/8\\u0020"}]}', false, "cidr"],
    ['{"access":[{"id":"_default","cidrs":[]}]}', false, "schema"],
    ['{"access":[{"id":"a","cidrs":[]},{"id":"a","cidrs":[]}]}', false, "schema"],
    ['{"access":[{"cidrs":[]}]}', false, "schema"],
    ['{"sampling":{"default_rate":1e400}}', false, "schema"],
    ['{"sampling":{"default_rate":NaN}}', false, "json"],
    ['{"access":[]', false, "json"],
    ['[]', false, "schema"],
    ["", false, "json"],
  ] as const)("%s → valid=%s (%s)", (doc, valid, reason) => {
    const r = rules(doc);
    expect(r.valid).toBe(valid);
    if (!valid) expect(r.reason).toBe(reason);
  });

  it("rejects invalid UTF-8 and nesting deeper than 32", () => {
    expect(validateRulesDocument(Buffer.from([0x7b, 0x22, 0x64, 0x65, 0x73, 0x63, 0x72, 0x69, 0x70, 0x74, 0x69, 0x6f, 0x6e, 0x22, 0x3a, 0x22, 0xc0, 0x80, 0x22, 0x7d])).reason).toBe("json");
    const deep = (n: number) => `{"description":"x","access":[],"x":${"[".repeat(n)}${"]".repeat(n)}}`;
    expect(rules(deep(31)).errors.map((e) => e.reason)).toEqual(["schema"]); // unknown "x", depth ok (1 + 31)
    expect(rules(deep(32)).reason).toBe("json");
  });

  it("cidrs_text: escaped separators are part of a token, comments run to the end of the line", () => {
    expect(cidrsTextTokensRef(Buffer.from(String.raw`10.0.0.0/8\n# a\n ::1,\t1.2.3.4 # x`))).toEqual(["10.0.0.0/8", "::1", "1.2.3.4"]);
    expect(cidrsTextTokensRef(Buffer.from(String.raw`# C:\\n10.0.0.0/8\n1.2.3.4`))).toEqual(["1.2.3.4"]);
    expect(cidrsTextTokensRef(Buffer.from(String.raw`10.0.0.0\/8\u0020`))).toEqual(["10.0.0.0/8 "]);
  });

  it("evaluates most specific first, first-listed on ties, log falls through, allow-list default", () => {
    const set = rules(JSON.stringify({
      mode: "allow",
      access: [
        { id: "log24", action: "log", cidrs: ["10.1.2.0/24"] },
        { id: "deny16", cidrs: ["10.1.0.0/16"], status: 451 },
        { id: "allow8", action: "allow", cidrs: ["10.0.0.0/8"] },
        { id: "cond", cidrs: ["10.9.0.0/16"], header: { name: "x-t", equals: "a" } },
      ],
    })).value!;
    const at = (ip: string, h: Record<string, string> = {}) => evaluateRef(set, { client: parseClientAddressRef(ip), header: (n) => h[n], path: "/" });
    expect(at("10.1.2.3")).toMatchObject({ denied: true, ruleId: "deny16", status: 451 });
    expect(at("10.2.0.1")).toMatchObject({ denied: false });
    expect(at("10.9.0.1", { "x-t": "a" })).toMatchObject({ denied: true, ruleId: "cond" });
    expect(at("10.9.0.1")).toMatchObject({ denied: false });
    expect(at("11.0.0.1")).toMatchObject({ denied: true, ruleId: "_default", status: 403 });
  });
});

describe("reference configuration validator", () => {
  it("accepts defaults and rejects documented violations", () => {
    const v = (o: unknown) => validatePluginConfiguration(Buffer.from(typeof o === "string" ? o : JSON.stringify(o))).valid;
    expect(v("")).toBe(true);
    expect(v({ rules_service: { cluster: "r", long_poll_ms: 1000, timeout_ms: 2000 } })).toBe(true);
    expect(v({ rules_service: { cluster: "r", long_poll_ms: 60000 } })).toBe(false);
    expect(v({ rules_cluster: "r", rules_service: { long_poll_ms: 60000 } })).toBe(false);
    expect(v('{"rules":{},"rul\\u0065s":{}}')).toBe(false);
    expect(v({ tracing: { trusted_cidrs: ["10.0.0.0/8", "1.2.3.4/40"] } })).toBe(false);
    expect(v({ telemetry: { routes_cap: 0 } })).toBe(false);
    expect(v({ max_rules_bytes: 1024, rules: { description: "x".repeat(2000) } })).toBe(false);
  });
});

describe("reference address and W3C parsing", () => {
  it("CIDRs and client addresses", () => {
    expect(parseCidrRef("::ffff:10.0.0.0/104")).toMatchObject({ v4: true, len: 8 });
    expect(parseCidrRef("10.0.0.1/8")!.value).toBe(0x0a000000n);
    expect(parseCidrRef("1::2::3")).toBeNull();
    expect(addrText(parseClientAddressRef("[2001:db8::1]:80")!)).toBe("2001:db8:0:0:0:0:0:1");
    expect(addrText(parseClientAddressRef(" ::ffff:192.0.2.1 ")!)).toBe("192.0.2.1");
    expect(parseClientAddressRef("1.2.3.4:99999")).toBeNull();
    const xff = (v: string, hops: number) => resolveClientRef({ source: "xff", xffTrustedHops: hops }, [["x-forwarded-for", v]], "127.0.0.1:1");
    expect(addrText(xff("1.1.1.1, 2.2.2.2,, 3.3.3.3", 1)!)).toBe("2.2.2.2");
    expect(addrText(xff("1.1.1.1, bogus", 0)!)).toBe("127.0.0.1");
  });

  it("traceparent and tracestate", () => {
    expect(parseTraceparentRef("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).not.toBeNull();
    expect(parseTraceparentRef("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")).toBeNull();
    expect(parseTraceparentRef("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x")).toBeNull();
    expect(parseTraceparentRef("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")).not.toBeNull();
    expect(parseTraceparentRef("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-")).toBeNull();
    expect(parseTraceparentRef("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toBeNull();
    expect(parseTraceparentRef("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).toBeNull();
    expect(parseTracestateRef("a=1, b@c=2,,")?.members).toHaveLength(2);
    expect(parseTracestateRef("a=1,a=2")).toBeNull();
    expect(parseTracestateRef(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(","))).toBeNull();
  });
});

describe("generators agree with the reference", () => {
  it("every mutation marked invalid is invalid for the reference (600 rule documents, 300 configurations)", () => {
    for (const c of fc.sample(arbDocCase({ binary: true, maxRulesBytes: 64 * 1024 }), { seed: 5, numRuns: 600 })) {
      if (c.mustBeInvalid) expect(validateRulesDocument(c.bytes, 64 * 1024).valid, `${c.mutation}: ${c.bytes.toString("utf8").slice(0, 200)}`).toBe(false);
    }
    for (const c of fc.sample(arbConfigCase(), { seed: 6, numRuns: 300 })) {
      if (c.mustBeInvalid) expect(validatePluginConfiguration(c.bytes).valid, `${c.mutation}: ${c.bytes.toString("utf8").slice(0, 200)}`).toBe(false);
    }
  }, 60_000);
});

describe("a family reports violations when its oracle is wrong", () => {
  it("xff: an oracle that also believes 192.0.2.0/24 is denied disagrees with the filter", async () => {
    const r = await xffFamily({ oracleDenied: ["198.51.100.0/24", "2001:db8:bad::/48", "203.0.113.7/32", "192.0.2.0/24"] });
    try {
      for (const [i, c] of fc.sample(r.arb, { seed: 9, numRuns: 300 }).entries()) await r.run(c, i);
    } finally {
      await r.close();
    }
    expect(r.stats.byKind["client-address"] ?? 0).toBeGreaterThan(10);
  });
});

/**
 * Bug: a plugin-configuration member spelled twice — once plainly, once with a JSON escape — is not
 * detected as a duplicate; the configuration is accepted and the LAST spelling wins.
 *
 *   {"rules": {...deny 10.0.0.0/8...}, "rul\u0065s": {...no rules...}}
 *
 * A reviewer (or any JSON tool keeping the first occurrence) reads one rule set, the filter enforces
 * the other. Every other duplicate is rejected ("duplicate field").
 * Where: assembly/config/parse.ts checkObject() compares rawLength(a) == rawLength(b) before the
 * decoded values, so "rules" (5 raw bytes) and "rul\u0065s" (10) never compare equal.
 * Fix: compare decoded keys (doc.stringValue / a decoded-bytes compare) regardless of raw length,
 * e.g. decode each key once into a Set<string>.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FuzzHost, peer, withRules } from "./support.js";

const DENY_10 = `{"version":1,"access":[{"id":"deny-10","cidrs":["10.0.0.0/8"]}]}`;
const EMPTY = `{"version":2,"access":[]}`;

let h: FuzzHost;
beforeAll(async () => { h = await FuzzHost.start({ configuration: withRules(DENY_10) }); });
afterAll(async () => { await h?.close(); });

describe("issue-8: escaped duplicate keys in the plugin configuration", () => {
  it("a plain duplicate is rejected (control)", async () => {
    const r = await h.push(`{"tracing":{"enabled":false},"rules":${DENY_10},"rules":${EMPTY}}`);
    expect(r.accepted).toBe(false);
  });

  it('{"rules":A,"rul\\u0065s":B} is rejected and A stays in force', async () => {
    const r = await h.push(`{"tracing":{"enabled":false},"rules":${DENY_10},"rul\\u0065s":${EMPTY}}`);
    expect(h.trapped()).toBe(false);
    expect(r.accepted, "configuration with a duplicate (escaped) member accepted").toBe(false);
    expect(h.request(peer("10.1.2.3")).status).toBe(403);
  });

  it("also inside nested objects (client_address.source twice)", async () => {
    const r = await h.push(`{"tracing":{"enabled":false},"client_address":{"source":"xff","sourc\\u0065":"connection"},"rules":${DENY_10}}`);
    expect(r.accepted).toBe(false);
  });
});

/**
 * Bug: in "cidrs_text", a '#' comment ends at the first backslash-escaped backslash followed by the
 * letter n (raw JSON `\\n`, i.e. the text "\n" as two characters), not at the end of the line.
 * What follows inside the comment is then loaded as CIDRs:
 *
 *   "cidrs_text": "# old: C:\\n10.0.0.0/8\n192.0.2.0/24"
 *   decoded:      # old: C:\n10.0.0.0/8   ⏎   192.0.2.0/24      (line 1 is a comment)
 *
 * The documented semantics (assembly/rules/document.ts: '#' starts a comment that runs to the end of
 * the line) give one CIDR, 192.0.2.0/24; the filter also denies 10.0.0.0/8.
 * Where: scanCidrText's comment loop tests each byte for '\' followed by 'n' without skipping
 * escape pairs, so the second byte of `\\` starts a fake "\n".
 * Fix: in the comment loop, step over every escape pair (i += 2 after a backslash) and stop only
 * at a real `\n` escape.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FuzzHost, peer, withRules } from "./support.js";

let h: FuzzHost;
beforeAll(async () => { h = await FuzzHost.start({ configuration: `{"tracing":{"enabled":false}}` }); });
afterAll(async () => { await h?.close(); });

describe("issue-8: cidrs_text comment ends at an escaped backslash + n", () => {
  it("only the uncommented line is loaded", async () => {
    const rules = String.raw`{"version":3,"access":[{"id":"c","cidrs_text":"# old: C:\\n10.0.0.0/8\n192.0.2.0/24"}]}`;
    const r = await h.push(withRules(rules));
    expect(r.accepted).toBe(true);
    expect(h.trapped()).toBe(false);
    expect(h.request(peer("192.0.2.7")).status).toBe(403);
    expect(h.gauge("edgewatch.rules_cidrs"), "CIDRs loaded").toBe(1n);
    expect(h.request(peer("10.1.2.3")).status, "10.0.0.0/8 was only in a comment").toBe(200);
  });
});

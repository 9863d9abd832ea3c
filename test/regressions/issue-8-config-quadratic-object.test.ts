/**
 * Bug: on_configure is quadratic in the number of members of a configuration object. A 90 KB
 * configuration whose "telemetry" object has 5,000 (unknown) members takes seconds of CPU per VM
 * (measured ≈ 2.3 s per on_configure; 20,000 members ≈ 23 s) before it is rejected — on Envoy's
 * main thread and on every worker thread, i.e. a stalled proxy.
 * Where: assembly/config/parse.ts checkObject() compares every pair of keys (O(n²)) and decodes
 * both keys to strings for each same-length pair, before the unknown-field check.
 * Fix: reject as soon as an object has more members than it has known fields (every object here is
 * closed), or detect duplicates with a Set of decoded keys / the seen-bit approach used by
 * rules/document.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FuzzHost } from "./support.js";

let h: FuzzHost;
beforeAll(async () => { h = await FuzzHost.start({ configuration: `{"tracing":{"enabled":false}}`, workers: 1 }); });
afterAll(async () => { await h?.close(); });

describe("issue-8: quadratic duplicate scan in configuration objects", () => {
  it("a 5,000-member object is rejected within 500 ms (canary + main + 1 worker)", async () => {
    const telemetry: Record<string, number> = {};
    for (let i = 0; i < 5000; i++) telemetry[`k${i}`] = i;
    const cfg = JSON.stringify({ tracing: { enabled: false }, telemetry });
    const r = await h.push(cfg);
    expect(r.accepted).toBe(false);
    expect(h.trapped()).toBe(false);
    expect(r.ms, `on_configure of a ${cfg.length}-byte configuration`).toBeLessThan(500);
  }, 120_000);
});

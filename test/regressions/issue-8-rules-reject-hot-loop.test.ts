/**
 * Bug: when the rules service answers 200 with a document the filter rejects (garbage, wrong
 * schema) and a new ETag each time — a broken or misbehaving service — the fetcher re-polls AT ONCE
 * after every rejection, with no backoff: ~800 polls per second against the service, each one
 * parsed, rejected, logged and counted (rules_reload_failures_total climbs by the same rate).
 * Where: assembly/filter/reload/pull.ts afterReject(): with an ETag it sets nextAttemptMs = 0 and
 * polls immediately, assuming the server will hold the next poll. Only the "same ETag again" case
 * waits a tick.
 * Fix: treat a rejected document like a failed fetch for pacing — count it in `failures` and wait
 * the backoff (backoff_base_ms · 2^n, ≤ backoff_max_ms, jittered) before the next poll, or at least
 * one tick when the answer came back without being held ("fast").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "undici";
import { startEdgeStack, waitUntil, type EdgeStack } from "../../harness/fuzz/edge-stack.js";

let s: EdgeStack;
beforeAll(async () => {
  s = await startEdgeStack({
    workers: 1,
    plugin: {
      tracing: { enabled: false },
      rules_service: { cluster: "rules", long_poll_ms: 1000, timeout_ms: 1500, tick_ms: 20, lease_ms: 400, backoff_base_ms: 20, backoff_max_ms: 200 },
    },
  });
  s.rules.publish({ access: [] });
  await s.rules.waitForFetchCount(1, 5000);
}, 30_000);
afterAll(async () => { await s?.close(); });

describe("issue-8: rejected pulled documents are re-fetched without backoff", () => {
  it("a service answering garbage is polled at most a few times per second", async () => {
    const j0 = await s.metric("edgewatch_rules_reload_failures_total", { reason: "json" });
    s.rules.setFault("garbage");
    await waitUntil(async () => (await s.metric("edgewatch_rules_reload_failures_total", { reason: "json" })) > j0, 5000, "first rejection");
    const n0 = s.rules.requests.length;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    const perSecond = (s.rules.requests.length - n0) / ((performance.now() - t0) / 1000);
    s.rules.setFault(null);
    // The proxy kept serving throughout.
    const c = new Client(s.url);
    const r = await c.request({ path: "/x", method: "GET" });
    await r.body.text();
    await c.close();
    expect(r.statusCode).toBe(200);
    // backoff_max_ms 200 with 50–100 % jitter → at most ~10 polls/s once backed off.
    expect(perSecond, "polls per second against a service answering garbage").toBeLessThan(20);
  }, 20_000);
});

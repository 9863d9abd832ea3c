/**
 * OTLP/HTTP span export on every target, against the collector fixture: what the collector receives
 * (request shape; every body decoded with the official OTLP protobuf schema; span fields), batches
 * bounded by batch_max, export retried with backoff while the collector is down, times out or
 * answers 503, a bounded buffer whose oldest spans go first, a rejected batch (400) dropped and not
 * retried, and every kept span accounted for: kept = exported + dropped{reason} + buffered, with a
 * collector in trouble and without any collector configured.
 *
 * One worker: the exporter is per VM, so the backoff schedule below is that one VM's. The stack's
 * tick runs every 100 ms (heartbeat_ms), the export path's granularity.
 */
import { describe, expect, it } from "vitest";
import type { AdminReader } from "../../harness/stack/admin-reader.js";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { describeTargets } from "../../harness/targets/describe-targets.js";
import { itLosesNothing, useStack } from "./support/hooks.js";
import { untilMetric } from "./support/telemetry.js";
import { VALID_TRACEPARENT } from "./support/trace-corpus.js";
import { forwardedTraceparent, untilSpans, upstreamHeader } from "./support/traces.js";

const BATCH_MAX = 10;
const BUFFER_MAX = 50;
const BACKOFF = { backoff_base_ms: 100, backoff_max_ms: 800 };
const COLLECTOR = { cluster: "otel", authority: "otel.test", batch_max: BATCH_MAX, buffer_max: BUFFER_MAX, flush_ms: 100, timeout_ms: 300, ...BACKOFF };
const PLUGIN = {
  client_address: { source: "xff", xff_trusted_hops: 1 },
  telemetry: { heartbeat_ms: 100 },
  tracing: { service_name: "edge-conformance", trust_parent: "never", collector: COLLECTOR },
  rules: { version: 1, sampling: { default_rate: 1 } },
};

interface Accounting {
  kept: number;
  exported: number;
  dropped: number;
  /** dropped by reason (buffer_full, rejected, shutdown, no_collector). */
  droppedBy: Record<string, number>;
  buffered: number;
  failures: number;
}

async function accounting(admin: AdminReader): Promise<Accounting> {
  const prom = await admin.prometheus();
  return {
    kept: prom.sum("edgewatch_trace_spans_kept_total"),
    exported: prom.sum("edgewatch_trace_spans_exported_total"),
    dropped: prom.sum("edgewatch_trace_spans_dropped_total"),
    droppedBy: Object.fromEntries(prom.find("edgewatch_trace_spans_dropped_total").map((x) => [x.labels.reason ?? "", x.value])),
    buffered: prom.sum("edgewatch_trace_spans_buffered"),
    failures: prom.sum("edgewatch_trace_export_failures_total"),
  };
}

/**
 * Poll until the buffer is empty and every kept span is exported or dropped: the accounting
 * invariant at rest (the buffered gauge is published on the VM's tick, so it is polled, not read once).
 */
async function untilDrained(admin: AdminReader, timeoutMs = 15_000): Promise<Accounting> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = await accounting(admin);
    if (a.buffered === 0 && a.kept === a.exported + a.dropped) return a;
    if (Date.now() > deadline) throw new Error(`spans not accounted for within ${timeoutMs} ms: ${JSON.stringify(a)} (kept ≠ exported + dropped + buffered, or still buffered)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("trace export", () => {
  describeTargets("OTLP/HTTP export to a collector", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(1).withCollector().withPlugin(PLUGIN));

    it("the collector receives POST /v1/traces as OTLP JSON that the official schema decodes, one SERVER span per request", async () => {
      const s = ref.stack;
      const answers = await s.client.many(5, 1, (i) => ({ path: `/api/shape/${i}`, headers: { "x-forwarded-for": `203.0.113.${i + 1}` } }));
      const sent = answers.map(forwardedTraceparent);
      const spans = await untilSpans(s.collector!, (all) => sent.every((t) => all.some((x) => x.spanId === t.spanId)), { what: "the five spans" });
      for (const r of s.collector!.requests) {
        expect([r.method, r.path]).toEqual(["POST", "/v1/traces"]);
        expect(r.headers["content-type"]).toBe("application/json");
        expect(r.headers.host).toBe("otel.test"); // tracing.collector.authority
      }
      for (const [i, t] of sent.entries()) {
        const span = spans.find((x) => x.spanId === t.spanId)!;
        expect(span).toMatchObject({ traceId: t.traceId, name: "GET api", kind: 2, statusCode: 0, serviceName: "edge-conformance", scopeName: "edgewatch" });
        expect(span.attributes).toMatchObject({
          "http.request.method": "GET",
          "http.route": "api",
          "http.response.status_code": 200,
          "client.address": `203.0.113.${i + 1}`,
          "edgewatch.sampling.reason": "probability",
        });
        expect(span.endTimeUnixNano > span.startTimeUnixNano).toBe(true);
        expect(Math.abs(Number(span.startTimeUnixNano / 1_000_000n) - Date.now())).toBeLessThan(60_000);
      }
      await untilDrained(s.admin);
    });

    it("batches hold at most batch_max spans; each kept span is exported exactly once", async () => {
      const s = ref.stack;
      const before = await untilDrained(s.admin);
      const requests0 = s.collector!.requests.length;
      const answers = await s.client.many(45, 4, (i) => ({ path: `/api/batch/${i}` }));
      const ids = new Set(answers.map((a) => forwardedTraceparent(a).spanId));
      const spans = await untilSpans(s.collector!, (all) => all.filter((x) => ids.has(x.spanId)).length >= ids.size, { what: "45 spans" });
      const after = await untilDrained(s.admin);
      expect(spans.filter((x) => ids.has(x.spanId))).toHaveLength(45);
      const received = s.collector!.requests.slice(requests0);
      expect(received.every((r) => r.spanCount >= 1 && r.spanCount <= BATCH_MAX)).toBe(true);
      expect(received.reduce((n, r) => n + r.spanCount, 0)).toBe(45);
      expect(after.exported - before.exported).toBe(45);
      expect(after.dropped - before.dropped).toBe(0);
    });

    it("while the collector is down: retried with backoff, at most buffer_max spans kept (oldest dropped, counted); delivered once it is back", async () => {
      const s = ref.stack;
      const c = s.collector!;
      const base = await untilDrained(s.admin);
      c.setFault("down");
      const n = 200;
      await s.client.many(n, 4, (i) => ({ path: `/api/down/${i}` }));
      const newest = forwardedTraceparent(await s.client.get("/api/down/newest")).spanId;
      // Backoff (base 100 ms doubling, capped at 800 ms, jittered to 50-100 %): after the next failed
      // attempt, the three following ones wait at least 100 + 200 + 400 ms. Retrying on every tick
      // (100 ms) would take 400 ms for four attempts.
      const f0 = await untilMetric(s.admin, "edgewatch_trace_export_failures_total", {}, (v) => v > base.failures, { what: "a failed export attempt" });
      const t0 = Date.now();
      await untilMetric(s.admin, "edgewatch_trace_export_failures_total", {}, (v) => v >= f0 + 4, { what: "four more failed export attempts", timeoutMs: 15_000 });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(650);
      const down = await accounting(s.admin);
      expect(down.buffered).toBeLessThanOrEqual(BUFFER_MAX);
      expect(down.exported).toBe(base.exported);
      expect(down.kept - base.kept).toBe(n + 1);
      expect(down.kept).toBe(down.exported + down.dropped + down.buffered);
      const accepted0 = c.spans().length;
      c.setFault(null);
      const after = await untilDrained(s.admin);
      expect(after.exported - base.exported + after.dropped - base.dropped).toBe(n + 1);
      expect(after.dropped - base.dropped).toBeGreaterThanOrEqual(n + 1 - BUFFER_MAX);
      expect(after.droppedBy.buffer_full! - (base.droppedBy.buffer_full ?? 0)).toBe(after.dropped - base.dropped);
      const delivered = c.spans().slice(accepted0);
      expect(delivered.length).toBe(after.exported - base.exported);
      expect(delivered.map((x) => x.spanId)).toContain(newest); // oldest dropped first
    });

    it("a collector that times out or answers 503 is retried until the batch is delivered; nothing is dropped", async () => {
      const s = ref.stack;
      const c = s.collector!;
      const base = await untilDrained(s.admin);
      c.setFault("slow", { slowMs: 2000 }); // beyond timeout_ms 300
      const answers = await s.client.many(8, 2, (i) => ({ path: `/api/slow/${i}` }));
      await untilMetric(s.admin, "edgewatch_trace_export_failures_total", {}, (v) => v > base.failures, { what: "a timed-out export" });
      c.setFault("error");
      const mid = await accounting(s.admin);
      await untilMetric(s.admin, "edgewatch_trace_export_failures_total", {}, (v) => v > mid.failures, { what: "a 503 answer counted as a failure" });
      expect(c.requests.some((r) => r.fault === "error" && r.status === 503)).toBe(true);
      c.setFault(null);
      const ids = new Set(answers.map((a) => forwardedTraceparent(a).spanId));
      await untilSpans(c, (all) => all.filter((x) => ids.has(x.spanId)).length >= ids.size, { what: "the retried batch" });
      const after = await untilDrained(s.admin);
      expect(after.dropped).toBe(base.dropped);
      expect(after.exported - base.exported).toBe(8);
    });

    it("a batch the collector rejects (400) is dropped and counted, never retried", async () => {
      const s = ref.stack;
      const c = s.collector!;
      const base = await untilDrained(s.admin);
      c.setFault("reject");
      const answers = await s.client.many(5, 1, (i) => ({ path: `/api/reject/${i}` }));
      const ids = new Set(answers.map((a) => forwardedTraceparent(a).spanId));
      await untilMetric(s.admin, "edgewatch_trace_spans_dropped_total", {}, (v) => v >= base.dropped + 5, { what: "the rejected batch dropped" });
      c.setFault(null);
      // A later span goes through; the rejected ones were posted once and never again.
      const later = forwardedTraceparent(await s.client.get("/api/reject/later")).spanId;
      const spans = await untilSpans(c, (all) => all.some((x) => x.spanId === later), { what: "the next span" });
      expect(spans.filter((x) => ids.has(x.spanId))).toEqual([]);
      const posted = c.requests.filter((r) => r.status === 400).flatMap((r) => (JSON.parse(r.body).resourceSpans as any[]).flatMap((rs) => rs.scopeSpans.flatMap((ss: any) => ss.spans.map((x: any) => x.spanId as string))));
      expect(posted.filter((id) => ids.has(id)).sort()).toEqual([...ids].sort());
      const after = await untilDrained(s.admin);
      expect(after.dropped - base.dropped).toBe(5);
      expect(after.droppedBy.rejected! - (base.droppedBy.rejected ?? 0)).toBe(5);
    });

    it("tracing.enabled false (pushed): the caller's traceparent passes untouched and nothing is kept or exported", async () => {
      const s = ref.stack;
      await s.push({ ...PLUGIN, tracing: { enabled: false } });
      await s.probes.untilEach({ path: "/api/off", headers: { traceparent: VALID_TRACEPARENT } }, (a) => upstreamHeader(a, "traceparent") === VALID_TRACEPARENT, { what: "tracing disabled" });
      const before = await untilDrained(s.admin);
      const answers = await s.client.many(10, 2, (i) => ({ path: `/api/off/${i}`, headers: (i % 2 ? { traceparent: VALID_TRACEPARENT } : {}) as Record<string, string> }));
      for (const [i, a] of answers.entries()) expect(upstreamHeader(a, "traceparent")).toBe(i % 2 ? VALID_TRACEPARENT : undefined);
      // kept_total grows in the request's own on_log: no growth, nothing to export.
      expect((await accounting(s.admin)).kept).toBe(before.kept);
    });

    itLosesNothing(ref);
  });

  describeTargets("tracing on without a collector", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withPlugin({ ...PLUGIN, tracing: { trust_parent: "never" }, rules: { version: 1, sampling: { default_rate: 0.5, always_keep_5xx: true } } }));

    it("every kept span is counted as dropped (reason no_collector): kept = exported + dropped + buffered", async () => {
      const s = ref.stack;
      const before = await accounting(s.admin);
      const answers = await s.client.many(40, 4, (i) => ({ path: `/api/none/${i}`, headers: (i % 4 === 0 ? { "x-edgewatch-status": "503" } : {}) as Record<string, string> }));
      const headKept = answers.filter((a) => forwardedTraceparent(a).sampled).length;
      const errorsNotHeadKept = answers.filter((a, i) => i % 4 === 0 && !forwardedTraceparent(a).sampled).length;
      const after = await accounting(s.admin);
      // Kept in the request's own on_log: counted at once, on every target.
      expect(after.kept - before.kept).toBe(headKept + errorsNotHeadKept);
      expect(after.kept - before.kept).toBeGreaterThan(0);
      expect(after.droppedBy.no_collector! - (before.droppedBy.no_collector ?? 0)).toBe(after.kept - before.kept);
      expect([after.exported, after.buffered]).toEqual([0, 0]);
      expect(after.kept).toBe(after.exported + after.dropped + after.buffered);
    });

    itLosesNothing(ref);
  });
});

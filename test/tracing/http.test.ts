/**
 * Trace context through real HTTP: the product filter in the embedded proxy, the upstream echo
 * fixture (which reports the traceparent/tracestate it received) and the OTLP collector fixture
 * (cluster "otel"); every export body is decoded with the official OTLP protobuf schema.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { startEdgeProxy, eventually, sleep, STAT, type EdgeProxy } from "../telemetry/support/edge-proxy.js";
import { decodeExportJson } from "./support/otlp-schema.js";
import { INVALID_TRACEPARENTS, INVALID_TRACESTATES, VALID_TRACEPARENT } from "./support/corpus.js";
import { startOtlpCollector, type OtlpCollector } from "../../harness/fixtures/otlp-collector.js";

const TP_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const sampled = (tp: string | undefined) => tp !== undefined && (parseInt(tp.slice(-2), 16) & 1) === 1;
const traceId = () => randomBytes(16).toString("hex");
const spanId = () => randomBytes(7).toString("hex") + "01";

function plugin(sampling: Record<string, unknown>, tracing: Record<string, unknown> = {}, collector: Record<string, unknown> = {}) {
  return {
    client_address: { source: "xff", xff_trusted_hops: 1 },
    tracing: {
      trust_parent: "never",
      collector: { cluster: "otel", authority: "otel.test", batch_max: 100, flush_ms: 100, ...collector },
      ...tracing,
    },
    rules: { version: 1, access: [{ id: "blocked", action: "deny", cidrs: ["198.51.100.0/24"] }], sampling },
  };
}

/** Every body the collector accepted decodes with the official schema; returns the spans. */
function decodedSpans(c: OtlpCollector) {
  return c.requests.filter((r) => r.status === 200).flatMap((r) => decodeExportJson(r.body).spans);
}

describe("head sampling over HTTP", () => {
  let p: EdgeProxy;
  const RATE = 0.2;
  beforeAll(async () => {
    p = await startEdgeProxy({
      workers: 2, collector: true, plugin: plugin({ default_rate: RATE }),
      routes: [{ name: "sampled", match: { prefix: "/s" } }, { name: "default", match: { prefix: "/" } }],
    });
  });
  afterAll(async () => { await p?.close(); });

  it("20,000 requests at rate r: the kept fraction is within 4 sigma of r, and every kept span is exported", async () => {
    const n = 20_000;
    const answers = await p.many(n, 32, () => ({ path: "/s" }));
    let kept = 0;
    for (const a of answers) {
      const tp = a.upstreamHeaders.traceparent;
      expect(TP_RE.test(tp ?? "")).toBe(true);
      if (sampled(tp)) kept++;
    }
    const sigma = Math.sqrt(n * RATE * (1 - RATE));
    const dev = (kept - n * RATE) / sigma;
    console.log(`[sampling] n=${n} rate=${RATE} kept=${kept} fraction=${(kept / n).toFixed(4)} deviation=${dev.toFixed(2)} sigma`);
    expect(Math.abs(dev)).toBeLessThan(4);
    await eventually(() => Number(p.counter(STAT("trace_spans_exported_total"))) >= kept, 20_000, "all kept spans exported");
    await sleep(300);
    const spans = decodedSpans(p.collector!).filter((s) => s.attributes["http.route"] === "sampled");
    expect(spans.length).toBe(kept);
    expect(spans.every((s) => s.name === "GET sampled" && s.attributes["edgewatch.sampling.reason"] === "probability")).toBe(true);
    expect(spans.every((s) => s.traceState === "ot=th:cccd")).toBe(true);
    expect(Number(p.counter(STAT("trace_spans_dropped_total")))).toBe(0);
  }, 240_000);
});

describe("consistent decisions", () => {
  let a: EdgeProxy;
  let b: EdgeProxy;
  beforeAll(async () => {
    a = await startEdgeProxy({ workers: 2, collector: true, plugin: plugin({ default_rate: 0.3 }) });
    b = await startEdgeProxy({ workers: 1, collector: true, plugin: plugin({ default_rate: 0.3 }) });
  });
  afterAll(async () => { await a?.close(); await b?.close(); });

  it("one trace id gets the same decision on two workers and on two separate proxy instances", async () => {
    expect(a.probes.filter(Boolean)).toHaveLength(2);
    let kept = 0;
    for (let i = 0; i < 300; i++) {
      const tp = `00-${traceId()}-${spanId()}-0${i % 2}`;
      const w0 = await a.get("/c", { traceparent: tp }, a.probes[0]);
      const w1 = await a.get("/c", { traceparent: tp }, a.probes[1]);
      const other = await b.get("/c", { traceparent: tp });
      const d = [w0, w1, other].map((x) => sampled(x.upstreamHeaders.traceparent));
      expect(new Set(d).size, tp).toBe(1);
      for (const x of [w0, w1, other]) expect(TP_RE.exec(x.upstreamHeaders.traceparent)![1]).toBe(tp.slice(3, 35));
      if (d[0]) kept++;
    }
    expect(kept).toBeGreaterThan(50);
    expect(kept).toBeLessThan(130);
  }, 120_000);
});

describe("always keep errors and slow requests", () => {
  let p: EdgeProxy;
  beforeAll(async () => {
    p = await startEdgeProxy({ workers: 2, collector: true, plugin: plugin({ default_rate: 0, always_keep_5xx: true, slow_threshold_ms: 60 }) });
  });
  afterAll(async () => { await p?.close(); });

  it("exports every 5xx and every slow request at rate 0, and nothing else", async () => {
    const want = new Map<string, string>();
    const answers = await p.many(90, 8, (i) => ({
      path: `/k/${i}`,
      headers: (i % 3 === 0 ? { "x-edgewatch-status": String(500 + (i % 4)) } : i % 3 === 1 ? { "x-edgewatch-delay-ms": "90" } : {}) as Record<string, string>,
    }));
    answers.forEach((a, i) => {
      const m = TP_RE.exec(a.upstreamHeaders.traceparent)!;
      expect(m[3]).toBe("02"); // head decision at rate 0: not sampled
      if (i % 3 !== 2) want.set(m[2], i % 3 === 0 ? "error" : "slow");
    });
    await eventually(() => decodedSpans(p.collector!).filter((s) => s.attributes["http.route"] === "default").length >= 60, 10_000, "60 spans");
    await sleep(300);
    const spans = decodedSpans(p.collector!).filter((s) => s.attributes["http.route"] === "default");
    expect(spans).toHaveLength(60);
    for (const s of spans) {
      expect(want.get(s.spanId), s.spanId).toBe(s.attributes["edgewatch.sampling.reason"]);
      if (s.attributes["edgewatch.sampling.reason"] === "error") expect(s.statusCode).toBe(2);
      expect(s.kind).toBe(2);
      expect(s.serviceName).toBe("edgewatch");
      expect(s.attributes["client.address"]).toBe("127.0.0.1");
      expect(s.endTimeUnixNano > s.startTimeUnixNano).toBe(true);
    }
  });
});

describe("malformed trace headers", () => {
  let p: EdgeProxy;
  beforeAll(async () => {
    p = await startEdgeProxy({ workers: 1, collector: true, plugin: plugin({ default_rate: 1 }, { trust_parent: "always" }) });
  });
  afterAll(async () => { await p?.close(); });

  it("never trap, and restart the trace as the spec says", async () => {
    const sendable = INVALID_TRACEPARENTS.filter((v) => !/[\u0000-\u001f\u007f-\uffff]/.test(v) && v.trim() === v);
    for (const bad of sendable) {
      const a = await p.get("/m", { traceparent: bad, tracestate: "rojo=00f067aa0ba902b7" });
      expect(a.status, bad).toBe(200);
      const m = TP_RE.exec(a.upstreamHeaders.traceparent);
      expect(m, bad).not.toBeNull();
      expect(m![1]).not.toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      expect(a.upstreamHeaders.tracestate, bad).toBe("ot=th:0"); // vendor state of another trace dropped
    }
    for (const bad of INVALID_TRACESTATES.filter((v) => !/[\u0000-\u001f\u007f-\uffff]/.test(v))) {
      const a = await p.get("/m", { traceparent: VALID_TRACEPARENT, tracestate: bad });
      expect(TP_RE.exec(a.upstreamHeaders.traceparent)![1]).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      expect(a.upstreamHeaders.tracestate, bad).toBeUndefined();
    }
    expect(p.proxy.host.workers.every((w) => !w.failed)).toBe(true);
    expect(p.errors()).toEqual([]);
    await eventually(() => p.collector!.requests.some((r) => r.status === 200), 5000, "an export");
    expect(decodedSpans(p.collector!).length).toBeGreaterThan(0);
  });
});

describe("export when the collector is in trouble", () => {
  let collector: OtlpCollector;
  let p: EdgeProxy;
  const BUFFER = 50;
  beforeAll(async () => {
    collector = await startOtlpCollector();
    p = await startEdgeProxy({
      workers: 1, sharedCollector: collector,
      plugin: plugin({ default_rate: 1 }, {}, { batch_max: 10, buffer_max: BUFFER, flush_ms: 100, timeout_ms: 300, backoff_base_ms: 100, backoff_max_ms: 400 }),
    });
    await eventually(() => collector.requests.length > 0 || true, 100);
  });
  afterAll(async () => { await p?.close(); await collector?.close(); });

  const exported = () => Number(p.counter(STAT("trace_spans_exported_total")));
  const dropped = () => Number(p.counter(STAT("trace_spans_dropped_total")));
  const failures = () => Number(p.counter(STAT("trace_export_failures_total")));
  const buffered = () => Number(p.gauge(STAT("trace_spans_buffered")));

  it("retries with backoff while down, keeps at most buffer_max spans (oldest dropped, counted), recovers", async () => {
    await eventually(() => buffered() === 0 && exported() >= 1, 5000, "probe span exported");
    const base = { exported: exported(), dropped: dropped(), failures: failures() };
    collector.setFault("down");
    const n = 200;
    await p.many(n, 4, (i) => ({ path: `/d/${i}` }));
    await sleep(1500);
    expect(failures() - base.failures).toBeGreaterThanOrEqual(3); // retried …
    expect(failures() - base.failures).toBeLessThan(40); // … with backoff, not every tick
    expect(buffered()).toBeLessThanOrEqual(BUFFER);
    expect(exported()).toBe(base.exported);
    expect(dropped() - base.dropped).toBe(n - buffered());
    const accepted0 = collector.spans().length;
    collector.setFault(null);
    await eventually(() => buffered() === 0, 10_000, "buffer drained");
    expect(exported() - base.exported + dropped() - base.dropped).toBe(n);
    const got = collector.spans().slice(accepted0);
    expect(got.length).toBe(exported() - base.exported);
    // oldest dropped first: the last request's span is among those delivered
    const last = await p.get("/d/last");
    await eventually(() => collector.spans().some((s) => s.spanId === TP_RE.exec(last.upstreamHeaders.traceparent)![2]), 5000, "new span");
    for (const r of collector.requests.filter((x) => x.status === 200)) decodeExportJson(r.body);
  }, 60_000);

  it("treats a slow collector (timeout) and 503 answers as failures and retries the batch", async () => {
    const base = { exported: exported(), dropped: dropped(), failures: failures() };
    collector.setFault("slow", { slowMs: 2000 });
    await p.many(10, 2, (i) => ({ path: `/s/${i}` }));
    await eventually(() => failures() > base.failures, 5000, "a timed-out export");
    collector.setFault("error");
    await sleep(800);
    expect(failures() - base.failures).toBeGreaterThanOrEqual(2);
    collector.setFault(null);
    await eventually(() => buffered() === 0 && exported() - base.exported + dropped() - base.dropped >= 10, 10_000, "recovered");
    expect(dropped()).toBe(base.dropped);
  }, 30_000);
});

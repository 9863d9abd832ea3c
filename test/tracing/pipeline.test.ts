/**
 * Trace context in the product filter (build/edgewatch.wasm), driven call by call through a minimal
 * host (harness/driver/filter-driver.ts): propagation, consistent sampling across VM instances,
 * head-rate statistics, tail keeps (5xx/slow), malformed headers, and the OTLP exporter's retry,
 * backoff, bounded buffer and accounting. Payloads are decoded with the official OTLP schema.
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { FilterDriver } from "../../harness/driver/filter-driver.js";
import { REPO_ROOT } from "./support/as-module.js";
import { INVALID_TRACEPARENTS, INVALID_TRACESTATES, VALID_TRACEPARENT } from "./support/corpus.js";
import { decodeExportJson, type DecodedSpan } from "./support/otlp-schema.js";

const WASM = resolve(REPO_ROOT, "build/edgewatch.wasm");
const TP_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function driver(opts: { rate?: number; routes?: Record<string, number>; trust?: string; trusted?: string[];
  collector?: Record<string, unknown>; keep5xx?: boolean; slowMs?: number; enabled?: boolean } = {}): FilterDriver {
  const config = {
    tracing: {
      enabled: opts.enabled ?? true,
      trust_parent: opts.trust ?? "always",
      ...(opts.trusted ? { trusted_cidrs: opts.trusted } : {}),
      collector: { cluster: "otel", batch_max: 64, buffer_max: 1000, flush_ms: 100, ...(opts.collector ?? {}) },
    },
    rules: {
      version: 1,
      access: [{ id: "blocked", action: "deny", cidrs: ["198.51.100.0/24"] }],
      sampling: {
        default_rate: opts.rate ?? 1, routes: opts.routes ?? {},
        always_keep_5xx: opts.keep5xx ?? true, slow_threshold_ms: opts.slowMs ?? 0,
      },
    },
  };
  const d = new FilterDriver({ wasmPath: WASM, configuration: JSON.stringify(config) });
  d.keepSamples = false;
  return d;
}

const req = (extra: Array<[string, string]> = []): Array<[string, string]> => [
  [":method", "GET"], [":path", "/p"], [":authority", "edge.test"], ...extra,
];
const header = (h: Array<[string, string]>, k: string) => h.find(([n]) => n === k)?.[1];
/** Sampled bit of the traceparent the filter forwarded. */
const sampledOut = (h: Array<[string, string]>) => (parseInt(header(h, "traceparent")!.slice(-2), 16) & 1) === 1;
const randomTraceId = () => randomBytes(16).toString("hex");
const randomSpanId = () => {
  let s = randomBytes(8).toString("hex");
  while (s === "0000000000000000") s = randomBytes(8).toString("hex");
  return s;
};

const answered = new WeakMap<FilterDriver, Set<number>>();

/** Acknowledge every export call not answered yet; returns the decoded spans. */
function answerAll(d: FilterDriver, status = 200): DecodedSpan[] {
  let done = answered.get(d);
  if (!done) answered.set(d, (done = new Set()));
  const spans: DecodedSpan[] = [];
  for (let i = 0; i < d.httpCalls.length; i++) {
    const call = d.httpCalls[i];
    if (done.has(call.token)) continue;
    done.add(call.token);
    if (status >= 200 && status < 300) spans.push(...decodeExportJson(call.body).spans);
    d.answerHttpCall(call.token, status); // may dispatch the next batch (appended, picked up by this loop)
  }
  return spans;
}

/** Flush timers and acknowledge every export until nothing is pending; returns the decoded spans. */
function drain(d: FilterDriver, status = 200): DecodedSpan[] {
  const spans: DecodedSpan[] = answerAll(d, status);
  for (let i = 0; i < 1000; i++) {
    d.advance(200);
    const before = d.httpCalls.length;
    d.tick();
    if (d.httpCalls.length === before) break;
    spans.push(...answerAll(d, status));
  }
  return spans;
}

describe("propagation", () => {
  it("starts a trace when none arrives: random ids, random flag, our span id as parent", () => {
    const d = driver({ rate: 1 });
    const out = d.request({ headers: req(), routeName: "api" });
    const m = TP_RE.exec(header(out, "traceparent")!);
    expect(m).not.toBeNull();
    expect(m![3]).toBe("03"); // sampled + random
    expect(header(out, "tracestate")).toBe("ot=th:0");
    const [span] = drain(d);
    expect(span.traceId).toBe(m![1]);
    expect(span.spanId).toBe(m![2]);
    expect(span.parentSpanId).toBe("");
    expect(span.traceState).toBe("ot=th:0");
  });

  it("continues an incoming trace with our span id and keeps tracestate valid", () => {
    const d = driver({ rate: 0.25, trust: "never" });
    const trace = "ffffffffffffffffffffffffffffffff"; // R = 0xffffffffffffff: kept at any rate > 0
    const out = d.request({
      headers: req([["traceparent", `00-${trace}-00f067aa0ba902b7-00`], ["tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]]),
      routeName: "api",
    });
    const m = TP_RE.exec(header(out, "traceparent")!)!;
    expect(m[1]).toBe(trace);
    expect(m[2]).not.toBe("00f067aa0ba902b7");
    expect(m[3]).toBe("01"); // sampled by us; the parent's random flag was not set
    expect(header(out, "tracestate")).toBe("ot=th:c,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    const [span] = drain(d);
    expect(span.parentSpanId).toBe("00f067aa0ba902b7");
    expect(span.spanId).toBe(m[2]);
    expect(span.attributes["edgewatch.sampling.reason"]).toBe("probability");
  });

  it("honours the parent's flag per trust_parent (always / never / trusted sources)", () => {
    const tp = (flag: string) => [["traceparent", `00-${"0".repeat(31)}1-00f067aa0ba902b7-${flag}`]] as Array<[string, string]>;
    // R of trace id ...0001 is 1: never kept by probability below 100 %
    const always = driver({ rate: 0.5, trust: "always" });
    expect(header(always.request({ headers: req(tp("01")), routeName: "api" }), "traceparent")!.slice(-2)).toBe("01");
    const never = driver({ rate: 0.5, trust: "never" });
    expect(header(never.request({ headers: req(tp("01")), routeName: "api" }), "traceparent")!.slice(-2)).toBe("00");
    const trusted = driver({ rate: 0.5, trust: "trusted", trusted: ["10.0.0.0/8", "2001:db8::/32"] });
    expect(header(trusted.request({ headers: req(tp("01")), routeName: "api", sourceAddress: "10.1.2.3:999" }), "traceparent")!.slice(-2)).toBe("01");
    expect(header(trusted.request({ headers: req(tp("01")), routeName: "api", sourceAddress: "[2001:db8::5]:1" }), "traceparent")!.slice(-2)).toBe("01");
    expect(header(trusted.request({ headers: req(tp("01")), routeName: "api", sourceAddress: "192.0.2.1:999" }), "traceparent")!.slice(-2)).toBe("00");
  });

  it("treats every malformed traceparent as absent (new trace, tracestate dropped) and never traps", () => {
    const d = driver({ rate: 1 });
    for (const bad of INVALID_TRACEPARENTS) {
      const out = d.request({ headers: req([["traceparent", bad], ["tracestate", "rojo=1"]]), routeName: "api" });
      const m = TP_RE.exec(header(out, "traceparent")!);
      expect(m, bad).not.toBeNull();
      expect(m![1]).not.toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      expect(header(out, "tracestate")).toBe("ot=th:0"); // only our own member
    }
    for (const bad of INVALID_TRACESTATES) {
      const out = d.request({ headers: req([["traceparent", VALID_TRACEPARENT], ["tracestate", bad]]), routeName: "api" });
      expect(TP_RE.exec(header(out, "traceparent")!)![1]).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      expect(header(out, "tracestate"), bad).toBeUndefined(); // parent-sampled: nothing of ours to add
    }
    // random garbage (bytes 0x20..0x7e) of any length
    for (let i = 0; i < 2000; i++) {
      const len = i % 120;
      const s = Array.from(randomBytes(len), (b) => String.fromCharCode(0x20 + (b % 95))).join("");
      const out = d.request({ headers: req([["traceparent", s], ["tracestate", s]]), routeName: "api" });
      expect(TP_RE.test(header(out, "traceparent")!)).toBe(true);
    }
    expect(d.logs.filter((l) => /abort/.test(l))).toEqual([]);
  });
});

describe("consistent probability sampling", () => {
  it("keeps a fraction within 4 sigma of the route rate over 20,000 requests", () => {
    const d = driver({ rate: 0, routes: { api: 0.2, checkout: 0.05 } });
    const n = 20_000;
    const kept: Record<string, number> = { api: 0, checkout: 0, other: 0 };
    for (let i = 0; i < n; i++) {
      const route = i % 4 === 0 ? "checkout" : i % 4 === 1 ? "static" : "api";
      const out = d.request({ headers: req(), routeName: route });
      if (sampledOut(out)) kept[route === "static" ? "other" : route]++;
    }
    const check = (count: number, total: number, p: number) => {
      const sigma = Math.sqrt(total * p * (1 - p));
      expect(Math.abs(count - total * p)).toBeLessThan(4 * sigma);
    };
    check(kept.api, n / 2, 0.2);
    check(kept.checkout, n / 4, 0.05);
    expect(kept.other).toBe(0);
    expect(d.metric("edgewatch.reason=.=probability;.;trace_spans_kept_total")).toBe(BigInt(kept.api + kept.checkout));
  });

  it("gives one trace id the same decision in two separate VM instances", () => {
    const a = driver({ rate: 0.3, trust: "never" });
    const b = driver({ rate: 0.3, trust: "never" });
    let agree = 0, sampled = 0;
    for (let i = 0; i < 3000; i++) {
      const tp = `00-${randomTraceId()}-${randomSpanId()}-0${i % 2}`;
      const fa = header(a.request({ headers: req([["traceparent", tp]]), routeName: "api" }), "traceparent")!.slice(-2);
      const fb = header(b.request({ headers: req([["traceparent", tp]]), routeName: "api" }), "traceparent")!.slice(-2);
      if (fa === fb) agree++;
      if (fa === "01") sampled++;
    }
    expect(agree).toBe(3000);
    expect(sampled).toBeGreaterThan(700);
    expect(sampled).toBeLessThan(1100);
  });

  it("uses ot=rv when present, and a lower rate keeps a subset of a higher rate", () => {
    const d10 = driver({ rate: 0.1, trust: "never" });
    const d50 = driver({ rate: 0.5, trust: "never" });
    let kept10 = 0;
    for (let i = 0; i < 2000; i++) {
      const tp = `00-${randomTraceId()}-${randomSpanId()}-01`;
      const s10 = sampledOut(d10.request({ headers: req([["traceparent", tp]]), routeName: "x" }));
      const s50 = sampledOut(d50.request({ headers: req([["traceparent", tp]]), routeName: "x" }));
      if (s10) { kept10++; expect(s50).toBe(true); }
    }
    expect(kept10).toBeGreaterThan(100);
    // rv overrides the trace id's bits: rv ≥ T keeps even a trace id whose bits would not
    const low = `00-${"0".repeat(31)}1-00f067aa0ba902b7-00`;
    const out = d50.request({ headers: req([["traceparent", low], ["tracestate", "ot=rv:ffffffffffffff"]]), routeName: "x" });
    expect(header(out, "traceparent")!.slice(-2)).toBe("01");
    expect(header(out, "tracestate")).toBe("ot=th:8;rv:ffffffffffffff");
    const out2 = d50.request({ headers: req([["traceparent", low], ["tracestate", "ot=th:0;rv:00000000000001"]]), routeName: "x" });
    expect(header(out2, "traceparent")!.slice(-2)).toBe("00");
    expect(header(out2, "tracestate")).toBe("ot=rv:00000000000001"); // th removed: not sampled
  });
});

describe("always keep errors and slow requests", () => {
  it("exports every 5xx and every slow request at rate 0, and nothing else", () => {
    const d = driver({ rate: 0, slowMs: 50 });
    d.fixedClockNs = 1_800_000_000_000_000_000n;
    const want = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const kind = i % 3;
      const out = d.request({
        headers: req(), routeName: "api",
        status: kind === 0 ? 500 + (i % 5) : 200,
        latencyMs: kind === 1 ? 50 + (i % 7) : 3,
      });
      expect(header(out, "traceparent")!.slice(-2)).toBe("02"); // head decision: not sampled
      if (kind !== 2) want.add(TP_RE.exec(header(out, "traceparent")!)![2]);
    }
    const spans = drain(d);
    expect(new Set(spans.map((s) => s.spanId))).toEqual(want);
    const reasons = spans.map((s) => s.attributes["edgewatch.sampling.reason"]);
    expect(reasons.filter((r) => r === "error")).toHaveLength(100);
    expect(reasons.filter((r) => r === "slow")).toHaveLength(100);
    for (const s of spans) {
      if (s.attributes["edgewatch.sampling.reason"] === "error") expect(s.statusCode).toBe(2);
      expect(s.flags & 0xff).toBe(0x02); // the flag propagated upstream stays as decided at the head
    }
  });

  it("exports denied requests with the rule decision", () => {
    const d = driver({ rate: 1 });
    d.request({ headers: req(), routeName: "api", sourceAddress: "198.51.100.4:1234" });
    const [span] = drain(d);
    expect(span.attributes).toMatchObject({
      "edgewatch.rule.decision": "deny", "edgewatch.rule.id": "blocked", "edgewatch.response.source": "local",
      "client.address": "198.51.100.4", "http.response.status_code": 403, "http.route": "api",
    });
  });
});

describe("OTLP export", () => {
  it("batches by size and by timer, with the OTLP/HTTP request shape", () => {
    const d = driver({ rate: 1, collector: { batch_max: 10, flush_ms: 1000 } });
    for (let i = 0; i < 25; i++) d.request({ headers: req(), routeName: "api" });
    // two full batches went out from the request path (one in flight at a time)
    expect(d.httpCalls).toHaveLength(1);
    d.answerHttpCall(d.httpCalls[0].token, 200);
    expect(d.httpCalls).toHaveLength(2);
    d.answerHttpCall(d.httpCalls[1].token, 200);
    const call = d.httpCalls[0];
    expect(call.cluster).toBe("otel");
    expect(Object.fromEntries(call.headers)).toMatchObject({
      ":method": "POST", ":path": "/v1/traces", ":authority": "collector", "content-type": "application/json",
    });
    expect(decodeExportJson(call.body).spans).toHaveLength(10);
    d.tick(); // 5 left: wait for flush_ms
    expect(d.httpCalls).toHaveLength(2);
    d.advance(1000);
    d.tick();
    expect(d.httpCalls).toHaveLength(3);
    expect(decodeExportJson(d.httpCalls[2].body).spans).toHaveLength(5);
    d.answerHttpCall(d.httpCalls[2].token, 200);
    expect(d.metric("edgewatch.trace_spans_exported_total")).toBe(25n);
  });

  it("retries with backoff while the collector is down, bounds the buffer, counts drops, recovers", () => {
    const d = driver({ rate: 1, collector: { batch_max: 20, buffer_max: 100, flush_ms: 100, backoff_base_ms: 200, backoff_max_ms: 2000 } });
    d.fixedClockNs = 1_800_000_000_000_000_000n;
    let sent = 0;
    const attempts: number[] = [];
    // 40 s of outage with traffic: 10 requests every 100 ms
    for (let step = 0; step < 400; step++) {
      for (let i = 0; i < 10; i++) { d.request({ headers: req(), routeName: "api" }); sent++; }
      d.tick();
      const before = attempts.length;
      for (const c of d.httpCalls) if (!attempts.includes(c.token)) attempts.push(c.token);
      for (const t of attempts.slice(before)) {
        answered.get(d)?.add(t) ?? answered.set(d, new Set([t]));
        d.answerHttpCall(t, step % 2 === 0 ? 0 : 503); // resets and 503s
      }
      d.advance(100);
    }
    // backoff: far fewer attempts than ticks, growing gaps capped at backoff_max_ms
    expect(attempts.length).toBeGreaterThan(15);
    expect(attempts.length).toBeLessThan(60);
    const buffered = Number(d.metric("edgewatch.trace_spans_buffered"));
    expect(buffered).toBeLessThanOrEqual(100);
    const dropped = Number(d.metric("edgewatch.trace_spans_dropped_total"));
    expect(dropped).toBe(sent - buffered);
    expect(Number(d.metric("edgewatch.trace_export_failures_total"))).toBe(attempts.length);
    // recovery: the collector answers again
    d.advance(3000);
    const spans = drain(d);
    expect(spans.length).toBe(buffered);
    const exported = Number(d.metric("edgewatch.trace_spans_exported_total"));
    expect(exported + dropped).toBe(sent);
    expect(Number(d.metric("edgewatch.trace_spans_buffered"))).toBe(0);
    // the newest spans survived (oldest dropped first)
    const newest = TP_RE.exec(header(d.lastRequestHeaders, "traceparent")!)![2];
    expect(spans.map((s) => s.spanId)).toContain(newest);
  });

  it("drops a batch the collector rejects (400) instead of retrying it forever", () => {
    const d = driver({ rate: 1, collector: { batch_max: 5 } });
    for (let i = 0; i < 5; i++) d.request({ headers: req(), routeName: "api" });
    d.answerHttpCall(d.httpCalls[0].token, 400);
    expect(d.metric("edgewatch.trace_spans_dropped_total")).toBe(5n);
    d.advance(1000);
    d.tick();
    expect(d.httpCalls).toHaveLength(1);
  });

  it("disables tracing entirely when tracing.enabled is false", () => {
    const d = driver({ enabled: false });
    const out = d.request({ headers: req([["traceparent", VALID_TRACEPARENT]]), routeName: "api" });
    expect(header(out, "traceparent")).toBe(VALID_TRACEPARENT);
    d.advance(2000);
    d.tick();
    expect(d.httpCalls).toHaveLength(0);
  });
});

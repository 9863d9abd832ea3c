/**
 * W3C trace context on every target: an incoming trace continues with edgewatch's span id (the
 * caller's span becomes the parent), a request without one starts a trace, an invalid traceparent
 * (every case of the corpus after the W3C test suite) starts a new trace and drops the vendor
 * state, an invalid tracestate is dropped; trust_parent decides whether a caller's sampled flag is
 * honoured; and the sampling decision is the same for one trace id on every worker and on a second
 * proxy (pinned probes, two stacks sharing one collector), at the per-route rates, with 5xx and slow
 * requests always exported. Spans are read from the collector fixture, decoded with the official
 * OTLP schema. Client addresses come from X-Forwarded-For with one trusted hop.
 */
import { describe, expect, it } from "vitest";
import { proxyOptions, type ProxyOptions } from "../../harness/stack/proxy-options.js";
import { describeTargets } from "../../harness/targets/describe-targets.js";
import { itLosesNothing, useStack } from "./support/hooks.js";
import { INVALID_TRACEPARENTS, INVALID_TRACESTATES, VALID_TRACEPARENT } from "./support/trace-corpus.js";
import { forwardedTraceparent, randomSpanId, randomTraceId, untilSpans, upstreamHeader, type DecodedSpan } from "./support/traces.js";

const XFF_ONE_HOP = { client_address: { source: "xff", xff_trusted_hops: 1 } };
const COLLECTOR = { cluster: "otel", authority: "otel.test", batch_max: 100, flush_ms: 100 };
const CORPUS_TRACE_ID = VALID_TRACEPARENT.slice(3, 35);
const CORPUS_PARENT_ID = VALID_TRACEPARENT.slice(36, 52);
/** Header values an HTTP client can send as they are (no control or non-ASCII bytes, no outer whitespace). */
const sendable = (v: string) => !/[\u0000-\u001f\u007f-\uffff]/.test(v) && v.trim() === v;

function plugin(sampling: object, tracing: object = {}) {
  return {
    ...XFF_ONE_HOP,
    tracing: { trust_parent: "never", collector: COLLECTOR, ...tracing },
    rules: { version: 1, access: [{ id: "blocked", action: "deny", cidrs: ["198.51.100.0/24"] }], sampling },
  };
}

describe("trace context", () => {
  describeTargets("propagation", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withCollector().withPlugin(plugin({ default_rate: 1 })));

    it("a request without traceparent starts a trace: a new trace id and span id upstream, sampled, and a root span exported", async () => {
      const s = ref.stack;
      const answers = await s.probes.onEach({ path: "/api/new" });
      const forwarded = answers.map(forwardedTraceparent);
      for (const [i, a] of answers.entries()) {
        expect(forwarded[i]!.flags, `worker ${i}`).toBe(0x03); // sampled + random trace id
        expect(upstreamHeader(a, "tracestate"), `worker ${i}`).toBe("ot=th:0"); // threshold 0: kept at rate 1
      }
      expect(new Set(forwarded.map((t) => t.traceId)).size).toBe(answers.length);
      const spans = await untilSpans(s.collector!, (all) => forwarded.every((t) => all.some((x) => x.spanId === t.spanId)), { what: "the spans of both requests" });
      for (const t of forwarded) {
        const span = spans.find((x) => x.spanId === t.spanId)!;
        expect(span).toMatchObject({ traceId: t.traceId, parentSpanId: "", traceState: "ot=th:0" });
      }
    });

    it("an incoming trace continues: same trace id, our own span id, the caller's span as parent, its vendor state kept after ours", async () => {
      const s = ref.stack;
      const traceId = randomTraceId();
      const parents = s.probes.probes.map(() => randomSpanId());
      const answers = await s.probes.onEach((w) => ({ path: "/api/continue", headers: { traceparent: `00-${traceId}-${parents[w]}-01`, tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE" } }));
      const forwarded = answers.map(forwardedTraceparent);
      for (const [w, t] of forwarded.entries()) {
        expect(t.traceId, `worker ${w}`).toBe(traceId);
        expect(t.spanId, `worker ${w}`).not.toBe(parents[w]);
        expect(t.sampled).toBe(true);
        expect(upstreamHeader(answers[w]!, "tracestate")).toBe("ot=th:0,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
      }
      const spans = await untilSpans(s.collector!, (all) => forwarded.every((t) => all.some((x) => x.spanId === t.spanId)), { what: "the continued spans" });
      for (const [w, t] of forwarded.entries()) {
        expect(spans.find((x) => x.spanId === t.spanId)).toMatchObject({ traceId, parentSpanId: parents[w] });
      }
    });

    it("every invalid traceparent of the W3C corpus starts a new trace and drops the caller's tracestate, on every worker", async () => {
      const s = ref.stack;
      const cases = INVALID_TRACEPARENTS.filter(sendable);
      expect(cases.length).toBeGreaterThan(30);
      for (const [i, bad] of cases.entries()) {
        const a = await s.probes.get(i % s.workers).get("/api/bad", { traceparent: bad, tracestate: "rojo=00f067aa0ba902b7" });
        expect(a.status, bad).toBe(200);
        const t = forwardedTraceparent(a);
        expect(t.traceId, bad).not.toBe(CORPUS_TRACE_ID);
        expect(upstreamHeader(a, "tracestate"), bad).toBe("ot=th:0"); // the vendor state of another trace is gone
      }
    });

    it("an invalid tracestate is dropped and the trace continues", async () => {
      const s = ref.stack;
      for (const [i, bad] of INVALID_TRACESTATES.filter(sendable).entries()) {
        const a = await s.probes.get(i % s.workers).get("/api/bad-state", { traceparent: VALID_TRACEPARENT, tracestate: bad });
        const t = forwardedTraceparent(a);
        expect(t.traceId, bad).toBe(CORPUS_TRACE_ID);
        expect(t.spanId, bad).not.toBe(CORPUS_PARENT_ID);
        expect(upstreamHeader(a, "tracestate"), bad).toBe("ot=th:0");
      }
    });

    it("two traceparent header lines are one invalid traceparent (RFC 9110 combination): a new trace, the caller's tracestate dropped", async () => {
      const s = ref.stack;
      const first = `00-${CORPUS_TRACE_ID}-${CORPUS_PARENT_ID.slice(0, 14)}11-01`;
      const second = `00-${CORPUS_TRACE_ID}-${CORPUS_PARENT_ID.slice(0, 14)}12-01`;
      for (const lines of [[first, second], [first, first]]) {
        const answers = await s.probes.onEach({ path: "/api/two-lines", headers: { traceparent: lines, tracestate: "rojo=00f067aa0ba902b7" } });
        for (const [w, a] of answers.entries()) {
          expect(a.upstream?.headers.traceparent, `worker ${w}: one line upstream`).toEqual(expect.any(String));
          const t = forwardedTraceparent(a);
          expect(t.traceId, `worker ${w}: ${lines.join(" | ")}`).not.toBe(CORPUS_TRACE_ID);
          expect(upstreamHeader(a, "tracestate"), `worker ${w}`).toBe("ot=th:0");
        }
      }
    });

    it("a denied request is exported too, with the rule's decision and the client address", async () => {
      const s = ref.stack;
      const a = await s.client.get("/api/denied", { "x-forwarded-for": "198.51.100.4" });
      expect(a.status).toBe(403);
      // The only request of this stack from that address.
      const denied = (all: DecodedSpan[]) => all.find((x) => x.attributes["client.address"] === "198.51.100.4");
      const spans = await untilSpans(s.collector!, (all) => denied(all) !== undefined, { what: "the denied request's span" });
      expect(denied(spans)!.attributes).toMatchObject({
        "edgewatch.rule.decision": "deny",
        "edgewatch.rule.id": "blocked",
        "edgewatch.response.source": "local",
        "http.response.status_code": 403,
        "http.route": "api",
      });
    });

    itLosesNothing(ref);
  });

  describeTargets("trust_parent", (target) => {
    // At rate 0.5 a trace id whose 56 random bits are 1 is never kept by probability, one whose bits
    // are all ones always is; the caller's flag then shows whether it was honoured.
    const LOW = `00-${"0".repeat(31)}1-00f067aa0ba902b7`;
    const HIGH = `00-${"f".repeat(32)}-00f067aa0ba902b7`;
    const ref = useStack(target, proxyOptions().withWorkers(2).withPlugin(plugin({ default_rate: 0.5 }, { collector: undefined })));
    const sampledOnEach = async (traceparent: string, xff = "192.0.2.1") =>
      (await ref.stack.probes.onEach({ path: "/api/trust", headers: { traceparent, "x-forwarded-for": xff } })).map((a) => forwardedTraceparent(a).sampled);
    const pushed = async (tracing: object, until: { traceparent: string; xff?: string; sampled: boolean }) => {
      await ref.stack.push(plugin({ default_rate: 0.5 }, { collector: undefined, ...tracing }));
      await ref.stack.probes.untilEach({ path: "/api/trust", headers: { traceparent: until.traceparent, "x-forwarded-for": until.xff ?? "192.0.2.1" } }, (a) => forwardedTraceparent(a).sampled === until.sampled, { what: `trust_parent ${JSON.stringify(tracing)}` });
    };

    it("never: the caller's flag is ignored, the trace id decides", async () => {
      expect(await sampledOnEach(`${LOW}-01`)).toEqual([false, false]);
      expect(await sampledOnEach(`${HIGH}-00`)).toEqual([true, true]);
    });

    it("ot=rv in the caller's tracestate replaces the trace id's random bits; th is rewritten when kept, removed when not", async () => {
      const answers = await ref.stack.probes.onEach({ path: "/api/rv", headers: { traceparent: `${LOW}-00`, tracestate: "ot=rv:ffffffffffffff,rojo=1" } });
      for (const a of answers) {
        expect(forwardedTraceparent(a).sampled).toBe(true);
        expect(upstreamHeader(a, "tracestate")).toBe("ot=th:8;rv:ffffffffffffff,rojo=1");
      }
      const low = await ref.stack.probes.onEach({ path: "/api/rv", headers: { traceparent: `${HIGH}-01`, tracestate: "ot=th:0;rv:00000000000001" } });
      for (const a of low) {
        expect(forwardedTraceparent(a).sampled).toBe(false);
        expect(upstreamHeader(a, "tracestate")).toBe("ot=rv:00000000000001");
      }
    });

    it("always: the caller's flag decides, both ways", async () => {
      await pushed({ trust_parent: "always" }, { traceparent: `${LOW}-01`, sampled: true });
      expect(await sampledOnEach(`${LOW}-01`)).toEqual([true, true]);
      expect(await sampledOnEach(`${HIGH}-00`)).toEqual([false, false]);
    });

    it("trusted: the flag of clients in trusted_cidrs (IPv4 and IPv6) is honoured, anyone else's is not", async () => {
      await pushed({ trust_parent: "trusted", trusted_cidrs: ["10.0.0.0/8", "2001:db8::/32"] }, { traceparent: `${LOW}-01`, sampled: false });
      expect(await sampledOnEach(`${LOW}-01`, "10.1.2.3")).toEqual([true, true]);
      expect(await sampledOnEach(`${LOW}-01`, "2001:db8::5")).toEqual([true, true]);
      expect(await sampledOnEach(`${LOW}-01`, "192.0.2.1")).toEqual([false, false]);
      expect(await sampledOnEach(`${HIGH}-00`, "10.1.2.3")).toEqual([false, false]);
    });

    itLosesNothing(ref);
  });

  describeTargets("consistent sampling", (target) => {
    const SAMPLING = { default_rate: 0.3, routes: { api: 0.2, never: 0 }, always_keep_5xx: true, slow_threshold_ms: 150 };
    const ROUTES = [{ name: "api", match: { prefix: "/api" } }, { name: "never", match: { prefix: "/never" } }, { name: "default", match: { prefix: "/" } }];
    const base = (): ProxyOptions => proxyOptions().withWorkers(2).withRoutes(ROUTES).withPlugin(plugin(SAMPLING));
    const a = useStack(target, base().withCollector());
    // A second proxy, exporting to the first one's collector.
    const b = useStack(target, () => base().withCollector({ shared: a.stack.collector! }));

    const kept: string[] = [];
    const dropped: string[] = [];
    const parentOf = new Map<string, string>();

    it("one trace id gets the same decision on every worker and on a second proxy", async () => {
      const probes = [...a.stack.probes.probes, ...b.stack.probes.probes];
      for (let i = 0; i < 100; i++) {
        const traceId = randomTraceId();
        const parent = randomSpanId();
        parentOf.set(traceId, parent);
        const decisions: boolean[] = [];
        for (const p of probes) {
          const t = forwardedTraceparent(await p.get("/c", { traceparent: `00-${traceId}-${parent}-0${i % 2}` }));
          expect(t.traceId).toBe(traceId);
          decisions.push(t.sampled);
        }
        expect(new Set(decisions).size, traceId).toBe(1);
        (decisions[0] ? kept : dropped).push(traceId);
      }
      // Rate 0.3 (route default) of 100: 30 expected, sigma 4.6.
      expect(kept.length).toBeGreaterThan(12);
      expect(kept.length).toBeLessThan(50);
    });

    it("the shared collector gets one span per proxy and worker for each kept trace, none for the others", async () => {
      const hops = a.stack.workers + b.stack.workers;
      const spans = await untilSpans(a.stack.collector!, (all) => kept.every((t) => all.filter((x) => x.traceId === t).length >= hops), { what: "a span per hop of every kept trace" });
      for (const t of kept) {
        const mine = spans.filter((x) => x.traceId === t);
        expect(mine, t).toHaveLength(hops);
        expect(new Set(mine.map((x) => x.spanId)).size).toBe(hops);
        expect(mine.every((x) => x.parentSpanId === parentOf.get(t) && x.attributes["edgewatch.sampling.reason"] === "probability")).toBe(true);
      }
      const droppedSet = new Set(dropped);
      // Only a request slower than slow_threshold_ms (a loaded machine) could be kept otherwise.
      expect(spans.filter((x) => droppedSet.has(x.traceId) && x.attributes["edgewatch.sampling.reason"] !== "slow")).toEqual([]);
    });

    it("per-route rates: 2,000 requests at 0.2 keep a fraction within 4 sigma, a rate-0 route keeps none, every kept span is exported", async () => {
      const s = a.stack;
      const n = 2000;
      const answers = await s.client.many(n, 8, (i) => ({ path: `/api/rate/${i}` }));
      const sampled = answers.map(forwardedTraceparent).filter((t) => t.sampled);
      const sigma = Math.sqrt(n * 0.2 * 0.8);
      expect(Math.abs(sampled.length - n * 0.2), `${sampled.length} of ${n} kept`).toBeLessThan(4 * sigma);
      const never = await s.client.many(200, 8, (i) => ({ path: `/never/${i}` }));
      expect(never.map(forwardedTraceparent).filter((t) => t.sampled)).toEqual([]);
      const ids = new Set(sampled.map((t) => t.spanId));
      const spans = await untilSpans(s.collector!, (all) => all.filter((x) => ids.has(x.spanId)).length === ids.size, { what: "every kept span", timeoutMs: 20_000 });
      const exported = spans.filter((x) => x.attributes["http.route"] === "api" && x.attributes["edgewatch.sampling.reason"] === "probability" && x.name === "GET api");
      expect(exported.map((x) => x.spanId).sort()).toEqual([...ids].sort());
    });

    it("5xx and slow requests are always exported at rate 0, decided at response time (the flag sent upstream stays unsampled)", async () => {
      const s = a.stack;
      const headers = (i: number): Record<string, string> => (i % 3 === 0 ? { "x-edgewatch-status": String(500 + (i % 4)) } : i % 3 === 1 ? { "x-edgewatch-delay-ms": "200" } : {});
      const answers = await s.client.many(30, 6, (i) => ({ path: `/never/keep/${i}`, headers: headers(i) }));
      const want = new Map<string, string>();
      for (const [i, a0] of answers.entries()) {
        const t = forwardedTraceparent(a0);
        expect(t.flags, `request ${i}`).toBe(0x02); // not sampled at the head (random flag only)
        if (i % 3 !== 2) want.set(t.spanId, i % 3 === 0 ? "error" : "slow");
      }
      const spans = await untilSpans(s.collector!, (all) => [...want.keys()].every((id) => all.some((x) => x.spanId === id)), { what: "the error and slow spans" });
      const ids = new Set(answers.map((x) => forwardedTraceparent(x).spanId));
      const got = spans.filter((x) => ids.has(x.spanId));
      expect(Object.fromEntries(got.map((x) => [x.spanId, x.attributes["edgewatch.sampling.reason"]]))).toEqual(Object.fromEntries(want));
      for (const x of got.filter((x) => x.attributes["edgewatch.sampling.reason"] === "error")) expect(x.statusCode).toBe(2); // STATUS_CODE_ERROR
    });

    itLosesNothing(a);
    itLosesNothing(b);
  });
});

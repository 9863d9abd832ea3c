/**
 * A real Prometheus (Debian package `prometheus`) scrapes the embedded proxy's admin
 * /stats/prometheus while traffic with known latencies and statuses goes through the product
 * filter; the checks are PromQL queries over its HTTP API, as an SRE would write them.
 *
 * Latencies are injected at the low end of their buckets (1, 11, 110 ms → buckets (1,2.5],
 * (10,25], (100,250]) so scheduling noise on a shared 2-core machine has room before it crosses a
 * bound; the proxy, the upstream fixture and the test share one event loop. The client times each
 * request: that time bounds the filter's latency from above, so whenever the client-side p99 is
 * inside the injected bucket, Prometheus' p99 must be too (sound even on an overloaded machine,
 * where the tail may leave the bucket: then p99 must stay within the slowest request's bucket).
 * Exact bucket placement is tested with a deterministic clock in pipeline.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrometheus, type PrometheusServer } from "../../harness/stats/prometheus-server.js";
import { startEdgeProxy, sleep, type EdgeProxy } from "./support/edge-proxy.js";
import { EDGEWATCH_HISTOGRAM_BUCKETS_US } from "../../harness/envoy-config/defaults.js";

const ROUTES = [
  { name: "lat1", match: { prefix: "/lat1/" } },
  { name: "lat11", match: { prefix: "/lat11/" } },
  { name: "lat110", match: { prefix: "/lat110/" } },
  { name: "errors", match: { prefix: "/errors/" } },
  { name: "clean", match: { prefix: "/clean/" } },
  { name: "default", match: { prefix: "/" } },
];

describe("edge telemetry in a real Prometheus", () => {
  let p: EdgeProxy;
  let prom: PrometheusServer;
  const sent = { errors: { total: 0, fivexx: 0 }, clean: { total: 0, fivexx: 0 } };
  /** Client-measured request times per latency route (an upper bound of the filter's latency). */
  const client: Record<string, number[]> = { lat1: [], lat11: [], lat110: [] };

  beforeAll(async () => {
    p = await startEdgeProxy({
      workers: 2, routes: ROUTES,
      plugin: { telemetry: { heartbeat_ms: 500 }, tracing: { enabled: false } },
    });
    prom = await startPrometheus({ targets: [p.proxy.adminUrl], scrapeIntervalSeconds: 1 });
    await prom.waitForTargetsUp(30_000);
    await p.many(100, 4, () => ({ path: "/warm" }));
    // Traffic in phases (fewer concurrent timers on the shared event loop): each latency route
    // alone and sequential, then the status mix.
    const loop = async (ms: number, path: string, headers: (i: number) => Record<string, string>, each?: (status: number, took: number) => void) => {
      const until = Date.now() + ms;
      for (let i = 0; Date.now() < until; i++) {
        const t0 = performance.now();
        const a = await p.get(path, headers(i));
        each?.(a.status, performance.now() - t0);
      }
    };
    await loop(3000, "/lat110/x", () => ({ "x-edgewatch-delay-ms": "110" }), (_s, t) => client.lat110.push(t));
    await loop(2500, "/lat11/x", () => ({ "x-edgewatch-delay-ms": "11" }), (_s, t) => client.lat11.push(t));
    await loop(2000, "/lat1/x", () => ({ "x-edgewatch-delay-ms": "1" }), (_s, t) => client.lat1.push(t));
    await Promise.all([
      loop(2000, "/errors/x", (i) => ({ "x-edgewatch-status": i % 5 === 0 ? "503" : i % 5 === 1 ? "500" : "200" }), (s) => {
        sent.errors.total++;
        if (s >= 500) sent.errors.fivexx++;
      }),
      loop(2000, "/clean/x", (i) => ({ "x-edgewatch-status": i % 2 ? "404" : "200" }), (s) => {
        sent.clean.total++;
        if (s >= 500) sent.clean.fivexx++;
      }),
    ]);
    await sleep(2500); // two more scrapes after the traffic
  }, 120_000);

  afterAll(async () => {
    await prom?.close();
    await p?.close();
  });

  const byRoute = (r: Array<{ metric: Record<string, string>; value: [number, string] }>) =>
    Object.fromEntries(r.map((s) => [s.metric.route, Number(s.value[1])]));

  it("histogram_quantile over rate(edgewatch_route_latency_us_bucket) lands in the injected latency's bucket", async () => {
    // Quantiles come out in µs (the filter records whole microseconds); converted to ms here.
    const q = async (phi: number) => Object.fromEntries(Object.entries(byRoute(await
      prom.query(`histogram_quantile(${phi}, sum by (route, le) (rate(edgewatch_route_latency_us_bucket{route=~"lat.*"}[1m])))`)))
      .map(([r, v]) => [r, v / 1000]));
    const p99 = await q(0.99);
    const p50 = await q(0.5);
    const bounds = EDGEWATCH_HISTOGRAM_BUCKETS_US.map((us) => us / 1000);
    const bucketOf = (v: number) => bounds.find((b) => v < b) ?? Infinity;
    // [route, lower bound of the injected latency's bucket, its upper bound] in ms
    const cases: Array<[string, number, number]> = [["lat1", 1, 2.5], ["lat11", 10, 25], ["lat110", 100, 250]];
    for (const [route, lo, hi] of cases) {
      const times = [...client[route]].sort((a, b) => a - b);
      expect(times.length, route).toBeGreaterThan(10);
      const clientP99 = times[Math.ceil(times.length * 0.99) - 1];
      const clientMax = times[times.length - 1];
      // never below the injected delay's bucket
      expect(p99[route], route).toBeGreaterThan(lo);
      expect(p50[route], route).toBeGreaterThan(lo);
      if (clientP99 < hi) {
        // the traffic's p99 really was inside the bucket (the client's time bounds the filter's):
        // Prometheus must place p99 there too
        expect(p99[route], `${route}: client p99 ${clientP99.toFixed(1)} ms`).toBeLessThanOrEqual(hi);
      } else {
        // a loaded machine pushed the tail out: p99 stays within the bucket of the slowest request
        expect(p99[route], `${route}: client max ${clientMax.toFixed(1)} ms`).toBeLessThanOrEqual(bucketOf(clientMax));
      }
      console.log(`[prometheus] ${route}: p50=${p50[route].toFixed(2)} p99=${p99[route].toFixed(2)} ms (client p99 ${clientP99.toFixed(1)} ms)`);
    }
    expect(p50.lat11).toBeLessThan(p50.lat110);
    expect(p99.lat1).toBeLessThan(p99.lat110);
  });

  it("5xx ratios per route match what was sent", async () => {
    // "or … * 0": a route without any 5xx series has ratio 0, not "no data" (as in the shipped rules)
    const ratio = byRoute(await prom.query(
      `(sum by (route) (edgewatch_requests_total{code=~"5.."}) or sum by (route) (edgewatch_requests_total) * 0)` +
        ` / sum by (route) (edgewatch_requests_total)`,
    ));
    expect(sent.errors.total).toBeGreaterThan(20);
    expect(ratio.errors).toBeCloseTo(sent.errors.fivexx / sent.errors.total, 10);
    expect(ratio.clean).toBe(0);
    // the shipped recording rule's expression (increase-based) agrees within extrapolation error
    const inc = byRoute(await prom.query(
      `sum by (route) (increase(edgewatch_requests_total{code=~"5..",route="errors"}[1m])) / sum by (route) (increase(edgewatch_requests_total{route="errors"}[1m]))`,
    ));
    expect(inc.errors).toBeGreaterThan(0.3);
    expect(inc.errors).toBeLessThan(0.5);
  });

  it("sees the heartbeat and requests-seen series that the silence alerts rely on", async () => {
    const hb = await prom.query("time() - max(edgewatch_heartbeat_seconds)");
    expect(Number(hb[0].value[1])).toBeLessThan(10);
    const ticks = await prom.query("sum(increase(edgewatch_ticks_total[30s]))");
    expect(Number(ticks[0].value[1])).toBeGreaterThan(0);
    const seen = await prom.query("sum(edgewatch_requests_seen_total)");
    expect(Number(seen[0].value[1])).toBeGreaterThan(100);
  });
});

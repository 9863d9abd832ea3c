/**
 * A real Prometheus (Debian package `prometheus`, harness/stats/prometheus-server.ts) scrapes the
 * proxy's admin /stats/prometheus every second while traffic with known latencies and statuses goes
 * through the filter; the checks are the PromQL an SRE writes: histogram_quantile over the rate of
 * the latency buckets, 5xx ratios per route, and the liveness series the silence alerts rely on.
 *
 * Every series exists before Prometheus' first scrape (one request per route and status first), so
 * rate()/increase() see all of the traffic. Latencies are injected at the low end of their buckets
 * (1, 11, 110 ms → (1, 2.5], (10, 25], (100, 250] ms) to leave room for scheduling noise; the client
 * times each request, which bounds the filter's latency from above, so whenever the client-side p99
 * is inside the injected bucket Prometheus' p99 must be too (and within the slowest request's bucket
 * otherwise). Waits poll Prometheus until it has scraped the final counts; no fixed sleep.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDGEWATCH_HISTOGRAM_BUCKETS_US } from "../../harness/envoy-config/defaults.js";
import { startPrometheus, type PrometheusServer, type PromSample } from "../../harness/stats/prometheus-server.js";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { describeTargets } from "../../harness/targets/describe-targets.js";
import { itLosesNothing, START_TIMEOUT_MS, useStack } from "./support/hooks.js";

const LATENCY_ROUTES = [["lat1", 1], ["lat11", 11], ["lat110", 110]] as const;
const ROUTES = [...LATENCY_ROUTES.map(([name]) => name), "errors", "clean"].map((name) => ({ name, match: { prefix: `/${name}/` } }));

const byRoute = (r: PromSample[]) => Object.fromEntries(r.map((s) => [s.metric.route, Number(s.value[1])]));
const scalar = (r: PromSample[]) => Number(r[0]?.value[1] ?? NaN);

describe("telemetry in Prometheus", () => {
  describeTargets("a real Prometheus scraping the proxy", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withRoutes([...ROUTES, { name: "default", match: { prefix: "/" } }]).withPlugin({ telemetry: { heartbeat_ms: 500 }, tracing: { enabled: false } }));
    let prom: PrometheusServer | undefined;
    const sent = { errors: { total: 0, fivexx: 0 }, clean: { total: 0, fivexx: 0 } };
    /** Client-measured request times per latency route, ms. */
    const took: Record<string, number[]> = { lat1: [], lat11: [], lat110: [] };

    beforeAll(async () => {
      const s = ref.stack;
      const send = async (route: "errors" | "clean", status: number) => {
        const a = await s.client.get(`/${route}/x`, { "x-edgewatch-status": String(status) });
        sent[route].total++;
        if (a.status >= 500) sent[route].fivexx++;
      };
      const timed = async (route: string, ms: number) => {
        const t0 = performance.now();
        expect((await s.client.get(`/${route}/x`, { "x-edgewatch-delay-ms": String(ms) })).status).toBe(200);
        took[route]!.push(performance.now() - t0);
      };
      // Every series before the first scrape.
      for (const [route, ms] of LATENCY_ROUTES) await timed(route, ms);
      for (const status of [200, 500, 503]) await send("errors", status);
      for (const status of [200, 404]) await send("clean", status);
      prom = await startPrometheus({ targets: [s.proxy.adminUrl], scrapeIntervalSeconds: 1 });
      await prom.waitForTargetsUp(30_000);
      await prom.waitForQuery('count(edgewatch_route_latency_us_count{route=~"lat.*"})', (r) => scalar(r) === 3, { timeoutMs: 20_000 });

      // The traffic, bounded in count: each latency route alone and sequential, then the status mix.
      const counts: Record<string, number> = { lat110: 15, lat11: 30, lat1: 40 };
      for (const [route, ms] of [...LATENCY_ROUTES].reverse()) for (let i = 0; i < counts[route]!; i++) await timed(route, ms);
      await Promise.all([
        (async () => {
          for (let i = 0; i < 100; i++) await send("errors", i % 5 === 0 ? 503 : i % 5 === 1 ? 500 : 200);
        })(),
        (async () => {
          for (let i = 0; i < 100; i++) await send("clean", i % 2 ? 404 : 200);
        })(),
      ]);
      // Until Prometheus holds a scrape taken after the traffic (counters and the merged histograms).
      const all = s.client.counter.sent;
      await prom.waitForQuery("sum(edgewatch_requests_seen_total)", (r) => scalar(r) === all, { timeoutMs: 20_000 });
      await prom.waitForQuery("sum(edgewatch_stream_duration_us_count)", (r) => scalar(r) === all, { timeoutMs: 20_000 });
    }, START_TIMEOUT_MS);

    afterAll(async () => {
      await prom?.close();
    });

    it("histogram_quantile over rate(edgewatch_route_latency_us_bucket) lands in the injected latency's bucket", async () => {
      const q = async (phi: number) =>
        Object.fromEntries(
          Object.entries(byRoute(await prom!.query(`histogram_quantile(${phi}, sum by (route, le) (rate(edgewatch_route_latency_us_bucket{route=~"lat.*"}[1m])))`))).map(([r, v]) => [r, v / 1000]),
        );
      const p99 = await q(0.99);
      const p50 = await q(0.5);
      const boundsMs = EDGEWATCH_HISTOGRAM_BUCKETS_US.map((us) => us / 1000);
      const bucketOf = (v: number) => boundsMs.find((b) => v < b) ?? Infinity;
      const cases: Array<[route: string, lo: number, hi: number]> = [["lat1", 1, 2.5], ["lat11", 10, 25], ["lat110", 100, 250]];
      for (const [route, lo, hi] of cases) {
        const times = [...took[route]!].sort((a, b) => a - b);
        expect(times.length, route).toBeGreaterThan(10);
        const clientP99 = times[Math.ceil(times.length * 0.99) - 1]!;
        const clientMax = times[times.length - 1]!;
        // Never below the injected delay's bucket.
        expect(p99[route], route).toBeGreaterThan(lo);
        expect(p50[route], route).toBeGreaterThan(lo);
        if (clientP99 < hi) expect(p99[route], `${route}: client p99 ${clientP99.toFixed(1)} ms`).toBeLessThanOrEqual(hi);
        else expect(p99[route], `${route}: client max ${clientMax.toFixed(1)} ms`).toBeLessThanOrEqual(bucketOf(clientMax));
      }
      expect(p50.lat11).toBeLessThan(p50.lat110!);
      expect(p99.lat1).toBeLessThan(p99.lat110!);
    });

    it("5xx ratios per route match what was sent, also with the shipped increase()-based expression", async () => {
      // "or … * 0": a route without any 5xx series has ratio 0, not "no data" (as in the shipped rules).
      const ratio = byRoute(
        await prom!.query(`(sum by (route) (edgewatch_requests_total{code=~"5.."}) or sum by (route) (edgewatch_requests_total) * 0) / sum by (route) (edgewatch_requests_total)`),
      );
      expect(sent.errors.fivexx).toBeGreaterThan(20);
      expect(ratio.errors).toBeCloseTo(sent.errors.fivexx / sent.errors.total, 10);
      expect(ratio.clean).toBe(0);
      // Every series existed before the first scrape, so increase() covers the traffic: 40 % 5xx.
      const inc = byRoute(
        await prom!.query(`sum by (route) (increase(edgewatch_requests_total{code=~"5..",route="errors"}[1m])) / sum by (route) (increase(edgewatch_requests_total{route="errors"}[1m]))`),
      );
      expect(inc.errors).toBeGreaterThan(0.3);
      expect(inc.errors).toBeLessThan(0.5);
    });

    it("the liveness series the silence alerts rely on: a fresh heartbeat, ticks increasing, requests_seen = requests sent", async () => {
      expect(scalar(await prom!.query("time() - max(edgewatch_heartbeat_seconds)"))).toBeLessThan(10);
      expect(scalar(await prom!.query("sum(increase(edgewatch_ticks_total[30s]))"))).toBeGreaterThan(0);
      // What the last scrape saw equals what the client had sent by then (waited for above).
      expect(scalar(await prom!.query("sum(edgewatch_requests_seen_total)"))).toBe(ref.stack.client.counter.sent);
    });

    itLosesNothing(ref);
  });
});

// A real Prometheus scrapes the admin server fed by a StatsStore; PromQL sees Envoy's histogram
// semantics (histogram_quantile lands in the bucket the binned samples fall into).
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAdminServer, type AdminServer } from "../../harness/admin/admin-server.js";
import { startPrometheus, type PrometheusServer } from "../../harness/stats/prometheus-server.js";
import { StatsStore } from "../../harness/stats/stats-store.js";
import { EDGEWATCH_HISTOGRAM_BUCKETS_US } from "../../harness/envoy-config/defaults.js";

const TAGS = ["route", "code", "source"].map((n) => ({ tagName: n, regex: `(${n}=\\.=(.*?);\\.;)` }));
const RULES = resolve(dirname(fileURLToPath(import.meta.url)), "../../envoy/prometheus/edgewatch-rules.yml");
const BUCKETS = [...EDGEWATCH_HISTOGRAM_BUCKETS_US];

describe("real Prometheus scraping the admin server", () => {
  let stats: StatsStore;
  let admin: AdminServer;
  let prom: PrometheusServer;
  let feeder: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    stats = new StatsStore({
      flushIntervalMs: 250,
      flushOnAdmin: false,
      histogramBucketSettings: [{ match: { prefix: "wasmcustom.edgewatch." }, buckets: BUCKETS }],
      statsTags: TAGS,
    });
    stats.startFlushTimer();
    const seen = stats.counter("wasmcustom.edgewatch.requests_seen_total");
    const ok = stats.counter("wasmcustom.edgewatch.route=.=api;.;code=.=200;.;source=.=upstream;.;requests_total");
    const lat = stats.histogram("wasmcustom.edgewatch.route=.=api;.;route_latency_us");
    // Known samples in µs, continuously: 90 % at 30 ms (bin [30000,31000) → le=50000), 10 % at 300 ms
    // (bin [300000,310000) → le=500000). The 99th percentile is in (250000, 500000] µs.
    const feed = () => {
      for (let i = 0; i < 90; i++) lat.record(30_000);
      for (let i = 0; i < 10; i++) lat.record(300_000);
      ok.add(100n);
      seen.add(100n);
    };
    feed();
    feeder = setInterval(feed, 200);
    admin = await startAdminServer({ address: "127.0.0.1", port: 0, stats, isReady: () => true });
    prom = await startPrometheus({ targets: [admin.url], ruleFiles: [RULES] });
  }, 60_000);

  afterAll(async () => {
    if (feeder) clearInterval(feeder);
    stats?.stop();
    await prom?.close();
    await admin?.close();
  });

  it("scrapes the Envoy-format exposition and answers histogram_quantile in the right bucket", async () => {
    await prom.waitForTargetsUp();
    const up = await prom.query('up{job="edgewatch"}');
    expect(up[0]?.value[1]).toBe("1");

    const total = await prom.waitForQuery(
      'edgewatch_requests_total{route="api",code="200",source="upstream"}',
      (r) => r.length === 1 && Number(r[0].value[1]) > 0,
    );
    expect(total[0].metric).toMatchObject({ job: "edgewatch", route: "api", code: "200", source: "upstream" });

    // Needs two scrapes with histogram data for rate().
    const q = await prom.waitForQuery(
      'histogram_quantile(0.99, sum by (route, le) (rate(edgewatch_route_latency_us_bucket[10s])))',
      (r) => r.length === 1 && Number.isFinite(Number(r[0].value[1])),
      { timeoutMs: 30_000 },
    );
    const p99 = Number(q[0].value[1]);
    expect(q[0].metric).toEqual({ route: "api" });
    expect(p99).toBeGreaterThan(250_000);
    expect(p99).toBeLessThanOrEqual(500_000);

    const p50 = Number(
      (await prom.query('histogram_quantile(0.5, sum by (le) (rate(edgewatch_route_latency_us_bucket[10s])))'))[0]
        .value[1],
    );
    expect(p50).toBeGreaterThan(25_000);
    expect(p50).toBeLessThanOrEqual(50_000);

    // The 30 ms samples never reach le="25000": bins are counted only when entirely below the bound.
    const le25 = await prom.query('edgewatch_route_latency_us_bucket{le="25000"}');
    expect(le25[0].value[1]).toBe("0");
  }, 60_000);

  it("loads envoy/prometheus/edgewatch-rules.yml and evaluates the recording rules on live data", async () => {
    const groups = await prom.api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>(
      "/api/v1/rules",
    );
    const rules = groups.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThanOrEqual(14);
    const ratio = await prom.waitForQuery('route:edgewatch_requests_5xx:ratio5m{route="api"}', (r) => r.length === 1, {
      timeoutMs: 30_000,
    });
    expect(Number(ratio[0].value[1])).toBe(0); // no 5xx series: the `or … * 0` branch
    const p99 = await prom.waitForQuery(
      'route:edgewatch_route_latency_seconds:p99_5m{route="api"}',
      (r) => r.length === 1 && Number.isFinite(Number(r[0].value[1])),
      { timeoutMs: 30_000 },
    );
    expect(Number(p99[0].value[1])).toBeGreaterThan(0.25);
    expect(Number(p99[0].value[1])).toBeLessThanOrEqual(0.5);
    const after = await prom.api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>(
      "/api/v1/rules",
    );
    const bad = after.groups.flatMap((g) => g.rules).filter((r) => r.health === "err");
    expect(bad).toEqual([]);
  }, 60_000);
});

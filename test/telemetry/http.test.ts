/**
 * Edge telemetry through real HTTP: the product filter in the embedded proxy (2 workers), traffic
 * with injected latencies and statuses through the upstream echo fixture, read back from the admin
 * /stats/prometheus output (tags extracted, histograms flushed on admin), checked by promtool.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkMetrics } from "../stats/support.js";
import { startEdgeProxy, parsePrometheus, sample, STAT, type EdgeProxy, type PromLine } from "./support/edge-proxy.js";
import { EDGEWATCH_HISTOGRAM_BUCKETS_US } from "../../harness/envoy-config/defaults.js";

const LATENCY_ROUTES = [
  { name: "lat2", match: { prefix: "/lat2/" } },
  { name: "lat20", match: { prefix: "/lat20/" } },
  { name: "lat200", match: { prefix: "/lat200/" } },
  { name: "mixed", match: { prefix: "/mixed/" } },
  { name: "warm", match: { prefix: "/warm" } },
  { name: "default", match: { prefix: "/" } },
];

const PLUGIN = {
  client_address: { source: "xff", xff_trusted_hops: 1 },
  telemetry: { exact_codes: [200, 404, 503], heartbeat_ms: 200 },
  tracing: { enabled: false },
  rules: { version: 41, access: [{ id: "blocked", action: "deny", cidrs: ["198.51.100.0/24"], status: 403 }] },
};

/** Cumulative bucket counts of a route's histogram, by `le`. */
function buckets(lines: PromLine[], metric: string, route: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) if (l.name === `${metric}_bucket` && l.labels.route === route) m.set(l.labels.le, l.value);
  return m;
}

describe("telemetry over HTTP", () => {
  let p: EdgeProxy;
  beforeAll(async () => {
    p = await startEdgeProxy({ workers: 2, plugin: PLUGIN, routes: LATENCY_ROUTES });
  });
  afterAll(async () => { await p?.close(); });

  it("histogram buckets hold the injected latencies (2 / 20 / 200 ms)", async () => {
    // The delay is a hard lower bound; above it, the filter's latency (request headers → response
    // headers) is at most what the client measured around the whole request, so every request the
    // client saw below a bound is in that bucket: sound on a loaded machine. Exact placement with a
    // deterministic clock is in pipeline.test.ts.
    await p.many(100, 4, () => ({ path: "/warm" })); // JIT, connection pools
    const n = 20;
    const client: Record<number, number[]> = {};
    for (const ms of [2, 20, 200]) {
      client[ms] = [];
      for (let i = 0; i < n; i += 2) {
        await Promise.all([0, 1].map(async () => {
          const t0 = performance.now();
          await p.get(`/lat${ms}/x`, { "x-edgewatch-delay-ms": String(ms) });
          client[ms].push(performance.now() - t0);
        }));
      }
    }
    const lines = parsePrometheus(await p.prometheus());
    // The shipped bounds, in µs (the filter records whole microseconds).
    const bounds = [...EDGEWATCH_HISTOGRAM_BUCKETS_US];
    // [injected ms, largest bound below it (µs), the bound of the bucket that holds it (µs)]
    const cases: Array<[number, number, number]> = [[2, 1000, 2500], [20, 10_000, 25_000], [200, 100_000, 250_000]];
    for (const [ms, below, holds] of cases) {
      const route = `lat${ms}`;
      const b = buckets(lines, "edgewatch_route_latency_us", route);
      expect(sample(lines, "edgewatch_route_latency_us_count", { route }), `count ${route}`).toBe(n);
      expect(b.get("+Inf")).toBe(n);
      for (const le of bounds.filter((x) => x <= below)) expect(b.get(String(le)), `le=${le} ${route}`).toBe(0);
      for (const le of bounds.filter((x) => x >= holds)) {
        const clientBelow = client[ms].filter((t) => t * 1000 < le).length;
        expect(b.get(String(le))!, `le=${le} ${route}`).toBeGreaterThanOrEqual(clientBelow);
      }
      const d = buckets(lines, "edgewatch_stream_duration_us", route);
      expect(d.get(String(below))).toBe(0); // stream duration ≥ latency
      expect(sample(lines, "edgewatch_stream_duration_us_count", { route })).toBe(n);
    }
  });

  it("counts the status distribution of mixed traffic, local replies apart from upstream answers", async () => {
    const plan: Array<[number, number]> = [[200, 30], [201, 5], [404, 8], [418, 2], [500, 3], [503, 7]];
    const jobs: Array<Record<string, string>> = [];
    for (const [status, k] of plan) for (let i = 0; i < k; i++) jobs.push({ "x-edgewatch-status": String(status) });
    for (let i = 0; i < 6; i++) jobs.push({ "x-forwarded-for": "198.51.100.77" });
    const answers = await p.many(jobs.length, 8, (i) => ({ path: `/mixed/${i}`, headers: jobs[i] }));
    expect(answers.filter((a) => a.status === 403 && a.headers["x-edgewatch-rule"] === "blocked")).toHaveLength(6);
    const lines = parsePrometheus(await p.prometheus());
    const series = lines.filter((l) => l.name === "edgewatch_requests_total" && l.labels.route === "mixed");
    const got = Object.fromEntries(series.map((l) => [`${l.labels.code}|${l.labels.source}`, l.value]));
    expect(got).toEqual({
      "200|upstream": 30, "2xx|upstream": 5, "404|upstream": 8, "4xx|upstream": 2, "5xx|upstream": 3,
      "503|upstream": 7, "4xx|local": 6,
    });
    // our own denials stay out of the route's upstream latency histogram
    expect(sample(lines, "edgewatch_route_latency_us_count", { route: "mixed" })).toBe(55);
    expect(sample(lines, "edgewatch_stream_duration_us_count", { route: "mixed" })).toBe(61);
  });

  it("exposes the liveness signals: heartbeat, ticks, requests seen, VM memory, rules version", async () => {
    const seen0 = p.counter(STAT("requests_seen_total"));
    await p.get("/anything");
    expect(p.counter(STAT("requests_seen_total"))).toBe(seen0 + 1n);
    const t0 = p.counter(STAT("ticks_total"));
    await new Promise((r) => setTimeout(r, 700));
    expect(p.counter(STAT("ticks_total"))).toBeGreaterThan(t0); // 2 workers + main, 200 ms heartbeat
    const lines = parsePrometheus(await p.prometheus());
    const hb = sample(lines, "edgewatch_heartbeat_seconds")!;
    expect(Math.abs(hb - Date.now() / 1000)).toBeLessThan(5);
    const vms = p.proxy.host.workers.length;
    expect(sample(lines, "edgewatch_vm_memory_bytes")!).toBeGreaterThanOrEqual(vms * 65536);
    expect(sample(lines, "edgewatch_rules_version")).toBe(41);
  });

  it("passes promtool check metrics (edgewatch series: no findings beyond Envoy's missing HELP)", async () => {
    const text = await p.prometheus();
    expect(text).toContain("edgewatch_requests_total{");
    const r = checkMetrics(text);
    expect(r.parseOk, `${r.raw.stdout}${r.raw.stderr}`).toBe(true);
    // Envoy's own stats (envoy_*) carry Envoy's names; the *_ms names are fixed by the filter's contract.
    const ours = r.problems.filter((l) => l.startsWith("edgewatch_") && !/abbreviated units$/.test(l));
    expect(ours).toEqual([]);
  });
});

describe("route cardinality over HTTP", () => {
  let p: EdgeProxy;
  const CAP = 20;
  beforeAll(async () => {
    const routes = Array.from({ length: 30 }, (_, i) => ({ name: `r${i}`, match: { prefix: `/r${i}/` } }));
    p = await startEdgeProxy({
      workers: 1,
      plugin: { telemetry: { routes_cap: CAP }, tracing: { enabled: false } },
      routes: [...routes, { name: "default", match: { prefix: "/" } }],
    });
  });
  afterAll(async () => { await p?.close(); });

  it("10,000 distinct paths stay under the route cap; overflow goes to `other` and is counted", async () => {
    const n = 10_000;
    await p.many(n, 32, (i) => ({ path: `/r${i % 30}/item/${i}?q=${i}` }));
    const lines = parsePrometheus(await p.prometheus());
    const routes = new Set(lines.filter((l) => l.labels.route !== undefined).map((l) => l.labels.route));
    expect(routes.size).toBeLessThanOrEqual(CAP + 2);
    expect(routes.has("other")).toBe(true);
    for (const r of routes) expect(r).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const text = await p.prometheus();
    expect(text).not.toMatch(/item/);
    // every request counted once (the probe connection's setup request went to route "default")
    const total = lines.filter((l) => l.name === "edgewatch_requests_total" && l.labels.route !== "default").reduce((s, l) => s + l.value, 0);
    expect(total).toBe(n);
    const other = sample(lines, "edgewatch_requests_total", { route: "other" })!;
    expect(sample(lines, "edgewatch_routes_overflow_total")).toBe(other);
    // the first CAP route names seen got their own label; the rest (10 of 30 routes) went to other
    expect(other).toBeGreaterThanOrEqual(n / 3 - 10);
  });
});

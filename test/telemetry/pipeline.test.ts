/**
 * Edge telemetry of the product filter (build/edgewatch.wasm) driven call by call through a minimal
 * host (harness/driver/filter-driver.ts): route labels and their cap, status distribution with local
 * replies counted apart, latency/duration samples, metric-id caching, cold start, heartbeat.
 * The same behaviour through the embedded proxy and a real Prometheus is in prometheus.test.ts.
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { FilterDriver } from "../../harness/driver/filter-driver.js";
import { REPO_ROOT } from "../tracing/support/as-module.js";
import { StatsStore } from "../../harness/stats/stats-store.js";
import { defaultStatsConfig, EDGEWATCH_HISTOGRAM_BUCKETS_US } from "../../harness/envoy-config/defaults.js";
import { parsePrometheus } from "./support/edge-proxy.js";

const WASM = resolve(REPO_ROOT, "build/edgewatch.wasm");

function driver(config: Record<string, unknown>): FilterDriver {
  return new FilterDriver({ wasmPath: WASM, configuration: JSON.stringify(config) });
}

const GET = (path = "/x", extra: Array<[string, string]> = []): Array<[string, string]> => [
  [":method", "GET"], [":path", path], [":authority", "edge.test"], [":scheme", "http"], ...extra,
];

const rules = (extra: Record<string, unknown> = {}) => ({
  version: 3,
  access: [{ id: "blocked-net", action: "deny", cidrs: ["198.51.100.0/24"], status: 403 }],
  sampling: { default_rate: 0 },
  ...extra,
});

/** requests_total series as "route|code|source[|method]" → count. */
function requestSeries(d: FilterDriver): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of d.snapshot()) {
    const m = /^edgewatch\.route=\.=([^;]*);\.;code=\.=([^;]*);\.;source=\.=([^;]*);\.;(?:method=\.=([^;]*);\.;)?requests_total$/.exec(name);
    if (m) out[[m[1], m[2], m[3], ...(m[4] ? [m[4]] : [])].join("|")] = Number(v);
  }
  return out;
}

describe("status distribution", () => {
  it("counts exact codes, classes for the rest, and our own local replies apart", () => {
    const d = driver({ telemetry: { exact_codes: [200, 404, 503] }, tracing: { enabled: false }, rules: rules() });
    const mix: Array<[number, number, string?]> = [
      [200, 50], [201, 7], [404, 9], [418, 3], [500, 4], [503, 6], [302, 2],
    ];
    for (const [status, n] of mix) for (let i = 0; i < n; i++) d.request({ headers: GET(), routeName: "api", status });
    for (let i = 0; i < 5; i++) d.request({ headers: GET(), routeName: "api", sourceAddress: "198.51.100.9:5555" });
    expect(requestSeries(d)).toEqual({
      "api|200|upstream": 50, "api|2xx|upstream": 7, "api|404|upstream": 9, "api|4xx|upstream": 3,
      "api|5xx|upstream": 4, "api|503|upstream": 6, "api|3xx|upstream": 2, "api|4xx|local": 5,
    });
    expect(d.localReplies).toBe(5);
    expect(d.metric("edgewatch.requests_seen_total")).toBe(86n);
  });

  it("adds a bounded method label when method_label is on", () => {
    const d = driver({ telemetry: { method_label: true }, tracing: { enabled: false }, rules: rules() });
    for (const m of ["GET", "POST", "PURGE", "get", "DELETE"]) {
      d.request({ headers: [[":method", m], [":path", "/"], [":authority", "a"]], routeName: "api" });
    }
    expect(requestSeries(d)).toEqual({
      "api|200|upstream|GET": 1, "api|200|upstream|POST": 1, "api|200|upstream|OTHER": 2, "api|200|upstream|DELETE": 1,
    });
  });
});

describe("route labels", () => {
  it("takes xds.route_name, then the longest configured path prefix, then unknown — never raw paths", () => {
    const d = driver({
      telemetry: { path_routes: [{ prefix: "/api", route: "api" }, { prefix: "/api/v2", route: "api-v2" }] },
      tracing: { enabled: false }, rules: rules(),
    });
    d.request({ headers: GET("/anything"), routeName: "named.route" });
    d.request({ headers: GET("/api/v2/users/42"), routeName: null });
    d.request({ headers: GET("/api/v1/users/42"), routeName: null });
    d.request({ headers: GET("/static/app.js"), routeName: null });
    expect(Object.keys(requestSeries(d)).sort()).toEqual([
      "api-v2|200|upstream", "api|200|upstream", "named_route|200|upstream", "unknown|200|upstream",
    ]);
  });

  it("keeps 10,000 distinct paths and route names under the cap, overflow counted into `other`", () => {
    const cap = 50;
    const d = driver({ telemetry: { routes_cap: cap }, tracing: { enabled: false }, rules: rules() });
    d.keepSamples = false;
    for (let i = 0; i < 10_000; i++) d.request({ headers: GET(`/u/${i}/profile?x=${i}`), routeName: null });
    for (let i = 0; i < 10_000; i++) d.request({ headers: GET(`/r/${i}`), routeName: `route-${i % 200}` });
    const series = requestSeries(d);
    const routes = new Set(Object.keys(series).map((k) => k.split("|")[0]));
    expect(routes.size).toBe(cap + 2); // cap distinct + "unknown" + "other"
    expect(routes.has("unknown")).toBe(true);
    expect(routes.has("other")).toBe(true);
    for (const r of routes) expect(r).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect([...d.snapshot().keys()].some((n) => n.includes("/u/") || n.includes("profile"))).toBe(false);
    // 150 of the 200 names overflow, 50 requests each
    expect(d.metric("edgewatch.routes_overflow_total")).toBe(150n * 50n);
    expect(series["other|200|upstream"]).toBe(150 * 50);
    // a request without a route right after an overflowing one is "unknown", not an overflow
    d.request({ headers: GET("/r/x"), routeName: "route-199" });
    d.request({ headers: GET("/nothing"), routeName: null });
    expect(d.metric("edgewatch.routes_overflow_total")).toBe(150n * 50n + 1n);
  });

  it("sanitizes label values to [A-Za-z0-9_-] and 64 characters", () => {
    const d = driver({ tracing: { enabled: false }, rules: rules() });
    d.request({ headers: GET(), routeName: "a;.;code=.=evil;.;b" });
    d.request({ headers: GET(), routeName: "x".repeat(300) });
    d.request({ headers: GET(), routeName: "ümlaut route" });
    const routes = Object.keys(requestSeries(d)).map((k) => k.split("|")[0]).sort();
    expect(routes).toEqual(["__mlaut_route", "a___code___evil___b", "x".repeat(64)].sort());
  });
});

describe("latency and duration histograms", () => {
  it("records whole microseconds per route; our own denials stay out of route latency", () => {
    const d = driver({ tracing: { enabled: false }, rules: rules() });
    d.fixedClockNs = 1_800_000_000_000_000_000n;
    for (const ms of [2, 20, 200]) d.request({ headers: GET(), routeName: "api", latencyMs: ms + 0.6 });
    d.request({ headers: GET(), routeName: "api", sourceAddress: "198.51.100.1:1" });
    expect(d.samples("edgewatch.route=.=api;.;route_latency_us")).toEqual([2600, 20600, 200600]);
    expect(d.samples("edgewatch.route=.=api;.;stream_duration_us")).toEqual([2600, 20600, 200600, 0]);
  });
});

describe("exact bucket counts (deterministic clock, the shipped buckets, the embedded stats store)", () => {
  it("puts each injected latency in the bucket that holds it, exactly", () => {
    const stats = new StatsStore(defaultStatsConfig());
    const d = new FilterDriver({
      wasmPath: WASM, stats,
      configuration: JSON.stringify({ tracing: { enabled: false }, rules: rules() }),
    });
    d.fixedClockNs = 1_800_000_000_000_000_000n;
    // 10 requests each at 2 / 20 / 200 ms, plus the upstream's jitter of up to 0.4 ms (still below 2.5 / 25 / 250 ms)
    for (const ms of [2, 20, 200]) for (let i = 0; i < 10; i++) d.request({ headers: GET(), routeName: `lat${ms}`, latencyMs: ms + i * 0.045 });
    stats.flush();
    const lines = parsePrometheus(stats.renderPrometheus());
    const b = (route: string) => Object.fromEntries(lines
      .filter((l) => l.name === "edgewatch_route_latency_us_bucket" && l.labels.route === route)
      .map((l) => [l.labels.le, l.value]));
    const bounds = [...EDGEWATCH_HISTOGRAM_BUCKETS_US.map(String), "+Inf"];
    const expectCumulative = (route: string, firstFull: string) => {
      const got = b(route);
      const at = bounds.indexOf(firstFull);
      for (let i = 0; i < bounds.length; i++) expect(got[bounds[i]], `${route} le=${bounds[i]}`).toBe(i < at ? 0 : 10);
    };
    expectCumulative("lat2", "2500");
    expectCumulative("lat20", "25000");
    expectCumulative("lat200", "250000");
  });
});

describe("metric ids", () => {
  it("defines each series once per VM: no define_metric per request after warm-up", () => {
    const d = driver({ telemetry: { method_label: true }, rules: rules(), tracing: { enabled: false } });
    const warm = () => {
      for (const r of ["a", "b", "c"]) for (const s of [200, 404, 503]) d.request({ headers: GET(), routeName: r, status: s });
    };
    warm();
    const after = d.defineCalls;
    for (let i = 0; i < 200; i++) warm();
    expect(d.defineCalls).toBe(after);
  });
});

describe("cold start", () => {
  it("counts requests decided before the first rules; allows by default", () => {
    // a rules service that has not answered yet (the driver never answers its http_call)
    const d = driver({ tracing: { enabled: false }, rules_service: { cluster: "rules" } });
    d.request({ headers: GET(), routeName: "api" });
    expect(d.metric("edgewatch.rules_cold_start_total")).toBe(1n);
    expect(requestSeries(d)).toEqual({ "api|200|upstream": 1 });
  });

  it("denies with a local 503 when rules_service.cold_start is deny", () => {
    const d = driver({ tracing: { enabled: false }, rules_service: { cluster: "rules", cold_start: "deny" } });
    d.request({ headers: GET(), routeName: "api" });
    expect(d.localReplies).toBe(1);
    expect(d.metric("edgewatch.rules_cold_start_total")).toBe(1n);
  });
});

describe("heartbeat", () => {
  it("beats on elapsed time, not on tick count, and reports the VM's linear memory", () => {
    const d = driver({ telemetry: { heartbeat_ms: 1000 }, tracing: { enabled: false }, rules: rules() });
    d.fixedClockNs = 1_800_000_000_000_000_000n;
    expect(d.tickPeriodMs).toBeGreaterThan(0);
    expect(d.metric("edgewatch.vm_memory_bytes")).toBeGreaterThan(0n);
    for (let i = 0; i < 25; i++) { d.tick(); d.advance(100); } // a 100 ms tick set by someone else
    expect(d.metric("edgewatch.vm_memory_bytes")).toBe(BigInt(d.memoryBytes()));
    expect(d.metric("edgewatch.ticks_total")).toBe(3n); // t=0, ~1 s, ~2 s
    expect(d.metric("edgewatch.heartbeat_seconds")).toBe(1_800_000_002n);
  });
});

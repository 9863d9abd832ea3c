/**
 * The filter's telemetry recorder (build/edgewatch.wasm) driven call by call through a minimal host
 * (harness/driver/filter-driver.ts), for what a proxy cannot show deterministically: the route label's
 * fallbacks (xds.route_name, then telemetry.path_routes, then `unknown`), label sanitizing of arbitrary
 * route names, one define_metric per series and VM, and a heartbeat driven by elapsed time.
 * What a user sees through a proxy (series, counts, buckets, route cap, method label, liveness) is in
 * the conformance suite: test/conformance/telemetry*.test.ts.
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { FilterDriver } from "../../harness/driver/filter-driver.js";
import { REPO_ROOT } from "../tracing/support/as-module.js";

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

  it("a request without a route is `unknown`, also once the cap is reached, and never counted as an overflow", () => {
    const d = driver({ telemetry: { routes_cap: 2 }, tracing: { enabled: false }, rules: rules() });
    for (const r of ["a", "b", "c", "d"]) d.request({ headers: GET(), routeName: r });
    d.request({ headers: GET("/nothing"), routeName: null });
    expect(requestSeries(d)).toEqual({ "a|200|upstream": 1, "b|200|upstream": 1, "other|200|upstream": 2, "unknown|200|upstream": 1 });
    expect(d.metric("edgewatch.routes_overflow_total")).toBe(2n);
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

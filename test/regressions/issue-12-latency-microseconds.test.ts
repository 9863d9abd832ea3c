/**
 * Bug (issue #12.2): latency was floored to whole milliseconds. `(responseNs - startNs) / 1_000_000`
 * recorded every sub-millisecond answer (most answers at a healthy edge) as 0, so it was counted in
 * the le=0.25 ms bucket whatever its real latency, and a 2.7 ms answer was recorded as 2, whose
 * circllhist bin [2, 2.1) Envoy counts in le=2.5: values landed in buckets BELOW them, and quantiles
 * and SLO ratios under-reported.
 * Fix: record whole microseconds (edgewatch_route_latency_us / edgewatch_stream_duration_us) with
 * shipped bounds that are circllhist bin edges, so le=B counts exactly the requests faster than B µs.
 *
 * Driven through the real filter (call level, deterministic clock) into the embedded stats store,
 * whose histograms emulate Envoy's (libcircllhist bins, hist_approx_count_below per bound).
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { FilterDriver } from "../../harness/driver/filter-driver.js";
import { StatsStore } from "../../harness/stats/stats-store.js";
import { defaultStatsConfig, EDGEWATCH_HISTOGRAM_BUCKETS_US } from "../../harness/envoy-config/defaults.js";
import { REPO_ROOT } from "../tracing/support/as-module.js";
import { parsePrometheusText } from "../../harness/cli/prom-text.js";

const WASM = resolve(REPO_ROOT, "build/edgewatch.wasm");
const GET: Array<[string, string]> = [[":method", "GET"], [":path", "/x"], [":authority", "edge"]];
// Upstream latencies in ms: sub-millisecond answers, values just above a bound (2.7 > 2.5,
// 50.4 > 50, 0.26 > 0.25) and one just below a bound (99.99 < 100).
const LATENCIES_MS = [0.06, 0.26, 0.4, 0.9, 2.7, 50.4, 99.99, 250.2];

function run(): { lines: ReturnType<typeof parsePrometheusText>["samples"]; d: FilterDriver } {
  const stats = new StatsStore(defaultStatsConfig());
  const d = new FilterDriver({ wasmPath: WASM, stats, configuration: JSON.stringify({ tracing: { enabled: false } }) });
  d.fixedClockNs = 1_800_000_000_000_000_000n;
  for (const ms of LATENCIES_MS) d.request({ headers: GET, routeName: "api", latencyMs: ms });
  stats.flush();
  return { lines: parsePrometheusText(stats.renderPrometheus()).samples, d };
}

describe("issue-12: latency histograms keep sub-millisecond resolution", () => {
  it("records each answer in whole microseconds, sub-millisecond ones included", () => {
    const { d } = run();
    expect(d.samples("edgewatch.route=.=api;.;route_latency_us")).toEqual(LATENCIES_MS.map((ms) => Math.floor(ms * 1000 + 1e-6)));
  });

  it("every shipped bucket le=B counts exactly the answers faster than B: none lands in a bucket below it", () => {
    const { lines } = run();
    for (const family of ["edgewatch_route_latency_us", "edgewatch_stream_duration_us"]) {
      const got = new Map(lines.filter((l) => l.name === `${family}_bucket` && l.labels.route === "api").map((l) => [l.labels.le, l.value]));
      expect(got.size, `${family} buckets`).toBe(EDGEWATCH_HISTOGRAM_BUCKETS_US.length + 1);
      for (const bound of EDGEWATCH_HISTOGRAM_BUCKETS_US) {
        const faster = LATENCIES_MS.filter((ms) => ms * 1000 < bound).length;
        expect(got.get(String(bound)), `${family} le=${bound} µs`).toBe(faster);
      }
      expect(got.get("+Inf")).toBe(LATENCIES_MS.length);
    }
  });
});

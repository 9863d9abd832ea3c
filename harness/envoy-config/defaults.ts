/**
 * edgewatch's stats settings, shared by the embedded host and by every Envoy config we render, so
 * the two targets extract the same tags and use the same histogram buckets.
 *
 * The filter encodes labels in the stat name the Istio way (reference envoy-host.md §8):
 *   wasmcustom.edgewatch.route=.=api;.;code=.=200;.;source=.=upstream;.;requests_total
 * and one TagSpecifier per label, regex `(<label>=\.=(.*?);\.;)`, pulls each segment out: the first
 * capture group is removed from the name, the second becomes the label value. /stats/prometheus then
 * shows `edgewatch_requests_total{route="api",code="200",source="upstream"}` (the `wasmcustom.`
 * prefix is stripped for the custom stat namespace and no `envoy_` is added).
 */
import type { HistogramBucketSetting, ProxyConfig, StatsConfig, StatsTag } from "../config/proxy-config.js";

/** Every stat the filter defines starts with this (Envoy adds `wasmcustom.` to each defined name). */
export const EDGEWATCH_STAT_PREFIX = "wasmcustom.edgewatch.";

/** Labels the filter may encode in a stat name, in the order it writes them. */
export const EDGEWATCH_TAG_NAMES = ["route", "code", "source", "rule", "action", "reason", "method"] as const;
export type EdgewatchTagName = (typeof EDGEWATCH_TAG_NAMES)[number];

/**
 * Histogram buckets in MICROSECONDS for every `wasmcustom.edgewatch.` histogram (route_latency_us,
 * stream_duration_us; the filter records whole µs): 50 µs (a local reply, a fast edge answer) up to
 * the 60 s ceiling of a long upstream call.
 *
 * Every bound is an integer with at most two significant digits, i.e. the lower edge of a circllhist
 * bin. Envoy bins each sample with two significant digits and, for Prometheus, counts a bin toward
 * le=B only when the whole bin lies at or below B (libcircllhist hist_approx_count_below, called by
 * Envoy's HistogramStatisticsImpl for each bound; emulated in harness/stats/circllhist.ts). With
 * bounds on bin edges and integer samples a value never lands in a bucket below it, and le=B counts
 * exactly the requests faster than B µs — except at 500 and 500000, where libcircllhist's upper edge
 * of the bin below (4.9·10² + 10 = 500.00000000000006) makes Envoy count 490–499 µs (490–499.99 ms)
 * one bucket up. 500 µs / 500 ms are kept anyway: common SLO thresholds, and the error is one bin,
 * toward slower.
 */
export const EDGEWATCH_HISTOGRAM_BUCKETS_US: readonly number[] = Object.freeze([
  50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
  1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000,
]);

/** The filter's histograms (Prometheus names after tag extraction); unit: microseconds. */
export const EDGEWATCH_HISTOGRAMS = Object.freeze(["edgewatch_route_latency_us", "edgewatch_stream_duration_us"] as const);

/** Envoy's default stats flush interval; histograms become visible only after a flush. */
export const DEFAULT_STATS_FLUSH_INTERVAL_MS = 5000;

/** The TagSpecifier regex for one Istio-style label segment. */
export function tagRegex(tagName: string): string {
  return `(${escapeRegex(tagName)}=\\.=(.*?);\\.;)`;
}

export function edgewatchStatsTags(): StatsTag[] {
  return EDGEWATCH_TAG_NAMES.map((tagName) => ({ tagName, regex: tagRegex(tagName) }));
}

export function edgewatchHistogramBucketSettings(): HistogramBucketSetting[] {
  return [{ match: { prefix: EDGEWATCH_STAT_PREFIX }, buckets: [...EDGEWATCH_HISTOGRAM_BUCKETS_US] }];
}

/**
 * The stats settings both targets use. Defaults mirror Envoy (5 s flush, no flush on admin);
 * tests that read histograms right after traffic pass `{ flushOnAdmin: true }`.
 */
export function defaultStatsConfig(overrides: Partial<Pick<StatsConfig, "flushIntervalMs" | "flushOnAdmin">> = {}): StatsConfig {
  return {
    flushIntervalMs: overrides.flushIntervalMs ?? DEFAULT_STATS_FLUSH_INTERVAL_MS,
    flushOnAdmin: overrides.flushOnAdmin ?? false,
    histogramBucketSettings: edgewatchHistogramBucketSettings(),
    statsTags: edgewatchStatsTags(),
  };
}

/**
 * Plugin configuration used by the shipped examples, in the filter's settings schema
 * (assembly/config/settings.ts): the rules service and the OTLP collector are reached with
 * proxy_http_call, so their `cluster` values must name clusters of the bootstrap (validate.ts
 * checks that). Everything else keeps the filter's defaults.
 */
export const EXAMPLE_PLUGIN_CONFIGURATION = JSON.stringify({
  rules_service: { cluster: "edgewatch_rules", authority: "rules" },
  tracing: { collector: { cluster: "otel_collector", authority: "otel-collector" } },
});

/**
 * The ProxyConfig the shipped examples under envoy/ are rendered from (write-examples.ts).
 * Hostnames are docker-compose style service names, hence STRICT_DNS clusters.
 */
export function exampleProxyConfig(): ProxyConfig {
  return {
    node: { id: "edgewatch-example", cluster: "edgewatch" },
    listener: { address: "0.0.0.0", port: 10000 },
    admin: { address: "0.0.0.0", port: 9901 },
    workers: 2,
    routes: [
      { name: "api", match: { prefix: "/api/" }, cluster: "app", timeoutMs: 15000 },
      { name: "health", match: { path: "/healthz" }, cluster: "app", timeoutMs: 1000 },
      { name: "default", match: { prefix: "/" }, cluster: "app", timeoutMs: 15000 },
    ],
    clusters: [
      { name: "app", address: "app", port: 8080, connectTimeoutMs: 1000 },
      { name: "edgewatch_rules", address: "rules", port: 8081, connectTimeoutMs: 500 },
      { name: "otel_collector", address: "otel-collector", port: 4318, connectTimeoutMs: 500 },
    ],
    plugin: {
      name: "edgewatch",
      rootId: "edgewatch",
      vmId: "edgewatch",
      wasmPath: "/etc/envoy/edgewatch.wasm",
      configuration: EXAMPLE_PLUGIN_CONFIGURATION,
      failOpen: false,
    },
    stats: defaultStatsConfig(),
    xffNumTrustedHops: 1,
  };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

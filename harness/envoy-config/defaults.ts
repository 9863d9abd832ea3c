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
 * Histogram buckets (ms) for every `wasmcustom.edgewatch.` histogram (route_latency_ms,
 * stream_duration_ms): sub-millisecond local replies up to the 60 s ceiling of a long upstream call.
 * Envoy's default list stops being useful below 0.5 ms and wastes five buckets above 60 s.
 * Envoy counts a value equal to a bound in the next bucket (envoy#36549); keep bounds off round
 * values the filter is likely to record exactly if that matters to a test.
 */
export const EDGEWATCH_HISTOGRAM_BUCKETS_MS: readonly number[] = Object.freeze([
  0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
]);

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
  return [{ match: { prefix: EDGEWATCH_STAT_PREFIX }, buckets: [...EDGEWATCH_HISTOGRAM_BUCKETS_MS] }];
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

/**
 * One proxy configuration model for every target. The embedded host consumes it directly;
 * the Envoy target renders it into an Envoy v3 bootstrap (harness/envoy-config/). Field meanings
 * follow Envoy's v3 API names so the mapping stays obvious.
 */

/**
 * Stat prefixes every target uses for the one listener (Envoy Listener.stat_prefix and the HCM's
 * stat_prefix), so native stats have the same names on the embedded host and on Envoy whatever the
 * bind address or port: `listener.edgewatch_ingress.worker_<N>.downstream_cx_total` (per worker,
 * Envoy's per-handler listener stats), `http.edgewatch_ingress.downstream_rq_total`.
 */
export const LISTENER_STAT_PREFIX = "edgewatch_ingress";
export const HCM_STAT_PREFIX = "edgewatch_ingress";

/** A route in the single virtual host. `name` is what `xds.route_name` returns. */
export interface RouteConfig {
  name: string;
  match: { prefix?: string; path?: string };
  cluster: string;
  /** Route timeout (Envoy route.timeout), ms; 0 = none. Default 15000. */
  timeoutMs?: number;
}

/** A static cluster with one endpoint (loopback in tests). Used for upstream and proxy_http_call. */
export interface ClusterConfig {
  name: string;
  address: string;
  port: number;
  connectTimeoutMs?: number;
}

/** envoy.extensions.wasm.v3.PluginConfig, reduced to what edgewatch uses. */
export interface WasmPluginConfig {
  /** PluginConfig.name → property plugin_name. */
  name: string;
  /** PluginConfig.root_id → property plugin_root_id. */
  rootId: string;
  /** VmConfig.vm_id → property plugin_vm_id; shared data / queue namespace. */
  vmId: string;
  /** Path of the .wasm (VmConfig.code.local.filename). */
  wasmPath: string;
  /**
   * PluginConfig.configuration → buffer 7 in on_configure: text (Envoy: StringValue), or bytes.
   * Bytes of a snapshot configuration (harness/rules/snapshot-configuration.ts) reach Envoy as a
   * BytesValue; other bytes are UTF-8 text. Both reach the filter byte for byte.
   */
  configuration: string | Uint8Array;
  /** VmConfig.configuration (StringValue) → buffer 6. */
  vmConfiguration?: string;
  /** PluginConfig.fail_open (Envoy 1.30–1.32 spelling; failure_policy FAIL_OPEN on 1.33+). */
  failOpen: boolean;
}

/** stats_config.histogram_bucket_settings entry; match is an Envoy StringMatcher on the full stat name. */
export interface HistogramBucketSetting {
  match: { prefix?: string; exact?: string; suffix?: string; safeRegex?: string };
  buckets: number[];
}

/** stats_config.stats_tags entry (envoy.config.metrics.v3.TagSpecifier with regex). */
export interface StatsTag {
  tagName: string;
  regex: string;
}

export interface StatsConfig {
  /** Envoy stats_flush_interval; histograms become visible only after a flush. Default 5000. */
  flushIntervalMs: number;
  /** Like Envoy's stats_flush_on_admin: flush on every admin stats request. */
  flushOnAdmin: boolean;
  histogramBucketSettings: HistogramBucketSetting[];
  statsTags: StatsTag[];
  /**
   * stats_config.use_all_default_tags: Envoy's built-in tag extractors (envoy.cluster_name,
   * envoy.http_conn_manager_prefix, envoy.response_code, …) run before statsTags. Envoy's default
   * (and ours when unset) is true.
   */
  useAllDefaultTags?: boolean;
}

export interface ProxyConfig {
  node: { id: string; cluster: string };
  listener: { address: string; port: number };
  admin: { address: string; port: number };
  /** Envoy --concurrency: number of worker threads (each with its own VM). */
  workers: number;
  routes: RouteConfig[];
  clusters: ClusterConfig[];
  plugin: WasmPluginConfig;
  stats: StatsConfig;
  /** HCM xff_num_trusted_hops; also drives x-envoy-external-address like Envoy. */
  xffNumTrustedHops: number;
  /**
   * A second listener with the same routes and clusters but WITHOUT the Wasm filter (Envoy
   * targets): the overhead bench's "the same proxy without the filter", in the same process and run.
   */
  baselineListener?: { address: string; port: number };
}

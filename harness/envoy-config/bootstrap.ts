/**
 * ProxyConfig → Envoy v3 configuration objects (plain JSON-shaped objects with the v3 proto field
 * names, ready for YAML). Targets Envoy 1.30–1.32: the plugin uses `fail_open`, which 1.33+
 * deprecates in favour of `failure_policy` (reference README; data-plane-api wasm.proto).
 *
 * Field references: envoy/config/bootstrap/v3/bootstrap.proto, envoy/config/listener/v3,
 * envoy/extensions/filters/network/http_connection_manager/v3, envoy/extensions/filters/http/wasm/v3,
 * envoy/extensions/wasm/v3, envoy/config/core/v3/config_source.proto (ECDS), envoy/config/metrics/v3.
 */
import * as net from "node:net";
import * as path from "node:path";
import YAML, { isMap, isScalar, isSeq, type Document, type Node as YamlNode } from "yaml";
import { HCM_STAT_PREFIX, LISTENER_STAT_PREFIX, type ProxyConfig, type StatsConfig } from "../config/proxy-config.js";
import { isSnapshotConfiguration } from "../rules/snapshot-configuration.js";

export { HCM_STAT_PREFIX, LISTENER_STAT_PREFIX };

export const TYPE_URL = {
  hcm: "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
  wasm: "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
  router: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
  stringValue: "type.googleapis.com/google.protobuf.StringValue",
  bytesValue: "type.googleapis.com/google.protobuf.BytesValue",
  typedExtensionConfig: "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
} as const;

export const WASM_RUNTIME_V8 = "envoy.wasm.runtime.v8";
export const HCM_FILTER_NAME = "envoy.filters.network.http_connection_manager";
export const ROUTER_FILTER_NAME = "envoy.filters.http.router";
export const LISTENER_NAME = "edgewatch_ingress";
/** The filter-less twin of the ingress listener (ProxyConfig.baselineListener): stats under this prefix. */
export const BASELINE_LISTENER_NAME = "edgewatch_baseline";
export const ROUTE_CONFIG_NAME = "edgewatch_routes";
const DEFAULT_ROUTE_TIMEOUT_MS = 15000;
const DEFAULT_CONNECT_TIMEOUT_MS = 1000;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "0.0.0.0", "::"]);

export interface BootstrapOptions {
  /** vm_config.code.local.filename as seen by Envoy (container path); default: absolute cfg.plugin.wasmPath. */
  wasmPathInContainer?: string;
  /**
   * Replace loopback cluster addresses (127.x, localhost, ::1, 0.0.0.0) with this host, e.g.
   * `host.testcontainers.internal`, so an Envoy in a container reaches fixtures on the host.
   */
  hostAddressForClusters?: string;
  /** Render the wasm filter as an ECDS reference to a watched file instead of inline config. */
  ecds?: { path: string };
  /** Override listener/admin bind address (a container must bind 0.0.0.0 for port mapping). */
  bindAddress?: string;
  /** Override listener/admin/baseline listener ports (a container cannot publish port 0). */
  ports?: { listener?: number; admin?: number; baseline?: number };
}

export interface EcdsResourceOptions {
  wasmPathInContainer?: string;
  /** DiscoveryResponse.version_info; bump on every push so logs and config_dump show which one applied. */
  versionInfo?: string;
}

/** A JSON-shaped Envoy config object (proto field names); deliberately loose, it is data for YAML. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EnvoyConfigObject = Record<string, any>;
type Json = EnvoyConfigObject;

/** Duration JSON form ("15s", "0.25s") from milliseconds. */
export function durationFromMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`duration must be a finite non-negative number of ms, got ${ms}`);
  const seconds = ms / 1000;
  // At most 9 fractional digits (nanosecond precision), trailing zeros trimmed.
  const text = seconds.toFixed(9).replace(/\.?0+$/, "");
  return `${text}s`;
}

/** The `--concurrency` and config flags for an envoy command line; the bootstrap cannot carry them. */
export function envoyCommandArgs(cfg: ProxyConfig, configPath: string, extra: string[] = []): string[] {
  if (!Number.isInteger(cfg.workers) || cfg.workers < 1) throw new RangeError(`workers must be an integer ≥ 1, got ${cfg.workers}`);
  return ["-c", configPath, "--concurrency", String(cfg.workers), ...extra];
}

/** The plugin's code path as Envoy sees it. */
function wasmFilename(cfg: ProxyConfig, opts: { wasmPathInContainer?: string }): string {
  return opts.wasmPathInContainer ?? path.resolve(cfg.plugin.wasmPath);
}

/**
 * A plugin configuration given as text or bytes, as Envoy's PluginConfig.configuration carries it:
 * a snapshot configuration (binary, harness/rules/snapshot-configuration.ts) stays bytes, anything
 * else is text (bytes given are its UTF-8).
 */
export function envoyConfigurationValue(configuration: string | Uint8Array): string | Uint8Array {
  if (typeof configuration === "string" || isSnapshotConfiguration(configuration)) return configuration;
  return Buffer.from(configuration.buffer, configuration.byteOffset, configuration.byteLength).toString("utf8");
}

/**
 * PluginConfig.configuration as an Any: text as a StringValue, a snapshot configuration as a
 * BytesValue (JSON form: base64). Envoy hands either value to the filter byte for byte
 * (source/extensions/common/wasm/plugin.cc anyToBytes).
 */
export function renderPluginConfiguration(configuration: string | Uint8Array): Json {
  const value = envoyConfigurationValue(configuration);
  if (typeof value === "string") return { "@type": TYPE_URL.stringValue, value };
  return { "@type": TYPE_URL.bytesValue, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
}

/** envoy.extensions.filters.http.wasm.v3.Wasm for the plugin (an Any, with @type). */
export function renderWasmFilterConfig(cfg: ProxyConfig, opts: { wasmPathInContainer?: string } = {}): Json {
  const p = cfg.plugin;
  const vmConfig: Json = {
    vm_id: p.vmId,
    runtime: WASM_RUNTIME_V8,
    code: { local: { filename: wasmFilename(cfg, opts) } },
  };
  if (p.vmConfiguration !== undefined) {
    vmConfig.configuration = { "@type": TYPE_URL.stringValue, value: p.vmConfiguration };
  }
  return {
    "@type": TYPE_URL.wasm,
    config: {
      name: p.name,
      root_id: p.rootId,
      vm_config: vmConfig,
      configuration: renderPluginConfiguration(p.configuration),
      // Envoy 1.30–1.32 spelling; 1.33+ prefers failure_policy: FAIL_OPEN | FAIL_CLOSED.
      fail_open: p.failOpen,
    },
  };
}

function renderWasmHttpFilter(cfg: ProxyConfig, opts: BootstrapOptions): Json {
  if (opts.ecds) {
    return {
      // For ECDS the filter name is also the resource name Envoy subscribes to.
      name: cfg.plugin.name,
      config_discovery: {
        config_source: {
          path_config_source: { path: opts.ecds.path },
          resource_api_version: "V3",
        },
        type_urls: [TYPE_URL.wasm],
      },
    };
  }
  return { name: cfg.plugin.name, typed_config: renderWasmFilterConfig(cfg, opts) };
}

function renderRoutes(cfg: ProxyConfig): Json[] {
  return cfg.routes.map((r) => {
    const match: Json = {};
    if (r.match.path !== undefined) match.path = r.match.path;
    if (r.match.prefix !== undefined) match.prefix = r.match.prefix;
    return {
      name: r.name,
      match,
      route: { cluster: r.cluster, timeout: durationFromMs(r.timeoutMs ?? DEFAULT_ROUTE_TIMEOUT_MS) },
    };
  });
}

/** Addresses that mean "this machine" and must be rewritten for an Envoy in a container. */
export function isLoopbackAddress(address: string): boolean {
  return LOOPBACK_HOSTS.has(address) || /^127\./.test(address);
}

function clusterAddress(address: string, opts: BootstrapOptions): string {
  if (opts.hostAddressForClusters && isLoopbackAddress(address)) return opts.hostAddressForClusters;
  return address;
}

function renderClusters(cfg: ProxyConfig, opts: BootstrapOptions): Json[] {
  return cfg.clusters.map((c) => {
    const address = clusterAddress(c.address, opts);
    // STATIC needs IP literals; anything else is resolved with STRICT_DNS.
    const isIp = net.isIP(address) !== 0;
    const cluster: Json = {
      name: c.name,
      type: isIp ? "STATIC" : "STRICT_DNS",
      connect_timeout: durationFromMs(c.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    };
    // host.testcontainers.internal and compose service names resolve to IPv4; AUTO may pick AAAA first.
    if (!isIp) cluster.dns_lookup_family = "V4_ONLY";
    cluster.load_assignment = {
      cluster_name: c.name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address, port_value: c.port } } } }] }],
    };
    return cluster;
  });
}

function renderStringMatcher(m: StatsConfig["histogramBucketSettings"][number]["match"]): Json {
  const out: Json = {};
  if (m.prefix !== undefined) out.prefix = m.prefix;
  if (m.exact !== undefined) out.exact = m.exact;
  if (m.suffix !== undefined) out.suffix = m.suffix;
  if (m.safeRegex !== undefined) out.safe_regex = { regex: m.safeRegex };
  return out;
}

/** Bootstrap.stats_config (envoy.config.metrics.v3.StatsConfig). */
export function renderStatsConfig(stats: StatsConfig): Json {
  return {
    // Envoy's built-in extractors (cluster_name, response_code, ...) for native stats; the embedded
    // host applies the same list (harness/stats/envoy-default-tags.ts).
    use_all_default_tags: stats.useAllDefaultTags ?? true,
    stats_tags: stats.statsTags.map((t) => ({ tag_name: t.tagName, regex: t.regex })),
    histogram_bucket_settings: stats.histogramBucketSettings.map((h) => ({
      match: renderStringMatcher(h.match),
      buckets: [...h.buckets],
    })),
  };
}

/** An Envoy v3 Bootstrap for cfg. `--concurrency` is not part of it: see envoyCommandArgs(). */
export function renderBootstrap(cfg: ProxyConfig, opts: BootstrapOptions = {}): Json {
  const bind = opts.bindAddress;
  const listenerPort = opts.ports?.listener ?? cfg.listener.port;
  const adminPort = opts.ports?.admin ?? cfg.admin.port;

  const hcm: Json = {
    "@type": TYPE_URL.hcm,
    stat_prefix: HCM_STAT_PREFIX,
    codec_type: "AUTO",
    // Edge proxy: the downstream peer address is the client; trust N hops of x-forwarded-for.
    use_remote_address: true,
    xff_num_trusted_hops: cfg.xffNumTrustedHops,
    route_config: {
      name: ROUTE_CONFIG_NAME,
      virtual_hosts: [{ name: "edgewatch", domains: ["*"], routes: renderRoutes(cfg) }],
    },
    // Order matters: the wasm filter must see the request before the terminal router.
    http_filters: [
      renderWasmHttpFilter(cfg, opts),
      { name: ROUTER_FILTER_NAME, typed_config: { "@type": TYPE_URL.router } },
    ],
  };

  const bootstrap: Json = {
    // Required by any xDS subscription, including the file-based ECDS one.
    node: { id: cfg.node.id, cluster: cfg.node.cluster },
    admin: { address: { socket_address: { address: bind ?? cfg.admin.address, port_value: adminPort } } },
    stats_config: renderStatsConfig(cfg.stats),
  };
  // stats_flush_interval and stats_flush_on_admin are mutually exclusive (oneof promotion "stats_flush").
  if (cfg.stats.flushOnAdmin) bootstrap.stats_flush_on_admin = true;
  else bootstrap.stats_flush_interval = durationFromMs(cfg.stats.flushIntervalMs);

  bootstrap.static_resources = {
    listeners: [
      {
        name: LISTENER_NAME,
        // listener.<stat_prefix>.* instead of listener.<address>_<port>.*: the same stat names in a
        // container (0.0.0.0) and on a local Envoy, e.g. the per-worker
        // listener.edgewatch_ingress.worker_<N>.downstream_cx_total the worker probes read.
        stat_prefix: LISTENER_STAT_PREFIX,
        address: { socket_address: { address: bind ?? cfg.listener.address, port_value: listenerPort } },
        filter_chains: [{ filters: [{ name: HCM_FILTER_NAME, typed_config: hcm }] }],
      },
    ],
    clusters: renderClusters(cfg, opts),
  };
  if (cfg.baselineListener) {
    // Same HCM, same routes, no Wasm filter: a request costs here what it costs without edgewatch.
    const baselineHcm: Json = {
      ...hcm,
      stat_prefix: BASELINE_LISTENER_NAME,
      http_filters: [{ name: ROUTER_FILTER_NAME, typed_config: { "@type": TYPE_URL.router } }],
    };
    bootstrap.static_resources.listeners.push({
      name: BASELINE_LISTENER_NAME,
      stat_prefix: BASELINE_LISTENER_NAME,
      address: { socket_address: { address: bind ?? cfg.baselineListener.address, port_value: opts.ports?.baseline ?? cfg.baselineListener.port } },
      filter_chains: [{ filters: [{ name: HCM_FILTER_NAME, typed_config: baselineHcm }] }],
    });
  }
  return bootstrap;
}

/** The bootstrap whose wasm filter is fetched from `opts.ecds.path` (file-based ECDS). */
export function renderEcdsBootstrap(cfg: ProxyConfig, opts: BootstrapOptions & { ecds: { path: string } }): Json {
  return renderBootstrap(cfg, opts);
}

/** envoy.config.core.v3.TypedExtensionConfig holding the plugin (an Any, with @type). */
export function renderTypedExtensionConfig(cfg: ProxyConfig, opts: { wasmPathInContainer?: string } = {}): Json {
  return {
    "@type": TYPE_URL.typedExtensionConfig,
    name: cfg.plugin.name,
    typed_config: renderWasmFilterConfig(cfg, opts),
  };
}

/**
 * The watched ECDS file: a DiscoveryResponse with one TypedExtensionConfig named like the filter.
 * Envoy reacts only when a file is moved onto the path: write a temp file in the same directory
 * and rename it (reference envoy-host.md §9.2).
 */
export function renderEcdsResource(cfg: ProxyConfig, opts: EcdsResourceOptions = {}): Json {
  return {
    version_info: opts.versionInfo ?? "1",
    type_url: TYPE_URL.typedExtensionConfig,
    resources: [renderTypedExtensionConfig(cfg, opts)],
  };
}

// ---------------------------------------------------------------------------------------------
// YAML

export interface ToYamlOptions {
  /** Comment lines written at the top of the file. */
  header?: string;
  /**
   * Comments placed above a node, keyed by a dotted path into obj (array indexes as numbers), e.g.
   * `static_resources.listeners.0.filter_chains`; keys containing dots go in brackets:
   * `metadata.annotations["proxy.istio.io/config"]`. A path that does not exist throws, so comments
   * cannot silently drift from the config they describe.
   */
  comments?: Record<string, string>;
}

/** Stable YAML for an Envoy config object (no line folding, so regexes and JSON stay on one line). */
export function toYaml(obj: unknown, opts: ToYamlOptions = {}): string {
  const doc: Document = new YAML.Document(obj, { aliasDuplicateObjects: false });
  for (const [dotted, text] of Object.entries(opts.comments ?? {})) {
    attachComment(doc, dotted, text);
  }
  if (opts.header) doc.commentBefore = prefixCommentLines(opts.header);
  // Short lists of scalars (buckets, domains, type_urls) read better on one line.
  YAML.visit(doc, {
    Seq(_, node) {
      if (node.items.every((i) => isScalar(i))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, minContentWidth: 0 });
}

function prefixCommentLines(text: string): string {
  return text
    .split("\n")
    .map((l) => (l.length ? ` ${l}` : ""))
    .join("\n");
}

/** `a.b.0["key.with.dots"]` → ["a", "b", 0, "key.with.dots"] */
function parseCommentPath(p: string): Array<string | number> {
  const keys: Array<string | number> = [];
  for (const m of p.matchAll(/\["((?:[^"\\]|\\.)*)"\]|([^.[\]]+)/g)) {
    if (m[1] !== undefined) keys.push(JSON.parse(`"${m[1]}"`) as string);
    else keys.push(/^\d+$/.test(m[2]!) ? Number(m[2]) : m[2]!);
  }
  return keys;
}

function attachComment(doc: Document, dotted: string, text: string): void {
  const keys = parseCommentPath(dotted);
  const parentPath = keys.slice(0, -1);
  const last = keys[keys.length - 1];
  const parent = parentPath.length ? doc.getIn(parentPath, true) : doc.contents;
  const comment = prefixCommentLines(text);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === last);
    if (!pair) throw new Error(`toYaml: no key at comment path ${dotted}`);
    (pair.key as YamlNode).commentBefore = comment;
    return;
  }
  if (isSeq(parent) && typeof last === "number" && parent.items[last]) {
    (parent.items[last] as YamlNode).commentBefore = comment;
    return;
  }
  throw new Error(`toYaml: no node at comment path ${dotted}`);
}

/**
 * startEmbeddedProxy: the in-process Envoy stand-in (listener + Wasm filter + router + admin).
 * One ProxyConfig drives it, the same one the Envoy target renders into a bootstrap.
 */
import type { ProxyConfig } from "../config/proxy-config.js";
import { startAdminServer, type AdminServer } from "../admin/admin-server.js";
import type { EnvoyVersion } from "../host/envoy-imports.js";
import { HostLogger, type LogLevelName, LOG_LEVELS } from "../host/logger.js";
import { PluginHost } from "../host/plugin-host.js";
import { SharedDataStore } from "../host/shared-data.js";
import { SharedQueueStore } from "../host/shared-queues.js";
import { UpstreamClusters } from "../host/upstream-clusters.js";
import { StatsStore } from "../stats/stats-store.js";
import type { StatsStoreApi } from "../stats/types.js";
import { ProxyServer } from "./proxy-server.js";
import { defaultLocalAddress } from "./request-headers.js";

export interface EmbeddedProxyOptions {
  /** Logger to use (default: a new HostLogger, info level, warn+ to stderr). */
  logger?: HostLogger;
  /** Envoy --component-log-level, e.g. "wasm:debug". */
  componentLogLevel?: string;
  /** Envoy --log-level (default info). */
  logLevel?: LogLevelName;
  /** Host profile (WASI imports, legacy property names). Default "1.30". */
  envoyVersion?: EnvoyVersion;
  /** Run without the Wasm filter (the no-filter baseline). */
  noFilter?: boolean;
  /** Envoy's node address (appended to XFF when the peer is loopback). Default: first non-loopback IPv4. */
  localAddress?: string;
  /** HCM preserve_external_request_id. Default false. */
  preserveExternalRequestId?: boolean;
  /** "connection" (default, like Envoy) or "request". */
  workerAssignment?: "connection" | "request";
  /** VmConfig.environment_variables. */
  environment?: Record<string, string>;
  /** Use an existing stats store (default: a new StatsStore from config.stats). */
  stats?: StatsStore;
  /** Share shared data / queues with other proxies (default: private to this proxy, like one Envoy process). */
  sharedData?: SharedDataStore;
  queues?: SharedQueueStore;
}

export interface EmbeddedProxy {
  listenerUrl: string;
  adminUrl: string;
  /** The plugin host (throws in noFilter mode). */
  host: PluginHost;
  stats: StatsStoreApi;
  logger: HostLogger;
  config: ProxyConfig;
  /** In-flight HTTP streams on the listener. */
  liveStreams(): number;
  /** ECDS-style update; rejects with a PluginConfigRejectedError (code PLUGIN_CONFIG_REJECTED) and keeps the old config. */
  updatePluginConfiguration(configuration: string | Uint8Array): Promise<void>;
  /** An update the ECDS subscription could not decode (never reaches the filter): update_failure + config_fail. */
  configurationUpdateFailed(reason: string): void;
  close(): Promise<void>;
}

function urlHost(address: string): string {
  if (address === "0.0.0.0" || address === "") return "127.0.0.1";
  if (address === "::") return "[::1]";
  return address.includes(":") ? `[${address}]` : address;
}

export async function startEmbeddedProxy(config: ProxyConfig, opts: EmbeddedProxyOptions = {}): Promise<EmbeddedProxy> {
  const logger = opts.logger ?? new HostLogger({ level: opts.logLevel ?? "info", componentLogLevel: opts.componentLogLevel });
  const stats = opts.stats ?? new StatsStore(config.stats);
  stats.startFlushTimer();
  const clusters = new UpstreamClusters(config.clusters);
  let host: PluginHost | null = null;
  let proxy: ProxyServer | null = null;
  let admin: AdminServer | null = null;
  try {
    if (!opts.noFilter) {
      host = await PluginHost.load(config.plugin, {
        stats,
        logger,
        clusters,
        node: config.node,
        workers: config.workers,
        envoyVersion: opts.envoyVersion,
        environment: opts.environment,
        sharedData: opts.sharedData,
        queues: opts.queues,
      });
    }
    proxy = new ProxyServer(config, {
      host,
      clusters,
      stats,
      hcm: {
        xffNumTrustedHops: config.xffNumTrustedHops,
        localAddress: opts.localAddress ?? defaultLocalAddress(),
        preserveExternalRequestId: opts.preserveExternalRequestId ?? false,
      },
      workerAssignment: opts.workerAssignment ?? "connection",
      serverName: "envoy",
    });
    const port = await proxy.listen(config.listener.address, config.listener.port);
    let ready = true;
    admin = await startAdminServer({
      address: config.admin.address,
      port: config.admin.port,
      stats,
      isReady: () => ready,
      flushOnAdmin: config.stats.flushOnAdmin,
      serverInfo: { node: config.node, concurrency: config.workers },
      extra: {
        // POST /logging?wasm=debug (Envoy admin logging handler, reduced).
        "/logging": (req, res) => {
          if (req.method !== "POST") {
            res.writeHead(405, { "content-type": "text/plain" }).end("Method GET not allowed, POST required.\n");
            return;
          }
          const q = new URL(req.url ?? "/", "http://admin").searchParams;
          for (const [component, level] of q) {
            if (!(LOG_LEVELS as readonly string[]).includes(level)) {
              res.writeHead(404, { "content-type": "text/plain" }).end("error: unknown logger level\n");
              return;
            }
            if (component === "level") for (const c of ["wasm", "http", "router"]) logger.setLevel(c, level as LogLevelName);
            else logger.setLevel(component, level as LogLevelName);
          }
          res.writeHead(200, { "content-type": "text/plain" }).end("active loggers updated\n");
        },
      },
    });
    const p = proxy;
    const h = host;
    const a = admin;
    let closed = false;
    return {
      listenerUrl: `http://${urlHost(config.listener.address)}:${port}`,
      adminUrl: a.url,
      get host(): PluginHost {
        if (h === null) throw new Error("embedded proxy runs without the Wasm filter (noFilter)");
        return h;
      },
      stats,
      logger,
      config,
      liveStreams: () => p.liveStreams.size,
      updatePluginConfiguration: (configuration: string | Uint8Array) => {
        if (h === null) return Promise.reject(new Error("embedded proxy runs without the Wasm filter (noFilter)"));
        return h.updatePluginConfiguration(configuration);
      },
      configurationUpdateFailed: (reason: string) => {
        if (h === null) throw new Error("embedded proxy runs without the Wasm filter (noFilter)");
        h.configurationUpdateFailed(reason);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        ready = false;
        await p.close();
        await a.close();
        await h?.close();
        await clusters.close();
        if (!opts.stats) stats.stop();
      },
    };
  } catch (err) {
    await proxy?.close().catch(() => {});
    await admin?.close().catch(() => {});
    await host?.close().catch(() => {});
    await clusters.close();
    if (!opts.stats) stats.stop();
    throw err;
  }
}

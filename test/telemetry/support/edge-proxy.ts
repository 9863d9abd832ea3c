/**
 * HTTP test support for telemetry and tracing: the product filter (build/edgewatch.wasm) in the
 * embedded proxy, the upstream echo fixture (latency/status per request), optionally the OTLP
 * collector fixture (cluster "otel"), one keep-alive probe connection pinned to each worker VM,
 * and helpers to read /stats/prometheus.
 */
import { resolve } from "node:path";
import { pinWorkerProbes } from "../../support/worker-probes.js";
import { Client, request } from "undici";
import type { ProxyConfig, RouteConfig } from "../../../harness/config/proxy-config.js";
import { startUpstreamServer, type UpstreamServer } from "../../../harness/fixtures/upstream-server.js";
import { startOtlpCollector, type OtlpCollector } from "../../../harness/fixtures/otlp-collector.js";
import { HostLogger, type LogEntry } from "../../../harness/host/logger.js";
import { startEmbeddedProxy, type EmbeddedProxy } from "../../../harness/proxy/embedded-proxy.js";
import { defaultStatsConfig } from "../../../harness/envoy-config/defaults.js";

export const ROOT = resolve(import.meta.dirname, "../../..");
export const FILTER_WASM = resolve(ROOT, "build/edgewatch.wasm");

export interface EdgeProxyOptions {
  workers?: number;
  /** Plugin configuration (object → JSON). */
  plugin?: Record<string, unknown>;
  /** Routes (default: one catch-all route "default"). */
  routes?: Array<Omit<RouteConfig, "cluster"> & { cluster?: string }>;
  /** Start the OTLP collector fixture as cluster "otel". */
  collector?: boolean;
  xffNumTrustedHops?: number;
  /** Share a collector between proxies. */
  sharedCollector?: OtlpCollector;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Request headers the upstream received (parsed from the echo body; {} for local replies). */
  upstreamHeaders: Record<string, string>;
}

export interface EdgeProxy {
  proxy: EmbeddedProxy;
  upstream: UpstreamServer;
  collector: OtlpCollector | null;
  logs: LogEntry[];
  workers: number;
  /** probes[i] is a keep-alive connection served by worker i. */
  probes: Client[];
  get(path: string, headers?: Record<string, string>, client?: Client): Promise<Answer>;
  /** n requests with bounded concurrency; `make(i)` gives path and headers. */
  many(n: number, concurrency: number, make: (i: number) => { path: string; headers?: Record<string, string> }): Promise<Answer[]>;
  /** GET admin /stats/prometheus (flushes histograms: stats_flush_on_admin). */
  prometheus(): Promise<string>;
  counter(name: string): bigint;
  gauge(name: string): bigint;
  errors(): string[];
  close(): Promise<void>;
}

export const STAT = (name: string) => `wasmcustom.edgewatch.${name}`;

export async function startEdgeProxy(opts: EdgeProxyOptions = {}): Promise<EdgeProxy> {
  const workers = opts.workers ?? 1;
  const upstream = await startUpstreamServer();
  const ownCollector = opts.collector && !opts.sharedCollector ? await startOtlpCollector() : null;
  const collector = opts.sharedCollector ?? ownCollector;
  const logs: LogEntry[] = [];
  const logger = new HostLogger({
    level: "info", stderrLevel: "off",
    sink: (e) => { logs.push(e); if (logs.length > 20000) logs.splice(0, 10000); },
  });
  const routes: RouteConfig[] = (opts.routes ?? [{ name: "default", match: { prefix: "/" } }]).map((r) => ({
    timeoutMs: 10_000, ...r, cluster: r.cluster ?? "upstream",
  }));
  const config: ProxyConfig = {
    node: { id: "edgewatch-telemetry-test", cluster: "edgewatch" },
    listener: { address: "127.0.0.1", port: 0 },
    admin: { address: "127.0.0.1", port: 0 },
    workers,
    routes,
    clusters: [
      { name: "upstream", address: "127.0.0.1", port: upstream.port },
      ...(collector ? [{ name: "otel", address: "127.0.0.1", port: collector.port }] : []),
    ],
    plugin: {
      name: "edgewatch", rootId: "edgewatch", vmId: "edgewatch", wasmPath: FILTER_WASM,
      configuration: JSON.stringify(opts.plugin ?? {}), failOpen: false,
    },
    stats: defaultStatsConfig({ flushOnAdmin: true }),
    xffNumTrustedHops: opts.xffNumTrustedHops ?? 0,
  };
  let proxy: EmbeddedProxy;
  try {
    proxy = await startEmbeddedProxy(config, { logger });
  } catch (err) {
    await upstream.close();
    await ownCollector?.close();
    throw err;
  }
  const url = proxy.listenerUrl;
  const pool = new Client(url, { pipelining: 1, connections: 64, keepAliveTimeout: 30_000 } as any);
  const probes = await pinWorkerProbes(proxy, workers);

  async function get(path: string, headers: Record<string, string> = {}, client?: Client): Promise<Answer> {
    const r = client
      ? await client.request({ path, method: "GET", headers })
      : await request(url + path, { method: "GET", headers });
    const body = await r.body.text();
    let upstreamHeaders: Record<string, string> = {};
    if (r.headers["x-edgewatch-rule"] === undefined) {
      try {
        const echo = JSON.parse(body);
        if (echo && typeof echo.headers === "object") upstreamHeaders = echo.headers;
      } catch { /* not an echo */ }
    }
    return { status: r.statusCode, headers: r.headers, body, upstreamHeaders };
  }

  async function many(n: number, concurrency: number, make: (i: number) => { path: string; headers?: Record<string, string> }): Promise<Answer[]> {
    const out: Answer[] = new Array(n);
    let next = 0;
    const clients = Array.from({ length: concurrency }, () => new Client(url, { pipelining: 1, keepAliveTimeout: 30_000 }));
    try {
      await Promise.all(clients.map(async (c) => {
        while (true) {
          const i = next++;
          if (i >= n) return;
          const { path, headers } = make(i);
          out[i] = await get(path, headers ?? {}, c);
        }
      }));
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
    }
    return out;
  }

  return {
    proxy, upstream, collector, logs, workers, probes,
    get,
    many,
    async prometheus() {
      const r = await request(`${proxy.adminUrl}/stats/prometheus`);
      return r.body.text();
    },
    counter: (name) => proxy.stats.counter(name).value(),
    gauge: (name) => proxy.stats.gauge(name).value(),
    errors: () => logs.filter((e) => e.level === "error" || e.level === "critical").map((e) => e.message),
    async close() {
      await pool.close().catch(() => {});
      for (const c of probes) await c?.close().catch(() => {});
      await proxy.close();
      await upstream.close();
      await ownCollector?.close();
    },
  };
}

/** Parse Prometheus text into samples: name, labels, value. */
export interface PromLine { name: string; labels: Record<string, string>; value: number }

export function parsePrometheus(text: string): PromLine[] {
  const out: PromLine[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) {
      for (const lm of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    }
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Value of the first sample matching name and labels (undefined if none). */
export function sample(lines: PromLine[], name: string, labels: Record<string, string> = {}): number | undefined {
  const l = lines.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return l?.value;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function eventually(fn: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

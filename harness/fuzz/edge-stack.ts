/**
 * The full stack for fault tests and the soak, all on loopback: the embedded proxy with the product
 * filter, the upstream echo fixture, the rules service fixture (long-poll), the OTLP collector
 * fixture, a "resetter" upstream (answers with a partial body, then destroys the socket) and a
 * "blackhole" (accepts connections, never answers: http_call timeouts).
 *
 * Counters are read the way an operator reads them: GET /stats/prometheus on the admin port.
 */
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { Client, request } from "undici";
import type { RouteConfig } from "../config/proxy-config.js";
import { startOtlpCollector, type OtlpCollector } from "../fixtures/otlp-collector.js";
import { startRulesService, type RulesService, type RulesServiceOptions } from "../fixtures/rules-service.js";
import { startUpstreamServer, type UpstreamServer } from "../fixtures/upstream-server.js";
import { HostLogger, type LogEntry } from "../host/logger.js";
import { startEmbeddedProxy, type EmbeddedProxy } from "../proxy/embedded-proxy.js";
import { proxyOptions } from "../stack/proxy-options.js";

// ------------------------------------------------------------------------------------------------
// Fault upstreams

export interface Resetter {
  port: number;
  /** Requests answered so far. */
  readonly requests: number;
  /** true: partial body then socket destroyed; false: a normal 200. */
  resetting: boolean;
  close(): Promise<void>;
}

/** Sends 200 + content-length 65536, writes `partialBytes`, then destroys the socket (while `resetting`). */
export async function startResetter(partialBytes = 1000): Promise<Resetter> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const state = { resetting: true };
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on("end", () => {
      if (!state.resetting) {
        res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
        res.end("ok");
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "65536" });
      res.write(Buffer.alloc(partialBytes, 0x61), () => setTimeout(() => req.socket.destroy(), 2));
    });
  });
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    get requests() { return requests; },
    get resetting() { return state.resetting; },
    set resetting(v: boolean) { state.resetting = v; },
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

export interface Blackhole {
  port: number;
  readonly connections: number;
  close(): Promise<void>;
}

/** Accepts TCP connections and reads forever without answering. */
export async function startBlackhole(): Promise<Blackhole> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((s) => {
    connections++;
    sockets.add(s);
    s.on("data", () => {});
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() { return connections; },
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

// ------------------------------------------------------------------------------------------------
// Prometheus text

export interface PromSample { name: string; labels: Record<string, string>; value: number }

export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) for (const lm of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples of `name` whose labels include `labels`. */
export function promSum(samples: PromSample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

// ------------------------------------------------------------------------------------------------

export interface EdgeStackOptions {
  workers?: number;
  /** Plugin configuration object (JSON-serialized). Cluster names: upstream, rules, otel, resetter, blackhole. */
  plugin: Record<string, unknown>;
  rulesService?: RulesServiceOptions;
  /** Extra routes before the catch-all. */
  routes?: RouteConfig[];
  logCapacity?: number;
}

export interface EdgeStack {
  proxy: EmbeddedProxy;
  upstream: UpstreamServer;
  rules: RulesService;
  collector: OtlpCollector;
  resetter: Resetter;
  blackhole: Blackhole;
  logs: LogEntry[];
  url: string;
  get(path: string, headers?: Record<string, string>, client?: Client): Promise<{ status: number; headers: Record<string, unknown>; body: string; error?: string }>;
  prometheus(): Promise<PromSample[]>;
  /** Value of an edgewatch_* Prometheus series (summed over matching labels). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export async function startEdgeStack(opts: EdgeStackOptions): Promise<EdgeStack> {
  const upstream = await startUpstreamServer();
  const rules = await startRulesService(opts.rulesService ?? {});
  const collector = await startOtlpCollector();
  const resetter = await startResetter();
  const blackhole = await startBlackhole();
  const logs: LogEntry[] = [];
  const cap = opts.logCapacity ?? 20000;
  const logger = new HostLogger({ level: "info", stderrLevel: "off", sink: (e) => { logs.push(e); if (logs.length > cap) logs.splice(0, cap / 2); } });
  const config = proxyOptions()
    .withNode({ id: "edgewatch-reliability", cluster: "edgewatch" })
    .withWorkers(opts.workers ?? 2)
    .withRoutes([
      ...(opts.routes ?? []),
      { name: "reset", match: { prefix: "/reset" }, cluster: "resetter", timeoutMs: 5000 },
      { name: "default", match: { prefix: "/" }, timeoutMs: 10000 },
    ])
    .withCluster({ name: "resetter", address: "127.0.0.1", port: resetter.port })
    .withCluster({ name: "blackhole", address: "127.0.0.1", port: blackhole.port, connectTimeoutMs: 500 })
    .withPlugin(opts.plugin)
    .toProxyConfig({ upstream: upstream.port, rules: rules.port, collector: collector.port });
  let proxy: EmbeddedProxy;
  try {
    proxy = await startEmbeddedProxy(config, { logger });
  } catch (err) {
    await Promise.all([upstream.close(), rules.close(), collector.close(), resetter.close(), blackhole.close()]);
    throw err;
  }
  const url = proxy.listenerUrl;
  async function prometheus(): Promise<PromSample[]> {
    const r = await request(`${proxy.adminUrl}/stats/prometheus`);
    return parsePrometheusText(await r.body.text());
  }
  return {
    proxy, upstream, rules, collector, resetter, blackhole, logs, url,
    async get(path, headers = {}, client) {
      try {
        const r = client ? await client.request({ path, method: "GET", headers }) : await request(url + path, { method: "GET", headers });
        const body = await r.body.text();
        return { status: r.statusCode, headers: r.headers, body };
      } catch (err) {
        return { status: 0, headers: {}, body: "", error: (err as Error).message };
      }
    },
    prometheus,
    async metric(name, labels = {}) {
      return promSum(await prometheus(), name, labels);
    },
    async close() {
      await proxy.close();
      await Promise.all([upstream.close(), rules.close(), collector.close(), resetter.close(), blackhole.close()]);
    },
  };
}

export async function waitUntil(fn: () => boolean | Promise<boolean>, timeoutMs: number, what: string, stepMs = 20): Promise<void> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

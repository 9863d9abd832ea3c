/**
 * Test support: an embedded proxy running one of the host's test filters in front of the upstream
 * echo fixture, plus a few undici helpers. Everything listens on 127.0.0.1 with ephemeral ports.
 */
import { resolve } from "node:path";
import { Client, request } from "undici";
import type { ProxyConfig, WasmPluginConfig } from "../../../harness/config/proxy-config.js";
import { proxyOptions } from "../../../harness/stack/proxy-options.js";
import { startUpstreamServer, type UpstreamServer } from "../../../harness/fixtures/upstream-server.js";
import { HostLogger } from "../../../harness/host/logger.js";
import { startEmbeddedProxy, type EmbeddedProxy, type EmbeddedProxyOptions } from "../../../harness/proxy/embedded-proxy.js";

export const ROOT = resolve(import.meta.dirname, "../../..");

export function testFilter(name: string): string {
  return resolve(ROOT, "build/test-filters", `${name}.wasm`);
}

export function baseConfig(upstreamPort: number, plugin: Partial<WasmPluginConfig> = {}): ProxyConfig {
  let o = proxyOptions()
    .withNode({ id: "edgewatch-test-node", cluster: "edgewatch-test-cluster" })
    .withWorkers(2)
    .withRoutes([
      { name: "api", match: { prefix: "/api" }, timeoutMs: 3000 },
      { name: "exact", match: { path: "/exact" }, timeoutMs: 15000 },
      { name: "nowhere", match: { prefix: "/nowhere" }, cluster: "missing-cluster", timeoutMs: 15000 },
      { name: "dead", match: { prefix: "/dead" }, cluster: "dead", timeoutMs: 15000 },
      { name: "default", match: { prefix: "/" }, timeoutMs: 3000 },
    ])
    // Port 9 (discard) on loopback: nothing listens there, connections are refused.
    .withCluster({ name: "dead", address: "127.0.0.1", port: 9 })
    .withStats({ flushIntervalMs: 1000, flushOnAdmin: true, histogramBucketSettings: [], statsTags: [] })
    .withPluginIdentity({ name: plugin.name ?? "test-plugin", rootId: plugin.rootId ?? "test_root", vmId: plugin.vmId ?? "test_vm" })
    .withWasm(plugin.wasmPath ?? testFilter("headers"))
    .withPlugin(plugin.configuration ?? "")
    .withFailOpen(plugin.failOpen ?? false);
  if (plugin.vmConfiguration !== undefined) o = o.withVmConfiguration(plugin.vmConfiguration);
  return o.toProxyConfig({ upstream: upstreamPort });
}

export interface TestProxy {
  proxy: EmbeddedProxy;
  upstream: UpstreamServer;
  logger: HostLogger;
  config: ProxyConfig;
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
  send(method: string, path: string, headers?: Record<string, string>, body?: string): Promise<Answer>;
  close(): Promise<void>;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = EchoBody>(): T;
}

export interface EchoBody {
  upstream: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  rawHeaders: string[];
  body: string;
}

export async function startTestProxy(
  filter: string,
  opts: { plugin?: Partial<WasmPluginConfig>; config?: (c: ProxyConfig) => ProxyConfig; proxy?: EmbeddedProxyOptions } = {},
): Promise<TestProxy> {
  const upstream = await startUpstreamServer();
  const logger = opts.proxy?.logger ?? new HostLogger({ stderrLevel: "off", componentLogLevel: "wasm:debug" });
  let config = baseConfig(upstream.port, { wasmPath: testFilter(filter), ...opts.plugin });
  if (opts.config) config = opts.config(config);
  let proxy: EmbeddedProxy;
  try {
    proxy = await startEmbeddedProxy(config, { localAddress: "10.9.9.9", ...opts.proxy, logger });
  } catch (err) {
    await upstream.close();
    throw err;
  }
  const send = async (method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> => {
    const r = await request(proxy.listenerUrl + path, { method: method as "GET", headers, body, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const text = await r.body.text();
    return { status: r.statusCode, headers: r.headers, text, json: <T>() => JSON.parse(text) as T };
  };
  return {
    proxy,
    upstream,
    logger,
    config,
    get: (path, headers) => send("GET", path, headers),
    send,
    close: async () => {
      await proxy.close();
      await upstream.close();
    },
  };
}

/** A client bound to one connection (Envoy pins a connection to one worker). */
export function connection(url: string): Client {
  return new Client(url, { pipelining: 1 });
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, stepMs = 10): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Wasm log messages ("wasm log <prefix>: msg" → msg) in order. */
export function wasmMessages(logger: HostLogger, vm?: string): string[] {
  return logger
    .entries({ component: "wasm", vm })
    .map((e) => e.message)
    .filter((m) => m.startsWith("wasm log"))
    .map((m) => m.slice(m.indexOf(": ") + 2));
}

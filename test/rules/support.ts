/**
 * Test/bench support: the product filter (build/edgewatch.wasm) in the embedded proxy, an upstream
 * echo server, optionally the rules-service fixture, and one keep-alive probe connection pinned to
 * each worker VM (the proxy assigns connections to workers round-robin; each probe's worker is
 * identified from the host's per-VM stream counters, so the mapping is checked, not assumed).
 *
 * Client addresses: by default the plugin reads the client address from X-Forwarded-For with one
 * trusted hop (the embedded HCM appends the peer like Envoy with use_remote_address), so a test
 * chooses the client address by sending `x-forwarded-for: <addr>`.
 */
import { pinWorkerProbes } from "../support/worker-probes.js";
import { Client } from "undici";
import { FILTER_WASM, REPO_ROOT, proxyOptions } from "../../harness/stack/proxy-options.js";
import { startUpstreamServer, type UpstreamServer } from "../../harness/fixtures/upstream-server.js";
import { startRulesService, type RulesService } from "../../harness/fixtures/rules-service.js";
import { SnapshotBuilder } from "../../harness/rules/snapshot-builder.js";
import { HostLogger, type LogEntry } from "../../harness/host/logger.js";
import { startEmbeddedProxy, type EmbeddedProxy } from "../../harness/proxy/embedded-proxy.js";
import { SharedDataStore } from "../../harness/host/shared-data.js";
import { SharedQueueStore } from "../../harness/host/shared-queues.js";

export { SharedDataStore, SharedQueueStore };

export const ROOT = REPO_ROOT;
export { FILTER_WASM };

export interface RulesProxyOptions {
  workers?: number;
  /** Plugin configuration (object → JSON, string → verbatim). */
  plugin?: object | string;
  /** Start the rules-service fixture and add cluster "rules" for it. */
  rulesService?: boolean;
  /** The rules service also serves rules snapshots built by the filter's .wasm. */
  snapshots?: boolean;
  xffNumTrustedHops?: number;
  /** Keep log entries at this level and above (default info). */
  logLevel?: "debug" | "info" | "warn";
  /** Use this rules service (shared with another proxy) instead of starting one; it is not closed by close(). */
  rulesServiceInstance?: RulesService;
  /** Share shared data and queues with another proxy (more VMs of one Envoy process). */
  stores?: { sharedData: SharedDataStore; queues: SharedQueueStore };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RulesProxy {
  proxy: EmbeddedProxy;
  upstream: UpstreamServer;
  rules: RulesService | null;
  logger: HostLogger;
  logs: LogEntry[];
  workers: number;
  /** probes[i] is a keep-alive connection served by worker i. */
  probes: Client[];
  /** A request on the shared pool (any worker) or on a given probe. */
  get(path: string, headers?: Record<string, string | string[]>, client?: Client): Promise<Answer>;
  counter(name: string): bigint;
  gauge(name: string): bigint;
  warnings(): string[];
  push(plugin: object | string): Promise<void>;
  close(): Promise<void>;
}

export const STAT = (name: string) => `wasmcustom.edgewatch.${name}`;

export function rulesServiceConfig(extra: object = {}): object {
  return { cluster: "rules", authority: "rules.test", path: "/rules", long_poll_ms: 10_000, timeout_ms: 15_000, backoff_base_ms: 50, backoff_max_ms: 500, tick_ms: 20, lease_ms: 400, ...extra };
}

export const XFF_ONE_HOP = { client_address: { source: "xff", xff_trusted_hops: 1 } };

export async function startRulesProxy(opts: RulesProxyOptions = {}): Promise<RulesProxy> {
  const workers = opts.workers ?? 2;
  const upstream = await startUpstreamServer();
  const ownRules = opts.rulesService && !opts.rulesServiceInstance;
  const rules = opts.rulesServiceInstance ??
    (opts.rulesService ? await startRulesService(opts.snapshots ? { snapshots: await SnapshotBuilder.load(FILTER_WASM) } : {}) : null);
  const logs: LogEntry[] = [];
  const logger = new HostLogger({ level: opts.logLevel ?? "info", stderrLevel: "off", sink: (e) => { logs.push(e); if (logs.length > 20000) logs.splice(0, 10000); } });
  const plugin = opts.plugin ?? XFF_ONE_HOP;
  const config = proxyOptions()
    .withNode({ id: "edgewatch-rules-test", cluster: "edgewatch" })
    .withWorkers(workers)
    .withRoutes([{ name: "api", match: { prefix: "/api" }, timeoutMs: 5000 }, { name: "default", match: { prefix: "/" }, timeoutMs: 5000 }])
    .withPlugin(plugin)
    .withXffTrustedHops(opts.xffNumTrustedHops ?? 0)
    .toProxyConfig({ upstream: upstream.port, rules: rules?.port });
  let proxy: EmbeddedProxy;
  try {
    proxy = await startEmbeddedProxy(config, { logger, sharedData: opts.stores?.sharedData, queues: opts.stores?.queues });
  } catch (err) {
    await upstream.close();
    if (ownRules) await rules?.close();
    throw err;
  }
  const url = proxy.listenerUrl;
  const pool = new Client(url, { pipelining: 1, keepAliveTimeout: 30_000 });
  const probes = await pinWorkerProbes(proxy, workers);
  if (probes.filter(Boolean).length !== workers) throw new Error("could not pin a probe connection to every worker");

  async function get(path: string, headers: Record<string, string | string[]> = {}, client: Client = pool): Promise<Answer> {
    const r = await client.request({ path, method: "GET", headers });
    const body = await r.body.text();
    return { status: r.statusCode, headers: r.headers, body };
  }

  let closed = false;
  return {
    proxy, upstream, rules, logger, logs, workers, probes,
    get,
    counter: (name) => proxy.stats.counter(name).value(),
    gauge: (name) => proxy.stats.gauge(name).value(),
    warnings: () => logs.filter((e) => e.level === "warn" || e.level === "error").map((e) => e.message),
    push: (p) => proxy.updatePluginConfiguration(typeof p === "string" ? p : JSON.stringify(p)),
    async close() {
      if (closed) return;
      closed = true;
      await pool.close().catch(() => {});
      for (const c of probes) await c.close().catch(() => {});
      await proxy.close();
      await upstream.close();
      if (ownRules) await rules?.close();
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `fn` until it returns true (or throw after timeoutMs). */
export async function eventually(fn: () => boolean | Promise<boolean>, timeoutMs = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Plugin configuration with pushed rules. */
export function withRules(rules: object, base: object = XFF_ONE_HOP): object {
  return { ...base, rules };
}

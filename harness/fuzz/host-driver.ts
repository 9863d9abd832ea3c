/**
 * A call-level driver for fuzzing the product filter through the REAL embedded proxy-wasm host
 * (harness/host: PluginHost, WasmVm, HttpStream, http_call, shared data/queues) without sockets:
 *
 *   - requests are HttpStreams with an in-memory sink (no listener, no upstream: the "router"
 *     answers with a fixed status the moment the filter lets the request through);
 *   - plugin configurations go through PluginHost.updatePluginConfiguration (Envoy's ECDS path:
 *     canary VM, then a new root context per VM; a rejection keeps the old root);
 *   - proxy_http_call to the clusters "fuzz_rules" and "fuzz_collector" is served in process by a
 *     fake cluster: the rules fetcher's long polls are held until the fuzzer hands out the next
 *     document as raw bytes (so invalid UTF-8, truncations and 10 MB bodies reach the filter exactly),
 *     and span exports are answered 200 at once.
 *
 * Everything a trap would change is observable: WasmVm.failed on every VM and the host's
 * `wasm.edgewatch.vm_failed` counter.
 */
import type { Dispatcher } from "undici";
import type { ClusterConfig } from "../config/proxy-config.js";
import { HeaderMap } from "../host/header-map.js";
import { HttpStream, type StreamSink } from "../host/http-stream.js";
import { HostLogger } from "../host/logger.js";
import { PluginHost } from "../host/plugin-host.js";
import { UpstreamClusters, type Cluster } from "../host/upstream-clusters.js";
import type { WasmVm } from "../host/vm.js";
import { StatsStore } from "../stats/stats-store.js";
import { FILTER_WASM, REPO_ROOT, proxyOptions } from "../stack/proxy-options.js";

export { FILTER_WASM, REPO_ROOT };
export const RULES_CLUSTER = "fuzz_rules";
export const COLLECTOR_CLUSTER = "fuzz_collector";

// ------------------------------------------------------------------------------------------------
// In-process clusters

interface HeldCall {
  path: string;
  headers: Record<string, string>;
  handler: Dispatcher.DispatchHandler;
  aborted: boolean;
  at: number;
}

type Reply = { status: number; headers?: Record<string, string>; body?: Buffer } | "reset";

/** A fake undici Pool: each dispatch is handed to `onCall`, which answers now or later. */
class InProcessPool {
  constructor(private readonly onCall: (call: HeldCall) => void) {}

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const headers: Record<string, string> = {};
    const h = opts.headers as string[] | undefined;
    if (Array.isArray(h)) for (let i = 0; i + 1 < h.length; i += 2) headers[String(h[i]).toLowerCase()] = String(h[i + 1]);
    const call: HeldCall = { path: String(opts.path), headers, handler, aborted: false, at: performance.now() };
    handler.onConnect?.((_err?: Error) => { call.aborted = true; });
    this.onCall(call);
    return true;
  }

  async destroy(): Promise<void> {}
  async close(): Promise<void> {}
}

function answer(call: HeldCall, reply: Reply): void {
  if (call.aborted) return;
  const h = call.handler;
  // Completion must come from the event loop, never inside the guest's hostcall.
  setImmediate(() => {
    if (call.aborted) return;
    if (reply === "reset") {
      h.onError?.(Object.assign(new Error("socket hang up"), { code: "UND_ERR_SOCKET" }));
      return;
    }
    const raw: Buffer[] = [];
    for (const [k, v] of Object.entries(reply.headers ?? {})) raw.push(Buffer.from(k), Buffer.from(v));
    const body = reply.body ?? Buffer.alloc(0);
    raw.push(Buffer.from("content-length"), Buffer.from(String(body.length)));
    h.onHeaders?.(reply.status, raw, () => {}, "");
    if (body.length > 0) h.onData?.(body);
    h.onComplete?.([]);
  });
}

class FuzzClusters extends UpstreamClusters {
  private readonly fake = new Map<string, Cluster>();

  constructor(real: readonly ClusterConfig[]) {
    super(real);
  }

  addFake(name: string, onCall: (call: HeldCall) => void): void {
    const pool = new InProcessPool(onCall) as unknown as Cluster["pool"];
    this.fake.set(name, { config: { name, address: "127.0.0.1", port: 1 }, origin: "http://127.0.0.1:1", pool });
  }

  override get(name: string): Cluster | undefined {
    return this.fake.get(name) ?? super.get(name);
  }

  override names(): string[] {
    return [...this.fake.keys(), ...super.names()];
  }
}

// ------------------------------------------------------------------------------------------------
// Requests

export interface RequestSpec {
  /** Downstream peer (source.address). Default 192.0.2.1:40000. */
  source?: { ip: string; port: number };
  /** Request headers (pseudo headers included). Default GET /probe. */
  headers?: Array<[string, string]>;
  /** Use HeaderMap.append (one entry per pair, no inline comma merge). */
  rawAppend?: boolean;
  /** xds.route_name. */
  routeName?: string;
  /** Status the "router" answers when the filter lets the request through. */
  upstreamStatus?: number;
}

export interface RequestOutcome {
  /** Final status seen downstream (0: reset / no response). */
  status: number;
  /** The response is a local reply (filter deny, cold-start deny, or a failed filter). */
  local: boolean;
  /** Response code details (e.g. "edgewatch_denied:<id>", "wasm_fail_stream"). */
  details: string | undefined;
  /** x-edgewatch-rule of the response, if any. */
  ruleHeader: string | undefined;
  /** Request headers as forwarded upstream (null: not forwarded). */
  forwarded: HeaderMap | null;
  responseHeaders: HeaderMap | null;
  body: string;
}

class MemorySink implements StreamSink {
  forwarded: HeaderMap | null = null;
  headers: HeaderMap | null = null;
  body: Buffer[] = [];
  resetDetails: string | null = null;
  ended = false;
  constructor(private readonly onRoute: (h: HeaderMap, end: boolean) => void) {}
  routeHeaders(headers: HeaderMap, endStream: boolean): void { this.forwarded = headers.clone(); this.onRoute(headers, endStream); }
  routeData(): void {}
  routeTrailers(): void {}
  sendHeaders(headers: HeaderMap, endStream: boolean): void { this.headers = headers; if (endStream) this.ended = true; }
  sendData(data: { toBuffer?: () => Buffer } & object, endStream: boolean): void {
    const b = (data as unknown as { toBuffer(): Buffer }).toBuffer?.();
    if (b) this.body.push(b);
    if (endStream) this.ended = true;
  }
  sendTrailers(): void { this.ended = true; }
  reset(details: string): void { this.resetDetails = details; this.ended = true; }
  abortUpstream(): void {}
  clearRouteCache(): void {}
}

// ------------------------------------------------------------------------------------------------

export interface FuzzHostOptions {
  /** Initial plugin configuration (must be accepted). */
  configuration: string;
  workers?: number;
  wasmPath?: string;
  /** Fail open (default false: a failed VM answers 503, which the properties notice). */
  failOpen?: boolean;
  /** Real clusters (loopback) in addition to the in-process fuzz_rules / fuzz_collector. */
  clusters?: ClusterConfig[];
  /** Collector answer (default 200). */
  collectorStatus?: number;
  logCapacity?: number;
}

export interface PushResult {
  accepted: boolean;
  /** Error code of the rejection (PLUGIN_CONFIG_REJECTED, WASM_RUNTIME_ERROR, ...). */
  code?: string;
  message?: string;
  ms: number;
}

export interface ServeResult {
  /** The filter asked for the next document (it finished with this one). */
  repolled: boolean;
  ms: number;
}

export class FuzzHost {
  readonly host: PluginHost;
  readonly stats: StatsStore;
  readonly logger: HostLogger;
  private readonly clusters: FuzzClusters;
  private rr = 0;
  /** Long polls of the rules fetcher waiting for a document. */
  private readonly polls: HeldCall[] = [];
  private pollWaiters: Array<() => void> = [];
  pollCount = 0;
  exportCount = 0;
  exportBytes = 0;
  collectorStatus: number;
  private etagSerial = 0;

  private constructor(host: PluginHost, stats: StatsStore, logger: HostLogger, clusters: FuzzClusters, collectorStatus: number) {
    this.host = host;
    this.stats = stats;
    this.logger = logger;
    this.clusters = clusters;
    this.collectorStatus = collectorStatus;
  }

  static async start(opts: FuzzHostOptions): Promise<FuzzHost> {
    // The plugin and stats pieces of the one ProxyConfig builder; no listener or upstream is used
    // (requests are driven call by call, the clusters below are in-process).
    let options = proxyOptions().withPlugin(opts.configuration).withWorkers(opts.workers ?? 1).withFailOpen(opts.failOpen ?? false);
    if (opts.wasmPath) options = options.withWasm(opts.wasmPath);
    const { plugin, stats: statsConfig, workers } = options.toProxyConfig({ upstream: 0 });
    const stats = new StatsStore(statsConfig);
    const logger = new HostLogger({ level: "info", stderrLevel: "off", capacity: opts.logCapacity ?? 2000 });
    const clusters = new FuzzClusters(opts.clusters ?? []);
    let self: FuzzHost | null = null;
    const early: HeldCall[] = [];
    clusters.addFake(RULES_CLUSTER, (call) => {
      if (self) self.onPoll(call);
      else early.push(call);
    });
    clusters.addFake(COLLECTOR_CLUSTER, (call) => {
      if (self) {
        self.exportCount++;
        answer(call, { status: self.collectorStatus, headers: { "content-type": "application/json" }, body: Buffer.from("{}") });
      } else answer(call, { status: 200, body: Buffer.from("{}") });
    });
    const host = await PluginHost.load(plugin, { stats, logger, clusters, workers });
    self = new FuzzHost(host, stats, logger, clusters, opts.collectorStatus ?? 200);
    for (const c of early) self.onPoll(c);
    return self;
  }

  // ---------------------------------------------------------------- health

  /** Any VM failed (trapped) or the host counted a VM failure. */
  trapped(): boolean {
    return this.host.vms.some((v) => v.failed) || this.stats.counter("wasm.edgewatch.vm_failed").value() > 0n;
  }

  trapMessage(): string {
    return this.host.vms.filter((v) => v.failed).map((v) => `${v.label}: ${v.failMessage}`).join("\n");
  }

  // ---------------------------------------------------------------- stats

  counter(name: string): bigint {
    return this.stats.counter(`wasmcustom.${name}`).value();
  }

  gauge(name: string): bigint {
    return this.stats.gauge(`wasmcustom.${name}`).value();
  }

  /** Sum of every counter whose (full) name matches. */
  sumCounters(re: RegExp): bigint {
    let sum = 0n;
    const json = this.stats.renderJson() as { stats?: Array<{ name: string; value?: number }> };
    for (const s of json.stats ?? []) if (re.test(s.name) && typeof s.value === "number") sum += BigInt(s.value);
    return sum;
  }

  reloadFailures(reason: string): bigint {
    return this.counter(`edgewatch.reason=.=${reason};.;rules_reload_failures_total`);
  }

  // ---------------------------------------------------------------- configuration (push)

  async push(configuration: string): Promise<PushResult> {
    const t0 = performance.now();
    try {
      await this.host.updatePluginConfiguration(configuration);
      return { accepted: true, ms: performance.now() - t0 };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      return { accepted: false, code: e.code, message: e.message, ms: performance.now() - t0 };
    }
  }

  // ---------------------------------------------------------------- requests

  /** The worker VMs in round-robin order (Envoy assigns connections to workers). */
  private nextWorker(): WasmVm {
    const w = this.host.workers[this.rr % this.host.workers.length];
    this.rr++;
    return w;
  }

  /** One complete request through the filter on the next worker; synchronous. */
  request(spec: RequestSpec = {}, vm?: WasmVm): RequestOutcome {
    const stream = new HttpStream();
    const upstreamStatus = spec.upstreamStatus ?? 200;
    let routed = false;
    const sink = new MemorySink(() => { routed = true; });
    stream.sink = sink;
    stream.info.downstreamRemote = spec.source ?? { ip: "192.0.2.1", port: 40000 };
    stream.info.downstreamLocal = { ip: "127.0.0.1", port: 10000 };
    if (spec.routeName !== undefined) stream.info.routeName = spec.routeName;
    stream.attachFilter(vm ?? this.nextWorker(), this.host.failOpen);
    const headers = new HeaderMap("request");
    const pairs = spec.headers ?? [[":method", "GET"], [":path", "/probe"], [":authority", "edge.test"], [":scheme", "http"]];
    for (const [k, v] of pairs) {
      if (spec.rawAppend) headers.append(k.toLowerCase(), v);
      else headers.addCopy(k.toLowerCase(), v);
    }
    stream.decodeHeaders(headers, true);
    if (routed && !stream.localReplySent) {
      const resp = new HeaderMap("response");
      resp.append(":status", String(upstreamStatus));
      resp.append("content-length", "0");
      stream.info.responseCode = undefined;
      stream.upstreamHeaders(resp, true);
    }
    stream.complete();
    const out = sink.headers;
    const status = sink.resetDetails !== null ? 0 : Number(out?.get(":status") ?? 0);
    return {
      status,
      local: stream.localReplySent,
      details: stream.info.responseCodeDetails,
      ruleHeader: out?.get("x-edgewatch-rule"),
      forwarded: routed ? sink.forwarded : null,
      responseHeaders: out,
      body: Buffer.concat(sink.body).toString("latin1"),
    };
  }

  // ---------------------------------------------------------------- rules service (pull)

  private onPoll(call: HeldCall): void {
    this.pollCount++;
    this.polls.push(call);
    const w = this.pollWaiters;
    this.pollWaiters = [];
    for (const f of w) f();
  }

  /** Wait until a long poll is held (the fetcher asked), up to timeoutMs. */
  async waitForPoll(timeoutMs = 5000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      while (this.polls.length > 0 && this.polls[0].aborted) this.polls.shift();
      if (this.polls.length > 0) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((res) => {
        const t = setTimeout(() => { this.pollWaiters = this.pollWaiters.filter((f) => f !== done); res(); }, Math.min(left, 50));
        const done = () => { clearTimeout(t); res(); };
        this.pollWaiters.push(done);
      });
    }
  }

  /**
   * Answer the held poll with `body` (raw bytes) and wait until the filter asked again (it has
   * validated, published or rejected the document) or `settleMs` passed. Every document gets a new
   * ETag so the fetcher never mistakes it for the previous one.
   */
  async serve(body: Buffer, opts: { status?: number; etag?: string | null; settleMs?: number; reset?: boolean } = {}): Promise<ServeResult> {
    const t0 = performance.now();
    if (!(await this.waitForPoll(opts.settleMs ?? 5000))) throw new Error("rules fetcher never polled");
    const call = this.polls.shift()!;
    const before = this.pollCount;
    const etag = opts.etag === undefined ? `"fz-${++this.etagSerial}"` : opts.etag;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (etag !== null) headers.etag = etag;
    answer(call, opts.reset ? "reset" : { status: opts.status ?? 200, headers, body });
    const deadline = performance.now() + (opts.settleMs ?? 5000);
    while (this.pollCount === before && performance.now() < deadline) {
      await new Promise<void>((res) => {
        const t = setTimeout(() => { this.pollWaiters = this.pollWaiters.filter((f) => f !== done); res(); }, Math.max(1, Math.min(50, deadline - performance.now())));
        const done = () => { clearTimeout(t); res(); };
        this.pollWaiters.push(done);
      });
    }
    // Queue notifications to the other VMs are posted with setImmediate: let them run.
    await settle();
    return { repolled: this.pollCount > before, ms: performance.now() - t0 };
  }

  /** Number of polls held right now. */
  get heldPolls(): number {
    return this.polls.filter((p) => !p.aborted).length;
  }

  async close(): Promise<void> {
    for (const p of this.polls) answer(p, "reset");
    this.polls.length = 0;
    await this.host.close();
    await this.clusters.close();
  }
}

/** Let setImmediate callbacks (queue notifications, callout completions) run. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * The HTTP front end: a node:http listener standing in for Envoy's listener + HCM + router.
 * Each connection is assigned a worker VM round-robin (Envoy: a connection stays on one worker);
 * each request becomes an HttpStream through the Wasm filter, then the router forwards it to the
 * route's cluster and streams the response back through the filter.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { HCM_STAT_PREFIX, LISTENER_STAT_PREFIX, type ProxyConfig, type RouteConfig } from "../config/proxy-config.js";
import type { BodyBuffer } from "../host/body-buffer.js";
import { HeaderMap } from "../host/header-map.js";
import { upstreamFailureBody } from "../host/http-callout.js";
import { HttpStream, type StreamSink } from "../host/http-stream.js";
import type { PluginHost } from "../host/plugin-host.js";
import type { UpstreamClusters } from "../host/upstream-clusters.js";
import type { WasmVm } from "../host/vm.js";
import type { CounterStat, GaugeStat, StatsStoreApi } from "../stats/types.js";
import { buildRequestHeaders, normalizeIp, type HcmOptions } from "./request-headers.js";
import { DEFAULT_ROUTE_TIMEOUT_MS, RouteTable, VIRTUAL_HOST_NAME } from "./route-table.js";
import { UpstreamRequest, type UpstreamEvents } from "./upstream-request.js";

export { HCM_STAT_PREFIX };

/** Headers Envoy's HCM removes from responses after the filters (mutateResponseHeaders). */
const RESPONSE_HOP_BY_HOP = new Set(["connection", "transfer-encoding", "keep-alive", "proxy-connection", "upgrade"]);

interface ConnState {
  id: number;
  worker: WasmVm | null;
}

/**
 * Envoy's listener stats for the one listener (listener.<stat_prefix>.*, source/server/
 * active_listener_base.h ALL_LISTENER_STATS) and its per-handler stats: each worker's connection
 * handler adds its dispatcher name (`worker_<N>.`) to the listener scope
 * (ALL_PER_HANDLER_LISTENER_STATS: downstream_cx_total, downstream_cx_active). A connection is
 * counted once, on the worker that accepted it, and stays on that worker for its life.
 */
interface ListenerStats {
  cxTotal: CounterStat;
  cxActive: GaugeStat;
  cxDestroy: CounterStat;
  perWorker: Array<{ cxTotal: CounterStat; cxActive: GaugeStat }>;
}

export interface ProxyServerOptions {
  host: PluginHost | null;
  clusters: UpstreamClusters;
  stats: StatsStoreApi;
  hcm: HcmOptions;
  /** "connection" (Envoy) or "request" (spread single-connection clients over workers). */
  workerAssignment: "connection" | "request";
  /** HCM server_header_transformation OVERWRITE: server: envoy. */
  serverName: string;
}

let connectionSerial = 0;

interface HttpStats {
  rqTotal: CounterStat;
  rqActive: GaugeStat;
  rqByClass: CounterStat[];
}

export class ProxyServer {
  readonly server: Server;
  private readonly routes: RouteTable;
  private readonly conns = new WeakMap<Socket, ConnState>();
  private readonly sockets = new Set<Socket>();
  readonly liveStreams = new Set<HttpStream>();
  private readonly httpStats: HttpStats;
  private readonly listenerStats: ListenerStats;
  /** Round-robin over the worker threads (Envoy: the kernel balances connections across workers). */
  private nextWorkerIndex = 0;

  constructor(readonly config: ProxyConfig, readonly opts: ProxyServerOptions) {
    this.routes = new RouteTable(config.routes);
    const s = opts.stats;
    const p = `http.${HCM_STAT_PREFIX}`;
    this.httpStats = {
      rqTotal: s.counter(`${p}.downstream_rq_total`),
      rqActive: s.gauge(`${p}.downstream_rq_active`),
      rqByClass: [1, 2, 3, 4, 5].map((c) => s.counter(`${p}.downstream_rq_${c}xx`)),
    };
    const l = `listener.${LISTENER_STAT_PREFIX}`;
    const workers = Math.max(1, config.workers);
    this.listenerStats = {
      cxTotal: s.counter(`${l}.downstream_cx_total`),
      cxActive: s.gauge(`${l}.downstream_cx_active`),
      cxDestroy: s.counter(`${l}.downstream_cx_destroy`),
      perWorker: Array.from({ length: workers }, (_, i) => ({
        cxTotal: s.counter(`${l}.worker_${i}.downstream_cx_total`),
        cxActive: s.gauge(`${l}.worker_${i}.downstream_cx_active`),
      })),
    };
    this.server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => this.onRequest(req, res));
    this.server.on("connection", (socket: Socket) => {
      const host = opts.host;
      const index = this.nextWorkerIndex;
      this.nextWorkerIndex = (index + 1) % workers;
      const perWorker = this.listenerStats.perWorker[index]!;
      this.listenerStats.cxTotal.add(1n);
      this.listenerStats.cxActive.add(1n);
      perWorker.cxTotal.add(1n);
      perWorker.cxActive.add(1n);
      const worker = host && opts.workerAssignment === "connection" ? (host.workers[index % host.workers.length] ?? null) : null;
      this.conns.set(socket, { id: ++connectionSerial, worker });
      this.sockets.add(socket);
      socket.on("close", () => {
        this.sockets.delete(socket);
        this.listenerStats.cxDestroy.add(1n);
        this.listenerStats.cxActive.add(-1n);
        perWorker.cxActive.add(-1n);
      });
    });
  }

  async listen(address: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host: address, port }, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of [...this.liveStreams]) s.sink.reset("server_shutdown");
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    // Reset streams finish (on_log/on_done/on_delete) before the plugin host shuts down.
    const deadline = Date.now() + 1000;
    while (this.liveStreams.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    for (const s of [...this.liveStreams]) this.finish(s);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const conn = this.conns.get(socket) ?? { id: ++connectionSerial, worker: null };
    const host = this.opts.host;
    const worker = host === null ? null : conn.worker ?? host.nextWorker();
    const peerIp = normalizeIp(socket.remoteAddress);
    const { headers } = buildRequestHeaders(req.method ?? "GET", req.url ?? "/", req.rawHeaders, peerIp, this.opts.hcm);

    const stream = new HttpStream();
    const info = stream.info;
    info.connectionId = conn.id;
    info.protocol = req.httpVersion === "1.0" ? "HTTP/1.0" : "HTTP/1.1";
    info.downstreamRemote = { ip: peerIp, port: socket.remotePort ?? 0 };
    info.downstreamLocal = { ip: normalizeIp(socket.localAddress), port: socket.localPort ?? 0 };
    info.virtualHostName = VIRTUAL_HOST_NAME;
    const sink = new DownstreamSink(this, stream, req, res);
    stream.sink = sink;
    sink.resolveRoute(headers);
    this.httpStats.rqTotal.add(1n);
    this.httpStats.rqActive.add(1n);
    this.liveStreams.add(stream);
    if (host !== null) stream.attachFilter(worker, host.failOpen);

    res.on("close", () => {
      if (!res.writableFinished) sink.onDownstreamReset();
      this.finish(stream);
    });

    // HTTP/1: no Content-Length and no Transfer-Encoding (or Content-Length: 0) → no body.
    const te = req.headers["transfer-encoding"];
    const cl = req.headers["content-length"];
    const noBody = te === undefined && (cl === undefined || Number(cl) === 0);
    stream.decodeHeaders(headers, noBody);
    if (noBody) {
      req.resume();
      return;
    }
    sink.pumpRequestBody();
  }

  private finish(stream: HttpStream): void {
    if (!this.liveStreams.delete(stream)) return;
    this.httpStats.rqActive.add(-1n);
    const code = stream.info.responseCode;
    if (code !== undefined && code >= 100 && code < 600) this.httpStats.rqByClass[Math.floor(code / 100) - 1].add(1n);
    stream.complete();
  }

  matchRoute(path: string): RouteConfig | undefined {
    return this.routes.match(path);
  }
}

/** The stream's ends: router towards the cluster, codec towards the client. */
class DownstreamSink implements StreamSink, UpstreamEvents {
  private route: RouteConfig | undefined;
  private routeDirty = false;
  private upstream: UpstreamRequest | null = null;
  private congestedDownstream = false;
  private drainWaiters: Array<() => void> = [];
  private pendingChunk: Buffer | null = null;
  private bodyFlushScheduled = false;
  private requestEnded = false;

  constructor(
    private readonly proxy: ProxyServer,
    private readonly stream: HttpStream,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}

  private readonly onResDrain = (): void => {
    this.congestedDownstream = false;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const fn of w) fn();
  };

  /** HCM refreshCachedRoute: route and cluster are known when the filters see the headers. */
  resolveRoute(headers: HeaderMap): void {
    this.route = this.proxy.matchRoute(headers.get(":path") ?? "/");
    const info = this.stream.info;
    info.routeName = this.route?.name;
    info.clusterName = this.route?.cluster;
    this.routeDirty = false;
  }

  // ---------------------------------------------------------------- downstream request body

  /**
   * Envoy's HTTP/1 codec dispatches the data of one read together and puts end_stream on the last
   * frame when the message completes in that read; emulated by coalescing chunks per tick.
   */
  pumpRequestBody(): void {
    const req = this.req;
    req.on("data", (chunk: Buffer) => {
      this.pendingChunk = this.pendingChunk === null ? chunk : Buffer.concat([this.pendingChunk, chunk]);
      if (this.bodyFlushScheduled) return;
      this.bodyFlushScheduled = true;
      queueMicrotask(() => {
        this.bodyFlushScheduled = false;
        if (this.pendingChunk === null || this.requestEnded) return;
        const complete = req.complete && req.readableLength === 0 && req.rawTrailers.length === 0;
        const c = this.pendingChunk;
        this.pendingChunk = null;
        if (complete) this.requestEnded = true;
        this.stream.decodeData(c, complete);
      });
    });
    req.on("end", () => {
      if (this.requestEnded) return;
      this.requestEnded = true;
      const c = this.pendingChunk ?? Buffer.alloc(0);
      this.pendingChunk = null;
      const trailers = req.rawTrailers;
      if (trailers.length > 0) {
        if (c.length > 0) this.stream.decodeData(c, false);
        const t = new HeaderMap("request-trailers");
        for (let i = 0; i + 1 < trailers.length; i += 2) t.addCopy(trailers[i].toLowerCase(), trailers[i + 1]);
        this.stream.decodeTrailers(t);
      } else {
        this.stream.decodeData(c, true);
      }
    });
    req.on("error", () => this.onDownstreamReset());
  }

  // ---------------------------------------------------------------- StreamSink: router side

  clearRouteCache(): void {
    this.routeDirty = true;
  }

  routeHeaders(headers: HeaderMap, endStream: boolean): void {
    if (this.routeDirty) this.resolveRoute(headers);
    const route = this.route;
    const stream = this.stream;
    if (route === undefined) {
      stream.sendLocalReply(404, Buffer.alloc(0), [], null, "route_not_found");
      return;
    }
    const cluster = this.proxy.opts.clusters.get(route.cluster);
    if (cluster === undefined) {
      stream.sendLocalReply(503, Buffer.alloc(0), [], null, "cluster_not_found");
      return;
    }
    stream.info.upstreamHost = { ip: cluster.config.address, port: cluster.config.port };
    const up = new UpstreamRequest(cluster, this, route.timeoutMs ?? DEFAULT_ROUTE_TIMEOUT_MS);
    this.upstream = up;
    stream.info.upstreamRequestStartMono = performance.now();
    up.start(headers, endStream);
  }

  // ---------------------------------------------------------------- UpstreamEvents (router → filter chain)

  onHeaders(h: HeaderMap, endStream: boolean): void {
    const info = this.stream.info;
    info.upstreamFirstByteMono = this.upstream?.firstByteMono;
    if (info.responseCode === undefined) info.responseCode = Number(h.get(":status"));
    if (info.responseCodeDetails === undefined) info.responseCodeDetails = "via_upstream";
    this.stream.upstreamHeaders(h, endStream);
  }

  onData(chunk: Buffer, endStream: boolean): void {
    this.stream.upstreamData(chunk, endStream);
  }

  onTrailers(t: HeaderMap): void {
    this.stream.upstreamTrailers(t);
  }

  /** Envoy router: a reset before response headers becomes a local 503, after them a stream reset. */
  onFailure(beforeHeaders: boolean, err: unknown): void {
    if (beforeHeaders) {
      const code = (err as { code?: string })?.code;
      const reason = code === "ECONNREFUSED" ? "remote_connection_failure,delayed_connect_error:_111" : "connection_termination";
      this.stream.sendLocalReply(503, Buffer.from(upstreamFailureBody(err)), [], null, `upstream_reset_before_response_started{${reason}}`);
    } else {
      this.stream.resetStream("upstream_reset_after_response_started{connection_termination}");
    }
  }

  onTimeout(beforeHeaders: boolean): void {
    if (beforeHeaders) this.stream.sendLocalReply(504, Buffer.from("upstream request timeout"), [], null, "upstream_response_timeout");
    else this.stream.resetStream("upstream_response_timeout");
  }

  congested(): boolean {
    return this.congestedDownstream;
  }

  onDrainOnce(fn: () => void): void {
    this.drainWaiters.push(fn);
  }

  onBodyPressure(paused: boolean): void {
    if (paused) this.req.pause();
    else this.req.resume();
  }

  routeData(data: BodyBuffer, endStream: boolean): void {
    const up = this.upstream;
    if (up === null) return;
    if (data.length > 0) up.write(data.toBuffer());
    if (endStream) up.end();
  }

  routeTrailers(_trailers: HeaderMap): void {
    // undici cannot send request trailers: the body just ends.
    this.upstream?.end();
  }

  abortUpstream(): void {
    this.upstream?.abort();
  }

  // ---------------------------------------------------------------- StreamSink: downstream side

  sendHeaders(headers: HeaderMap, endStream: boolean): void {
    const res = this.res;
    if (res.headersSent || res.destroyed) return;
    const status = Number(headers.get(":status") ?? "200");
    const flat: string[] = [];
    for (let i = 0; i < headers.keys.length; i++) {
      const k = headers.keys[i];
      if (k.charCodeAt(0) === 58 || RESPONSE_HOP_BY_HOP.has(k) || k === "server") continue;
      flat.push(k, headers.values[i]);
    }
    flat.push("server", this.proxy.opts.serverName);
    try {
      res.writeHead(status, flat);
    } catch {
      res.destroy();
      return;
    }
    if (endStream) res.end();
    else res.flushHeaders();
  }

  sendData(data: BodyBuffer, endStream: boolean): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    if (data.length > 0 && !res.write(data.toBuffer()) && !this.congestedDownstream) {
      // Downstream congestion pauses the upstream read until the socket drains.
      this.congestedDownstream = true;
      res.once("drain", this.onResDrain);
    }
    if (endStream) res.end();
  }

  sendTrailers(trailers: HeaderMap): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    res.addTrailers(trailers.entries());
    res.end();
  }

  reset(_details: string): void {
    this.upstream?.abort();
    if (!this.res.destroyed) {
      this.res.destroy();
      this.req.socket.destroy();
    }
  }

  onDownstreamReset(): void {
    this.upstream?.abort();
  }
}

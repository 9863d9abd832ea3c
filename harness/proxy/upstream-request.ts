/**
 * The router's upstream request for one stream (Envoy router filter, reduced): one undici
 * dispatch to the route's cluster, the request body streamed as it is decoded, response events
 * delivered like Envoy's HTTP/1 client codec (a response that completes in the same read as its
 * headers/last data gets end_stream on that frame), per-route timeout from the end of the request,
 * x-envoy-upstream-service-time and x-envoy-expected-rq-timeout-ms headers.
 */
import { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { HeaderMap } from "../host/header-map.js";
import type { Cluster } from "../host/upstream-clusters.js";

/** Headers undici refuses on a request (hop-by-hop; Envoy's codec regenerates framing). */
const NOT_FORWARDED = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "expect", "te"]);

export interface UpstreamEvents {
  onHeaders(headers: HeaderMap, endStream: boolean): void;
  onData(chunk: Buffer, endStream: boolean): void;
  onTrailers(trailers: HeaderMap): void;
  /** Failure before response headers (Envoy answers with a local reply) or after (reset). */
  onFailure(beforeHeaders: boolean, err: unknown): void;
  onTimeout(beforeHeaders: boolean): void;
  /** True while the downstream socket is congested (upstream reading pauses). */
  congested(): boolean;
  onDrainOnce(fn: () => void): void;
  /** The upstream body buffer is full (true) / drained (false): pause / resume the downstream request. */
  onBodyPressure(paused: boolean): void;
}

const EMPTY = Buffer.alloc(0);

export class UpstreamRequest implements Dispatcher.DispatchHandler {
  private abortFn: ((err?: Error) => void) | null = null;
  private body: Readable | null = null;
  private bodyPaused = false;
  private pendingHeaders: HeaderMap | null = null;
  private pendingData: Buffer[] = [];
  private flushScheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private startMono = 0;
  done = false;
  headersDelivered = false;
  /** performance.now() of the first response byte (response.backend_latency). */
  firstByteMono: number | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly events: UpstreamEvents,
    private readonly timeoutMs: number,
  ) {}

  start(headers: HeaderMap, endStream: boolean): void {
    const out: string[] = [];
    let authority = "";
    for (let i = 0; i < headers.keys.length; i++) {
      const k = headers.keys[i];
      if (k.charCodeAt(0) === 58) {
        if (k === ":authority") authority = headers.values[i];
        continue;
      }
      if (NOT_FORWARDED.has(k)) continue;
      out.push(k, headers.values[i]);
    }
    out.push("host", authority);
    if (this.timeoutMs > 0) out.push("x-envoy-expected-rq-timeout-ms", String(this.timeoutMs));
    if (!endStream) {
      this.body = new Readable({
        read: () => {
          if (this.bodyPaused) {
            this.bodyPaused = false;
            this.events.onBodyPressure(false);
          }
        },
      });
    }
    this.startMono = performance.now();
    if (endStream) this.armTimeout();
    try {
      this.cluster.pool.dispatch(
        {
          origin: this.cluster.origin,
          path: headers.get(":path") ?? "/",
          method: (headers.get(":method") ?? "GET") as Dispatcher.HttpMethod,
          headers: out,
          body: this.body,
        },
        this,
      );
    } catch (err) {
      setImmediate(() => this.fail(err));
    }
  }

  write(chunk: Buffer): void {
    if (this.body === null || this.done || chunk.length === 0) return;
    if (!this.body.push(chunk) && !this.bodyPaused) {
      this.bodyPaused = true;
      this.events.onBodyPressure(true);
    }
  }

  end(): void {
    if (this.body !== null && !this.done) this.body.push(null);
    this.armTimeout();
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    this.abortFn?.(new Error("upstream request aborted"));
    this.body?.destroy();
  }

  private armTimeout(): void {
    if (this.timeoutMs <= 0 || this.timer !== null || this.done) return;
    this.timer = setTimeout(() => {
      if (this.done) return;
      const before = !this.headersDelivered && this.pendingHeaders === null;
      this.done = true;
      this.abortFn?.(new Error("upstream request timeout"));
      this.body?.destroy();
      this.events.onTimeout(before);
    }, this.timeoutMs);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    this.body?.destroy();
    this.events.onFailure(!this.headersDelivered && this.pendingHeaders === null, err);
  }

  // ---------------------------------------------------------------- undici handler

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.done) abort(new Error("upstream request aborted"));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.done) return false;
    this.resumeFn = resume;
    if (statusCode < 200) return true; // 1xx are not passed to filters
    this.firstByteMono = performance.now();
    const h = new HeaderMap("response");
    h.append(":status", String(statusCode));
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      h.addCopy(rawHeaders[i].toString("latin1").toLowerCase(), rawHeaders[i + 1].toString("latin1"));
    }
    // Router: upstream service time, added before the encoder filters see the headers.
    h.addCopy("x-envoy-upstream-service-time", String(Math.round(this.firstByteMono - this.startMono)));
    this.pendingHeaders = h;
    this.schedule();
    return this.backpressure(resume);
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return false;
    this.pendingData.push(chunk);
    this.schedule();
    return this.resumeFn === null ? true : this.backpressure(this.resumeFn);
  }

  private resumeFn: (() => void) | null = null;

  onComplete(rawTrailers: string[] | null): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    const hasTrailers = rawTrailers !== null && rawTrailers.length > 0;
    this.flush(!hasTrailers);
    if (hasTrailers) {
      const t = new HeaderMap("response-trailers");
      for (let i = 0; i + 1 < rawTrailers.length; i += 2) t.addCopy(String(rawTrailers[i]).toLowerCase(), String(rawTrailers[i + 1]));
      this.events.onTrailers(t);
    }
  }

  onError(err: Error): void {
    this.fail(err);
  }

  // ---------------------------------------------------------------- Envoy HTTP/1 codec framing

  /** Frames that arrive in the same read are delivered together; end_stream rides on the last one. */
  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      if (!this.done) this.flush(false);
    });
  }

  private flush(endStream: boolean): void {
    const h = this.pendingHeaders;
    if (h !== null) {
      this.pendingHeaders = null;
      this.headersDelivered = true;
      const headersOnly = endStream && this.pendingData.length === 0;
      this.events.onHeaders(h, headersOnly);
      if (headersOnly) return;
    }
    if (this.pendingData.length > 0) {
      const d = this.pendingData.length === 1 ? this.pendingData[0] : Buffer.concat(this.pendingData);
      this.pendingData = [];
      this.events.onData(d, endStream);
    } else if (endStream && this.headersDelivered) {
      this.events.onData(EMPTY, true);
    }
  }

  private backpressure(resume: () => void): boolean {
    if (!this.events.congested()) return true;
    this.events.onDrainOnce(resume);
    return false;
  }
}

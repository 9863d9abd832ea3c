/**
 * One HTTP stream through the filter chain [wasm filter, router], reduced from Envoy's
 * FilterManager (source/common/http/filter_manager.cc): iteration states, StopAll buffering and
 * "iterate from the current filter" on continue, StopIterationAndBuffer accumulation, local
 * replies through the encoder chain (or direct / reset once a response started), and the end of
 * stream sequence on_log → on_done → on_delete.
 */
import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus } from "./abi/status.js";
import { BodyBuffer } from "./body-buffer.js";
import type { StreamCallbacks } from "./contexts.js";
import { HeaderMap } from "./header-map.js";
import type { Pairs } from "./pairs.js";
import { StreamInfo } from "./stream-info.js";
import type { WasmVm } from "./vm.js";
import { WasmHttpFilter } from "./wasm-filter.js";

/** The stream's ends: the router (upstream) and the downstream codec, implemented by the proxy. */
export interface StreamSink {
  routeHeaders(headers: HeaderMap, endStream: boolean): void;
  routeData(data: BodyBuffer, endStream: boolean): void;
  routeTrailers(trailers: HeaderMap): void;
  sendHeaders(headers: HeaderMap, endStream: boolean): void;
  sendData(data: BodyBuffer, endStream: boolean): void;
  sendTrailers(trailers: HeaderMap): void;
  /** Reset both directions (the client sees a reset, not a status). */
  reset(details: string): void;
  /** A local reply replaces the upstream response: stop the upstream request. */
  abortUpstream(): void;
  /** Request headers were modified by the plugin (ABI ≤ 0.2.1 clears the route cache). */
  clearRouteCache(): void;
}

type IterState = "continue" | "stopSingle" | "stopAllBuffer" | "stopAllWatermark";

/** Envoy per_connection_buffer_limit_bytes default: buffering filters beyond it get 413 / 500. */
export const DEFAULT_BUFFER_LIMIT = 1024 * 1024;

export class HttpStream implements StreamCallbacks {
  readonly info = new StreamInfo();
  filter: WasmHttpFilter | null = null;
  bufferLimit = DEFAULT_BUFFER_LIMIT;
  /** The filter's last body status asked Envoy to buffer (StopIterationAndBuffer / StopAll…Buffer). */
  private decBuffering = false;
  private encBuffering = false;
  sink!: StreamSink;

  requestHeaders: HeaderMap | null = null;
  private decState: IterState = "continue";
  private decHeadersContinued = false;
  private readonly decBuffer = new BodyBuffer();
  private decComplete = false;
  private decTrailers: HeaderMap | null = null;
  /** Set by a local reply: no more decoding. */
  private decoderAborted = false;

  private responseHeaders: HeaderMap | null = null;
  private encState: IterState = "continue";
  private encHeadersContinued = false;
  private readonly encBuffer = new BodyBuffer();
  private encComplete = false;
  private encTrailers: HeaderMap | null = null;
  private encodingStarted = false;
  private encoderAborted = false;
  downstreamHeadersSent = false;
  downstreamEnded = false;
  /** A local reply took over the response. */
  localReplySent = false;
  ended = false;

  /**
   * Binds the stream to a VM's current root (Envoy: the filter factory on the stream's worker).
   * A failed VM: fail open → the filter is not installed; fail closed → a context whose every
   * callback fails the stream (local 503). No root on this VM (per-thread configure failed) →
   * no plugin instance, i.e. fail open.
   */
  attachFilter(vm: WasmVm | null, failOpen: boolean): void {
    if (vm === null) return;
    if (vm.failed && failOpen) return;
    const root = vm.currentRoot;
    if (root === null) {
      if (vm.failed) this.failClosedWithoutFilter = true;
      return;
    }
    const ctx = vm.createStreamContext(root, this);
    ctx.decodingBuffer = this.decBuffer;
    ctx.encodingBuffer = this.encBuffer;
    this.filter = new WasmHttpFilter(vm, ctx, failOpen);
  }

  private failClosedWithoutFilter = false;
  private routeEnded = false;

  // ---------------------------------------------------------------- StreamCallbacks (for the Wasm context)

  continueDecoding(): void {
    this.commonContinueDecoding();
  }

  continueEncoding(): void {
    this.commonContinueEncoding();
  }

  resetStream(details: string): void {
    if (this.ended) return;
    if (this.info.responseCodeDetails === undefined) this.info.responseCodeDetails = details;
    this.sink.reset(details);
  }

  addDecodedTrailers(): HeaderMap {
    if (this.decTrailers === null) this.decTrailers = new HeaderMap("request-trailers");
    return this.decTrailers;
  }

  addEncodedTrailers(): HeaderMap {
    if (this.encTrailers === null) this.encTrailers = new HeaderMap("response-trailers");
    return this.encTrailers;
  }

  clearRouteCache(): void {
    this.sink.clearRouteCache();
  }

  /**
   * Envoy FilterManager::sendLocalReply: through the encoder chain when no response started,
   * directly to the codec when response headers exist but were not sent, else a reset.
   */
  sendLocalReply(code: number, body: Buffer, extraHeaders: Pairs, _grpcStatus: number | null, details: string): void {
    if (this.ended) return;
    const headers = new HeaderMap("response");
    headers.append(":status", String(code));
    for (const [k, v] of extraHeaders) headers.addCopy(k, v);
    // Envoy Utility::sendLocalReply: body → content-length (+ text/plain); no body → neither.
    if (body.length > 0) {
      headers.setCopy("content-length", String(body.length));
      if (!headers.has("content-type")) headers.addCopy("content-type", "text/plain");
    } else {
      headers.remove("content-length");
      headers.remove("content-type");
    }
    this.info.responseCode = code;
    this.info.responseCodeDetails = details;
    if (!this.encodingStarted) {
      this.localReplySent = true;
      this.decoderAborted = true;
      this.sink.abortUpstream();
      this.encodeHeaders(headers, body.length === 0);
      if (body.length > 0 && !this.ended) this.encodeData(new BodyBuffer(body), true);
    } else if (!this.downstreamHeadersSent) {
      this.localReplySent = true;
      this.decoderAborted = true;
      this.encoderAborted = true;
      this.sink.abortUpstream();
      this.sendDownstreamHeaders(headers, body.length === 0);
      if (body.length > 0) this.sendDownstreamData(new BodyBuffer(body), true);
    } else {
      this.resetStream(details);
    }
  }

  // ---------------------------------------------------------------- decoding (downstream → router)

  decodeHeaders(headers: HeaderMap, endStream: boolean): void {
    this.requestHeaders = headers;
    this.info.requestHeaders = headers;
    if (endStream) this.decComplete = true;
    if (this.failClosedWithoutFilter) {
      this.sendLocalReply(503, Buffer.alloc(0), [], 14, "wasm_fail_stream");
      return;
    }
    const f = this.filter;
    if (f !== null) {
      const st = f.decodeHeaders(headers, endStream);
      if (this.decoderAborted || this.ended) return;
      if (st !== FilterHeadersStatus.Continue) {
        this.decState = st === FilterHeadersStatus.StopAllIterationAndBuffer ? "stopAllBuffer" : "stopAllWatermark";
        return;
      }
    }
    this.decHeadersContinued = true;
    this.routeHeaders(headers, endStream);
  }

  private routeHeaders(headers: HeaderMap, endStream: boolean): void {
    if (endStream) this.routeEnded = true;
    this.sink.routeHeaders(headers, endStream);
  }

  private routeData(data: BodyBuffer, endStream: boolean): void {
    if (this.routeEnded) return;
    if (endStream) this.routeEnded = true;
    this.sink.routeData(data, endStream);
  }

  private routeTrailers(trailers: HeaderMap): void {
    if (this.routeEnded) return;
    this.routeEnded = true;
    this.sink.routeTrailers(trailers);
  }

  decodeData(chunk: Buffer, endStream: boolean): void {
    if (this.ended || this.decoderAborted) return;
    this.info.bytesReceived += chunk.length;
    if (endStream) this.decComplete = true;
    this.decodeDataFrom(new BodyBuffer(chunk), endStream);
  }

  private decodeDataFrom(data: BodyBuffer, endStream: boolean): void {
    const f = this.filter;
    if (f !== null) {
      if (this.decState === "stopAllBuffer" || this.decState === "stopAllWatermark") {
        this.decBuffer.move(data);
        if (this.decState === "stopAllBuffer") this.checkDecodeBufferLimit();
        return;
      }
      const st = f.decodeData(data, endStream);
      if (this.decoderAborted || this.ended) return;
      if (st === FilterDataStatus.Continue) {
        if (this.decState === "stopSingle") {
          this.decBuffer.move(data);
          this.commonContinueDecoding();
          return;
        }
      } else {
        if (st !== FilterDataStatus.StopIterationNoBuffer) this.decBuffer.move(data);
        this.decState = "stopSingle";
        this.decBuffering = st === FilterDataStatus.StopIterationAndBuffer;
        if (this.decBuffering) this.checkDecodeBufferLimit();
        return;
      }
    }
    if (data === this.decBuffer) {
      const out = new BodyBuffer();
      out.move(this.decBuffer);
      this.routeData(out, endStream);
    } else {
      this.routeData(data, endStream);
    }
  }

  decodeTrailers(trailers: HeaderMap): void {
    if (this.ended || this.decoderAborted) return;
    this.decComplete = true;
    this.decTrailers = trailers;
    this.decodeTrailersFrom();
  }

  private decodeTrailersFrom(): void {
    const t = this.decTrailers!;
    const f = this.filter;
    if (f !== null) {
      if (this.decState === "stopAllBuffer" || this.decState === "stopAllWatermark") return;
      const st = f.decodeTrailers(t);
      if (this.decoderAborted || this.ended) return;
      if (st === FilterTrailersStatus.Continue) {
        if (this.decState === "stopSingle") {
          this.commonContinueDecoding();
          return;
        }
      } else {
        this.decState = "stopSingle";
        return;
      }
    }
    this.decTrailers = null;
    this.routeTrailers(t);
  }

  /** ActiveStreamFilterBase::commonContinue for the decoder side. */
  private commonContinueDecoding(): void {
    if (this.ended || this.decoderAborted) return;
    if (this.decState === "continue" && this.decHeadersContinued) return;
    const fromCurrent = this.decState === "stopAllBuffer" || this.decState === "stopAllWatermark";
    this.decState = "continue";
    if (!this.decHeadersContinued) {
      this.decHeadersContinued = true;
      this.routeHeaders(this.requestHeaders!, this.decComplete && this.decBuffer.length === 0 && this.decTrailers === null);
      if (this.decoderAborted || this.ended) return;
    }
    const eos = this.decComplete && this.decTrailers === null;
    if (this.decBuffer.length > 0) {
      if (fromCurrent) this.decodeDataFrom(this.decBuffer, eos);
      else {
        const out = new BodyBuffer();
        out.move(this.decBuffer);
        this.routeData(out, eos);
      }
      if (this.decState !== "continue" || this.decoderAborted || this.ended) return;
    } else if (eos && !this.routeEnded) {
      // Nothing buffered but the request ended while stopped (Envoy's TODO case): end it.
      this.routeData(new BodyBuffer(), true);
    }
    if (this.decTrailers !== null) {
      if (fromCurrent) this.decodeTrailersFrom();
      else {
        const t = this.decTrailers;
        this.decTrailers = null;
        this.routeTrailers(t);
      }
    }
  }

  // ---------------------------------------------------------------- encoding (router/local reply → downstream)

  /** Upstream response headers from the router (ignored once a local reply took over). */
  upstreamHeaders(headers: HeaderMap, endStream: boolean): void {
    if (this.localReplySent || this.ended) return;
    this.encodeHeaders(headers, endStream);
  }

  upstreamData(chunk: Buffer, endStream: boolean): void {
    if (this.localReplySent || this.ended) return;
    this.encodeData(new BodyBuffer(chunk), endStream);
  }

  upstreamTrailers(trailers: HeaderMap): void {
    if (this.localReplySent || this.ended) return;
    this.encodeTrailers(trailers);
  }

  private encodeHeaders(headers: HeaderMap, endStream: boolean): void {
    this.encodingStarted = true;
    this.responseHeaders = headers;
    if (endStream) this.encComplete = true;
    const f = this.filter;
    if (f !== null) {
      const st = f.encodeHeaders(headers, endStream);
      if (this.encoderAborted || this.ended) return;
      if (st !== FilterHeadersStatus.Continue) {
        this.encState = st === FilterHeadersStatus.StopAllIterationAndBuffer ? "stopAllBuffer" : "stopAllWatermark";
        return;
      }
    }
    this.encHeadersContinued = true;
    this.sendDownstreamHeaders(headers, endStream);
  }

  private encodeData(data: BodyBuffer, endStream: boolean): void {
    if (this.ended || this.encoderAborted) return;
    if (endStream) this.encComplete = true;
    this.encodeDataFrom(data, endStream);
  }

  private encodeDataFrom(data: BodyBuffer, endStream: boolean): void {
    const f = this.filter;
    if (f !== null) {
      if (this.encState === "stopAllBuffer" || this.encState === "stopAllWatermark") {
        this.encBuffer.move(data);
        if (this.encState === "stopAllBuffer") this.checkEncodeBufferLimit();
        return;
      }
      const st = f.encodeData(data, endStream);
      if (this.encoderAborted || this.ended) return;
      if (st === FilterDataStatus.Continue) {
        if (this.encState === "stopSingle") {
          this.encBuffer.move(data);
          this.commonContinueEncoding();
          return;
        }
      } else {
        if (st !== FilterDataStatus.StopIterationNoBuffer) this.encBuffer.move(data);
        this.encState = "stopSingle";
        this.encBuffering = st === FilterDataStatus.StopIterationAndBuffer;
        if (this.encBuffering) this.checkEncodeBufferLimit();
        return;
      }
    }
    if (data === this.encBuffer) {
      const out = new BodyBuffer();
      out.move(this.encBuffer);
      this.sendDownstreamData(out, endStream);
    } else {
      this.sendDownstreamData(data, endStream);
    }
  }

  private encodeTrailers(trailers: HeaderMap): void {
    if (this.ended || this.encoderAborted) return;
    this.encComplete = true;
    this.encTrailers = trailers;
    this.encodeTrailersFrom();
  }

  private encodeTrailersFrom(): void {
    const t = this.encTrailers!;
    const f = this.filter;
    if (f !== null) {
      if (this.encState === "stopAllBuffer" || this.encState === "stopAllWatermark") return;
      const st = f.encodeTrailers(t);
      if (this.encoderAborted || this.ended) return;
      if (st === FilterTrailersStatus.Continue) {
        if (this.encState === "stopSingle") {
          this.commonContinueEncoding();
          return;
        }
      } else {
        this.encState = "stopSingle";
        return;
      }
    }
    this.encTrailers = null;
    this.sendDownstreamTrailers(t);
  }

  private commonContinueEncoding(): void {
    if (this.ended || this.encoderAborted || !this.encodingStarted) return;
    if (this.encState === "continue" && this.encHeadersContinued) return;
    const fromCurrent = this.encState === "stopAllBuffer" || this.encState === "stopAllWatermark";
    this.encState = "continue";
    if (!this.encHeadersContinued) {
      this.encHeadersContinued = true;
      this.sendDownstreamHeaders(this.responseHeaders!, this.encComplete && this.encBuffer.length === 0 && this.encTrailers === null);
      if (this.encoderAborted || this.ended) return;
    }
    const eos = this.encComplete && this.encTrailers === null;
    if (this.encBuffer.length > 0) {
      if (fromCurrent) this.encodeDataFrom(this.encBuffer, eos);
      else {
        const out = new BodyBuffer();
        out.move(this.encBuffer);
        this.sendDownstreamData(out, eos);
      }
      if (this.encState !== "continue" || this.encoderAborted || this.ended) return;
    } else if (eos && !this.downstreamEnded) {
      this.sendDownstreamData(new BodyBuffer(), true);
    }
    if (this.encTrailers !== null) {
      if (fromCurrent) this.encodeTrailersFrom();
      else {
        const t = this.encTrailers;
        this.encTrailers = null;
        this.sendDownstreamTrailers(t);
      }
    }
  }

  private sendDownstreamHeaders(headers: HeaderMap, endStream: boolean): void {
    this.downstreamHeadersSent = true;
    this.info.responseHeaders = headers;
    if (this.info.responseCode === undefined) {
      const s = Number(headers.get(":status"));
      if (Number.isFinite(s)) this.info.responseCode = s;
    }
    if (endStream) this.downstreamEnded = true;
    this.sink.sendHeaders(headers, endStream);
  }

  private sendDownstreamData(data: BodyBuffer, endStream: boolean): void {
    if (this.downstreamEnded) return;
    this.info.bytesSent += data.length;
    if (endStream) this.downstreamEnded = true;
    this.sink.sendData(data, endStream);
  }

  private sendDownstreamTrailers(trailers: HeaderMap): void {
    if (this.downstreamEnded) return;
    this.downstreamEnded = true;
    this.info.responseTrailers = trailers;
    this.sink.sendTrailers(trailers);
  }

  /** Envoy FilterManager buffer limit: a buffering decoder filter over the limit → 413. */
  private checkDecodeBufferLimit(): void {
    if (this.decBuffer.length <= this.bufferLimit) return;
    this.sendLocalReply(413, Buffer.from("Payload Too Large"), [], null, "request_payload_too_large");
  }

  /** …and a buffering encoder filter over the limit → 500 (reset once headers went out). */
  private checkEncodeBufferLimit(): void {
    if (this.encBuffer.length <= this.bufferLimit) return;
    this.sendLocalReply(500, Buffer.from("Internal Server Error"), [], null, "response_payload_too_large");
  }

  // ---------------------------------------------------------------- failure and end of stream

  /** The VM failed while this stream was in flight (called asynchronously by the host). */
  onVmFailed(): void {
    const f = this.filter;
    if (f === null || this.ended) return;
    const paused = this.decState !== "continue" || (this.encodingStarted && this.encState !== "continue");
    if (!paused) return;
    if (f.failOpen) {
      // Fail open: the filter is bypassed, held data flows on.
      if (this.decState !== "continue") this.commonContinueDecoding();
      if (this.encodingStarted && this.encState !== "continue") this.commonContinueEncoding();
    } else if (!f.ctx.streamFailed) {
      // Fail closed: Envoy would fail the stream at its next callback; here it happens now.
      f.ctx.streamFailed = true;
      f.failStream();
    }
  }

  /** Stream finished (response done, reset or client gone): access log, then filter destroy. */
  complete(): void {
    if (this.ended) return;
    this.ended = true;
    this.info.requestCompleteMono = performance.now();
    const f = this.filter;
    if (f !== null) {
      f.log();
      f.onDestroy();
      f.vm.releaseStreamContext(f.ctx);
    }
  }
}

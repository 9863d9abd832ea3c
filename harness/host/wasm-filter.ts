/**
 * The Wasm HTTP filter of one stream: Envoy source/extensions/common/wasm/context.cc
 * (decodeHeaders/decodeData/…/log/onDestroy) on top of cpp-host ContextBase::onRequestHeaders…
 * (CHECK_FAIL_HTTP failure policy, result conversion, DeferAfterCallActions).
 */
import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus } from "./abi/status.js";
import type { BodyBuffer } from "./body-buffer.js";
import type { StreamContext } from "./contexts.js";
import type { HeaderMap } from "./header-map.js";
import type { WasmVm } from "./vm.js";

/** grpc-status UNAVAILABLE used by Envoy failStream. */
const GRPC_UNAVAILABLE = 14;
const EMPTY = Buffer.alloc(0);

export class WasmHttpFilter {
  constructor(
    readonly vm: WasmVm,
    readonly ctx: StreamContext,
    readonly failOpen: boolean,
  ) {}

  /** Envoy Context::failStream (fail closed): one local 503, empty body, details wasm_fail_stream. */
  failStream(): void {
    const ctx = this.ctx;
    if (ctx.failureLocalReplySent) return;
    ctx.failureLocalReplySent = true;
    ctx.callbacks.sendLocalReply(503, EMPTY, [], GRPC_UNAVAILABLE, "wasm_fail_stream");
  }

  /** cpp-host CHECK_FAIL: true when the VM failed (caller returns its open/closed value). */
  private checkFail(): boolean {
    if (!this.vm.failed) return false;
    if (!this.failOpen && !this.ctx.streamFailed) {
      this.ctx.streamFailed = true;
      this.failStream();
    }
    return true;
  }

  // ---------------------------------------------------------------- decoding

  decodeHeaders(headers: HeaderMap, endStream: boolean): FilterHeadersStatus {
    const ctx = this.ctx;
    this.vm.onCreate(ctx);
    ctx.requestHeaders = headers;
    ctx.endOfStream = endStream;
    const status = this.onHeaders(true, headers.size, endStream);
    if (status === FilterHeadersStatus.Continue) ctx.requestHeaders = null;
    return status;
  }

  decodeData(data: BodyBuffer, endStream: boolean): FilterDataStatus {
    const ctx = this.ctx;
    if (!ctx.inVmContextCreated) return FilterDataStatus.Continue;
    // Envoy: while buffering, new data joins the filter manager's buffer, which the plugin sees whole.
    if (ctx.bufferingRequestBody && ctx.decodingBuffer !== null) ctx.decodingBuffer.move(data);
    ctx.requestBodyBuffer = data;
    ctx.endOfStream = endStream;
    const size = ctx.bufferingRequestBody && ctx.decodingBuffer !== null ? ctx.decodingBuffer.length : data.length;
    const status = this.onBody(true, size, endStream);
    ctx.bufferingRequestBody = false;
    if (status === FilterDataStatus.Continue) ctx.requestBodyBuffer = null;
    else if (status === FilterDataStatus.StopIterationAndBuffer) ctx.bufferingRequestBody = true;
    return status;
  }

  decodeTrailers(trailers: HeaderMap): FilterTrailersStatus {
    const ctx = this.ctx;
    if (!ctx.inVmContextCreated) return FilterTrailersStatus.Continue;
    ctx.requestTrailers = trailers;
    const status = this.onTrailers(true, trailers.size);
    if (status === FilterTrailersStatus.Continue) ctx.requestTrailers = null;
    return status;
  }

  // ---------------------------------------------------------------- encoding

  encodeHeaders(headers: HeaderMap, endStream: boolean): FilterHeadersStatus {
    const ctx = this.ctx;
    // Not created, or our own failure reply: do not call the VM.
    if (!ctx.inVmContextCreated || ctx.failureLocalReplySent) return FilterHeadersStatus.Continue;
    ctx.responseHeaders = headers;
    ctx.endOfStream = endStream;
    const status = this.onHeaders(false, headers.size, endStream);
    if (status === FilterHeadersStatus.Continue) ctx.responseHeaders = null;
    return status;
  }

  encodeData(data: BodyBuffer, endStream: boolean): FilterDataStatus {
    const ctx = this.ctx;
    if (!ctx.inVmContextCreated || ctx.failureLocalReplySent) return FilterDataStatus.Continue;
    if (ctx.bufferingResponseBody && ctx.encodingBuffer !== null) ctx.encodingBuffer.move(data);
    ctx.responseBodyBuffer = data;
    ctx.endOfStream = endStream;
    const size = ctx.bufferingResponseBody && ctx.encodingBuffer !== null ? ctx.encodingBuffer.length : data.length;
    const status = this.onBody(false, size, endStream);
    ctx.bufferingResponseBody = false;
    if (status === FilterDataStatus.Continue) ctx.responseBodyBuffer = null;
    else if (status === FilterDataStatus.StopIterationAndBuffer) ctx.bufferingResponseBody = true;
    return status;
  }

  encodeTrailers(trailers: HeaderMap): FilterTrailersStatus {
    const ctx = this.ctx;
    if (!ctx.inVmContextCreated || ctx.failureLocalReplySent) return FilterTrailersStatus.Continue;
    ctx.responseTrailers = trailers;
    const status = this.onTrailers(false, trailers.size);
    if (status === FilterTrailersStatus.Continue) ctx.responseTrailers = null;
    return status;
  }

  // ---------------------------------------------------------------- end of stream

  /** Envoy Context::log (access log phase: maps readable, not writable). */
  log(): void {
    const ctx = this.ctx;
    if (!ctx.inVmContextCreated) this.vm.onCreate(ctx);
    ctx.inAccessLogPhase = true;
    this.vm.onLog(ctx);
    ctx.inAccessLogPhase = false;
  }

  /** Envoy Context::onDestroy: on_done (result ignored for streams) then on_delete. */
  onDestroy(): void {
    const ctx = this.ctx;
    if (ctx.destroyed || !ctx.inVmContextCreated) return;
    ctx.destroyed = true;
    this.vm.onDone(ctx);
    this.vm.onDelete(ctx);
  }

  // ---------------------------------------------------------------- ContextBase::on* (cpp-host context.cc)

  private onHeaders(request: boolean, n: number, endStream: boolean): FilterHeadersStatus {
    const vm = this.vm;
    if (this.checkFail()) return this.failOpen ? FilterHeadersStatus.Continue : FilterHeadersStatus.StopAllIterationAndWatermark;
    const fx = vm.fx;
    const fn = request ? fx.proxy_on_request_headers : fx.proxy_on_response_headers;
    const fn01 = request ? fx.proxy_on_request_headers_abi01 : fx.proxy_on_response_headers_abi01;
    if (!fn && !fn01) return FilterHeadersStatus.Continue;
    const name = request ? "proxy_on_request_headers" : "proxy_on_response_headers";
    const r = fn ? vm.call3(name, fn, this.ctx, this.ctx.id, n, endStream ? 1 : 0) : vm.call2(name, fn01!, this.ctx, this.ctx.id, n);
    let status: FilterHeadersStatus;
    if (this.checkFail()) status = this.failOpen ? FilterHeadersStatus.Continue : FilterHeadersStatus.StopAllIterationAndWatermark;
    else status = vm.convertHeaders(r);
    vm.afterCall();
    return status;
  }

  private onBody(request: boolean, size: number, endStream: boolean): FilterDataStatus {
    const vm = this.vm;
    if (this.checkFail()) return this.failOpen ? FilterDataStatus.Continue : FilterDataStatus.StopIterationNoBuffer;
    const fn = request ? vm.fx.proxy_on_request_body : vm.fx.proxy_on_response_body;
    if (!fn) return FilterDataStatus.Continue;
    const r = vm.call3(request ? "proxy_on_request_body" : "proxy_on_response_body", fn, this.ctx, this.ctx.id, size, endStream ? 1 : 0);
    let status: FilterDataStatus;
    if (this.checkFail()) status = this.failOpen ? FilterDataStatus.Continue : FilterDataStatus.StopIterationNoBuffer;
    else status = vm.convertData(r);
    vm.afterCall();
    return status;
  }

  private onTrailers(request: boolean, n: number): FilterTrailersStatus {
    const vm = this.vm;
    if (this.checkFail()) return this.failOpen ? FilterTrailersStatus.Continue : FilterTrailersStatus.StopIteration;
    const fn = request ? vm.fx.proxy_on_request_trailers : vm.fx.proxy_on_response_trailers;
    if (!fn) return FilterTrailersStatus.Continue;
    const r = vm.call2(request ? "proxy_on_request_trailers" : "proxy_on_response_trailers", fn, this.ctx, this.ctx.id, n);
    let status: FilterTrailersStatus;
    if (this.checkFail()) status = this.failOpen ? FilterTrailersStatus.Continue : FilterTrailersStatus.StopIteration;
    else status = vm.convertTrailers(r);
    vm.afterCall();
    return status;
  }
}

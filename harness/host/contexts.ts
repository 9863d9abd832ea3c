/**
 * Host-side contexts, mirroring proxy-wasm-cpp-host ContextBase and Envoy's
 * source/extensions/common/wasm/context.{h,cc} Context: the VM context (id 0), root contexts
 * (one per plugin configuration per VM) and stream contexts (one per HTTP stream).
 * The map/buffer accessors reproduce Envoy's getMap/getConstMap/getBuffer availability rules.
 */
import { BufferType, HeaderMapType, WasmResult } from "./abi/status.js";
import { BodyBuffer } from "./body-buffer.js";
import type { HeaderMap } from "./header-map.js";
import type { Pairs } from "./pairs.js";
import type { StreamInfo } from "./stream-info.js";
import type { WasmVm } from "./vm.js";

/** The plugin configuration a root context was started with (Envoy PluginBase). */
export interface PluginInstance {
  name: string;
  rootId: string;
  vmId: string;
  /** Text (sent as UTF-8) or raw bytes (PluginHostOptions.configurationBytes). */
  configuration: string | Uint8Array;
  failOpen: boolean;
}

/**
 * Envoy Context::buffer_ (a Buffer wrapper re-pointed by every getBuffer call). Either a
 * mutable body buffer, a constant byte string, or empty.
 */
export class BufferRef {
  mutable: BodyBuffer | null = null;
  constant: Buffer | null = null;

  setMutable(b: BodyBuffer | null): this {
    this.mutable = b;
    this.constant = null;
    return this;
  }

  setConstant(b: Buffer): this {
    this.mutable = null;
    this.constant = b;
    return this;
  }

  size(): number {
    if (this.mutable !== null) return this.mutable.length;
    if (this.constant !== null) return this.constant.length;
    return 0;
  }

  bytes(start: number, length: number): Uint8Array {
    if (this.mutable !== null) return this.mutable.slice(start, length);
    if (this.constant !== null) return this.constant.subarray(start, start + length);
    return EMPTY;
  }

  /** Envoy context.cc Buffer::copyFrom. */
  copyFrom(start: number, length: number, data: Uint8Array): WasmResult {
    const b = this.mutable;
    if (b !== null) {
      if (start === 0) {
        if (length !== 0) b.drain(length);
        b.prepend(Buffer.from(data));
        return WasmResult.Ok;
      }
      if (start >= b.length) {
        b.add(Buffer.from(data));
        return WasmResult.Ok;
      }
      return WasmResult.BadArgument;
    }
    // Constant (config, http-call body) or empty: cpp-host BufferBase::copyFrom → BadArgument.
    return WasmResult.BadArgument;
  }
}

export const EMPTY = Buffer.alloc(0);

/** What an HTTP stream offers its Wasm context (Envoy decoder/encoder filter callbacks). */
export interface StreamCallbacks {
  readonly info: StreamInfo;
  continueDecoding(): void;
  continueEncoding(): void;
  resetStream(details: string): void;
  sendLocalReply(code: number, body: Buffer, extraHeaders: Pairs, grpcStatus: number | null, details: string): void;
  addDecodedTrailers(): HeaderMap;
  addEncodedTrailers(): HeaderMap;
  clearRouteCache(): void;
  /** The VM failed while the stream was in flight (HttpStream; absent on bare test callbacks). */
  onVmFailed?(): void;
}

export abstract class Context {
  inVmContextCreated = false;
  private buf: BufferRef | null = null;

  /** Envoy Context::buffer_, made on first use (most stream contexts never read a buffer). */
  get buffer(): BufferRef {
    return (this.buf ??= new BufferRef());
  }

  constructor(readonly vm: WasmVm, readonly id: number) {}

  abstract readonly isRoot: boolean;
  /** Envoy ContextBase::root_context(). */
  abstract rootContext(): RootContext | null;
  /** Prefix after "wasm log" (Envoy ContextBase::log_prefix). */
  abstract logPrefix(): string;
  streamInfo(): StreamInfo | null {
    return null;
  }
  /** Envoy Context::getMap (mutable access); null = not available now. */
  getMap(_type: number): HeaderMap | null {
    return null;
  }
  /** Envoy Context::getConstMap. */
  getConstMap(type: number): HeaderMap | null {
    const root = this.rootContext();
    if (root === null) return null;
    const resp = root.httpCallResponse;
    if (type === HeaderMapType.HttpCallResponseHeaders) return resp ? resp.headers : null;
    if (type === HeaderMapType.HttpCallResponseTrailers) return resp ? resp.trailers : null;
    return null;
  }
  get accessLogPhase(): boolean {
    return false;
  }
  onHeadersModified(_type: number): void {}

  /** Envoy Context::getBuffer; null → NotFound. */
  getBuffer(type: number): BufferRef | null {
    switch (type) {
      case BufferType.CallData:
        return this.buffer;
      case BufferType.VmConfiguration:
        return this.buffer.setConstant(this.vm.vmConfigurationBytes);
      case BufferType.PluginConfiguration: {
        const tmp = this.tempPluginConfiguration();
        return tmp === null ? null : this.buffer.setConstant(tmp);
      }
      case BufferType.HttpCallResponseBody: {
        const resp = this.rootContext()?.httpCallResponse;
        return resp ? this.buffer.setConstant(resp.body) : null;
      }
      case BufferType.HttpRequestBody:
      case BufferType.HttpResponseBody:
      case BufferType.DownstreamData:
      case BufferType.UpstreamData:
      case BufferType.GrpcReceiveBuffer:
        return this.buffer.setMutable(null);
      default:
        return null;
    }
  }
  tempPluginConfiguration(): Buffer | null {
    return null;
  }
}

/** Context id 0: used for _start/_initialize and host-initiated malloc. */
export class VmContext extends Context {
  readonly isRoot = false;
  rootContext(): RootContext | null {
    return null;
  }
  logPrefix(): string {
    return "";
  }
}

export interface HttpCallResponse {
  headers: HeaderMap;
  body: Buffer;
  trailers: HeaderMap | null;
}

export type RootState = "active" | "retiring" | "pending-done" | "deleted";

export class RootContext extends Context {
  readonly isRoot = true;
  state: RootState = "active";
  /** Set only while proxy_on_configure runs (Envoy temp_plugin_). */
  tempPlugin: Buffer | null = null;
  /** proxy_get_status (Envoy Context status_code_/status_message_). */
  statusCode = 0;
  statusMessage = "";
  /** Set while on_http_call_response runs (Envoy http_call_response_). */
  httpCallResponse: HttpCallResponse | null = null;
  /** In-flight callouts by token; aborted when the root is deleted. */
  readonly httpCalls = new Map<number, { abort: () => void }>();
  /** Live streams bound to this root. */
  liveStreams = 0;
  /** Envoy Wasm::tickHandler timer state. */
  tickPeriodMs = 0;
  tickTimer: NodeJS.Timeout | null = null;
  tickTimerCreated = false;
  private readonly prefix: string;
  /** The log prefix of this root's stream contexts (cpp-host PluginBase::log_prefix), made once. */
  readonly streamLogPrefix: string;

  constructor(vm: WasmVm, id: number, readonly plugin: PluginInstance) {
    super(vm, id);
    // cpp-host ContextBase::makeRootLogPrefix: " <root_id> <vm_id>", empty parts omitted.
    let p = "";
    if (plugin.rootId) p += ` ${plugin.rootId}`;
    if (plugin.vmId) p += ` ${plugin.vmId}`;
    this.prefix = p;
    this.streamLogPrefix = pluginLogPrefix(plugin);
  }

  rootContext(): RootContext {
    return this;
  }
  logPrefix(): string {
    return this.prefix;
  }
  tempPluginConfiguration(): Buffer | null {
    return this.tempPlugin;
  }
}

/** cpp-host PluginBase::makeLogPrefix: " <name> <root_id> <vm_id>". */
export function pluginLogPrefix(p: PluginInstance): string {
  let s = "";
  if (p.name) s += ` ${p.name}`;
  if (p.rootId) s += ` ${p.rootId}`;
  if (p.vmId) s += ` ${p.vmId}`;
  return s;
}

/** A stream (HTTP filter) context: the fields of Envoy's wasm Context used by the HTTP path. */
export class StreamContext extends Context {
  readonly isRoot = false;
  requestHeaders: HeaderMap | null = null;
  requestBodyBuffer: BodyBuffer | null = null;
  requestTrailers: HeaderMap | null = null;
  responseHeaders: HeaderMap | null = null;
  responseBodyBuffer: BodyBuffer | null = null;
  responseTrailers: HeaderMap | null = null;
  endOfStream = false;
  bufferingRequestBody = false;
  bufferingResponseBody = false;
  /** The filter-manager buffers (what modifyDecodingBuffer/modifyEncodingBuffer expose). */
  decodingBuffer: BodyBuffer | null = null;
  encodingBuffer: BodyBuffer | null = null;
  inAccessLogPhase = false;
  failureLocalReplySent = false;
  streamFailed = false;
  destroyed = false;
  constructor(vm: WasmVm, id: number, readonly root: RootContext, readonly callbacks: StreamCallbacks) {
    super(vm, id);
  }

  rootContext(): RootContext {
    return this.root;
  }
  logPrefix(): string {
    return this.root.streamLogPrefix;
  }
  streamInfo(): StreamInfo {
    return this.callbacks.info;
  }
  get accessLogPhase(): boolean {
    return this.inAccessLogPhase;
  }

  getMap(type: number): HeaderMap | null {
    if (this.inAccessLogPhase) return null;
    switch (type) {
      case HeaderMapType.RequestHeaders:
        return this.requestHeaders;
      case HeaderMapType.RequestTrailers:
        // Envoy: trailers may be added from the last body callback (end_of_stream).
        if (this.requestTrailers === null && this.requestBodyBuffer !== null && this.endOfStream) {
          this.requestTrailers = this.callbacks.addDecodedTrailers();
        }
        return this.requestTrailers;
      case HeaderMapType.ResponseHeaders:
        return this.responseHeaders;
      case HeaderMapType.ResponseTrailers:
        if (this.responseTrailers === null && this.responseBodyBuffer !== null && this.endOfStream) {
          this.responseTrailers = this.callbacks.addEncodedTrailers();
        }
        return this.responseTrailers;
      default:
        return null;
    }
  }

  getConstMap(type: number): HeaderMap | null {
    const info = this.callbacks.info;
    switch (type) {
      case HeaderMapType.RequestHeaders:
        return this.inAccessLogPhase ? info.requestHeaders : this.requestHeaders;
      case HeaderMapType.RequestTrailers:
        return this.inAccessLogPhase ? null : this.requestTrailers;
      case HeaderMapType.ResponseHeaders:
        return this.inAccessLogPhase ? info.responseHeaders : this.responseHeaders;
      case HeaderMapType.ResponseTrailers:
        return this.inAccessLogPhase ? info.responseTrailers : this.responseTrailers;
      default:
        return super.getConstMap(type);
    }
  }

  /** Envoy Context::onHeadersModified: ABI ≤ 0.2.1 request header edits clear the route cache. */
  onHeadersModified(type: number): void {
    if (type === HeaderMapType.RequestHeaders) this.callbacks.clearRouteCache();
  }

  getBuffer(type: number): BufferRef | null {
    switch (type) {
      case BufferType.HttpRequestBody:
        return this.buffer.setMutable(this.bufferingRequestBody && this.decodingBuffer !== null ? this.decodingBuffer : this.requestBodyBuffer);
      case BufferType.HttpResponseBody:
        return this.buffer.setMutable(this.bufferingResponseBody && this.encodingBuffer !== null ? this.encodingBuffer : this.responseBodyBuffer);
      default:
        return super.getBuffer(type);
    }
  }
}

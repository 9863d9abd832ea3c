/**
 * One VM instance (Envoy: one per worker thread + main thread, plus the base VM and canaries):
 * a compiled module instance with its own linear memory, context ids, effective context,
 * after-VM-call actions, metric ids, callout tokens and per-root timers.
 * The call wrappers follow proxy-wasm-cpp-host: SaveRestoreContext (current context set and
 * effective context reset around every guest call), DeferAfterCallActions (stop flag reset and
 * deferred actions run when a callback returns), and a trap marking the VM failed for good.
 */
import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus } from "./abi/status.js";
import { Context, RootContext, StreamContext, VmContext, type PluginInstance, type StreamCallbacks } from "./contexts.js";
import { mallocRestrictedAllowList, startRestrictedAllowList } from "./envoy-imports.js";
import { WasmStartError } from "./errors.js";
import type { HostEnv } from "./host-env.js";
import { buildImports } from "./imports/index.js";
import { GuestMemory } from "./memory.js";
import type { ModuleInfo } from "./wasm-binary.js";

export type VmKind = "base" | "canary" | "main" | "worker";

/** A guest export as JS sees it (i32 params; i32 or no result). */
export type GuestFn = (...args: number[]) => unknown;
type Fn0 = GuestFn;
type Fn1 = GuestFn;
type Fn2 = GuestFn;
type Fn3 = GuestFn;
type Fn5 = GuestFn;

/** Guest exports the host calls (cpp-host wasm.h FOR_ALL_MODULE_FUNCTIONS). */
export interface GuestExports {
  _initialize?: Fn0;
  _start?: Fn0;
  main?: Fn2;
  malloc?: Fn1;
  proxy_on_vm_start?: Fn2;
  proxy_on_configure?: Fn2;
  proxy_validate_configuration?: Fn2;
  proxy_on_tick?: Fn1;
  proxy_on_context_create?: Fn2;
  proxy_on_request_headers?: Fn3;
  proxy_on_request_headers_abi01?: Fn2;
  proxy_on_request_body?: Fn3;
  proxy_on_request_trailers?: Fn2;
  proxy_on_request_metadata?: Fn2;
  proxy_on_response_headers?: Fn3;
  proxy_on_response_headers_abi01?: Fn2;
  proxy_on_response_body?: Fn3;
  proxy_on_response_trailers?: Fn2;
  proxy_on_response_metadata?: Fn2;
  proxy_on_http_call_response?: Fn5;
  proxy_on_grpc_receive?: Fn3;
  proxy_on_grpc_close?: Fn3;
  proxy_on_grpc_receive_initial_metadata?: Fn3;
  proxy_on_grpc_receive_trailing_metadata?: Fn3;
  proxy_on_queue_ready?: Fn2;
  proxy_on_foreign_function?: Fn3;
  proxy_on_done?: Fn1;
  proxy_on_log?: Fn1;
  proxy_on_delete?: Fn1;
  envoy_on_resolve_dns?: Fn3;
}

const EXPORT_NAMES: Array<keyof GuestExports> = [
  "_initialize", "_start", "main", "proxy_on_vm_start", "proxy_on_configure", "proxy_validate_configuration",
  "proxy_on_tick", "proxy_on_context_create", "proxy_on_request_body", "proxy_on_request_trailers",
  "proxy_on_request_metadata", "proxy_on_response_body", "proxy_on_response_trailers", "proxy_on_response_metadata",
  "proxy_on_http_call_response", "proxy_on_grpc_receive", "proxy_on_grpc_close", "proxy_on_grpc_receive_initial_metadata",
  "proxy_on_grpc_receive_trailing_metadata", "proxy_on_queue_ready", "proxy_on_foreign_function", "proxy_on_done",
  "proxy_on_log", "proxy_on_delete", "envoy_on_resolve_dns",
];

let vmSerial = 0;

export class WasmVm {
  readonly serial = ++vmSerial;
  readonly instance: WebAssembly.Instance;
  readonly mem: GuestMemory;
  readonly fx: GuestExports = {};
  readonly contexts = new Map<number, Context>();
  readonly vmContext: VmContext;
  readonly roots = new Set<RootContext>();
  /** The root new streams bind to (Envoy: the current plugin handle on this thread). */
  currentRoot: RootContext | null = null;
  /** Set when on_configure failed in this per-thread instance: no plugin here (fail open). */
  configureFailed = false;

  current: Context;
  effective: Context | null = null;
  failed = false;
  failMessage = "";
  /** Allowed hostcalls while restricted (during _start and host-initiated malloc); null = unrestricted. */
  restricted: Set<string> | null = null;
  /** cpp-host WasmBase::stopNextIteration (set by proxy_send_local_response). */
  stopIteration = false;
  private readonly afterActions: Array<() => void> = [];
  private nextContextId = 1;
  private contextIdsWrapped = false;
  callDepth = 0;
  closed = false;
  /** Hostcalls the guest made (every import call), for benches: host calls per request. */
  hostCalls = 0;
  /** Opt-in time spent in outermost guest calls (hostcalls included), for benches. */
  timing: { ns: number; calls: number } | null = null;

  liveStreams = 0;
  streamsCreated = 0;
  /**
   * Streams with a filter on this VM (failed over when the VM traps): the callbacks of its live
   * stream contexts, in creation order (cpp-host keeps every context in WasmBase::contexts_; no
   * second per-stream set to add to and delete from).
   */
  activeStreams(): Array<{ onVmFailed(): void }> {
    const out: Array<{ onVmFailed(): void }> = [];
    for (const ctx of this.contexts.values()) {
      if (ctx instanceof StreamContext && ctx.callbacks.onVmFailed !== undefined) out.push(ctx.callbacks as { onVmFailed(): void });
    }
    return out;
  }

  // Envoy wasm.h metric id counters (type in the low 2 bits).
  nextCounterId = 0;
  nextGaugeId = 1;
  nextHistogramId = 2;
  // Defined metrics by id >>> 2 (ids of one type are consecutive multiples of 4 plus the type):
  // an array index per increment/record instead of a hash lookup. Each holds the stat's slot in the
  // shared store (CounterStat.slot …), the store's by-slot calls take it.
  readonly counters: Array<number | undefined> = [];
  readonly gauges: Array<number | undefined> = [];
  readonly histograms: Array<number | undefined> = [];
  // Envoy wasm.h callout tokens (CalloutType in the low 2 bits).
  nextHttpCallId = 0;
  nextGrpcCallId = 1;
  nextGrpcStreamId = 2;
  nextDnsToken = 0;

  private readonly mallocAllow = mallocRestrictedAllowList();

  constructor(
    readonly env: HostEnv,
    module: WebAssembly.Module,
    info: ModuleInfo,
    readonly kind: VmKind,
    readonly label: string,
  ) {
    this.vmContext = new VmContext(this, 0);
    this.contexts.set(0, this.vmContext);
    this.current = this.vmContext;
    const imports = buildImports(this, info);
    this.instance = new WebAssembly.Instance(module, imports);
    const ex = this.instance.exports as Record<string, unknown>;
    for (const n of EXPORT_NAMES) if (typeof ex[n] === "function") (this.fx as Record<string, unknown>)[n] = ex[n];
    const abi01 = env.abiVersion === "0_1_0";
    if (typeof ex.proxy_on_request_headers === "function") {
      if (abi01) this.fx.proxy_on_request_headers_abi01 = ex.proxy_on_request_headers as Fn2;
      else this.fx.proxy_on_request_headers = ex.proxy_on_request_headers as Fn3;
    }
    if (typeof ex.proxy_on_response_headers === "function") {
      if (abi01) this.fx.proxy_on_response_headers_abi01 = ex.proxy_on_response_headers as Fn2;
      else this.fx.proxy_on_response_headers = ex.proxy_on_response_headers as Fn3;
    }
    // cpp-host getFunctions: malloc preferred, proxy_on_memory_allocate as fallback.
    const malloc = (ex.malloc ?? ex.proxy_on_memory_allocate) as Fn1 | undefined;
    if (malloc) this.fx.malloc = malloc;
    const memory = ex.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new WasmStartError("Wasm module does not export its memory");
    this.mem = new GuestMemory(memory);
    this.mem.setAllocator((size) => this.hostMalloc(size));
    env.nativeStats.vmCreated.add(1n);
  }

  get vmConfigurationBytes(): Buffer {
    return this.env.vmConfiguration;
  }

  /** cpp-host contextOrEffectiveContext. */
  ctx(): Context {
    return this.effective ?? this.current;
  }

  /**
   * Envoy WasmBase::allocContextId: a uint32 counter, skipping ids still in use once it has wrapped
   * (before that every id is new: no lookup in the context table per stream).
   */
  allocContextId(): number {
    for (;;) {
      const id = this.nextContextId;
      this.nextContextId = (id + 1) >>> 0;
      if (this.nextContextId === 0) this.contextIdsWrapped = true;
      if (!this.contextIdsWrapped || !this.contexts.has(id)) return id;
    }
  }

  addAfterCallAction(fn: () => void): void {
    this.afterActions.push(fn);
  }

  /** cpp-host DeferAfterCallActions destructor. */
  afterCall(): void {
    this.stopIteration = false;
    const q = this.afterActions;
    while (q.length > 0) q.shift()!();
  }

  checkRestricted(key: string): void {
    if (this.restricted !== null && !this.restricted.has(key)) {
      // cpp-host: a restricted hostcall fails the VM ("restricted_callback"), surfacing as a trap.
      throw new Error("restricted_callback");
    }
  }

  // ---------------------------------------------------------------- guest calls

  private enter(ctx: Context): Context | null {
    const prevEff = this.effective;
    this.current = ctx;
    this.effective = null;
    this.callDepth++;
    return prevEff;
  }

  /** Calls a guest export; returns its i32 result as unsigned, or -1 when the call trapped. */
  call(name: string, fn: GuestFn, ctx: Context, a = 0, b = 0, c = 0, d = 0, e = 0): number {
    if (this.failed) return -1;
    if (this.timing !== null && this.callDepth === 0) return this.timed(() => this.callUntimed(name, fn, ctx, a, b, c, d, e));
    return this.callUntimed(name, fn, ctx, a, b, c, d, e);
  }

  private timed(f: () => number): number {
    const t0 = performance.now();
    const r = f();
    const t = this.timing;
    if (t !== null) {
      t.ns += (performance.now() - t0) * 1e6;
      t.calls++;
    }
    return r;
  }

  private callUntimed(name: string, fn: GuestFn, ctx: Context, a: number, b: number, c: number, d: number, e: number): number {
    const prevCur = this.current;
    const prevEff = this.enter(ctx);
    let r: unknown;
    try {
      r = fn(a, b, c, d, e);
    } catch (err) {
      this.exit(prevCur, prevEff);
      this.trap(name, err);
      return -1;
    }
    this.exit(prevCur, prevEff);
    return typeof r === "number" ? r >>> 0 : 0;
  }

  // Exact-arity variants for the per-request callbacks (a JS→wasm call with the export's own
  // arity stays on V8's fast path).

  call1(name: string, fn: GuestFn, ctx: Context, a: number): number {
    // Tools that wrap vm.call (bench/overhead.ts timing hook) still see every guest call.
    if (this.call !== WasmVm.prototype.call || this.timing !== null) return this.call(name, fn, ctx, a);
    if (this.failed) return -1;
    const prevCur = this.current;
    const prevEff = this.enter(ctx);
    let r: unknown;
    try {
      r = fn(a);
    } catch (err) {
      this.exit(prevCur, prevEff);
      this.trap(name, err);
      return -1;
    }
    this.exit(prevCur, prevEff);
    return typeof r === "number" ? r >>> 0 : 0;
  }

  call2(name: string, fn: GuestFn, ctx: Context, a: number, b: number): number {
    // Tools that wrap vm.call (bench/overhead.ts timing hook) still see every guest call.
    if (this.call !== WasmVm.prototype.call || this.timing !== null) return this.call(name, fn, ctx, a, b);
    if (this.failed) return -1;
    const prevCur = this.current;
    const prevEff = this.enter(ctx);
    let r: unknown;
    try {
      r = fn(a, b);
    } catch (err) {
      this.exit(prevCur, prevEff);
      this.trap(name, err);
      return -1;
    }
    this.exit(prevCur, prevEff);
    return typeof r === "number" ? r >>> 0 : 0;
  }

  call3(name: string, fn: GuestFn, ctx: Context, a: number, b: number, c: number): number {
    // Tools that wrap vm.call (bench/overhead.ts timing hook) still see every guest call.
    if (this.call !== WasmVm.prototype.call || this.timing !== null) return this.call(name, fn, ctx, a, b, c);
    if (this.failed) return -1;
    const prevCur = this.current;
    const prevEff = this.enter(ctx);
    let r: unknown;
    try {
      r = fn(a, b, c);
    } catch (err) {
      this.exit(prevCur, prevEff);
      this.trap(name, err);
      return -1;
    }
    this.exit(prevCur, prevEff);
    return typeof r === "number" ? r >>> 0 : 0;
  }

  private exit(prevCur: Context, prevEff: Context | null): void {
    this.current = prevCur;
    this.effective = prevEff;
    this.callDepth--;
  }

  /** Host-initiated malloc: runs in the VM context with restricted hostcalls (cpp-host allocMemory). */
  private hostMalloc(size: number): number {
    const fn = this.fx.malloc;
    if (fn === undefined || this.failed) return 0;
    const prevRestricted = this.restricted;
    const prevCur = this.current;
    const prevEff = this.effective;
    this.restricted = this.mallocAllow;
    this.current = this.vmContext;
    this.effective = null;
    let r: unknown;
    try {
      r = fn(size);
    } catch (err) {
      this.restricted = prevRestricted;
      this.current = prevCur;
      this.effective = prevEff;
      this.trap("malloc", err);
      return 0;
    }
    this.restricted = prevRestricted;
    this.current = prevCur;
    this.effective = prevEff;
    return typeof r === "number" ? r >>> 0 : 0;
  }

  private trap(fnName: string, err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    const e = err as { name?: string; message?: string; stack?: string };
    let msg = `Function: ${fnName} failed: Uncaught ${e?.name ?? "Error"}: ${e?.message ?? String(err)}`;
    const frames = wasmFrames(e?.stack);
    if (frames.length > 0) msg += `\nProxy-Wasm plugin in-VM backtrace:\n${frames.map((f, i) => `${String(i).padStart(3)}: ${f}`).join("\n")}`;
    this.failMessage = msg;
    // cpp-host WasmBase::fail → Envoy logs the failure on the wasm logger.
    this.env.logger.error("wasm", msg, this.label);
    this.env.nativeStats.vmFailed.add(1n);
    for (const r of this.roots) this.disarmTick(r);
    this.env.onVmFailed(this);
  }

  // ---------------------------------------------------------------- VM lifecycle

  /** cpp-host WasmBase::startVm: _initialize (+main) or _start, with restricted hostcalls. */
  startVm(): void {
    this.restricted = startRestrictedAllowList(this.env.envoyVersion);
    try {
      if (this.fx._initialize) {
        this.call("_initialize", this.fx._initialize, this.vmContext);
        if (this.fx.main && !this.failed) this.call("main", this.fx.main, this.vmContext, 0, 0);
      } else if (this.fx._start) {
        this.call("_start", this.fx._start, this.vmContext);
      }
    } finally {
      this.restricted = null;
    }
    if (this.failed) throw new WasmStartError(this.failMessage);
  }

  createRoot(plugin: PluginInstance): RootContext {
    const root = new RootContext(this, this.allocContextId(), plugin);
    this.contexts.set(root.id, root);
    this.roots.add(root);
    return root;
  }

  /** cpp-host ContextBase::onStart: on_context_create(root, 0) then on_vm_start(root, vm_config_size). */
  onStart(root: RootContext): boolean {
    let result = true;
    if (this.fx.proxy_on_context_create) {
      this.call2("proxy_on_context_create", this.fx.proxy_on_context_create, root, root.id, 0);
      root.inVmContextCreated = true;
    }
    if (this.fx.proxy_on_vm_start && !this.failed) {
      result = this.call("proxy_on_vm_start", this.fx.proxy_on_vm_start, root, root.id, this.env.vmConfiguration.length) !== 0;
    }
    this.afterCall();
    return result;
  }

  /** cpp-host ContextBase::onConfigure (plugin configuration readable only during the call). */
  onConfigure(root: RootContext, configuration: Buffer): boolean {
    if (this.failed) return true;
    if (!root.inVmContextCreated && this.fx.proxy_on_context_create) {
      this.call2("proxy_on_context_create", this.fx.proxy_on_context_create, root, root.id, 0);
      this.afterCall();
    }
    root.inVmContextCreated = true;
    if (!this.fx.proxy_on_configure) return true;
    root.tempPlugin = configuration;
    const r = this.call("proxy_on_configure", this.fx.proxy_on_configure, root, root.id, configuration.length);
    root.tempPlugin = null;
    this.afterCall();
    return r > 0;
  }

  onTick(root: RootContext): void {
    if (!this.failed && this.fx.proxy_on_tick) {
      this.call1("proxy_on_tick", this.fx.proxy_on_tick, root, root.id);
      this.afterCall();
    }
  }

  /** cpp-host WasmBase::queueReady → ContextBase::onQueueReady (root contexts only). */
  onQueueReady(rootId: number, token: number): void {
    const root = this.contexts.get(rootId);
    if (!(root instanceof RootContext) || root.state === "deleted") return;
    if (!this.failed && this.fx.proxy_on_queue_ready) {
      this.call2("proxy_on_queue_ready", this.fx.proxy_on_queue_ready, root, root.id, token);
      this.afterCall();
    }
  }

  onHttpCallResponse(root: RootContext, token: number, headers: number, bodySize: number, trailers: number): void {
    if (this.failed || !this.fx.proxy_on_http_call_response) return;
    this.call("proxy_on_http_call_response", this.fx.proxy_on_http_call_response, root, root.id, token, headers, bodySize, trailers);
  }

  onForeignFunction(root: RootContext, id: number, size: number): void {
    if (this.fx.proxy_on_foreign_function && !this.failed) {
      this.call("proxy_on_foreign_function", this.fx.proxy_on_foreign_function, root, root.id, id, size);
      this.afterCall();
    }
  }

  /** cpp-host ContextBase::onDone: true when the callback is absent or the VM failed. */
  onDone(ctx: Context): boolean {
    if (!this.failed && this.fx.proxy_on_done) {
      const r = this.call1("proxy_on_done", this.fx.proxy_on_done, ctx, ctx.id);
      this.afterCall();
      return r !== 0;
    }
    return true;
  }

  onLog(ctx: Context): void {
    if (!this.failed && this.fx.proxy_on_log) {
      this.call1("proxy_on_log", this.fx.proxy_on_log, ctx, ctx.id);
      this.afterCall();
    }
  }

  onDelete(ctx: Context): void {
    if (ctx.inVmContextCreated && !this.failed && this.fx.proxy_on_delete) {
      this.call1("proxy_on_delete", this.fx.proxy_on_delete, ctx, ctx.id);
      this.afterCall();
    }
  }

  /** cpp-host ContextBase::onCreate for stream contexts (lazy, at the first callback). */
  onCreate(ctx: StreamContext): void {
    if (!this.failed && !ctx.inVmContextCreated && this.fx.proxy_on_context_create) {
      this.call2("proxy_on_context_create", this.fx.proxy_on_context_create, ctx, ctx.id, ctx.root.id);
      this.afterCall();
    }
    ctx.inVmContextCreated = true;
  }

  // ---------------------------------------------------------------- result conversion (cpp-host context.cc)

  convertHeaders(result: number): FilterHeadersStatus {
    // StopIteration is always turned into StopAllIterationAndWatermark (no allow_on_headers_stop_iteration before 1.35).
    if (this.stopIteration || result > FilterHeadersStatus.StopAllIterationAndWatermark || result === FilterHeadersStatus.StopIteration) {
      return FilterHeadersStatus.StopAllIterationAndWatermark;
    }
    // ContinueAndEndStream (2) has no case in Envoy's converter: treated as Continue.
    if (result === FilterHeadersStatus.ContinueAndEndStream) return FilterHeadersStatus.Continue;
    return result as FilterHeadersStatus;
  }

  convertData(result: number): FilterDataStatus {
    if (this.stopIteration || result > FilterDataStatus.StopIterationNoBuffer) return FilterDataStatus.StopIterationNoBuffer;
    return result as FilterDataStatus;
  }

  convertTrailers(result: number): FilterTrailersStatus {
    if (this.stopIteration || result > FilterTrailersStatus.StopIteration) return FilterTrailersStatus.StopIteration;
    return result as FilterTrailersStatus;
  }

  // ---------------------------------------------------------------- roots, streams, timers

  /** Envoy WasmBase::startShutdown(plugin_key): on_done, then on_delete or pending until proxy_done. */
  startShutdown(root: RootContext): void {
    if (root.state === "deleted" || root.state === "pending-done") return;
    if (this.currentRoot === root) this.currentRoot = null;
    if (this.onDone(root)) this.deleteRoot(root);
    else if ((root.state as string) !== "deleted") root.state = "pending-done";
  }

  deleteRoot(root: RootContext): void {
    if (root.state === "deleted") return;
    root.state = "deleted";
    this.onDelete(root);
    this.disarmTick(root);
    root.tickPeriodMs = 0;
    // Envoy ~Context: outstanding callouts are cancelled.
    for (const call of root.httpCalls.values()) call.abort();
    root.httpCalls.clear();
    this.contexts.delete(root.id);
    this.roots.delete(root);
    if (this.currentRoot === root) this.currentRoot = null;
  }

  /** cpp-host WasmBase::done (proxy_done). */
  done(ctx: Context): boolean {
    const root = ctx.rootContext();
    if (root === null || root.state !== "pending-done") return false;
    this.addAfterCallAction(() => this.deleteRoot(root));
    return true;
  }

  createStreamContext(root: RootContext, callbacks: StreamCallbacks): StreamContext {
    const ctx = new StreamContext(this, this.allocContextId(), root, callbacks);
    this.contexts.set(ctx.id, ctx);
    root.liveStreams++;
    this.liveStreams++;
    this.streamsCreated++;
    return ctx;
  }

  releaseStreamContext(ctx: StreamContext): void {
    if (!this.contexts.delete(ctx.id)) return;
    this.liveStreams--;
    const root = ctx.root;
    root.liveStreams--;
    if (root.state === "retiring" && root.liveStreams === 0) this.startShutdown(root);
  }

  /** Envoy Wasm::setTickPeriod. */
  setTickPeriod(root: RootContext, ms: number): void {
    const wasRunning = root.tickTimerCreated && root.tickPeriodMs > 0;
    root.tickPeriodMs = ms;
    root.tickTimerCreated = true;
    if (ms > 0 && !wasRunning) this.armTick(root, ms);
    else if (wasRunning && ms === 0) this.disarmTick(root);
  }

  private armTick(root: RootContext, ms: number): void {
    if (root.tickTimer !== null) clearTimeout(root.tickTimer);
    root.tickTimer = setTimeout(() => this.tickHandler(root), ms);
    root.tickTimer.unref();
  }

  disarmTick(root: RootContext): void {
    if (root.tickTimer !== null) {
      clearTimeout(root.tickTimer);
      root.tickTimer = null;
    }
  }

  /** Envoy Wasm::tickHandler: on_tick, then re-arm with the (possibly changed) period. */
  private tickHandler(root: RootContext): void {
    root.tickTimer = null;
    if (root.state === "deleted" || this.failed || this.closed) return;
    this.onTick(root);
    if (root.tickPeriodMs > 0 && (root.state as string) !== "deleted" && !this.failed && !this.closed && root.tickTimer === null) {
      this.armTick(root, root.tickPeriodMs);
    }
  }

  /** Drops the instance: timers stopped, callouts aborted (no guest callbacks). */
  close(): void {
    this.closed = true;
    for (const r of this.roots) {
      this.disarmTick(r);
      for (const c of r.httpCalls.values()) c.abort();
      r.httpCalls.clear();
    }
  }
}

/** Frames of a V8 stack that are inside wasm, as "0x<offset> - <name>". */
function wasmFrames(stack: string | undefined): string[] {
  if (!stack) return [];
  const out: string[] = [];
  for (const line of stack.split("\n")) {
    const m = /at (?:(\S+) \()?wasm:\/\/wasm\/[^:]*:wasm-function\[(\d+)\]:(0x[0-9a-f]+)\)?/.exec(line);
    if (!m) continue;
    out.push(`${m[3]} - ${m[1] ?? `unknown(function index:${m[2]})`}`);
    if (out.length >= 20) break;
  }
  return out;
}

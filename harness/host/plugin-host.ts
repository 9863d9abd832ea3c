/**
 * The embedded proxy-wasm "process": compiles the module once, runs the base VM and a canary,
 * then one VM instance on the main thread (configure + timers, no requests) and one per worker.
 * Reconfiguration follows Envoy's ECDS path (reference §3.5): canary first, then a NEW root
 * context in every existing instance; the old root is shut down (on_done/on_delete) once no
 * stream uses it. An identical configuration re-pushed is a cache hit with no callbacks.
 */
import { readFile } from "node:fs/promises";
import type { ClusterConfig, WasmPluginConfig } from "../config/proxy-config.js";
import type { CounterStat, StatsStoreApi } from "../stats/types.js";
import type { AbiVersion } from "./abi/status.js";
import type { PluginInstance, RootContext } from "./contexts.js";
import { DEFAULT_ENVOY_VERSION, envoyHostFunctions, type EnvoyVersion } from "./envoy-imports.js";
import {
  HostClosedError,
  PluginConfigRejectedError,
  PluginVmStartRejectedError,
  WasmAbiVersionError,
  WasmBadExportSignatureError,
  WasmFileNotFoundError,
  WasmImportTypeMismatchError,
  WasmInvalidModuleError,
  WasmMissingImportError,
  WasmMissingMallocError,
  WasmRuntimeError,
} from "./errors.js";
import type { HostEnv, NativeStats } from "./host-env.js";
import { HostLogger } from "./logger.js";
import { SharedDataStore } from "./shared-data.js";
import { SharedQueueStore } from "./shared-queues.js";
import { UpstreamClusters } from "./upstream-clusters.js";
import { vmMemory, type VmMemory } from "./vm-memory.js";
import { WasmVm } from "./vm.js";
import { readModuleInfo, sameSig, sigToString, type FuncSig, type ModuleInfo, type ValType } from "./wasm-binary.js";
import { compileForEnvoySync } from "./wasm-engine.js";

export interface PluginHostOptions {
  stats: StatsStoreApi;
  logger?: HostLogger;
  /** Clusters for proxy_http_call (a shared UpstreamClusters or plain configs). */
  clusters?: UpstreamClusters | readonly ClusterConfig[];
  node?: { id: string; cluster: string };
  /** Worker VM instances (Envoy --concurrency). Default 2. */
  workers?: number;
  /** Host profile: WASI import set and property names ("1.30" default). */
  envoyVersion?: EnvoyVersion;
  /** VmConfig.environment_variables (WASI environ). */
  environment?: Record<string, string>;
  sharedData?: SharedDataStore;
  queues?: SharedQueueStore;
  /**
   * Hand the filter these bytes as the plugin configuration instead of config.configuration's
   * UTF-8 encoding: a file's raw bytes, as `edgewatch rules validate` reads them, reach the filter
   * unchanged (invalid UTF-8 included, as a pulled document would), so the CLI never decodes first.
   */
  configurationBytes?: Uint8Array;
}

/**
 * Where the last accepted configuration update spent its time in this host (read by bench:reload).
 * Envoy runs the canary on the main thread, then each thread's new root on that thread, all threads
 * in parallel; here every VM shares one JS thread, so the VMs run one after another: `vmMs` are each
 * VM's own time (main first), and the slowest of them is what Envoy's threads would wait for.
 */
export interface UpdateTiming {
  /** The canary: a fresh clone instantiated, `_start`, then on_context_create/on_vm_start/on_configure. */
  canaryMs: number;
  /**
   * The part of canaryMs before on_context_create: instantiating the clone (V8 reserves and maps
   * its fresh linear memory, links the imports) and `_start`.
   */
  canaryStartMs: number;
  /** Minor page faults of this process during the canary (its memory is fresh). */
  canaryPageFaults: number;
  /** The new root on each VM (main, then the workers), ms each. */
  vmMs: number[];
}

export interface VmStats {
  label: string;
  kind: string;
  failed: boolean;
  liveStreams: number;
  streamsCreated: number;
  contexts: number;
  roots: number;
}

export interface HostStats {
  /** Stream contexts alive across all VMs (0 when idle: no leaked contexts). */
  liveStreamContexts: number;
  /** Root contexts alive across main + worker VMs (one per VM when idle and settled). */
  liveRootContexts: number;
  streamsCreated: number;
  vms: VmStats[];
}

const I: ValType = "i32";
const sig = (n: number, result: boolean): FuncSig => ({ params: new Array<ValType>(n).fill(I), results: result ? [I] : [] });

/** Expected export signatures (cpp-host wasm.h WasmCallWord/WasmCallVoid arities). */
function expectedExports(abi: AbiVersion): Record<string, FuncSig> {
  const hdr = abi === "0_1_0" ? sig(2, true) : sig(3, true);
  return {
    _initialize: sig(0, false), _start: sig(0, false), main: sig(2, true),
    malloc: sig(1, true), proxy_on_memory_allocate: sig(1, true),
    proxy_validate_configuration: sig(2, true), proxy_on_vm_start: sig(2, true), proxy_on_configure: sig(2, true),
    proxy_on_tick: sig(1, false), proxy_on_context_create: sig(2, false),
    proxy_on_new_connection: sig(1, true), proxy_on_downstream_data: sig(3, true), proxy_on_upstream_data: sig(3, true),
    proxy_on_downstream_connection_close: sig(2, false), proxy_on_upstream_connection_close: sig(2, false),
    proxy_on_request_headers: hdr, proxy_on_request_body: sig(3, true), proxy_on_request_trailers: sig(2, true),
    proxy_on_request_metadata: sig(2, true), proxy_on_response_headers: hdr, proxy_on_response_body: sig(3, true),
    proxy_on_response_trailers: sig(2, true), proxy_on_response_metadata: sig(2, true),
    proxy_on_http_call_response: sig(5, false), proxy_on_grpc_receive: sig(3, false), proxy_on_grpc_close: sig(3, false),
    proxy_on_grpc_receive_initial_metadata: sig(3, false), proxy_on_grpc_receive_trailing_metadata: sig(3, false),
    proxy_on_queue_ready: sig(2, false), proxy_on_foreign_function: sig(3, false),
    proxy_on_done: sig(1, true), proxy_on_log: sig(1, false), proxy_on_delete: sig(1, false),
  };
}

/** cpp-host BytecodeUtil::getAbiVersion. */
export function detectAbiVersion(info: ModuleInfo): AbiVersion {
  const names = new Set(info.exports.map((e) => e.name));
  if (names.has("proxy_abi_version_0_2_1")) return "0_2_1";
  if (names.has("proxy_abi_version_0_2_0")) return "0_2_0";
  if (names.has("proxy_abi_version_0_1_0")) return "0_1_0";
  throw new WasmAbiVersionError();
}

/** Link check like cpp-host's V8 link(): every import must be a host function Envoy registers, same signature. */
export function checkImports(info: ModuleInfo, abi: AbiVersion, version: EnvoyVersion): void {
  const host = envoyHostFunctions(abi, version);
  for (const imp of info.imports) {
    const spec = host.get(`${imp.module}.${imp.name}`);
    if (imp.kind !== "function" || spec === undefined) throw new WasmMissingImportError(imp.module, imp.name);
    if (!sameSig(imp.sig!, spec)) {
      throw new WasmImportTypeMismatchError(
        imp.module, imp.name,
        `${sigToString(imp.sig!.params)} -> ${sigToString(imp.sig!.results)}`,
        `${sigToString(spec.params)} -> ${sigToString(spec.results)}`,
      );
    }
  }
}

export function checkExports(info: ModuleInfo, abi: AbiVersion): void {
  const expected = expectedExports(abi);
  const names = new Set<string>();
  for (const e of info.exports) {
    names.add(e.name);
    const want = expected[e.name];
    if (want && (e.kind !== "function" || !sameSig(e.sig!, want))) throw new WasmBadExportSignatureError(e.name);
  }
  if (!names.has("malloc") && !names.has("proxy_on_memory_allocate")) throw new WasmMissingMallocError();
}

export class PluginHost {
  readonly logger: HostLogger;
  readonly statsStore: StatsStoreApi;
  readonly clusters: UpstreamClusters;
  readonly env: HostEnv;
  readonly base: WasmVm;
  readonly main: WasmVm;
  readonly workers: WasmVm[];
  /** The active plugin configuration. */
  plugin: PluginInstance;
  private readonly ownsClusters: boolean;
  private canarySerial = 0;
  /** Timing of the last accepted configuration update (null before the first). */
  lastUpdate: UpdateTiming | null = null;
  private rr = 0;
  private closed = false;
  private updateChain: Promise<void> = Promise.resolve();
  private readonly configReload: CounterStat;
  private readonly configFail: CounterStat;
  private readonly subscription: { attempt: CounterStat; success: CounterStat; failure: CounterStat; rejected: CounterStat };

  private constructor(
    readonly config: WasmPluginConfig,
    private readonly module: WebAssembly.Module,
    readonly info: ModuleInfo,
    abi: AbiVersion,
    opts: PluginHostOptions,
  ) {
    this.logger = opts.logger ?? new HostLogger();
    this.statsStore = opts.stats;
    if (opts.clusters instanceof UpstreamClusters) {
      this.clusters = opts.clusters;
      this.ownsClusters = false;
    } else {
      this.clusters = new UpstreamClusters(opts.clusters ?? []);
      this.ownsClusters = true;
    }
    const stats = opts.stats;
    const nativeStats: NativeStats = {
      vmCreated: stats.counter("wasm.envoy.wasm.runtime.v8.created"),
      vmFailed: stats.counter("wasm.edgewatch.vm_failed"),
    };
    // Envoy ECDS stats for the filter config.
    this.configReload = stats.counter(`extension_config_discovery.http_filter.${config.name}.config_reload`);
    this.configFail = stats.counter(`extension_config_discovery.http_filter.${config.name}.config_fail`);
    // The ECDS subscription's own stats share that scope (FilterConfigSubscription passes its scope
    // to subscriptionFromConfigSource; Config::SubscriptionStats).
    const sub = (n: string) => stats.counter(`extension_config_discovery.http_filter.${config.name}.${n}`);
    this.subscription = { attempt: sub("update_attempt"), success: sub("update_success"), failure: sub("update_failure"), rejected: sub("update_rejected") };
    const envoyVersion = opts.envoyVersion ?? DEFAULT_ENVOY_VERSION;
    this.env = {
      logger: this.logger,
      stats,
      nativeStats,
      sharedData: opts.sharedData ?? new SharedDataStore(),
      queues: opts.queues ?? new SharedQueueStore(),
      clusters: this.clusters,
      envoyVersion,
      abiVersion: abi,
      node: opts.node ?? { id: "edgewatch", cluster: "edgewatch" },
      vmId: config.vmId,
      vmConfiguration: Buffer.from(config.vmConfiguration ?? "", "utf8"),
      environment: Object.entries(opts.environment ?? {}),
      onVmFailed: (vm) => this.onVmFailed(vm),
    };
    this.plugin = {
      name: config.name,
      rootId: config.rootId,
      vmId: config.vmId,
      configuration: opts.configurationBytes ?? config.configuration,
      failOpen: config.failOpen,
    };
    const created: WasmVm[] = [];
    try {
      // Base VM (cpp-host createBaseWasm): instantiate + _start, no root context.
      this.base = this.newVm("base", "base");
      created.push(this.base);
      // Canary (cpp-host createWasm → canary clone): full start + configure, then discarded.
      this.runCanary(this.plugin, "load");
      const workers = Math.max(1, opts.workers ?? 2);
      this.main = this.newVm("main", "main");
      created.push(this.main);
      this.startPluginOn(this.main, this.plugin, "load");
      this.workers = [];
      for (let i = 0; i < workers; i++) {
        const vm = this.newVm("worker", `worker-${i}`);
        created.push(vm);
        this.startPluginOn(vm, this.plugin, "load");
        this.workers.push(vm);
      }
    } catch (err) {
      for (const vm of created) vm.close();
      if (this.ownsClusters) void this.clusters.close();
      throw err;
    }
  }

  /** Loads the plugin from config.wasmPath. Rejects with HostError subclasses (stable codes). */
  static async load(config: WasmPluginConfig, opts: PluginHostOptions): Promise<PluginHost> {
    let bytes: Buffer;
    try {
      bytes = await readFile(config.wasmPath);
    } catch (err) {
      throw new WasmFileNotFoundError(config.wasmPath, err);
    }
    return PluginHost.fromBytes(bytes, config, opts);
  }

  static async fromBytes(bytes: Uint8Array, config: WasmPluginConfig, opts: PluginHostOptions): Promise<PluginHost> {
    const info = readModuleInfo(bytes);
    const abi = detectAbiVersion(info);
    checkImports(info, abi, opts.envoyVersion ?? DEFAULT_ENVOY_VERSION);
    checkExports(info, abi);
    let module: WebAssembly.Module;
    try {
      module = compileForEnvoySync(bytes);
    } catch (err) {
      throw new WasmInvalidModuleError(`Failed to load Wasm bytecode: ${(err as Error).message}`, err);
    }
    return new PluginHost(config, module, info, abi, opts);
  }

  private newVm(kind: "base" | "canary" | "main" | "worker", label: string): WasmVm {
    const vm = new WasmVm(this.env, this.module, this.info, kind, label);
    vm.startVm();
    return vm;
  }

  /** Starts a root context for `plugin` on a VM; throws on rejection or trap. */
  private startRoot(vm: WasmVm, plugin: PluginInstance, phase: "load" | "reconfigure"): RootContext {
    const root = vm.createRoot(plugin);
    const started = vm.onStart(root);
    if (vm.failed) throw new WasmRuntimeError(vm.failMessage);
    if (!started) {
      vm.deleteRoot(root);
      throw new PluginVmStartRejectedError(plugin.name);
    }
    const configured = vm.onConfigure(root, configurationBytes(plugin.configuration));
    if (vm.failed) throw new WasmRuntimeError(vm.failMessage);
    if (!configured) {
      vm.deleteRoot(root);
      throw new PluginConfigRejectedError(plugin.name, phase);
    }
    return root;
  }

  /** Runs a canary; returns the ms its instantiation and `_start` took. */
  private runCanary(plugin: PluginInstance, phase: "load" | "reconfigure"): number {
    const t0 = performance.now();
    const canary = this.newVm("canary", `canary-${++this.canarySerial}`);
    const startMs = performance.now() - t0;
    try {
      this.startRoot(canary, plugin, phase);
    } catch (err) {
      this.logger.error("wasm", `Wasm VM failed: unable to configure Wasm plugin ${plugin.name}: ${(err as Error).message}`, canary.label);
      throw err;
    } finally {
      // Discarded without on_done/on_delete.
      canary.close();
    }
    return startMs;
  }

  /** Per-thread start; at load any failure is fatal (like Envoy refusing the listener). */
  private startPluginOn(vm: WasmVm, plugin: PluginInstance, phase: "load" | "reconfigure"): void {
    vm.currentRoot = this.startRoot(vm, plugin, phase);
  }

  /** Round-robin worker choice (Envoy assigns each connection to a worker). */
  nextWorker(): WasmVm {
    const vm = this.workers[this.rr];
    this.rr = (this.rr + 1) % this.workers.length;
    return vm;
  }

  get vms(): WasmVm[] {
    return [this.main, ...this.workers];
  }

  /** Each VM's linear memory, main first (read by bench:reload after a case's reloads). */
  memory(): VmMemory[] {
    return this.vms.map((vm) => vmMemory(vm.label, vm.mem.buffer));
  }

  get failOpen(): boolean {
    return this.plugin.failOpen;
  }

  /**
   * ECDS-style configuration update. Rejects (and keeps the old configuration everywhere) when
   * the canary's on_vm_start/on_configure returns false or traps.
   */
  updatePluginConfiguration(configuration: string | Uint8Array): Promise<void> {
    const run = this.updateChain.then(() => this.applyConfiguration(configuration));
    this.updateChain = run.catch(() => {});
    return run;
  }

  /**
   * An ECDS update that never reached the filter: the subscription could not read or decode the
   * resource (Envoy FilesystemSubscriptionImpl::refresh with no decoded message: update_failure,
   * then FilterConfigSubscription::onConfigUpdateFailed: config_fail). The configuration in force
   * stays; the filter sees nothing, so none of its counters move.
   */
  configurationUpdateFailed(reason: string): void {
    if (this.closed) throw new HostClosedError();
    this.subscription.attempt.add(1n);
    this.subscription.failure.add(1n);
    this.configFail.add(1n);
    this.logger.warn("config", `Filesystem config update failure: ${reason}`);
  }

  private applyConfiguration(configuration: string | Uint8Array): void {
    if (this.closed) throw new HostClosedError();
    this.subscription.attempt.add(1n);
    // Envoy plugin key cache hit: identical configuration, no callbacks at all (the subscription
    // accepted it; FilterConfigSubscription skips a resource whose hash did not change).
    // Envoy keeps the configuration as bytes (a std::string): encode it once, not once per VM.
    const bytes = configurationBytes(configuration);
    if (sameConfiguration(bytes, this.plugin.configuration)) {
      this.subscription.success.add(1n);
      return;
    }
    const next: PluginInstance = { ...this.plugin, configuration: bytes };
    const faults0 = process.resourceUsage().minorPageFault;
    const t0 = performance.now();
    let canaryStartMs: number;
    try {
      canaryStartMs = this.runCanary(next, "reconfigure");
    } catch (err) {
      // The filter factory threw inside onConfigUpdate: update_rejected, then config_fail.
      this.subscription.rejected.add(1n);
      this.configFail.add(1n);
      throw err;
    }
    const timing: UpdateTiming = { canaryMs: performance.now() - t0, canaryStartMs, canaryPageFaults: process.resourceUsage().minorPageFault - faults0, vmMs: [] };
    for (const vm of this.vms) {
      if (vm.failed) continue;
      const tv = performance.now();
      const old = vm.currentRoot;
      try {
        vm.currentRoot = this.startRoot(vm, next, "reconfigure");
        vm.configureFailed = false;
      } catch (err) {
        // Per-thread failure after the canary passed: no plugin on this thread (fail open).
        vm.currentRoot = null;
        vm.configureFailed = true;
        this.logger.error("wasm", `Wasm VM ${vm.label}: configuration failed after the canary passed: ${(err as Error).message}`, vm.label);
      }
      if (old !== null) this.retireRoot(vm, old);
      timing.vmMs.push(performance.now() - tv);
    }
    this.lastUpdate = timing;
    this.plugin = next;
    this.subscription.success.add(1n);
    this.configReload.add(1n);
  }

  /** The old root is shut down once no in-flight stream uses it. */
  private retireRoot(vm: WasmVm, root: RootContext): void {
    if (root.state !== "active") return;
    root.state = "retiring";
    if (root.liveStreams === 0) vm.startShutdown(root);
  }

  private onVmFailed(vm: WasmVm): void {
    // Deferred: never re-enter stream processing from inside the trapping call.
    setImmediate(() => {
      for (const s of vm.activeStreams()) s.onVmFailed();
    });
  }

  /** Opt-in accounting of time spent in outermost guest calls (hostcalls included) on main + workers. */
  setGuestTiming(enabled: boolean): void {
    for (const vm of this.vms) vm.timing = enabled ? { ns: 0, calls: 0 } : null;
  }

  guestTiming(): { ns: number; calls: number } {
    let ns = 0;
    let calls = 0;
    for (const vm of this.vms) {
      ns += vm.timing?.ns ?? 0;
      calls += vm.timing?.calls ?? 0;
    }
    return { ns, calls };
  }

  get stats(): HostStats {
    const vms = [this.main, ...this.workers];
    return {
      liveStreamContexts: vms.reduce((n, v) => n + v.liveStreams, 0),
      liveRootContexts: vms.reduce((n, v) => n + v.roots.size, 0),
      streamsCreated: vms.reduce((n, v) => n + v.streamsCreated, 0),
      vms: vms.map((v) => ({
        label: v.label,
        kind: v.kind,
        failed: v.failed,
        liveStreams: v.liveStreams,
        streamsCreated: v.streamsCreated,
        contexts: v.contexts.size - 1,
        roots: v.roots.size,
      })),
    };
  }

  /** Envoy shutdown: on_done/on_delete for every root (no waiting for proxy_done), timers and callouts stopped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const vm of [this.main, ...this.workers]) {
      for (const root of [...vm.roots]) {
        if (root.state === "pending-done") vm.deleteRoot(root);
        else if (root.state !== "deleted") {
          root.state = "active";
          vm.startShutdown(root);
          if ((root.state as string) === "pending-done") vm.deleteRoot(root);
        }
      }
      vm.close();
    }
    this.base.close();
    if (this.ownsClusters) await this.clusters.close();
  }
}

function sameConfiguration(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === "string" && typeof b === "string") return a === b;
  return configurationBytes(a).equals(configurationBytes(b));
}

/** The bytes on_configure reads (buffer 7): a string's UTF-8, or raw bytes as given. */
function configurationBytes(configuration: string | Uint8Array): Buffer {
  return typeof configuration === "string" ? Buffer.from(configuration, "utf8") : Buffer.from(configuration.buffer, configuration.byteOffset, configuration.byteLength);
}

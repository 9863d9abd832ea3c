/**
 * What every VM instance of one plugin shares: logger, stats, shared data/queues, clusters,
 * the Envoy version profile and the process-wide (per embedded proxy) settings.
 */
import type { StatsStoreApi, CounterStat } from "../stats/types.js";
import type { AbiVersion } from "./abi/status.js";
import type { UpstreamClusters } from "./upstream-clusters.js";
import type { EnvoyVersion } from "./envoy-imports.js";
import type { HostLogger } from "./logger.js";
import type { SharedDataStore } from "./shared-data.js";
import type { SharedQueueStore } from "./shared-queues.js";
import type { WasmVm } from "./vm.js";

export interface NativeStats {
  /** Envoy wasm runtime stats (wasm.envoy.wasm.runtime.v8.created). */
  vmCreated: CounterStat;
  /** Traps / VM failures (non-wasmcustom, so Prometheus shows envoy_wasm_edgewatch_vm_failed). */
  vmFailed: CounterStat;
}

export interface HostEnv {
  readonly logger: HostLogger;
  readonly stats: StatsStoreApi;
  readonly nativeStats: NativeStats;
  readonly sharedData: SharedDataStore;
  readonly queues: SharedQueueStore;
  readonly clusters: UpstreamClusters;
  readonly envoyVersion: EnvoyVersion;
  readonly abiVersion: AbiVersion;
  readonly node: { id: string; cluster: string };
  /** VmConfig.vm_id (shared data / queue namespace, plugin_vm_id). */
  readonly vmId: string;
  /** VmConfig.configuration bytes (buffer 6). */
  readonly vmConfiguration: Buffer;
  /** VmConfig.environment_variables exposed through WASI environ_*. */
  readonly environment: ReadonlyArray<readonly [string, string]>;
  /** Called once when a VM fails (trap); the plugin host fails its streams. */
  onVmFailed(vm: WasmVm): void;
}

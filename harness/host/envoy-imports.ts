/**
 * Every host function Envoy registers for a Proxy-Wasm module, with its wasm signature
 * (wasm32: cpp-host "Word" = i32; int64_t/uint64_t = i64).
 * Sources: proxy-wasm-cpp-host src/wasm.cc WasmBase::registerCallbacks, include/proxy-wasm/exports.h,
 * Envoy source/extensions/common/wasm/wasm.cc (envoy_resolve_dns). The WASI set is the one
 * cpp-host registered in early 2024 (Envoy 1.30-era); "1.33" adds the Dec 2024 additions
 * (reference envoy-host.md §0, §1.4, §1.5). A module importing anything else does not load.
 */
import type { AbiVersion } from "./abi/status.js";
import type { ValType } from "./wasm-binary.js";

export type EnvoyVersion = "1.30" | "1.33";
export const DEFAULT_ENVOY_VERSION: EnvoyVersion = "1.30";

export interface HostFunctionSpec {
  module: string;
  name: string;
  params: ValType[];
  results: ValType[];
}

const I = "i32" as const;
const L = "i64" as const;
const w = (n: number): ValType[] => new Array<ValType>(n).fill(I);

/** env.proxy_* registered for every ABI version (FOR_ALL_HOST_FUNCTIONS). */
const PROXY_COMMON: Array<[string, ValType[], ValType[]]> = [
  ["proxy_log", w(3), [I]],
  ["proxy_get_status", w(3), [I]],
  ["proxy_set_property", w(4), [I]],
  ["proxy_get_property", w(4), [I]],
  ["proxy_send_local_response", w(8), [I]],
  ["proxy_get_shared_data", w(5), [I]],
  ["proxy_set_shared_data", w(5), [I]],
  ["proxy_register_shared_queue", w(3), [I]],
  ["proxy_resolve_shared_queue", w(5), [I]],
  ["proxy_dequeue_shared_queue", w(3), [I]],
  ["proxy_enqueue_shared_queue", w(3), [I]],
  ["proxy_get_header_map_value", w(5), [I]],
  ["proxy_add_header_map_value", w(5), [I]],
  ["proxy_replace_header_map_value", w(5), [I]],
  ["proxy_remove_header_map_value", w(3), [I]],
  ["proxy_get_header_map_pairs", w(3), [I]],
  ["proxy_set_header_map_pairs", w(3), [I]],
  ["proxy_get_header_map_size", w(2), [I]],
  ["proxy_get_buffer_status", w(3), [I]],
  ["proxy_get_buffer_bytes", w(5), [I]],
  ["proxy_set_buffer_bytes", w(5), [I]],
  ["proxy_http_call", w(10), [I]],
  ["proxy_grpc_call", w(12), [I]],
  ["proxy_grpc_stream", w(9), [I]],
  ["proxy_grpc_close", w(1), [I]],
  ["proxy_grpc_cancel", w(1), [I]],
  ["proxy_grpc_send", w(4), [I]],
  ["proxy_set_tick_period_milliseconds", w(1), [I]],
  ["proxy_get_current_time_nanoseconds", w(1), [I]],
  ["proxy_define_metric", w(4), [I]],
  ["proxy_increment_metric", [I, L], [I]],
  ["proxy_record_metric", [I, L], [I]],
  ["proxy_get_metric", w(2), [I]],
  ["proxy_set_effective_context", w(1), [I]],
  ["proxy_done", [], [I]],
  ["proxy_call_foreign_function", w(6), [I]],
];

/** ABI-specific registrations (wasm.cc registerCallbacks). */
const PROXY_BY_ABI: Record<AbiVersion, Array<[string, ValType[], ValType[]]>> = {
  "0_1_0": [
    ["proxy_get_configuration", w(2), [I]],
    ["proxy_continue_request", [], [I]],
    ["proxy_continue_response", [], [I]],
    ["proxy_clear_route_cache", [], [I]],
  ],
  "0_2_0": [
    ["proxy_continue_stream", w(1), [I]],
    ["proxy_close_stream", w(1), [I]],
  ],
  "0_2_1": [
    ["proxy_continue_stream", w(1), [I]],
    ["proxy_close_stream", w(1), [I]],
    ["proxy_get_log_level", w(1), [I]],
  ],
};

/** Non-proxy env functions: cpp-host pthread_equal/emscripten_notify_memory_growth; Envoy envoy_resolve_dns. */
const ENV_OTHER: Array<[string, ValType[], ValType[]]> = [
  ["pthread_equal", w(2), [I]],
  ["emscripten_notify_memory_growth", w(1), []],
  ["envoy_resolve_dns", w(3), [I]],
];

/** FOR_ALL_WASI_FUNCTIONS as of early 2024 (Envoy 1.30-era cpp-host). */
const WASI_130: Array<[string, ValType[], ValType[]]> = [
  ["fd_write", w(4), [I]],
  ["fd_read", w(4), [I]],
  ["fd_seek", [I, L, I, I], [I]],
  ["fd_close", w(1), [I]],
  ["fd_fdstat_get", w(2), [I]],
  ["environ_get", w(2), [I]],
  ["environ_sizes_get", w(2), [I]],
  ["args_get", w(2), [I]],
  ["args_sizes_get", w(2), [I]],
  ["clock_time_get", [I, L, I], [I]],
  ["random_get", w(2), [I]],
  ["proc_exit", w(1), []],
  ["path_open", [I, I, I, I, I, L, L, I, I], [I]],
  ["fd_prestat_get", w(2), [I]],
  ["fd_prestat_dir_name", w(3), [I]],
];
/** Added to cpp-host in Dec 2024 (Envoy 1.33+). */
const WASI_133_EXTRA: Array<[string, ValType[], ValType[]]> = [
  ["clock_res_get", w(2), [I]],
  ["poll_oneoff", w(4), [I]],
  ["fd_fdstat_set_flags", w(2), [I]],
  ["sched_yield", [], [I]],
];

export const WASI_MODULES = ["wasi_snapshot_preview1", "wasi_unstable"] as const;

/** Key "module.name" → spec, for one ABI version and Envoy version profile. */
export function envoyHostFunctions(abi: AbiVersion, version: EnvoyVersion = DEFAULT_ENVOY_VERSION): Map<string, HostFunctionSpec> {
  const out = new Map<string, HostFunctionSpec>();
  const add = (module: string, [name, params, results]: [string, ValType[], ValType[]]) =>
    out.set(`${module}.${name}`, { module, name, params, results });
  for (const f of ENV_OTHER) add("env", f);
  for (const f of PROXY_COMMON) add("env", f);
  for (const f of PROXY_BY_ABI[abi]) add("env", f);
  const wasi = version === "1.30" ? WASI_130 : [...WASI_130, ...WASI_133_EXTRA];
  for (const m of WASI_MODULES) for (const f of wasi) add(m, f);
  return out;
}

/**
 * Hostcalls allowed while _initialize/_start/main run (cpp-host wasm.cc WasmBase::startVm);
 * any other import traps with "restricted_callback".
 */
export function startRestrictedAllowList(version: EnvoyVersion = DEFAULT_ENVOY_VERSION): Set<string> {
  const names = ["fd_write", "args_sizes_get", "args_get", "environ_sizes_get", "environ_get", "fd_prestat_get", "fd_prestat_dir_name", "clock_time_get", "random_get"];
  if (version !== "1.30") names.push("clock_res_get", "poll_oneoff", "fd_fdstat_get", "fd_fdstat_set_flags");
  const s = new Set<string>(["env.proxy_log", "env.emscripten_notify_memory_growth"]);
  for (const m of WASI_MODULES) for (const n of names) s.add(`${m}.${n}`);
  return s;
}

/** Hostcalls allowed during a host-initiated malloc (reference §1.1). */
export function mallocRestrictedAllowList(): Set<string> {
  const s = new Set<string>(["env.proxy_log"]);
  for (const m of WASI_MODULES) for (const n of ["fd_write", "clock_time_get", "poll_oneoff"]) s.add(`${m}.${n}`);
  return s;
}

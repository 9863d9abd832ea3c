// Raw host-call declarations. Every `env.proxy_*` declaration comes from the SDK
// (@gcoredev/proxy-wasm-sdk-as), re-exported here so the rest of the filter imports one place.
// Only calls Envoy registers for ABI 0.2.1 are re-exported: the SDK also declares
// proxy_clear_route_cache (ABI 0.1.0 only in Envoy) and a 10-argument proxy_grpc_call (Envoy: 12),
// which would make the module fail to load in Envoy ("missing import" / "import type mismatch").
export {
  proxy_log,
  proxy_get_log_level,
  proxy_set_tick_period_milliseconds,
  proxy_get_current_time_nanoseconds,
  proxy_get_property,
  proxy_set_property,
  proxy_continue_stream,
  proxy_close_stream,
  proxy_send_local_response,
  proxy_get_shared_data,
  proxy_set_shared_data,
  proxy_register_shared_queue,
  proxy_resolve_shared_queue,
  proxy_dequeue_shared_queue,
  proxy_enqueue_shared_queue,
  proxy_add_header_map_value,
  proxy_get_header_map_value,
  proxy_get_header_map_pairs,
  proxy_set_header_map_pairs,
  proxy_replace_header_map_value,
  proxy_remove_header_map_value,
  proxy_get_header_map_size,
  proxy_get_buffer_bytes,
  proxy_get_buffer_status,
  proxy_set_buffer_bytes,
  proxy_http_call,
  proxy_define_metric,
  proxy_increment_metric,
  proxy_record_metric,
  proxy_get_metric,
  proxy_set_effective_context,
  proxy_done,
  proxy_get_status,
} from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";

// WASI randomness (Envoy: BoringSSL RAND_bytes, ≤ 64 KiB per call) and clocks.
export { random_get, clock_time_get } from "@assemblyscript/wasi-shim/assembly/bindings/wasi_snapshot_preview1";

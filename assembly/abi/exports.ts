// proxy_on_* entry points Envoy calls, dispatched by context id. Replaces the SDK's exports.ts,
// whose single global root and stream-only context map trap on Envoy's reconfiguration
// (proxy_on_done for the old root id). Unknown ids are ignored, never trapped on.
import { Action } from "./status";
import { createRoot, createStream, deleteStream, deleteRoot, rootOrNull, streamOrNull } from "./contexts";

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(id: u32, parentId: u32): void {
  if (parentId == 0) createRoot(id);
  else createStream(id, parentId);
}

// Envoy calls on_vm_start once per root context, with the root id (cpp-host context.cc onStart).
export function proxy_on_vm_start(rootId: u32, vmConfigurationSize: u32): u32 {
  const r = rootOrNull(rootId);
  return r === null ? 1 : (r.onVmStart(vmConfigurationSize) ? 1 : 0);
}

export function proxy_on_configure(rootId: u32, pluginConfigurationSize: u32): u32 {
  const r = rootOrNull(rootId);
  return r === null ? 0 : (r.onConfigure(pluginConfigurationSize) ? 1 : 0);
}

export function proxy_validate_configuration(rootId: u32, size: u32): u32 { return 1; }

export function proxy_on_tick(rootId: u32): void {
  const r = rootOrNull(rootId);
  if (r !== null) r.onTick();
}

export function proxy_on_queue_ready(rootId: u32, token: u32): void {
  const r = rootOrNull(rootId);
  if (r !== null) r.onQueueReady(token);
}

export function proxy_on_http_call_response(rootId: u32, token: u32, headers: u32, bodySize: u32, trailers: u32): void {
  const r = rootOrNull(rootId);
  if (r !== null) r.onHttpCallResponse(token, headers, bodySize, trailers);
}

export function proxy_on_request_headers(id: u32, headers: u32, endOfStream: u32): i32 {
  const s = streamOrNull(id);
  return s === null ? Action.Continue : s.onRequestHeaders(headers, endOfStream != 0);
}

export function proxy_on_request_body(id: u32, size: u32, endOfStream: u32): i32 {
  const s = streamOrNull(id);
  return s === null ? Action.Continue : s.onRequestBody(size, endOfStream != 0);
}

export function proxy_on_request_trailers(id: u32, trailers: u32): i32 {
  const s = streamOrNull(id);
  return s === null ? Action.Continue : s.onRequestTrailers(trailers);
}

export function proxy_on_response_headers(id: u32, headers: u32, endOfStream: u32): i32 {
  const s = streamOrNull(id);
  return s === null ? Action.Continue : s.onResponseHeaders(headers, endOfStream != 0);
}

export function proxy_on_response_body(id: u32, size: u32, endOfStream: u32): i32 {
  const s = streamOrNull(id);
  return s === null ? Action.Continue : s.onResponseBody(size, endOfStream != 0);
}

export function proxy_on_response_trailers(id: u32, trailers: u32): i32 {
  const s = streamOrNull(id);
  return s === null ? Action.Continue : s.onResponseTrailers(trailers);
}

export function proxy_on_log(id: u32): void {
  const s = streamOrNull(id);
  if (s !== null) s.onLog();
}

// For a root context the return value matters (false = "I will call proxy_done"); Envoy ignores it
// for streams.
export function proxy_on_done(id: u32): u32 {
  const s = streamOrNull(id);
  if (s !== null) { s.onDone(); return 1; }
  const r = rootOrNull(id);
  if (r !== null) return r.onDone() ? 1 : 0;
  return 1;
}

export function proxy_on_delete(id: u32): void {
  const s = streamOrNull(id);
  if (s !== null) { s.onDelete(); deleteStream(id); return; }
  const r = rootOrNull(id);
  if (r !== null) { r.onDelete(); deleteRoot(id); }
}

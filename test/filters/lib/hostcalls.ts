// Thin helpers over the raw Proxy-Wasm imports for the host's test filters (not the product filter).
// Every helper records the WasmResult of its last hostcall in `lastStatus`.
import * as imp from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";

/** Host-initiated allocations come from the raw heap and are freed after copying (no GC pinning). */
export function malloc(size: i32): usize {
  return heap.alloc(<usize>size);
}

const OUT = memory.data(32);
export let lastStatus: u32 = 0;

export const MAP_REQUEST: i32 = 0;
export const MAP_REQUEST_TRAILERS: i32 = 1;
export const MAP_RESPONSE: i32 = 2;
export const MAP_RESPONSE_TRAILERS: i32 = 3;
export const MAP_CALL_RESPONSE: i32 = 6;
export const BUF_REQUEST_BODY: i32 = 0;
export const BUF_RESPONSE_BODY: i32 = 1;
export const BUF_CALL_RESPONSE_BODY: i32 = 4;
export const BUF_VM_CONFIG: i32 = 6;
export const BUF_PLUGIN_CONFIG: i32 = 7;

function enc(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}
function ptr(b: ArrayBuffer): usize {
  return changetype<usize>(b);
}

/** Copies a host allocation into a managed buffer and frees it. */
function take(): ArrayBuffer {
  const p = load<usize>(OUT);
  const n = load<usize>(OUT + 4);
  const b = new ArrayBuffer(<i32>n);
  if (n > 0) memory.copy(changetype<usize>(b), p, n);
  if (p != 0) heap.free(p);
  return b;
}

export function str(b: ArrayBuffer): string {
  return String.UTF8.decode(b);
}

export function log(level: u32, msg: string): void {
  const b = enc(msg);
  lastStatus = imp.proxy_log(level, ptr(b), b.byteLength);
}
export function info(msg: string): void {
  log(2, msg);
}

// ------------------------------------------------------------------ headers

export function getHeader(map: i32, key: string): string | null {
  const k = enc(key);
  lastStatus = imp.proxy_get_header_map_value(map, ptr(k), k.byteLength, OUT, OUT + 4);
  if (lastStatus != 0) return null;
  return str(take());
}
export function addHeader(map: i32, key: string, value: string): u32 {
  const k = enc(key);
  const v = enc(value);
  return (lastStatus = imp.proxy_add_header_map_value(map, ptr(k), k.byteLength, ptr(v), v.byteLength));
}
export function replaceHeader(map: i32, key: string, value: string): u32 {
  const k = enc(key);
  const v = enc(value);
  return (lastStatus = imp.proxy_replace_header_map_value(map, ptr(k), k.byteLength, ptr(v), v.byteLength));
}
export function removeHeader(map: i32, key: string): u32 {
  const k = enc(key);
  return (lastStatus = imp.proxy_remove_header_map_value(map, ptr(k), k.byteLength));
}
/** Flat [k0, v0, k1, v1, ...]; also sets lastPairsSize to the serialized byte size. */
export let lastPairsSize: u32 = 0;
export function getHeaderPairs(map: i32): string[] {
  lastStatus = imp.proxy_get_header_map_pairs(map, OUT, OUT + 4);
  lastPairsSize = load<u32>(OUT + 4);
  if (lastStatus != 0) return [];
  return deserializePairs(take());
}
export function setHeaderPairs(map: i32, kv: string[]): u32 {
  const b = serializePairs(kv);
  return (lastStatus = imp.proxy_set_header_map_pairs(map, ptr(b), b.byteLength));
}
export function headerMapSize(map: i32): u32 {
  store<u32>(OUT, 0);
  lastStatus = imp.proxy_get_header_map_size(map, OUT);
  return load<u32>(OUT);
}

export function serializePairs(kv: string[]): ArrayBuffer {
  const n = kv.length / 2;
  const parts = new Array<ArrayBuffer>(kv.length);
  let size = 4 + n * 8;
  for (let i = 0; i < kv.length; i++) {
    parts[i] = enc(kv[i]);
    size += parts[i].byteLength + 1;
  }
  const buf = new ArrayBuffer(size);
  const p = ptr(buf);
  store<u32>(p, <u32>n);
  let off: usize = 4;
  for (let i = 0; i < n; i++) {
    store<u32>(p + off, <u32>parts[2 * i].byteLength);
    store<u32>(p + off + 4, <u32>parts[2 * i + 1].byteLength);
    off += 8;
  }
  for (let i = 0; i < kv.length; i++) {
    const len = <usize>parts[i].byteLength;
    memory.copy(p + off, ptr(parts[i]), len);
    off += len;
    store<u8>(p + off, 0);
    off += 1;
  }
  return buf;
}

export function deserializePairs(buf: ArrayBuffer): string[] {
  const out = new Array<string>();
  if (buf.byteLength < 4) return out;
  const p = ptr(buf);
  const n = <i32>load<u32>(p);
  let off: usize = 4 + <usize>n * 8;
  for (let i = 0; i < n; i++) {
    const kl = <usize>load<u32>(p + 4 + <usize>i * 8);
    const vl = <usize>load<u32>(p + 8 + <usize>i * 8);
    out.push(String.UTF8.decodeUnsafe(p + off, kl));
    off += kl + 1;
    out.push(String.UTF8.decodeUnsafe(p + off, vl));
    off += vl + 1;
  }
  return out;
}

// ------------------------------------------------------------------ buffers

export function getBuffer(type: i32, start: u32, max: u32): ArrayBuffer | null {
  lastStatus = imp.proxy_get_buffer_bytes(type, start, max, OUT, OUT + 4);
  if (lastStatus != 0) return null;
  return take();
}
export function bufferSize(type: i32): u32 {
  store<u32>(OUT, 0);
  lastStatus = imp.proxy_get_buffer_status(type, OUT, OUT + 4);
  return load<u32>(OUT);
}
export function setBuffer(type: i32, start: u32, length: u32, data: string): u32 {
  const b = enc(data);
  return (lastStatus = imp.proxy_set_buffer_bytes(type, start, length, ptr(b), b.byteLength));
}

// ------------------------------------------------------------------ properties

/** path segments joined by NUL; pass "/" separated names for convenience. */
export function getProperty(path: string): ArrayBuffer | null {
  const p = enc(path);
  lastStatus = imp.proxy_get_property(ptr(p), p.byteLength, OUT, OUT + 4);
  if (lastStatus != 0) return null;
  return take();
}
export function setProperty(path: string, value: string): u32 {
  const p = enc(path);
  const v = enc(value);
  return (lastStatus = imp.proxy_set_property(ptr(p), p.byteLength, ptr(v), v.byteLength));
}

// ------------------------------------------------------------------ stream control

export function sendLocalResponse(code: u32, details: string, body: string, kv: string[]): u32 {
  const d = enc(details);
  const b = enc(body);
  const h = serializePairs(kv);
  return (lastStatus = imp.proxy_send_local_response(code, ptr(d), d.byteLength, ptr(b), b.byteLength, ptr(h), h.byteLength, 0xffffffff));
}
export function continueStream(type: i32): u32 {
  return (lastStatus = imp.proxy_continue_stream(type));
}
export function closeStream(type: i32): u32 {
  return (lastStatus = imp.proxy_close_stream(type));
}
export function setEffectiveContext(id: u32): u32 {
  return (lastStatus = imp.proxy_set_effective_context(id));
}
export function done(): u32 {
  return (lastStatus = imp.proxy_done());
}

// ------------------------------------------------------------------ callouts

export let lastToken: u32 = 0;
export function httpCall(cluster: string, kv: string[], body: string, timeoutMs: u32): u32 {
  const c = enc(cluster);
  const h = serializePairs(kv);
  const b = enc(body);
  const t = serializePairs([]);
  store<u32>(OUT + 16, 0);
  lastStatus = imp.proxy_http_call(ptr(c), c.byteLength, ptr(h), h.byteLength, ptr(b), b.byteLength, ptr(t), t.byteLength, timeoutMs, OUT + 16);
  lastToken = load<u32>(OUT + 16);
  return lastStatus;
}
export let lastStatusCode: u32 = 0;
export function getStatus(): string {
  lastStatus = imp.proxy_get_status(OUT + 16, OUT, OUT + 4);
  lastStatusCode = load<u32>(OUT + 16);
  return str(take());
}

// ------------------------------------------------------------------ shared data and queues

export let lastCas: u32 = 0;
export function sharedGet(key: string): string | null {
  const k = enc(key);
  lastStatus = imp.proxy_get_shared_data(ptr(k), k.byteLength, OUT, OUT + 4, OUT + 16);
  if (lastStatus != 0) return null;
  lastCas = load<u32>(OUT + 16);
  return str(take());
}
export function sharedSet(key: string, value: string, cas: u32): u32 {
  const k = enc(key);
  const v = enc(value);
  return (lastStatus = imp.proxy_set_shared_data(ptr(k), k.byteLength, ptr(v), v.byteLength, cas));
}
export function registerQueue(name: string): u32 {
  const n = enc(name);
  lastStatus = imp.proxy_register_shared_queue(ptr(n), n.byteLength, OUT + 16);
  return load<u32>(OUT + 16);
}
export function resolveQueue(vmId: string, name: string): u32 {
  const v = enc(vmId);
  const n = enc(name);
  store<u32>(OUT + 16, 0);
  lastStatus = imp.proxy_resolve_shared_queue(ptr(v), v.byteLength, ptr(n), n.byteLength, OUT + 16);
  return load<u32>(OUT + 16);
}
export function enqueue(token: u32, data: string): u32 {
  const d = enc(data);
  return (lastStatus = imp.proxy_enqueue_shared_queue(token, ptr(d), d.byteLength));
}
export function dequeue(token: u32): string | null {
  lastStatus = imp.proxy_dequeue_shared_queue(token, OUT, OUT + 4);
  if (lastStatus != 0) return null;
  return str(take());
}

// ------------------------------------------------------------------ metrics, time

export function defineMetric(type: i32, name: string): u32 {
  const n = enc(name);
  lastStatus = imp.proxy_define_metric(type, ptr(n), n.byteLength, OUT + 16);
  return load<u32>(OUT + 16);
}
export function incrementMetric(id: u32, delta: i64): u32 {
  return (lastStatus = imp.proxy_increment_metric(id, delta));
}
export function recordMetric(id: u32, value: u64): u32 {
  return (lastStatus = imp.proxy_record_metric(id, value));
}
export function getMetric(id: u32): u64 {
  store<u64>(OUT + 16, 0);
  lastStatus = imp.proxy_get_metric(id, OUT + 16);
  return load<u64>(OUT + 16);
}
export function setTickPeriod(ms: u32): u32 {
  return (lastStatus = imp.proxy_set_tick_period_milliseconds(ms));
}
export function nowNs(): u64 {
  lastStatus = imp.proxy_get_current_time_nanoseconds(OUT + 16);
  return load<u64>(OUT + 16);
}

// ------------------------------------------------------------------ formatting

const HEX = "0123456789abcdef";
export function hex(b: ArrayBuffer | null): string {
  if (b === null) return "";
  let s = "";
  const p = ptr(b);
  for (let i = 0; i < b.byteLength; i++) {
    const v = load<u8>(p + <usize>i);
    s += HEX.charAt(v >> 4) + HEX.charAt(v & 15);
  }
  return s;
}

/** Minimal JSON string escaping for test output. */
export function jstr(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 34) out += "\\\"";
    else if (c == 92) out += "\\\\";
    else if (c < 32) out += "\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

export function pluginConfig(): string {
  const b = getBuffer(BUF_PLUGIN_CONFIG, 0, 0xffffffff);
  return b === null ? "" : str(b);
}

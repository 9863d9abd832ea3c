// proxy_http_call (Envoy context.cc httpCall): `cluster` is an Envoy cluster name; headers must
// carry :method, :path and :authority or Envoy answers BadArgument. The response always arrives at
// the ROOT context (proxy_on_http_call_response) after the current callback returns.
import { proxy_http_call, proxy_get_status } from "../abi/imports";
import { WasmResult, MapType, BufferType } from "../abi/status";
import { HeaderPair, serializePairs } from "../abi/pairs";
import { OUT_U32, OUT_PTR, OUT_SIZE, clearOut, takeOut } from "./memory";
import { getHeaderPairs } from "./headers";
import { getBufferBytes } from "./buffers";

export let lastHttpCallStatus: u32 = 0;

/** Dispatch; returns the token (never 0) or 0 when Envoy refused (see lastHttpCallStatus). */
export function httpCall(cluster: string, headers: HeaderPair[], body: ArrayBuffer | null, timeoutMs: u32): u32 {
  const c = String.UTF8.encode(cluster);
  const h = serializePairs(headers);
  const b = body === null ? new ArrayBuffer(0) : body;
  const t = serializePairs(new Array<HeaderPair>());
  store<u32>(OUT_U32, 0);
  const r = proxy_http_call(
    changetype<usize>(c), c.byteLength, changetype<usize>(h), h.byteLength,
    changetype<usize>(b), b.byteLength, changetype<usize>(t), t.byteLength, timeoutMs, OUT_U32);
  lastHttpCallStatus = r;
  if (r != WasmResult.Ok) return 0;
  return load<u32>(OUT_U32);
}

/** Inside on_http_call_response: response headers (incl. ":status"). */
export function httpCallResponseHeaders(): HeaderPair[] {
  return getHeaderPairs(MapType.HttpCallResponseHeaders);
}

/** Inside on_http_call_response: the body (buffer 4, HttpCallResponseBody). */
export function httpCallResponseBody(size: u32): ArrayBuffer {
  if (size == 0) return new ArrayBuffer(0);
  const b = getBufferBytes(BufferType.HttpCallResponseBody, 0, size);
  return b === null ? new ArrayBuffer(0) : b;
}

/** Root-context status after a failed call: (11 BrokenConnection, "reset"). */
export function lastCallStatusCode(): u32 {
  clearOut();
  store<u32>(OUT_U32, 0);
  if (proxy_get_status(OUT_U32, OUT_PTR, OUT_SIZE) != WasmResult.Ok) return 0;
  const code = load<u32>(OUT_U32);
  takeOut();
  return code;
}

/**
 * Dispatch with pre-encoded parts: `cluster` UTF-8, `headerPairs` from serializePairs, the body as
 * (ptr, len) inside a reusable buffer. Returns the token or 0 (see lastHttpCallStatus).
 */
export function httpCallRaw(cluster: ArrayBuffer, headerPairs: ArrayBuffer, bodyPtr: usize, bodyLen: i32, timeoutMs: u32): u32 {
  store<u32>(OUT_U32, 0);
  const r = proxy_http_call(
    changetype<usize>(cluster), cluster.byteLength, changetype<usize>(headerPairs), headerPairs.byteLength,
    bodyPtr, bodyLen, changetype<usize>(EMPTY_PAIRS), EMPTY_PAIRS.byteLength, timeoutMs, OUT_U32);
  lastHttpCallStatus = r;
  if (r != WasmResult.Ok) return 0;
  return load<u32>(OUT_U32);
}

// @ts-ignore: decorator
@lazy const EMPTY_PAIRS: ArrayBuffer = serializePairs(new Array<HeaderPair>());

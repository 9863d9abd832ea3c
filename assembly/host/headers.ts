// Header-map wrappers. Envoy semantics (context.cc getHeaderMapValue & co): keys are lower-cased,
// a missing key → NotFound, a map not available in this phase → BadArgument (pairs: empty), only
// the first value of a repeated header is returned.
import {
  proxy_get_header_map_value, proxy_get_header_map_pairs, proxy_add_header_map_value,
  proxy_replace_header_map_value, proxy_remove_header_map_value,
} from "../abi/imports";
import { WasmResult } from "../abi/status";
import { HeaderPair, deserializePairs } from "../abi/pairs";
import { OUT_PTR, OUT_SIZE, clearOut, takeOut } from "./memory";

/** Status of the last header read: Ok, NotFound, or BadArgument (map unavailable in this phase). */
export let lastHeaderStatus: u32 = 0;

/** Raw bytes of a header value, or null when absent/unavailable. `key` is pre-encoded lower-case UTF-8. */
export function getHeaderBytes(map: i32, key: ArrayBuffer): ArrayBuffer | null {
  clearOut();
  const r = proxy_get_header_map_value(map, changetype<usize>(key), key.byteLength, OUT_PTR, OUT_SIZE);
  lastHeaderStatus = r;
  if (r != WasmResult.Ok) return null;
  return takeOut();
}

export function getHeader(map: i32, key: string): string | null {
  const b = getHeaderBytes(map, String.UTF8.encode(key));
  if (b === null) return null;
  return String.UTF8.decode(b);
}

export function getHeaderPairs(map: i32): HeaderPair[] {
  clearOut();
  const r = proxy_get_header_map_pairs(map, OUT_PTR, OUT_SIZE);
  if (r != WasmResult.Ok) return new Array<HeaderPair>();
  return deserializePairs(takeOut());
}

export function addHeader(map: i32, key: string, value: string): u32 {
  const k = String.UTF8.encode(key);
  const v = String.UTF8.encode(value);
  return proxy_add_header_map_value(map, changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

export function replaceHeader(map: i32, key: string, value: string): u32 {
  const k = String.UTF8.encode(key);
  const v = String.UTF8.encode(value);
  return proxy_replace_header_map_value(map, changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

export function removeHeader(map: i32, key: string): u32 {
  const k = String.UTF8.encode(key);
  return proxy_remove_header_map_value(map, changetype<usize>(k), k.byteLength);
}

/** Replace (or add) a header with raw value bytes; `key` pre-encoded lower-case. No allocation. */
export function replaceHeaderRaw(map: i32, key: ArrayBuffer, valuePtr: usize, valueLen: i32): u32 {
  return proxy_replace_header_map_value(map, changetype<usize>(key), key.byteLength, valuePtr, valueLen);
}

/** Remove a header; `key` pre-encoded lower-case. No allocation. */
export function removeHeaderRaw(map: i32, key: ArrayBuffer): u32 {
  return proxy_remove_header_map_value(map, changetype<usize>(key), key.byteLength);
}

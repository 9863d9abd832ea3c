// Property reads (Envoy context.cc getProperty): path segments joined by NUL ("source\0address");
// values serialized as Envoy does: strings raw, int64/uint64/timestamp/duration 8 bytes LE.
import { proxy_get_property } from "../abi/imports";
import { WasmResult } from "../abi/status";
import { OUT_PTR, OUT_SIZE, clearOut, takeOut } from "./memory";

/** Encode a dotted attribute name ("source.address") as Envoy's NUL-separated property path. */
export function propertyPath(dotted: string): ArrayBuffer {
  const buf = String.UTF8.encode(dotted);
  const p = changetype<usize>(buf);
  for (let i = 0; i < buf.byteLength; i++) {
    if (load<u8>(p + i) == 0x2e) store<u8>(p + i, 0);
  }
  return buf;
}

/** Bytes of a property, or null when NotFound / unavailable. `path` from propertyPath(). */
export function getPropertyBytes(path: ArrayBuffer): ArrayBuffer | null {
  clearOut();
  const r = proxy_get_property(changetype<usize>(path), path.byteLength, OUT_PTR, OUT_SIZE);
  if (r != WasmResult.Ok) return null;
  return takeOut();
}

export function getPropertyString(path: ArrayBuffer): string | null {
  const b = getPropertyBytes(path);
  if (b === null) return null;
  return String.UTF8.decode(b);
}

/** int64 / uint64 / timestamp / duration properties (8 bytes little-endian); `fallback` if absent. */
export function getPropertyI64(path: ArrayBuffer, fallback: i64): i64 {
  const b = getPropertyBytes(path);
  if (b === null || b.byteLength < 8) return fallback;
  return load<i64>(changetype<usize>(b));
}

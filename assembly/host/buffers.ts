import { proxy_get_buffer_bytes } from "../abi/imports";
import { WasmResult } from "../abi/status";
import { OUT_PTR, OUT_SIZE, clearOut, takeOut } from "./memory";

/** Bytes [start, start+max) of a host buffer (plugin configuration, http-call body…); null if unavailable. */
export function getBufferBytes(type: i32, start: u32, max: u32): ArrayBuffer | null {
  clearOut();
  const r = proxy_get_buffer_bytes(type, start, max, OUT_PTR, OUT_SIZE);
  if (r != WasmResult.Ok) return null;
  return takeOut();
}

// Shared data and shared queues (cpp-host shared_data.cc / shared_queue.cc): namespaced by vm_id,
// global across every worker VM; get copies the value; set with cas 0 is unconditional.
import {
  proxy_get_shared_data, proxy_set_shared_data, proxy_register_shared_queue,
  proxy_resolve_shared_queue, proxy_enqueue_shared_queue, proxy_dequeue_shared_queue,
} from "../abi/imports";
import { WasmResult } from "../abi/status";
import { OUT_PTR, OUT_SIZE, OUT_U32, clearOut, takeOut } from "./memory";
import { armRawRead, disarmRawRead } from "./scratch";

export class SharedValue {
  constructor(public status: u32, public value: ArrayBuffer | null, public cas: u32) {}
}

export function getSharedData(key: string): SharedValue {
  const k = String.UTF8.encode(key);
  clearOut();
  const r = proxy_get_shared_data(changetype<usize>(k), k.byteLength, OUT_PTR, OUT_SIZE, OUT_U32);
  if (r != WasmResult.Ok) return new SharedValue(r, null, 0);
  const cas = load<u32>(OUT_U32);
  return new SharedValue(r, takeOut(), cas);
}

/**
 * The value of `key` as a raw heap block the CALLER must release with heap.free(ptr) (ptr 0: none
 * or empty; returns the status). For big values that are only read within the current call.
 */
export function getSharedDataRaw(key: string): u32 {
  const k = String.UTF8.encode(key);
  clearOut();
  armRawRead();
  const r = proxy_get_shared_data(changetype<usize>(k), k.byteLength, OUT_PTR, OUT_SIZE, OUT_U32);
  disarmRawRead();
  const ptr = <usize>load<u32>(OUT_PTR);
  if (r != WasmResult.Ok) {
    if (ptr != 0) heap.free(ptr);
    rawPtr = 0;
    rawLen = 0;
    return r;
  }
  rawPtr = ptr;
  rawLen = ptr == 0 ? 0 : <i32>load<u32>(OUT_SIZE);
  return r;
}
/** The block and length of the last getSharedDataRaw. */
export let rawPtr: usize = 0;
export let rawLen: i32 = 0;

/** Returns Ok, or CasMismatch when `cas` ≠ 0 and the stored value changed meanwhile. */
export function setSharedData(key: string, value: ArrayBuffer, cas: u32): u32 {
  const k = String.UTF8.encode(key);
  return proxy_set_shared_data(changetype<usize>(k), k.byteLength, changetype<usize>(value), value.byteLength, cas);
}

/** setSharedData of `len` bytes at `ptr` (bytes already in guest memory: no copy in the VM). */
export function setSharedDataRaw(key: string, ptr: usize, len: i32, cas: u32): u32 {
  const k = String.UTF8.encode(key);
  return proxy_set_shared_data(changetype<usize>(k), k.byteLength, ptr, len, cas);
}

/** Register (or re-open) a queue; binds its notifications to this VM's root context. 0 on failure. */
export function registerQueue(name: string): u32 {
  const n = String.UTF8.encode(name);
  store<u32>(OUT_U32, 0);
  if (proxy_register_shared_queue(changetype<usize>(n), n.byteLength, OUT_U32) != WasmResult.Ok) return 0;
  return load<u32>(OUT_U32);
}

/** Resolve a queue registered by any VM of `vmId` ("" = own). 0 when not found. */
export function resolveQueue(vmId: string, name: string): u32 {
  const v = String.UTF8.encode(vmId);
  const n = String.UTF8.encode(name);
  store<u32>(OUT_U32, 0);
  const r = proxy_resolve_shared_queue(changetype<usize>(v), v.byteLength, changetype<usize>(n), n.byteLength, OUT_U32);
  if (r != WasmResult.Ok) return 0;
  return load<u32>(OUT_U32);
}

export function enqueue(token: u32, data: ArrayBuffer): u32 {
  return proxy_enqueue_shared_queue(token, changetype<usize>(data), data.byteLength);
}

/** Next item, or null when the queue is empty (Empty) or unknown (NotFound). */
export function dequeue(token: u32): ArrayBuffer | null {
  clearOut();
  if (proxy_dequeue_shared_queue(token, OUT_PTR, OUT_SIZE) != WasmResult.Ok) return null;
  return takeOut();
}

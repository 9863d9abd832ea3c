// Scratch memory for host-returned bytes that are only read during the current callback (request
// headers, a route name, :status, an address): no GC allocation per read.
//
// How a host returns bytes (proxy-wasm ABI; Envoy/cpp-host): during the host call it calls the
// module's exported `malloc(size)`, copies the bytes there and writes {ptr, size} into two guest
// slots. The SDK's malloc allocates (and pins) a GC ArrayBuffer for every such answer. This module
// exports `malloc` instead: when a scratch read is armed (just around the host call) it hands out
// space from a bump arena that the stream callbacks reset on entry (resetScratch); otherwise, and
// when the arena is full, it is the SDK's malloc, so buffers that must live on (plugin
// configuration, rules bodies, shared data) stay GC objects owned by their reader (memory.ts).
//
// Rules for a scratch result: it is valid until the next resetScratch (the next stream callback);
// nothing may keep its pointer beyond that. A read too large for the arena falls back to a GC buffer,
// held in `fallbacks` until the next resetScratch (so it is just as transient for the caller).
import { malloc as sdkMalloc } from "@gcoredev/proxy-wasm-sdk-as/assembly/malloc";
import { __new, __pin, __unpin, __renew, __collect } from "rt/itcms";
import { OBJECT_OVERHEAD } from "rt/common";
import { BIG_BLOCK_BYTES, allocBigRaw, bigPayload, tlsfPayload } from "./big-blocks";
import { proxy_get_header_map_value, proxy_get_header_map_pairs, proxy_get_property } from "../abi/imports";
import { WasmResult } from "../abi/status";
import { OUT_PTR, OUT_SIZE } from "./memory";

/** 64 KiB: a full request header map (Envoy's default limit is 60 KiB) fits. */
const ARENA_SIZE: usize = 64 * 1024;
let arena: usize = 0;
let used: usize = 0;
let armed: bool = false;
/** GC buffers the host filled because the arena was full; kept reachable until resetScratch. */
const fallbacks: ArrayBuffer[] = [];

/** The next host allocation is a raw heap block the caller frees (see armRawRead). */
let rawArmed: bool = false;

/**
 * Arm the next host-returned value as a raw heap block (heap.alloc: no zero fill, not a GC object)
 * that the caller reads and then frees with heap.free: for big values only compared and dropped
 * within one call (the push cache's text, 1.6 MB at 100k CIDRs). Call disarmRawRead after the call.
 */
export function armRawRead(): void { rawArmed = true; }
export function disarmRawRead(): void { rawArmed = false; }

/** The allocator Envoy calls to return bytes (preferred over proxy_on_memory_allocate). */
export function malloc(size: i32): usize {
  if (rawArmed && size >= 0) {
    rawArmed = false;
    // Big: a block found again once freed (host/big-blocks.ts); no collection of its own, the raw
    // read (the push cache's text) follows the configuration's read in the same on_configure.
    return <usize>size >= BIG_BLOCK_BYTES ? allocBigRaw(<usize>size) : heap.alloc(<usize>max(size, 1));
  }
  if (armed && size >= 0) {
    armed = false;
    if (arena == 0) arena = heap.alloc(ARENA_SIZE);
    const need = (<usize>size + 15) & ~(<usize>15);
    if (used + need <= ARENA_SIZE) {
      const p = arena + used;
      used += need;
      return p;
    }
  }
  if (size < 0) return sdkMalloc(size);
  // What the SDK's malloc does (its `new ArrayBuffer` is this __new under the incremental runtime).
  // itcms's __new zero-fills the block although the host then writes every byte it asked for
  // (cpp-host allocMemory, then a memcpy of exactly that size); a GC object cannot skip that fill
  // from outside the runtime. In a fresh VM (every push's canary) the fill is where each page is
  // first touched: at 100k CIDRs the 1.67 MB JSON or 0.7 MB snapshot configuration costs ~1,500 or
  // ~200 page faults per push there, which the host's copy would take anyway.
  if (<usize>size < BIG_BLOCK_BYTES) return __pin(__new(<usize>size, idof<ArrayBuffer>()));
  // A big value (a configuration, a rules snapshot, a pulled body). itcms frees garbage in steps
  // paced by allocation, so the previous reload's buffers (dead once the old root is deleted) were
  // often not free yet when the next one came: a full collection first frees them (4–40 µs on a
  // worker heap after 4,000 requests). The block is sized to be found again once freed
  // (host/big-blocks.ts); __renew within its capacity keeps it and sets byteLength to `size`.
  __collect();
  const block = __new(bigPayload(tlsfPayload(<usize>size + OBJECT_OVERHEAD)) - OBJECT_OVERHEAD, idof<ArrayBuffer>());
  return __pin(__renew(block, <usize>size));
}

/** Start of a stream callback: every earlier scratch result is dead. */
// @ts-ignore: decorator
@inline
export function resetScratch(): void {
  used = 0;
  if (fallbacks.length > 0) fallbacks.length = 0;
}

/** Bytes of the last successful scratch read (valid until resetScratch). */
export let scratchPtr: usize = 0;
export let scratchLen: i32 = 0;

/** After an armed host call: take {ptr, size}; a GC fallback buffer is unpinned and held. */
function take(r: u32): bool {
  armed = false;
  if (r != WasmResult.Ok) {
    scratchPtr = 0;
    scratchLen = 0;
    return false;
  }
  const ptr = <usize>load<u32>(OUT_PTR);
  const size = load<u32>(OUT_SIZE);
  if (ptr != 0 && (ptr < arena || ptr >= arena + ARENA_SIZE || arena == 0)) {
    // The SDK malloc pinned a GC buffer: keep it reachable until resetScratch.
    fallbacks.push(changetype<ArrayBuffer>(ptr));
    __unpin(ptr);
  }
  scratchPtr = ptr;
  scratchLen = ptr == 0 ? 0 : <i32>size;
  return true;
}

function arm(): void {
  store<u64>(OUT_PTR, 0);
  armed = true;
}

/** Header value (first line, as Envoy returns it) into scratch; false when absent/unavailable. */
export function headerScratch(map: i32, key: ArrayBuffer): bool {
  arm();
  return take(proxy_get_header_map_value(map, changetype<usize>(key), key.byteLength, OUT_PTR, OUT_SIZE));
}

/** The whole header map as serialized pairs into scratch (Ok with 0 bytes: map unavailable/empty). */
export function headerPairsScratch(map: i32): bool {
  arm();
  return take(proxy_get_header_map_pairs(map, OUT_PTR, OUT_SIZE));
}

/** A property (NUL-separated path) into scratch; false when NotFound/unavailable. */
export function propertyScratch(path: ArrayBuffer): bool {
  arm();
  return take(proxy_get_property(changetype<usize>(path), path.byteLength, OUT_PTR, OUT_SIZE));
}

/** `n` bytes of scratch memory for the guest's own transient use (valid until resetScratch). */
export function scratchAlloc(n: i32): usize {
  const size = n < 0 ? 0 : <usize>n;
  if (arena == 0) arena = heap.alloc(ARENA_SIZE);
  const need = (size + 15) & ~(<usize>15);
  if (used + need <= ARENA_SIZE) {
    const p = arena + used;
    used += need;
    return p;
  }
  const b = new ArrayBuffer(<i32>size);
  fallbacks.push(b);
  return changetype<usize>(b);
}

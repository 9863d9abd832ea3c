// Out-parameter slots and ownership of host-allocated buffers.
// Envoy writes {ptr,size} of a returned byte string into two guest u32 slots after allocating it
// with the module's exported `malloc` (preferred over proxy_on_memory_allocate). The SDK's malloc
// pins a GC ArrayBuffer; taking ownership unpins it so the GC reclaims it normally.
import { __unpin } from "rt/itcms";

/** Static scratch area: [0] ptr, [4] size, [8] u32 scalar, [16] u64 scalar. */
export const OUT: usize = memory.data(24);
export const OUT_PTR: usize = OUT;
export const OUT_SIZE: usize = OUT + 4;
export const OUT_U32: usize = OUT + 8;
export const OUT_U64: usize = OUT + 16;

/** Reset the slots before a call so a (0,0) answer is unambiguous. */
// @ts-ignore: decorator
@inline
export function clearOut(): void {
  store<u64>(OUT, 0);
  store<u64>(OUT + 8, 0);
  store<u64>(OUT + 16, 0);
}

/** Take the buffer the host returned (ptr 0 / size 0 → empty buffer, never null). */
export function takeOut(): ArrayBuffer {
  const ptr = load<u32>(OUT_PTR);
  const size = load<u32>(OUT_SIZE);
  if (ptr == 0 || size == 0) {
    if (ptr != 0) __unpin(<usize>ptr);
    return new ArrayBuffer(0);
  }
  const buf = changetype<ArrayBuffer>(<usize>ptr);
  __unpin(<usize>ptr);
  // The host may have been given a larger allocation than it filled; trim the view to size.
  if (<u32>buf.byteLength != size) return buf.slice(0, <i32>size);
  return buf;
}

/** Encode a string as UTF-8 (keys, names, paths). */
// @ts-ignore: decorator
@inline
export function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

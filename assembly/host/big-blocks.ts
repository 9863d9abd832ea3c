// Heap blocks for big values (1 MiB and up: a configuration, a rules snapshot, a pulled body, the
// push cache's text), sized so that once freed the next value of the same size finds the block again.
//
// Why this is needed: a linear memory never shrinks, so what a VM keeps is every page it ever wrote,
// and a reload brings these values into every VM again and again. AssemblyScript's TLSF allocator
// (rt/tlsf.ts, AS 0.28, wasm32: SL_BITS 4, so 16 size classes per power of two, each 1/16 wide)
// files a free block under the class its payload size falls in, but searches for a request from
// the class of (request + class width − 1): every block of the class it searches fits. A block is
// therefore found again by a request of its own size only if that size is a class start, and it
// never is: payload sizes are ≡ 12 (mod 16) (computeSize aligns payload + the 4-byte header to 16),
// while class starts from 1 MiB up are multiples of 64 KiB. So each reload's value was carved from
// fresh memory (the heap doubling when none was left) while the block freed by the one before was
// left for small allocations to split: within 4 pushes of a 7 MB snapshot configuration each VM had
// written its config buffer at 5 places (33.6 MiB of pages), where 2 (the rules in force and the new
// ones) are needed.
//
// Two payload sizes per class start S (the smallest ≥ need + 4):
//   KEEP = S + 12: the size a big block is carved at when no free block of class S exists (TLSF
//          searches from the class above and splits a bigger block to KEEP); freed, it is filed
//          under class S;
//   FIND = S − 4: a request that searches class S first (S − 4 + width − 1 lies in class S), made
//          when class S's free list is not empty. TLSF takes its head: a KEEP block stays whole
//          (16 bytes over FIND, under TLSF's 32-byte split minimum); a bigger one (a freed block
//          merged with free neighbours) is split to FIND, with the rest left free right after it.
// A raw block split to FIND grows back to KEEP in place, into that free rest (allocBigRaw), so it is
// found again whatever happens around it. A GC object cannot grow behind the collector's back (itcms
// counts an object's bytes when it allocates it and again when it frees it), so a GC block split to
// FIND stays FIND-sized: when freed it is found again if it merges with a free neighbour (its own
// free rest, usually), else small allocations take it. Measured on 2 workers: pages written per VM
// after 40 pushes of a 1,000,000-CIDR snapshot configuration (7 MB) 33.6 → 20.2 MiB, after 30 pushes
// of the same as a JSON document (16.7 MB) 77.2 → 61.4 MiB.
// test/host/big-blocks.test.ts checks these facts against the runtime the filter is built with.
import { ROOT } from "rt/tlsf";

/** Values from this size up are allocated as big blocks. */
export const BIG_BLOCK_BYTES: usize = 1 << 20;

// rt/tlsf.ts geometry (wasm32): the free-list heads, one usize per (fl, sl), start HL_START bytes
// into the Root (after flMap and FL_BITS = 23 second-level maps: 4 + 23 * 4 = 96, aligned to 16).
const HL_START: usize = 96;
// SB_BITS - 1 = (SL_BITS + AL_BITS) - 1: sizes below 256 bytes are first level 0.
const FL_SHIFT: usize = 7;

/** TLSF's payload for a request of `size` bytes (rt/tlsf.ts computeSize, sizes above its minimum). */
// @ts-ignore: decorator
@inline
export function tlsfPayload(size: usize): usize {
  return ((size + 4 + 15) & ~(<usize>15)) - 4;
}

/** `p` rounded up to the start of a TLSF size class (16 classes per power of two). */
function classStart(p: usize): usize {
  const w: usize = (<usize>1) << (27 - clz<usize>(p)); // 2^(floor(log2 p) - 4)
  return (p + w - 1) & ~(w - 1);
}

/** KEEP (S + 12) for a block of at least `need` payload bytes; FIND is KEEP − 16. */
function keepPayload(need: usize): usize {
  return classStart(need + 4) + 12;
}

/**
 * The TLSF payload to request (heap.alloc(payload), or __new(payload − OBJECT_OVERHEAD) for a GC
 * object) for a block of at least `need` payload bytes, need ≥ BIG_BLOCK_BYTES: FIND when the free
 * list of class S is not empty, else KEEP (see the top of this file).
 */
export function bigPayload(need: usize): usize {
  const keep = keepPayload(need);
  const s = keep - 12;
  const root = changetype<usize>(ROOT);
  if (root != 0) {
    const top = <usize>(31 - clz<usize>(s));
    const fl = top - FL_SHIFT;
    const sl = (s >> (top - 4)) ^ 16;
    const head = load<usize>(root + HL_START + (((fl << 4) + sl) << 2));
    if (head != 0) return s - 4;
  }
  return keep;
}

/**
 * heap.alloc of a raw block (no GC object: the caller frees it with heap.free) of at least `size`
 * bytes, size ≥ BIG_BLOCK_BYTES, kept at KEEP so it is found again once freed: when FIND split a
 * bigger free block, the block grows into the free rest right after it (heap.realloc in place).
 */
export function allocBigRaw(size: usize): usize {
  const need = tlsfPayload(size);
  const keep = keepPayload(need);
  const p = heap.alloc(bigPayload(need));
  if ((load<usize>(p - 4) & ~(<usize>3)) < keep) return heap.realloc(p, keep);
  return p;
}

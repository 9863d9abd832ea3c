// @ts-nocheck — AssemblyScript source (compiled by asc via test/rules/unit-module.ts), not TypeScript.
// Unit entry for assembly/host/big-blocks.ts: the facts about the AssemblyScript runtime its sizes
// rest on, and the reload pattern they are for (a new big value arrives while the one in force is
// still live; the old one is freed after the swap; small allocations come and go in between).
export { scratch, outPtr, outLen } from "./unit-io";
import { allocBigRaw, tlsfPayload, BIG_BLOCK_BYTES } from "../../assembly/host/big-blocks";
import { __new, __pin, __renew, __collect, __unpin } from "rt/itcms";
import { OBJECT_OVERHEAD } from "rt/common";
import { malloc } from "../../assembly/host/scratch";

/** The payload TLSF gave a raw block of `size` bytes (its header word, tags off). */
export function rawPayload(size: i32): usize {
  const p = heap.alloc(<usize>size);
  const got = load<usize>(p - 4) & ~(<usize>3);
  heap.free(p);
  return got;
}

export function predictedPayload(size: i32): usize { return tlsfPayload(<usize>size); }
export function bigBlockBytes(): usize { return BIG_BLOCK_BYTES; }

let distinct = new StaticArray<usize>(64);
let nDistinct: i32 = 0;
/** Places the new blocks went to: a block starting within 1 MiB of an earlier one (merges move a start by a few KiB) is the same place. */
function note(p: usize): void {
  for (let i = 0; i < nDistinct; i++) {
    const d = unchecked(distinct[i]);
    if ((p > d ? p - d : d - p) < (1 << 20)) return;
  }
  if (nDistinct < distinct.length) { unchecked(distinct[nDistinct] = p); nDistinct++; }
}
/** Pages (64 KiB) of linear memory after the last cycle. */
export function pages(): i32 { return memory.size(); }

let smalls = new Array<ArrayBuffer>(0);
/** Small allocations between two reloads: some live on, some are dropped (as a reload's settings, strings and logs). */
function churn(round: i32): void {
  for (let i = 0; i < 40; i++) smalls.push(new ArrayBuffer(24 + ((round * 7 + i * 13) % 200)));
  if (smalls.length > 120) smalls = smalls.slice(60);
}

/**
 * `rounds` reloads of raw blocks of `size` bytes: allocate the new one while the one in force lives,
 * then free the old one (the last one stays in force for the next call). sized: 1 = allocBigRaw (the filter's), 0 = heap.alloc of the size itself.
 * Returns the number of places the new blocks went to.
 */
let live: usize = 0;
export function rawReloads(size: i32, rounds: i32, sized: i32): i32 {
  nDistinct = 0;
  for (let r = 0; r < rounds; r++) {
    churn(r);
    const p = sized != 0 ? allocBigRaw(<usize>size) : heap.alloc(<usize>size);
    note(p);
    if (live != 0) heap.free(live);
    live = p;
  }
  return nDistinct;
}

let inForce: ArrayBuffer | null = null;
/**
 * `rounds` reloads through the filter's exported malloc (as the host returns a configuration): the
 * value in force stays reachable until the new one replaces it, across calls (filter 0: the allocation before
 * host/big-blocks.ts). Returns the number of places the new blocks went to.
 */
export function gcReloads(size: i32, rounds: i32, filter: i32): i32 {
  nDistinct = 0;
  for (let r = 0; r < rounds; r++) {
    churn(r);
    const p = filter != 0 ? malloc(size) : classRounded(size);
    __unpin(p);
    const b = changetype<ArrayBuffer>(p);
    if (b.byteLength != size) unreachable();
    store<u8>(p + <usize>size - 1, 1);
    note(p);
    inForce = b;
  }
  return nDistinct;
}

/** The allocation before host/big-blocks.ts (c9b14ae): a full collection, then a size rounded to a class start. */
function classRounded(size: i32): usize {
  __collect();
  const q = <usize>size + OBJECT_OVERHEAD;
  const w: usize = (<usize>1) << (27 - clz<usize>(q));
  return __pin(__renew(__new(((q + w - 1) & ~(w - 1)) - OBJECT_OVERHEAD, idof<ArrayBuffer>()), <usize>size));
}


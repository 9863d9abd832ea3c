// Longest-prefix-match index over IPv4 and IPv6 CIDRs with rule fallback.
//
// Layout (struct of arrays, one entry per distinct (prefix, rule) pair, sorted by
// (network address, prefix length, preference)):
//   v4: starts u32[n], lens u8[n], vals u16[n] (rule index | HAS_PARENT), a 12-bit first-level
//       table (4097 × u32) narrowing the binary search to one 1/4096 slice of the address space;
//   v6: hi u64[n], lo u64[n], lens u8[n], vals u16[n] (plain binary search);
//   parents: sparse sorted (child → parent) pairs, only for entries nested inside another entry.
// 100,000 IPv4 prefixes: 400 KB + 100 KB + 200 KB + 16 KB ≈ 0.70 MiB, plus 8 bytes per nested entry.
//
// Lookup of address a: the last entry whose start ≤ a is the most specific prefix containing a if
// it contains a at all; otherwise the answer is its nearest ancestor containing a (CIDRs nest or
// are disjoint). The walk up the parent chain is bounded by the nesting depth (≤ 33 / 129 distinct
// lengths, times rules sharing one prefix). Lookups only read the arrays: no allocation.
//
// Equal prefixes in several rules: the rule listed first in the document is the most specific
// (the others are its fallback chain).

import { maskV4, maskHi, maskLo } from "./cidr";

export const HAS_PARENT: u16 = 0x8000;
export const RULE_MASK: u16 = 0x7fff;
/** Max rules per document (rule index must fit 15 bits). */
export const MAX_RULES: i32 = 32767;

const L1_BITS: u32 = 12;
const L1_SHIFT: u32 = 32 - L1_BITS;
const L1_SIZE: i32 = 1 << L1_BITS;

export class CidrIndex {
  // IPv4
  n4: i32 = 0;
  starts4: StaticArray<u32> = new StaticArray<u32>(0);
  lens4: StaticArray<u8> = new StaticArray<u8>(0);
  vals4: StaticArray<u16> = new StaticArray<u16>(0);
  l1: StaticArray<u32> = new StaticArray<u32>(0);
  pChild4: StaticArray<u32> = new StaticArray<u32>(0);
  pParent4: StaticArray<u32> = new StaticArray<u32>(0);
  np4: i32 = 0;
  // IPv6
  n6: i32 = 0;
  hi6: StaticArray<u64> = new StaticArray<u64>(0);
  lo6: StaticArray<u64> = new StaticArray<u64>(0);
  lens6: StaticArray<u8> = new StaticArray<u8>(0);
  vals6: StaticArray<u16> = new StaticArray<u16>(0);
  pChild6: StaticArray<u32> = new StaticArray<u32>(0);
  pParent6: StaticArray<u32> = new StaticArray<u32>(0);
  np6: i32 = 0;

  /** Total entries (distinct prefix × rule). */
  get size(): i32 { return this.n4 + this.n6; }

  /** Bytes held by the lookup tables. */
  tableBytes(): i32 {
    return this.starts4.length * 4 + this.lens4.length + this.vals4.length * 2 + this.l1.length * 4 +
      (this.pChild4.length + this.pParent4.length) * 4 +
      this.hi6.length * 8 + this.lo6.length * 8 + this.lens6.length + this.vals6.length * 2 +
      (this.pChild6.length + this.pParent6.length) * 4;
  }

  // ---- lookups (no allocation) ----

  /** Most specific IPv4 entry containing addr, or -1. */
  lookup4(addr: u32): i32 {
    const n = this.n4;
    if (n == 0) return -1;
    const b = <i32>(addr >>> L1_SHIFT);
    const l1 = this.l1;
    let l = <i32>unchecked(l1[b]);
    let r = <i32>unchecked(l1[b + 1]);
    const starts = this.starts4;
    while (l < r) {
      const m = (l + r) >>> 1;
      if (unchecked(starts[m]) <= addr) l = m + 1;
      else r = m;
    }
    let i = l - 1;
    while (i >= 0) {
      const s = unchecked(starts[i]);
      const end = s | ~maskV4(<i32>unchecked(this.lens4[i]));
      if (addr <= end) return i;
      if ((unchecked(this.vals4[i]) & HAS_PARENT) == 0) return -1;
      i = this.parent4(i);
    }
    return -1;
  }

  /** Most specific IPv6 entry containing (hi, lo), or -1. */
  lookup6(hi: u64, lo: u64): i32 {
    const n = this.n6;
    if (n == 0) return -1;
    let l = 0, r = n;
    const H = this.hi6, L = this.lo6;
    while (l < r) {
      const m = (l + r) >>> 1;
      const mh = unchecked(H[m]);
      if (mh < hi || (mh == hi && unchecked(L[m]) <= lo)) l = m + 1;
      else r = m;
    }
    let i = l - 1;
    while (i >= 0) {
      const len = <i32>unchecked(this.lens6[i]);
      const mh = maskHi(len), ml = maskLo(len);
      if ((hi & mh) == unchecked(H[i]) && (lo & ml) == unchecked(L[i])) return i;
      if ((unchecked(this.vals6[i]) & HAS_PARENT) == 0) return -1;
      i = this.parent6(i);
    }
    return -1;
  }

  @inline rule4(i: i32): i32 { return <i32>(unchecked(this.vals4[i]) & RULE_MASK); }
  @inline rule6(i: i32): i32 { return <i32>(unchecked(this.vals6[i]) & RULE_MASK); }

  /** Next less specific IPv4 entry covering entry i, or -1. */
  parent4(i: i32): i32 {
    if ((unchecked(this.vals4[i]) & HAS_PARENT) == 0) return -1;
    return findParent(this.pChild4, this.pParent4, this.np4, i);
  }

  parent6(i: i32): i32 {
    if ((unchecked(this.vals6[i]) & HAS_PARENT) == 0) return -1;
    return findParent(this.pChild6, this.pParent6, this.np6, i);
  }
}

function findParent(child: StaticArray<u32>, parent: StaticArray<u32>, np: i32, i: i32): i32 {
  let l = 0, r = np;
  const key = <u32>i;
  while (l < r) {
    const m = (l + r) >>> 1;
    const c = unchecked(child[m]);
    if (c == key) return <i32>unchecked(parent[m]);
    if (c < key) l = m + 1;
    else r = m;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Building

/** Accumulates (prefix, rule) pairs, then sorts, de-duplicates and links them. */
export class CidrIndexBuilder {
  keys4: StaticArray<u64> = new StaticArray<u64>(64);
  n4: i32 = 0;
  hi6: StaticArray<u64> = new StaticArray<u64>(8);
  lo6: StaticArray<u64> = new StaticArray<u64>(8);
  meta6: StaticArray<u32> = new StaticArray<u32>(8);
  n6: i32 = 0;

  /** Pre-size for an expected number of IPv4 prefixes. */
  reserve4(n: i32): void {
    if (n > this.keys4.length) this.keys4 = growU64(this.keys4, n, this.n4);
  }

  @inline addV4(addr: u32, len: i32, rule: i32): void {
    if (this.n4 == this.keys4.length) this.keys4 = growU64(this.keys4, this.n4 * 2, this.n4);
    unchecked(this.keys4[this.n4] = (<u64>addr << 32) | (<u64>len << 16) | <u64>(RULE_MASK - <u16>rule));
    this.n4++;
  }

  addV6(hi: u64, lo: u64, len: i32, rule: i32): void {
    if (this.n6 == this.hi6.length) {
      const c = this.n6 * 2;
      this.hi6 = growU64(this.hi6, c, this.n6);
      this.lo6 = growU64(this.lo6, c, this.n6);
      this.meta6 = growU32(this.meta6, c, this.n6);
    }
    unchecked(this.hi6[this.n6] = hi);
    unchecked(this.lo6[this.n6] = lo);
    unchecked(this.meta6[this.n6] = (<u32>len << 16) | <u32>(RULE_MASK - <u16>rule));
    this.n6++;
  }

  build(): CidrIndex {
    const idx = new CidrIndex();
    // ---- IPv4
    const n = this.n4;
    const keys = this.keys4;
    if (!isSortedU64(keys, n)) radixSortU64(keys, n);
    // de-duplicate identical (prefix, rule) while unpacking
    let dups = 0;
    for (let i = 1; i < n; i++) if (unchecked(keys[i]) == unchecked(keys[i - 1])) dups++;
    const m4 = n - dups;
    const starts = new StaticArray<u32>(m4);
    const lens = new StaticArray<u8>(m4);
    const vals = new StaticArray<u16>(m4);
    let w = 0;
    let prev: u64 = 0;
    for (let i = 0; i < n; i++) {
      const k = unchecked(keys[i]);
      if (i > 0 && k == prev) continue;
      prev = k;
      unchecked(starts[w] = <u32>(k >> 32));
      unchecked(lens[w] = <u8>((k >> 16) & 0xff));
      unchecked(vals[w] = RULE_MASK - <u16>(k & 0xffff));
      w++;
    }
    setV4(idx, starts, lens, vals, m4);
    // ---- IPv6
    const m = this.n6;
    const order = new StaticArray<u32>(m);
    for (let i = 0; i < m; i++) unchecked(order[i] = <u32>i);
    mergeSortV6(order, m, this.hi6, this.lo6, this.meta6);
    const H = new StaticArray<u64>(m);
    const L = new StaticArray<u64>(m);
    const lens6 = new StaticArray<u8>(m);
    const vals6 = new StaticArray<u16>(m);
    let w6 = 0;
    for (let j = 0; j < m; j++) {
      const o = <i32>unchecked(order[j]);
      const h = unchecked(this.hi6[o]), lo = unchecked(this.lo6[o]), mt = unchecked(this.meta6[o]);
      if (w6 > 0 && unchecked(H[w6 - 1]) == h && unchecked(L[w6 - 1]) == lo &&
          <u32>unchecked(lens6[w6 - 1]) == (mt >> 16) && <u32>unchecked(vals6[w6 - 1]) == <u32>(RULE_MASK - <u16>(mt & 0xffff))) continue;
      unchecked(H[w6] = h);
      unchecked(L[w6] = lo);
      unchecked(lens6[w6] = <u8>(mt >> 16));
      unchecked(vals6[w6] = RULE_MASK - <u16>(mt & 0xffff));
      w6++;
    }
    setV6(idx, trimU64(H, w6), trimU64(L, w6), trimU8(lens6, w6), trimU16(vals6, w6), w6);
    return idx;
  }
}

/**
 * Install IPv4 arrays (sorted by (start, len, preference), host bits clear, lens ≤ 32, vals
 * without HAS_PARENT) and compute parent links and the first-level table.
 */
export function setV4(idx: CidrIndex, starts: StaticArray<u32>, lens: StaticArray<u8>, vals: StaticArray<u16>, n: i32): void {
  idx.n4 = n;
  idx.starts4 = starts;
  idx.lens4 = lens;
  idx.vals4 = vals;
  // Parent links: a stack sweep over the sorted entries (laminar family). The stack holds entry
  // indices with their end addresses (at most 33 distinct lengths × rules sharing a prefix).
  let stackIdx = new StaticArray<i32>(64);
  let stackEnd = new StaticArray<u32>(64);
  let sp = 0;
  let pc = new StaticArray<u32>(16);
  let pp = new StaticArray<u32>(16);
  let np = 0;
  for (let i = 0; i < n; i++) {
    const st = unchecked(starts[i]);
    while (sp > 0 && st > unchecked(stackEnd[sp - 1])) sp--;
    if (sp > 0) {
      unchecked(vals[i] = unchecked(vals[i]) | HAS_PARENT);
      if (np == pc.length) { pc = growU32(pc, np * 2, np); pp = growU32(pp, np * 2, np); }
      unchecked(pc[np] = <u32>i);
      unchecked(pp[np] = <u32>unchecked(stackIdx[sp - 1]));
      np++;
    }
    if (sp == stackIdx.length) { stackIdx = growI32(stackIdx, sp * 2, sp); stackEnd = growU32(stackEnd, sp * 2, sp); }
    unchecked(stackIdx[sp] = i);
    unchecked(stackEnd[sp] = st | ~maskV4(<i32>unchecked(lens[i])));
    sp++;
  }
  idx.pChild4 = trimU32(pc, np);
  idx.pParent4 = trimU32(pp, np);
  idx.np4 = np;
  // First-level table: l1[b] = first entry whose start's top bits are ≥ b.
  const l1 = new StaticArray<u32>(L1_SIZE + 1);
  let b = 0;
  for (let j = 0; j < n; j++) {
    const top = <i32>(unchecked(starts[j]) >>> L1_SHIFT);
    while (b <= top) { unchecked(l1[b] = <u32>j); b++; }
  }
  while (b <= L1_SIZE) { unchecked(l1[b] = <u32>n); b++; }
  idx.l1 = l1;
}

export function setV6(idx: CidrIndex, H: StaticArray<u64>, L: StaticArray<u64>, lens: StaticArray<u8>, vals: StaticArray<u16>, n: i32): void {
  idx.n6 = n;
  idx.hi6 = H;
  idx.lo6 = L;
  idx.lens6 = lens;
  idx.vals6 = vals;
  let stackArr = new StaticArray<i32>(64);
  let sp = 0;
  let pc = new StaticArray<u32>(4);
  let pp = new StaticArray<u32>(4);
  let np = 0;
  for (let i = 0; i < n; i++) {
    const h = unchecked(H[i]), l = unchecked(L[i]);
    while (sp > 0) {
      const t = unchecked(stackArr[sp - 1]);
      const tl = <i32>unchecked(lens[t]);
      // t contains i iff i's address masked to t's length equals t's address.
      if ((h & maskHi(tl)) == unchecked(H[t]) && (l & maskLo(tl)) == unchecked(L[t])) break;
      sp--;
    }
    if (sp > 0) {
      const t = unchecked(stackArr[sp - 1]);
      unchecked(vals[i] = unchecked(vals[i]) | HAS_PARENT);
      if (np == pc.length) { pc = growU32(pc, np * 2, np); pp = growU32(pp, np * 2, np); }
      unchecked(pc[np] = <u32>i);
      unchecked(pp[np] = <u32>t);
      np++;
    }
    if (sp == stackArr.length) stackArr = growI32(stackArr, sp * 2, sp);
    unchecked(stackArr[sp] = i);
    sp++;
  }
  idx.pChild6 = trimU32(pc, np);
  idx.pParent6 = trimU32(pp, np);
  idx.np6 = np;
}

// ---------------------------------------------------------------------------------------------
// Sorting and array helpers

export function isSortedU64(a: StaticArray<u64>, n: i32): bool {
  for (let i = 1; i < n; i++) if (unchecked(a[i - 1]) > unchecked(a[i])) return false;
  return true;
}

/**
 * Sort (address, length, preference) keys. LSD radix passes cover the varying ADDRESS bits only
 * (a /24 list varies in 24 bits: two 12-bit passes over 4096 buckets); keys with equal addresses
 * (other length or rule) are then ordered by an insertion pass that only moves elements inside
 * runs of equal addresses. Many equal addresses → a full radix sort over every varying bit.
 */
export function radixSortU64(a: StaticArray<u64>, n: i32): void {
  if (n < 64) { insertionSortU64(a, n); return; }
  let orAll: u64 = 0, andAll: u64 = 0xffffffffffffffff;
  for (let i = 0; i < n; i++) {
    const k = unchecked(a[i]);
    orAll |= k;
    andAll &= k;
  }
  const varying = orAll ^ andAll;
  if (varying == 0) return;
  if ((varying & 0xffffffff) == 0) { radixPasses(a, n, varying); return; }
  radixPasses(a, n, varying & 0xffffffff00000000);
  let ties = 0;
  for (let i = 1; i < n; i++) if ((unchecked(a[i]) >> 32) == (unchecked(a[i - 1]) >> 32)) ties++;
  if (ties <= 4096) insertionSortU64(a, n);
  else radixPasses(a, n, varying);
}

/** Stable LSD radix sort over the bit range lowest..highest set bit of `varying` (≤ 16-bit digits). */
function radixPasses(a: StaticArray<u64>, n: i32, varying: u64): void {
  if (varying == 0) return;
  const lo = <u64>ctz(varying);
  const span = <u64>(64 - clz(varying)) - lo;
  const passes = <u64>((span + 15) / 16);
  const bits = (span + passes - 1) / passes;
  const radix = <i32>(1 << <i32>bits);
  const mask: u64 = <u64>radix - 1;
  let src = a;
  let dst = new StaticArray<u64>(n);
  const count = new StaticArray<u32>(radix);
  for (let p: u64 = 0; p < passes; p++) {
    const shift = lo + p * bits;
    if (((varying >> shift) & mask) == 0) continue;
    memory.fill(changetype<usize>(count), 0, <usize>radix << 2);
    for (let i = 0; i < n; i++) {
      const d = <i32>((unchecked(src[i]) >> shift) & mask);
      unchecked(count[d] = unchecked(count[d]) + 1);
    }
    let sum: u32 = 0;
    for (let b = 0; b < radix; b++) {
      const c = unchecked(count[b]);
      unchecked(count[b] = sum);
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = unchecked(src[i]);
      const d = <i32>((k >> shift) & mask);
      const pos = unchecked(count[d]);
      unchecked(dst[pos] = k);
      unchecked(count[d] = pos + 1);
    }
    const t = src; src = dst; dst = t;
  }
  if (src !== a) memory.copy(changetype<usize>(a), changetype<usize>(src), <usize>n << 3);
}

function insertionSortU64(a: StaticArray<u64>, n: i32): void {
  for (let i = 1; i < n; i++) {
    const k = unchecked(a[i]);
    let j = i - 1;
    while (j >= 0 && unchecked(a[j]) > k) { unchecked(a[j + 1] = unchecked(a[j])); j--; }
    unchecked(a[j + 1] = k);
  }
}

@inline function lessV6(a: u32, b: u32, H: StaticArray<u64>, L: StaticArray<u64>, M: StaticArray<u32>): bool {
  const ha = unchecked(H[a]), hb = unchecked(H[b]);
  if (ha != hb) return ha < hb;
  const la = unchecked(L[a]), lb = unchecked(L[b]);
  if (la != lb) return la < lb;
  return unchecked(M[a]) < unchecked(M[b]);
}

/** Bottom-up merge sort of an index permutation by (hi, lo, len, preference). */
function mergeSortV6(order: StaticArray<u32>, n: i32, H: StaticArray<u64>, L: StaticArray<u64>, M: StaticArray<u32>): void {
  if (n < 2) return;
  let src = order;
  let dst = new StaticArray<u32>(n);
  for (let width = 1; width < n; width <<= 1) {
    for (let lo = 0; lo < n; lo += width << 1) {
      const mid = min(lo + width, n), hi = min(lo + (width << 1), n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (lessV6(unchecked(src[j]), unchecked(src[i]), H, L, M)) { unchecked(dst[k] = unchecked(src[j])); j++; }
        else { unchecked(dst[k] = unchecked(src[i])); i++; }
        k++;
      }
      while (i < mid) { unchecked(dst[k] = unchecked(src[i])); i++; k++; }
      while (j < hi) { unchecked(dst[k] = unchecked(src[j])); j++; k++; }
    }
    const t = src; src = dst; dst = t;
  }
  if (src !== order) memory.copy(changetype<usize>(order), changetype<usize>(src), <usize>n << 2);
}

export function growU64(a: StaticArray<u64>, cap: i32, used: i32): StaticArray<u64> {
  const b = new StaticArray<u64>(max(cap, 8));
  memory.copy(changetype<usize>(b), changetype<usize>(a), <usize>used << 3);
  return b;
}
export function growU32(a: StaticArray<u32>, cap: i32, used: i32): StaticArray<u32> {
  const b = new StaticArray<u32>(max(cap, 8));
  memory.copy(changetype<usize>(b), changetype<usize>(a), <usize>used << 2);
  return b;
}
function growI32(a: StaticArray<i32>, cap: i32, used: i32): StaticArray<i32> {
  const b = new StaticArray<i32>(max(cap, 8));
  memory.copy(changetype<usize>(b), changetype<usize>(a), <usize>used << 2);
  return b;
}
export function trimU64(a: StaticArray<u64>, n: i32): StaticArray<u64> {
  if (a.length == n) return a;
  const b = new StaticArray<u64>(n);
  memory.copy(changetype<usize>(b), changetype<usize>(a), <usize>n << 3);
  return b;
}
export function trimU32(a: StaticArray<u32>, n: i32): StaticArray<u32> {
  if (a.length == n) return a;
  const b = new StaticArray<u32>(n);
  memory.copy(changetype<usize>(b), changetype<usize>(a), <usize>n << 2);
  return b;
}
export function trimU16(a: StaticArray<u16>, n: i32): StaticArray<u16> {
  if (a.length == n) return a;
  const b = new StaticArray<u16>(n);
  memory.copy(changetype<usize>(b), changetype<usize>(a), <usize>n << 1);
  return b;
}
export function trimU8(a: StaticArray<u8>, n: i32): StaticArray<u8> {
  if (a.length == n) return a;
  const b = new StaticArray<u8>(n);
  memory.copy(changetype<usize>(b), changetype<usize>(a), <usize>n);
  return b;
}

// Longest-prefix-match index over IPv4 and IPv6 CIDRs with rule fallback.
//
// Table layout: one contiguous byte region, exactly the table part of a rules snapshot
// (snapshot.ts), one entry per distinct (prefix, rule) pair, sorted by (network address, prefix
// length, rule order):
//   starts4 u32[n4], lens4 u8[n4], rules4 u16[n4], zero pad to 8, hi6 u64[n6], lo6 u64[n6],
//   lens6 u8[n6], rules6 u16[n6].
// A built index owns its region (an ArrayBuffer); an index loaded from a snapshot points into the
// snapshot's own bytes (no copy: the blob is kept alive instead). Beside it, per VM:
//   a 12-bit first-level table (4097 × u32) narrowing the IPv4 binary search to one 1/4096 slice of
//   the address space, and sparse sorted (child → parent) pairs for entries nested in another.
// 100,000 IPv4 prefixes: 700 KB of table + 16 KB, plus 8 bytes per nested entry.
//
// Building the IPv4 part (CidrIndexBuilder.build): the keys (v4Key: address, length, rule) are
// sorted in place (radixSortKeys: one pass for the varying bits, one histogram pass for every
// radix digit, one scatter pass per digit; an insertion fix-up for keys with equal addresses),
// then ONE pass over the sorted keys (sweepV4) drops duplicates, writes the entries and computes
// the parent pairs and the first-level table. A loaded snapshot runs the same sweep over its table
// (installTables).
//
// Lookup of address a: the last entry whose start ≤ a is the most specific prefix containing a if
// it contains a at all; otherwise the answer is its nearest ancestor containing a (CIDRs nest or
// are disjoint). The walk up the parent chain is bounded by the nesting depth. Lookups only read
// memory: no allocation.
//
// Equal prefixes in several rules: the rule listed first in the document is the most specific
// (the others are its fallback chain).
//
// Hot loops work on raw pointers (usize), not on managed arrays: the incremental runtime spills a
// managed reference to its shadow stack on every use, which costs more than the loop body.

import { maskV4, maskHi, maskLo } from "./cidr";

/** Max rules per document (rule index must fit 15 bits). */
export const MAX_RULES: i32 = 32767;
export const RULE_MASK: u16 = 0x7fff;

const L1_BITS: u32 = 12;
const L1_SHIFT: u32 = 32 - L1_BITS;
const L1_SIZE: i32 = 1 << L1_BITS;

/** Bytes of the table region for n4 IPv4 and n6 IPv6 entries. */
// @ts-ignore: decorator
@inline export function tableRegionBytes(n4: i32, n6: i32): i32 {
  return ((n4 * 7 + 7) & ~7) + n6 * 19;
}

const EMPTY = new ArrayBuffer(8);

export class CidrIndex {
  /** Owner of the table region (a built table, or the snapshot it was loaded from). */
  data: ArrayBuffer = EMPTY;
  /** Per-VM helpers: first-level table and parent pairs (child indices, then parent indices). */
  l1: StaticArray<u32> = new StaticArray<u32>(0);
  parents4: StaticArray<u32> = new StaticArray<u32>(0);
  parents6: StaticArray<u32> = new StaticArray<u32>(0);
  n4: i32 = 0;
  n6: i32 = 0;
  np4: i32 = 0;
  np6: i32 = 0;
  // Raw pointers into `data` / the helpers (AssemblyScript's GC never moves objects).
  s4: usize = 0;
  ln4: usize = 0;
  r4: usize = 0;
  h6: usize = 0;
  lo6: usize = 0;
  ln6: usize = 0;
  r6: usize = 0;
  pL1: usize = 0;
  pc4: usize = 0;
  pc6: usize = 0;

  /** Total entries (distinct prefix × rule). */
  get size(): i32 { return this.n4 + this.n6; }

  /** Bytes held by the lookup tables (table region + first-level table + parent pairs). */
  tableBytes(): i32 {
    return tableRegionBytes(this.n4, this.n6) + this.l1.length * 4 + (this.parents4.length + this.parents6.length) * 4;
  }

  // ---- entry accessors ----
  @inline start4(i: i32): u32 { return load<u32>(this.s4 + (<usize>i << 2)); }
  @inline len4(i: i32): i32 { return <i32>load<u8>(this.ln4 + <usize>i); }
  @inline rule4(i: i32): i32 { return <i32>load<u16>(this.r4 + (<usize>i << 1)); }
  @inline hi6At(i: i32): u64 { return load<u64>(this.h6 + (<usize>i << 3)); }
  @inline lo6At(i: i32): u64 { return load<u64>(this.lo6 + (<usize>i << 3)); }
  @inline len6(i: i32): i32 { return <i32>load<u8>(this.ln6 + <usize>i); }
  @inline rule6(i: i32): i32 { return <i32>load<u16>(this.r6 + (<usize>i << 1)); }

  // ---- lookups (no allocation) ----

  /** Most specific IPv4 entry containing addr, or -1. */
  lookup4(addr: u32): i32 {
    if (this.n4 == 0) return -1;
    const l1 = this.pL1 + (<usize>(addr >>> L1_SHIFT) << 2);
    let l = <i32>load<u32>(l1);
    let r = <i32>load<u32>(l1 + 4);
    const s4 = this.s4;
    while (l < r) {
      const m = (l + r) >>> 1;
      if (load<u32>(s4 + (<usize>m << 2)) <= addr) l = m + 1;
      else r = m;
    }
    let i = l - 1;
    while (i >= 0) {
      const end = load<u32>(s4 + (<usize>i << 2)) | ~maskV4(<i32>load<u8>(this.ln4 + <usize>i));
      if (addr <= end) return i;
      i = this.parent4(i);
    }
    return -1;
  }

  /** Most specific IPv6 entry containing (hi, lo), or -1. */
  lookup6(hi: u64, lo: u64): i32 {
    const n = this.n6;
    if (n == 0) return -1;
    let l = 0, r = n;
    const H = this.h6, L = this.lo6;
    while (l < r) {
      const m = (l + r) >>> 1;
      const mh = load<u64>(H + (<usize>m << 3));
      if (mh < hi || (mh == hi && load<u64>(L + (<usize>m << 3)) <= lo)) l = m + 1;
      else r = m;
    }
    let i = l - 1;
    while (i >= 0) {
      const len = <i32>load<u8>(this.ln6 + <usize>i);
      if ((hi & maskHi(len)) == load<u64>(H + (<usize>i << 3)) && (lo & maskLo(len)) == load<u64>(L + (<usize>i << 3))) return i;
      i = this.parent6(i);
    }
    return -1;
  }

  /** Next less specific IPv4 entry covering entry i, or -1. */
  parent4(i: i32): i32 { return findParent(this.pc4, this.np4, i); }
  parent6(i: i32): i32 { return findParent(this.pc6, this.np6, i); }
}

/** Parent pairs: np child indices (sorted), then np parent indices. */
function findParent(pc: usize, np: i32, i: i32): i32 {
  let l = 0, r = np;
  const key = <u32>i;
  while (l < r) {
    const m = (l + r) >>> 1;
    const c = load<u32>(pc + (<usize>m << 2));
    if (c == key) return <i32>load<u32>(pc + (<usize>(np + m) << 2));
    if (c < key) l = m + 1;
    else r = m;
  }
  return -1;
}

/** Point idx at a table region (`data` at byte `off`) laid out for n4 IPv4 and n6 IPv6 entries. */
function setRegion(idx: CidrIndex, data: ArrayBuffer, off: usize, n4: i32, n6: i32): void {
  const base = changetype<usize>(data) + off;
  idx.data = data;
  idx.n4 = n4;
  idx.n6 = n6;
  idx.s4 = base;
  idx.ln4 = base + (<usize>n4 << 2);
  idx.r4 = base + <usize>n4 * 5;
  const b6 = base + <usize>((n4 * 7 + 7) & ~7);
  idx.h6 = b6;
  idx.lo6 = b6 + (<usize>n6 << 3);
  idx.ln6 = b6 + (<usize>n6 << 4);
  idx.r6 = b6 + <usize>n6 * 17;
}

/**
 * Install a table region (`data` at byte `off`, n4 + n6 sorted entries, host bits clear; a loaded
 * snapshot's) and compute the per-VM helpers: parent pairs and the first-level table (sweepV4, the
 * same pass a build writes its IPv4 entries with), IPv6 parent pairs (linkV6).
 */
export function installTables(idx: CidrIndex, data: ArrayBuffer, off: usize, n4: i32, n6: i32, nr: u32): bool {
  setRegion(idx, data, off, n4, n6);
  if (sweepV4<u32>(idx, 0, n4, nr) < 0) return false;
  linkV6(idx);
  return true;
}

/** The IPv4 entry the last failed installTables stopped at, and why (true: out of order; false: malformed). */
export let installBadEntry: i32 = -1;
export let installOutOfOrder: bool = false;

// Scratch for the parent sweeps (module globals: one sweep at a time per VM).
let stackIdx = new StaticArray<i32>(64);
let stackEnd = new StaticArray<u64>(64);
let pairs = new StaticArray<u32>(64);

function growScratch(): void {
  const c = stackIdx.length * 2;
  const a = new StaticArray<i32>(c), e = new StaticArray<u64>(c);
  memory.copy(changetype<usize>(a), changetype<usize>(stackIdx), <usize>stackIdx.length << 2);
  memory.copy(changetype<usize>(e), changetype<usize>(stackEnd), <usize>stackEnd.length << 3);
  stackIdx = a; stackEnd = e;
}

/** Append (child, parent) to the pair scratch (children, interleaved for now). */
function addPair(np: i32, child: u32, parent: u32): void {
  if ((np + 1) * 2 > pairs.length) {
    const b = new StaticArray<u32>(pairs.length * 2);
    memory.copy(changetype<usize>(b), changetype<usize>(pairs), <usize>pairs.length << 2);
    pairs = b;
  }
  const p = changetype<usize>(pairs) + (<usize>np << 3);
  store<u32>(p, child);
  store<u32>(p + 4, parent);
}

/** Pairs (interleaved, in child order) → children block then parents block. */
function packPairs(np: i32): StaticArray<u32> {
  const out = new StaticArray<u32>(np * 2);
  const o = changetype<usize>(out);
  const q = changetype<usize>(pairs);
  for (let i = 0; i < np; i++) {
    store<u32>(o + (<usize>i << 2), load<u32>(q + (<usize>i << 3)));
    store<u32>(o + (<usize>(np + i) << 2), load<u32>(q + (<usize>i << 3) + 4));
  }
  return out;
}

/**
 * The IPv4 entries in table order, one pass: parent links (a stack sweep: CIDRs nest or are
 * disjoint, so the innermost open entry whose end is ≥ a start contains it) and the first-level
 * table. K selects the source, at compile time:
 *   - u64 (build): sorted keys at kp[0..n); each distinct key is written as the next entry of the
 *     region idx points at (laid out for n entries: the caller moves lens/rules down if fewer);
 *   - u32 (installTables): the n entries already in the region, CHECKED in this same pass (a loaded
 *     snapshot is untrusted: prefix length ≤ 32, host bits clear, rule index < nr, sorted by start
 *     then length); the first bad one stops the sweep: -1, installBadEntry / installOutOfOrder say why.
 * Returns the number of entries. The innermost open entry is always the previous one; the ones
 * around it are in the stack scratch (sp of them); outerEnd is the end of the outermost one. An
 * entry that starts after outerEnd closes them all: the common case of a flat list takes no stack
 * traffic at all.
 */
function sweepV4<K>(idx: CidrIndex, kp: usize, n: i32, nr: u32 = 0): i32 {
  const s4 = idx.s4, ln4 = idx.ln4, r4 = idx.r4;
  let prevS: u32 = 0, prevL: u32 = 0;
  const l1 = new StaticArray<u32>(L1_SIZE + 1);
  const pl = changetype<usize>(l1);
  let sp = 0, np = 0, b = 0, w = 0;
  // The innermost open entry is always the previous one (index w - 1, end prevEnd).
  let prevEnd: u64 = 0, outerEnd: i64 = -1;
  let prev: u64 = n > 0 && sizeof<K>() == 8 ? ~load<u64>(kp) : 0; // ≠ the first key
  for (let i = 0; i < n; i++) {
    let st: u32, len: u32;
    if (sizeof<K>() == 8) {
      const k = load<u64>(kp + (<usize>i << 3));
      if (k == prev) continue; // duplicate (prefix, rule)
      prev = k;
      st = <u32>(k >> 32);
      len = <u32>(k >> 16) & 0xff;
      store<u32>(s4 + (<usize>w << 2), st);
      store<u8>(ln4 + <usize>w, <u8>len);
      store<u16>(r4 + (<usize>w << 1), RULE_MASK - <u16>k);
    } else {
      st = load<u32>(s4 + (<usize>i << 2));
      len = <u32>load<u8>(ln4 + <usize>i);
      // Host bits clear ⟺ the low 32 bits of st << len are zero (len ≤ 32); one test for all three.
      if ((<u32>(len > 32) | <u32>(<u32>(<u64>st << <u64>len) != 0) | <u32>(<u32>load<u16>(r4 + (<usize>i << 1)) >= nr)) != 0) {
        installBadEntry = i; installOutOfOrder = false;
        return -1;
      }
    }
    // First-level table: l1[b] = first entry whose start's top bits are ≥ b.
    const top = <i32>(st >>> L1_SHIFT);
    if (b <= top) {
      do { store<u32>(pl + (<usize>b << 2), <u32>w); b++; } while (b <= top);
    }
    const end = <u64>st | (<u64>0xffffffff >> <u64>len);
    if (<i64>st > outerEnd) {
      // Disjoint from every open entry: they all close, this one opens alone.
      sp = 0;
      outerEnd = <i64>end;
    } else {
      // Order (u32): an entry starting after outerEnd starts after every earlier one; only one
      // inside the open run needs the (start, length) comparison with its predecessor.
      if (sizeof<K>() == 4 && (st < prevS || (st == prevS && len < prevL))) {
        installBadEntry = i; installOutOfOrder = true;
        return -1;
      }
      // Nested: close the open entries that end before st; the innermost one left is the parent.
      const si = changetype<usize>(stackIdx), se = changetype<usize>(stackEnd);
      let topEnd = prevEnd, topIdx = w - 1;
      while (<u64>st > topEnd) {
        sp--;
        topEnd = load<u64>(se + (<usize>sp << 3));
        topIdx = load<i32>(si + (<usize>sp << 2));
      }
      addPair(np, <u32>w, <u32>topIdx);
      np++;
      if (sp == stackIdx.length) growScratch();
      store<u64>(changetype<usize>(stackEnd) + (<usize>sp << 3), topEnd);
      store<i32>(changetype<usize>(stackIdx) + (<usize>sp << 2), topIdx);
      sp++;
    }
    prevEnd = end;
    if (sizeof<K>() == 4) { prevS = st; prevL = len; }
    w++;
  }
  while (b <= L1_SIZE) { store<u32>(pl + (<usize>b << 2), <u32>w); b++; }
  idx.l1 = l1;
  idx.pL1 = pl;
  const packed = packPairs(np);
  idx.parents4 = packed;
  idx.pc4 = changetype<usize>(packed);
  idx.np4 = np;
  return w;
}

function linkV6(idx: CidrIndex): void {
  const n = idx.n6;
  const H = idx.h6, L = idx.lo6, ln6 = idx.ln6;
  let sp = 0;
  let np = 0;
  let si = changetype<usize>(stackIdx);
  let cap = stackIdx.length;
  for (let i = 0; i < n; i++) {
    const h = load<u64>(H + (<usize>i << 3)), l = load<u64>(L + (<usize>i << 3));
    while (sp > 0) {
      const t = <i32>load<u32>(si + (<usize>(sp - 1) << 2));
      const tl = <i32>load<u8>(ln6 + <usize>t);
      // t contains i iff i's address masked to t's length equals t's address.
      if ((h & maskHi(tl)) == load<u64>(H + (<usize>t << 3)) && (l & maskLo(tl)) == load<u64>(L + (<usize>t << 3))) break;
      sp--;
    }
    if (sp > 0) {
      addPair(np, <u32>i, load<u32>(si + (<usize>(sp - 1) << 2)));
      np++;
    }
    if (sp == cap) { growScratch(); si = changetype<usize>(stackIdx); cap = stackIdx.length; }
    store<u32>(si + (<usize>sp << 2), <u32>i);
    sp++;
  }
  const packed = packPairs(np);
  idx.parents6 = packed;
  idx.pc6 = changetype<usize>(packed);
  idx.np6 = np;
}

/** A fresh empty index. */
export function emptyIndex(): CidrIndex {
  const idx = new CidrIndex();
  installTables(idx, EMPTY, 0, 0, 0, 0);
  return idx;
}

// ---------------------------------------------------------------------------------------------
// Building

/** The low 16 bits of a key for `rule` (RULE_MASK - rule: among equal prefixes, the lower rule index sorts last). */
// @ts-ignore: decorator
@inline export function ruleTag(rule: i32): u64 { return <u64>(RULE_MASK - <u16>rule); }

/** An IPv4 key: (address << 32) | (length << 16) | ruleTag(rule), so the sort order is the table order. */
// @ts-ignore: decorator
@inline export function v4Key(addr: u32, len: u32, tag: u64): u64 { return (<u64>addr << 32) | (<u64>len << 16) | tag; }

/** Accumulates (prefix, rule) pairs, then sorts, de-duplicates and writes the table region. */
export class CidrIndexBuilder {
  /**
   * IPv4 keys (v4Key), in the order added, at kp: heap scratch, not a GC object. The heap does not
   * zero-fill (every key is written before it is read), grow4 reallocates in place when the block
   * after it is free, and build() frees the keys as soon as the table region is written, so the
   * next allocations reuse those pages (in a fresh VM, such as Envoy's canary, each first-touched
   * page is a page fault). A builder dropped without build() must be release()d.
   */
  kp: usize = heap.alloc(64 * 8);
  cap4: i32 = 64;
  n4: i32 = 0;
  // IPv6: hi, lo, meta = (length << 16) | ruleTag(rule)
  hi6: StaticArray<u64> = new StaticArray<u64>(8);
  lo6: StaticArray<u64> = new StaticArray<u64>(8);
  meta6: StaticArray<u32> = new StaticArray<u32>(8);
  n6: i32 = 0;

  /** Pre-size for an expected number of IPv4 prefixes. */
  reserve4(n: i32): void {
    if (n > this.cap4) this.grow4(n);
  }

  /** Room for `cap` IPv4 keys (at least n4 + 1). */
  grow4(cap: i32): void {
    cap = max(cap, max(this.n4 + 1, 8));
    const bytes = <usize>cap << 3;
    this.kp = this.kp == 0 ? heap.alloc(bytes) : heap.realloc(this.kp, bytes);
    this.cap4 = cap;
  }

  /** Frees the IPv4 keys (build() does this itself); the builder is empty afterwards. */
  release(): void {
    if (this.kp != 0) heap.free(this.kp);
    this.kp = 0;
    this.cap4 = 0;
    this.n4 = 0;
  }

  @inline addV4(addr: u32, len: i32, rule: i32): void {
    const n = this.n4;
    if (n == this.cap4) this.grow4(n * 2);
    store<u64>(this.kp + (<usize>n << 3), v4Key(addr, <u32>len, ruleTag(rule)));
    this.n4 = n + 1;
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
    unchecked(this.meta6[this.n6] = (<u32>len << 16) | <u32>ruleTag(rule));
    this.n6++;
  }

  /** Sort, de-duplicate and write the table region at byte `offset` of a new buffer (see snapshotTableOffset). */
  build(offset: i32 = 0): CidrIndex {
    // ---- IPv4: sort the keys in place
    const n = this.n4;
    const kp = this.kp;
    if (!isSortedKeys(kp, n)) radixSortKeys(kp, n);
    // ---- IPv6: sort a permutation, count distinct entries
    const m = this.n6;
    const order = new StaticArray<u32>(m);
    const op = changetype<usize>(order);
    for (let i = 0; i < m; i++) store<u32>(op + (<usize>i << 2), <u32>i);
    mergeSortV6(order, m, this.hi6, this.lo6, this.meta6);
    const H = changetype<usize>(this.hi6), L = changetype<usize>(this.lo6), M = changetype<usize>(this.meta6);
    let m6 = 0;
    for (let j = 0; j < m; j++) {
      if (j > 0 && sameV6(H, L, M, <i32>load<u32>(op + (<usize>j << 2)), <i32>load<u32>(op + (<usize>(j - 1) << 2)))) continue;
      m6++;
    }
    // ---- IPv4 entries, parent links and first-level table in one pass over the sorted keys, into a
    // region laid out for n entries (duplicate keys are dropped on the way)
    const idx = new CidrIndex();
    setRegion(idx, new ArrayBuffer(max(8, offset + tableRegionBytes(n, m6))), <usize>offset, n, m6);
    const m4 = sweepV4<u64>(idx, kp, n);
    this.release(); // the keys are in the region now
    if (m4 < n) {
      // Duplicates: the entries move to a region of the exact size (the snapshot is that region).
      const exact = new ArrayBuffer(max(8, offset + tableRegionBytes(m4, m6)));
      const s4 = idx.s4, ln4 = idx.ln4, r4 = idx.r4;
      setRegion(idx, exact, <usize>offset, m4, m6);
      memory.copy(idx.s4, s4, <usize>m4 << 2);
      memory.copy(idx.ln4, ln4, <usize>m4);
      memory.copy(idx.r4, r4, <usize>m4 << 1);
    }
    // ---- IPv6 entries, then their parent links
    const qh = idx.h6, ql = idx.lo6, qn = idx.ln6, qr = idx.r6;
    let w6 = 0;
    for (let j = 0; j < m; j++) {
      const o = <i32>load<u32>(op + (<usize>j << 2));
      if (j > 0 && sameV6(H, L, M, o, <i32>load<u32>(op + (<usize>(j - 1) << 2)))) continue;
      const mt = load<u32>(M + (<usize>o << 2));
      store<u64>(qh + (<usize>w6 << 3), load<u64>(H + (<usize>o << 3)));
      store<u64>(ql + (<usize>w6 << 3), load<u64>(L + (<usize>o << 3)));
      store<u8>(qn + <usize>w6, <u8>(mt >> 16));
      store<u16>(qr + (<usize>w6 << 1), RULE_MASK - <u16>(mt & 0xffff));
      w6++;
    }
    linkV6(idx);
    return idx;
  }
}

@inline function sameV6(H: usize, L: usize, M: usize, a: i32, b: i32): bool {
  return load<u64>(H + (<usize>a << 3)) == load<u64>(H + (<usize>b << 3)) &&
    load<u64>(L + (<usize>a << 3)) == load<u64>(L + (<usize>b << 3)) &&
    load<u32>(M + (<usize>a << 2)) == load<u32>(M + (<usize>b << 2));
}

// ---------------------------------------------------------------------------------------------
// Sorting and array helpers

export function isSortedKeys(p: usize, n: i32): bool {
  for (let i = 1; i < n; i++) if (load<u64>(p + (<usize>(i - 1) << 3)) > load<u64>(p + (<usize>i << 3))) return false;
  return true;
}

// Radix bucket counts, one block per digit, reused (≤ 4 × 2^16 buckets; grown on demand).
let counts = new StaticArray<u32>(0);

/**
 * Sort (address, length, preference) keys at p[0..n). LSD radix passes cover the varying ADDRESS
 * bits only (a /24 list varies in 24 bits: two 12-bit passes over 4096 buckets); keys with equal
 * addresses (other length or rule) are then ordered by an insertion pass that only moves elements
 * inside runs of equal addresses. If that takes more than n moves (many equal addresses), a full
 * radix sort over every varying bit finishes the job.
 */
export function radixSortKeys(p: usize, n: i32): void {
  if (n < 64) { insertionSortKeys(p, n, n * n); return; }
  let orAll: u64 = 0, andAll: u64 = 0xffffffffffffffff;
  for (let i = 0; i < n; i++) {
    const k = load<u64>(p + (<usize>i << 3));
    orAll |= k;
    andAll &= k;
  }
  const varying = orAll ^ andAll;
  if (varying == 0) return;
  if ((varying & 0xffffffff) == 0) { radixPasses(p, n, varying); return; }
  radixPasses(p, n, varying & 0xffffffff00000000);
  if (!insertionSortKeys(p, n, n)) radixPasses(p, n, varying);
}

// @ts-ignore: decorator
@inline function bump(c: usize, k: u64, shift: u64, mask: u64): void {
  const q = c + (<usize>((k >> shift) & mask) << 2);
  store<u32>(q, load<u32>(q) + 1);
}

/**
 * Stable LSD radix sort over the bit range lowest..highest set bit of `varying`: digits of ≤ 16
 * bits (fewer for small n, so the bucket sweeps stay below the key count), all digit histograms
 * counted in one read pass, then one scatter pass per digit that varies.
 */
function radixPasses(a: usize, n: i32, varying: u64): void {
  if (varying == 0) return;
  const lo = <u64>ctz(varying);
  const span = <u64>(64 - clz(varying)) - lo;
  const maxBits = <u64>min(16, max(8, 32 - clz(n)));
  const passes = (span + maxBits - 1) / maxBits;
  const bits = (span + passes - 1) / passes;
  const radix = <i32>(1 << <i32>bits);
  const mask: u64 = <u64>radix - 1;
  const total = radix * <i32>passes;
  if (counts.length < total) counts = new StaticArray<u32>(total);
  const count = changetype<usize>(counts);
  memory.fill(count, 0, <usize>total << 2);
  const digit = <usize>radix << 2; // bytes per digit block
  if (passes == 1) {
    for (let i = 0; i < n; i++) bump(count, load<u64>(a + (<usize>i << 3)), lo, mask);
  } else if (passes == 2) {
    const hi = lo + bits, c1 = count + digit;
    for (let i = 0; i < n; i++) {
      const k = load<u64>(a + (<usize>i << 3));
      bump(count, k, lo, mask);
      bump(c1, k, hi, mask);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const k = load<u64>(a + (<usize>i << 3));
      for (let pi: u64 = 0; pi < passes; pi++) bump(count + <usize>pi * digit, k, lo + pi * bits, mask);
    }
  }
  // Scratch from the heap, freed as soon as the sort ends (not a GC object left for a later
  // collection): the table region allocated next reuses these pages. In a fresh VM (Envoy's
  // canary runs every pushed document in one) each first-touched page is a page fault.
  const tmp = heap.alloc(<usize>n << 3);
  let src = a;
  let dst = tmp;
  for (let pi: u64 = 0; pi < passes; pi++) {
    const shift = lo + pi * bits;
    if (((varying >> shift) & mask) == 0) continue;
    const c0 = count + <usize>pi * digit;
    let sum: u32 = 0;
    for (let b = 0; b < radix; b++) {
      const c = c0 + (<usize>b << 2);
      const v = load<u32>(c);
      store<u32>(c, sum);
      sum += v;
    }
    for (let i = 0; i < n; i++) {
      const k = load<u64>(src + (<usize>i << 3));
      const c = c0 + (<usize>((k >> shift) & mask) << 2);
      const pos = load<u32>(c);
      store<u64>(dst + (<usize>pos << 3), k);
      store<u32>(c, pos + 1);
    }
    const t = src; src = dst; dst = t;
  }
  if (src != a) memory.copy(a, src, <usize>n << 3);
  heap.free(tmp);
}

/** Insertion sort of p[0..n); gives up (false, p still a permutation) after more than `budget` moves. */
function insertionSortKeys(p: usize, n: i32, budget: i32): bool {
  let moves = 0;
  for (let i = 1; i < n; i++) {
    const k = load<u64>(p + (<usize>i << 3));
    let j = i - 1;
    if (load<u64>(p + (<usize>j << 3)) <= k) continue;
    do {
      store<u64>(p + (<usize>(j + 1) << 3), load<u64>(p + (<usize>j << 3)));
      j--;
    } while (j >= 0 && load<u64>(p + (<usize>j << 3)) > k);
    store<u64>(p + (<usize>(j + 1) << 3), k);
    moves += i - 1 - j;
    if (moves > budget) return false;
  }
  return true;
}

@inline function lessV6(a: u32, b: u32, H: usize, L: usize, M: usize): bool {
  const ha = load<u64>(H + (<usize>a << 3)), hb = load<u64>(H + (<usize>b << 3));
  if (ha != hb) return ha < hb;
  const la = load<u64>(L + (<usize>a << 3)), lb = load<u64>(L + (<usize>b << 3));
  if (la != lb) return la < lb;
  return load<u32>(M + (<usize>a << 2)) < load<u32>(M + (<usize>b << 2));
}

/** Bottom-up merge sort of an index permutation by (hi, lo, len, preference). */
function mergeSortV6(order: StaticArray<u32>, n: i32, hs: StaticArray<u64>, ls: StaticArray<u64>, ms: StaticArray<u32>): void {
  if (n < 2) return;
  const H = changetype<usize>(hs), L = changetype<usize>(ls), M = changetype<usize>(ms);
  const tmp = heap.alloc(<usize>n << 2); // freed below, as radixPasses' scratch
  let src = changetype<usize>(order);
  let dst = tmp;
  for (let width = 1; width < n; width <<= 1) {
    for (let lo = 0; lo < n; lo += width << 1) {
      const mid = min(lo + width, n), hi = min(lo + (width << 1), n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        const sj = load<u32>(src + (<usize>j << 2)), si = load<u32>(src + (<usize>i << 2));
        if (lessV6(sj, si, H, L, M)) { store<u32>(dst + (<usize>k << 2), sj); j++; }
        else { store<u32>(dst + (<usize>k << 2), si); i++; }
        k++;
      }
      while (i < mid) { store<u32>(dst + (<usize>k << 2), load<u32>(src + (<usize>i << 2))); i++; k++; }
      while (j < hi) { store<u32>(dst + (<usize>k << 2), load<u32>(src + (<usize>j << 2))); j++; k++; }
    }
    const t = src; src = dst; dst = t;
  }
  if (src != changetype<usize>(order)) memory.copy(changetype<usize>(order), src, <usize>n << 2);
  heap.free(tmp);
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

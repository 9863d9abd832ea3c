// Bounded FIFO of finished server spans, stored as compact binary records in one byte arena
// (no object per span): fixed 64-byte header + route, client address, rule id and tracestate bytes.
// When the store is full the OLDEST record is dropped (the caller counts it). The arena is compacted
// in place when its tail reaches the end and doubled only when live records need more room.

export namespace SampleReason {
  export const None: u8 = 0;
  export const Parent: u8 = 1;
  export const Probability: u8 = 2;
  export const Error: u8 = 3;
  export const Slow: u8 = 4;
}
export const SAMPLE_REASON_NAMES: string[] = ["none", "parent", "probability", "error", "slow"];

/** Rule decision attached to a span (edgewatch.rule.decision). */
export namespace SpanDecision {
  export const Allow: u8 = 0;
  export const Deny: u8 = 1;
  export const Log: u8 = 2;
  export const ColdStartAllow: u8 = 3;
  export const ColdStartDeny: u8 = 4;
}
export const SPAN_DECISION_NAMES: string[] = ["allow", "deny", "log", "cold_start_allow", "cold_start_deny"];

// Record layout (little-endian):
//   0 traceHi u64 | 8 traceLo u64 | 16 spanId u64 | 24 parentId u64 (0 = none) | 32 startNs u64 | 40 endNs u64
//  48 status u16 | 50 flags u8 | 51 reason u8 | 52 method u8 | 53 local u8 | 54 decision u8 | 55 pad
//  56 routeLen u16 | 58 clientLen u16 | 60 ruleLen u16 | 62 tsLen u16 | 64 bytes…
export const HEADER_SIZE: i32 = 64;
const MAX_FIELD: i32 = 1024;

export class SpanFields {
  traceHi: u64 = 0;
  traceLo: u64 = 0;
  spanId: u64 = 0;
  parentId: u64 = 0;
  startNs: u64 = 0;
  endNs: u64 = 0;
  status: i32 = 0;
  flags: u8 = 0;
  reason: u8 = 0;
  method: u8 = 0;
  local: bool = false;
  decision: u8 = 0;
  route: usize = 0; routeLen: i32 = 0;
  client: usize = 0; clientLen: i32 = 0;
  rule: usize = 0; ruleLen: i32 = 0;
  tracestate: usize = 0; tracestateLen: i32 = 0;
}

export class SpanStore {
  private arena: ArrayBuffer;
  private tail: i32 = 0;              // end of the newest record
  private offsets: StaticArray<i32>;  // ring of record offsets
  private head: i32 = 0;
  count: i32 = 0;
  readonly capacity: i32;

  constructor(capacity: i32, initialArena: i32) {
    const cap = capacity < 1 ? 1 : capacity;
    this.offsets = new StaticArray<i32>(cap);
    this.arena = new ArrayBuffer(initialArena < 1024 ? 1024 : initialArena);
    this.capacity = cap;
  }

  get arenaBytes(): i32 { return this.arena.byteLength; }

  /** Address of the i-th oldest record (0 = oldest). */
  record(i: i32): usize {
    return changetype<usize>(this.arena) + <usize>unchecked(this.offsets[(this.head + i) % this.capacity]);
  }

  /** Remove the n oldest records. */
  dropOldest(n: i32): void {
    if (n > this.count) n = this.count;
    this.head = (this.head + n) % this.capacity;
    this.count -= n;
    if (this.count == 0) { this.head = 0; this.tail = 0; }
  }

  /** Append a record; returns true when the oldest record had to be dropped to make room. */
  push(f: SpanFields): bool {
    let dropped = false;
    if (this.count == this.capacity) { this.dropOldest(1); dropped = true; }
    const rl = clampLen(f.routeLen), cl = clampLen(f.clientLen), ul = clampLen(f.ruleLen), tl = clampLen(f.tracestateLen);
    const size = (HEADER_SIZE + rl + cl + ul + tl + 7) & ~7;
    this.ensure(size);
    const off = this.tail;
    const p = changetype<usize>(this.arena) + <usize>off;
    store<u64>(p, f.traceHi);
    store<u64>(p + 8, f.traceLo);
    store<u64>(p + 16, f.spanId);
    store<u64>(p + 24, f.parentId);
    store<u64>(p + 32, f.startNs);
    store<u64>(p + 40, f.endNs);
    store<u16>(p + 48, <u16>f.status);
    store<u8>(p + 50, f.flags);
    store<u8>(p + 51, f.reason);
    store<u8>(p + 52, f.method);
    store<u8>(p + 53, f.local ? 1 : 0);
    store<u8>(p + 54, f.decision);
    store<u16>(p + 56, <u16>rl);
    store<u16>(p + 58, <u16>cl);
    store<u16>(p + 60, <u16>ul);
    store<u16>(p + 62, <u16>tl);
    let w = p + <usize>HEADER_SIZE;
    memory.copy(w, f.route, <usize>rl); w += <usize>rl;
    memory.copy(w, f.client, <usize>cl); w += <usize>cl;
    memory.copy(w, f.rule, <usize>ul); w += <usize>ul;
    memory.copy(w, f.tracestate, <usize>tl);
    unchecked(this.offsets[(this.head + this.count) % this.capacity] = off);
    this.count++;
    this.tail = off + size;
    return dropped;
  }

  private ensure(size: i32): void {
    if (this.tail + size <= this.arena.byteLength) return;
    // Compact: live records are contiguous from the oldest one's offset to tail.
    const start = this.count > 0 ? unchecked(this.offsets[this.head]) : this.tail;
    const live = this.tail - start;
    if (start > 0) {
      const base = changetype<usize>(this.arena);
      memory.copy(base, base + <usize>start, <usize>live);
      for (let i = 0; i < this.count; i++) {
        const k = (this.head + i) % this.capacity;
        unchecked(this.offsets[k] = unchecked(this.offsets[k]) - start);
      }
      this.tail = live;
    }
    if (this.tail + size <= this.arena.byteLength) return;
    let cap = this.arena.byteLength << 1;
    while (cap < this.tail + size) cap <<= 1;
    const nb = new ArrayBuffer(cap);
    memory.copy(changetype<usize>(nb), changetype<usize>(this.arena), <usize>this.tail);
    this.arena = nb;
  }
}

// @ts-ignore: decorator
@inline
function clampLen(n: i32): i32 { return n < 0 ? 0 : (n > MAX_FIELD ? MAX_FIELD : n); }

// Record field readers (for the encoder).
// @ts-ignore: decorator
@inline export function recTraceHi(r: usize): u64 { return load<u64>(r); }
// @ts-ignore: decorator
@inline export function recTraceLo(r: usize): u64 { return load<u64>(r + 8); }
// @ts-ignore: decorator
@inline export function recSpanId(r: usize): u64 { return load<u64>(r + 16); }
// @ts-ignore: decorator
@inline export function recParentId(r: usize): u64 { return load<u64>(r + 24); }
// @ts-ignore: decorator
@inline export function recStart(r: usize): u64 { return load<u64>(r + 32); }
// @ts-ignore: decorator
@inline export function recEnd(r: usize): u64 { return load<u64>(r + 40); }
// @ts-ignore: decorator
@inline export function recStatus(r: usize): i32 { return <i32>load<u16>(r + 48); }
// @ts-ignore: decorator
@inline export function recFlags(r: usize): u8 { return load<u8>(r + 50); }
// @ts-ignore: decorator
@inline export function recReason(r: usize): u8 { return load<u8>(r + 51); }
// @ts-ignore: decorator
@inline export function recMethod(r: usize): u8 { return load<u8>(r + 52); }
// @ts-ignore: decorator
@inline export function recLocal(r: usize): bool { return load<u8>(r + 53) != 0; }
// @ts-ignore: decorator
@inline export function recDecision(r: usize): u8 { return load<u8>(r + 54); }
// @ts-ignore: decorator
@inline export function recRouteLen(r: usize): i32 { return <i32>load<u16>(r + 56); }
// @ts-ignore: decorator
@inline export function recClientLen(r: usize): i32 { return <i32>load<u16>(r + 58); }
// @ts-ignore: decorator
@inline export function recRuleLen(r: usize): i32 { return <i32>load<u16>(r + 60); }
// @ts-ignore: decorator
@inline export function recTracestateLen(r: usize): i32 { return <i32>load<u16>(r + 62); }
// @ts-ignore: decorator
@inline export function recRoute(r: usize): usize { return r + <usize>HEADER_SIZE; }
// @ts-ignore: decorator
@inline export function recClient(r: usize): usize { return recRoute(r) + <usize>recRouteLen(r); }
// @ts-ignore: decorator
@inline export function recRule(r: usize): usize { return recClient(r) + <usize>recClientLen(r); }
// @ts-ignore: decorator
@inline export function recTracestate(r: usize): usize { return recRule(r) + <usize>recRuleLen(r); }

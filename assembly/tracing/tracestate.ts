// W3C Trace Context `tracestate` (https://www.w3.org/TR/trace-context-2/#tracestate-header) and the
// OpenTelemetry `ot` member (spec "TraceState Handling": `ot=th:<hex>;rv:<hex>;…`).
//
//   list        = list-member 0*31( OWS "," OWS list-member )   (empty members are allowed, ignored)
//   list-member = key "=" value
//   key         = simple-key / multi-tenant-key
//   simple-key  = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//   multi-tenant-key = tenant-id "@" system-id
//   tenant-id   = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//   system-id   = lcalpha 0*13( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//   value       = 0*255(chr) nblk-chr ; chr = %x20 / nblk-chr ; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
//
// Any violation (bad key or value, duplicate key, more than 32 members) makes the whole header
// invalid: the caller then drops it, as the spec requires ("discard the whole tracestate").
// Output: a modified member moves to the front; when the result exceeds 512 characters whole
// members are removed from the end, those longer than 128 characters first.
// Nothing here allocates: member positions are offsets into the caller's input bytes.
import { parseThreshold, parseRandomness, writeThreshold } from "./sampling";

export const MAX_MEMBERS: i32 = 32;
export const MAX_TRACESTATE_OUT: i32 = 512;
const LONG_MEMBER: i32 = 128;

export class TraceState {
  valid: bool = false;
  base: usize = 0;
  count: i32 = 0;
  /** Per member: key offset, key length, value offset, value length (offsets from base). */
  spans: StaticArray<i32> = new StaticArray<i32>(MAX_MEMBERS * 4);
  /** Index of the `ot` member, or -1. */
  otIndex: i32 = -1;
  /** `ot` value follows the OpenTelemetry sub-key grammar. */
  otValid: bool = false;
  /** Parsed `th` (u64 max when absent or invalid). */
  th: u64 = u64.MAX_VALUE;
  /** Parsed `rv` (u64 max when absent or invalid). */
  rv: u64 = u64.MAX_VALUE;
  /** The `ot` value has a `th` sub-key, whether or not it parses (hasTh: it parsed). */
  thSeen: bool = false;
  /** A `th` sub-key does not parse (empty, more than 14 digits, not lowercase hex). */
  thBad: bool = false;

  reset(): void {
    this.valid = false;
    this.base = 0;
    this.count = 0;
    this.otIndex = -1;
    this.otValid = false;
    this.th = u64.MAX_VALUE;
    this.rv = u64.MAX_VALUE;
    this.thSeen = false;
    this.thBad = false;
  }

  get hasTh(): bool { return this.th != u64.MAX_VALUE; }
  get hasRv(): bool { return this.rv != u64.MAX_VALUE; }

  // @ts-ignore: decorator
  @inline keyOff(i: i32): i32 { return unchecked(this.spans[i << 2]); }
  // @ts-ignore: decorator
  @inline keyLen(i: i32): i32 { return unchecked(this.spans[(i << 2) + 1]); }
  // @ts-ignore: decorator
  @inline valOff(i: i32): i32 { return unchecked(this.spans[(i << 2) + 2]); }
  // @ts-ignore: decorator
  @inline valLen(i: i32): i32 { return unchecked(this.spans[(i << 2) + 3]); }
  /** Characters of member i in "key=value" form. */
  // @ts-ignore: decorator
  @inline memberLen(i: i32): i32 { return this.keyLen(i) + 1 + this.valLen(i); }
}

// @ts-ignore: decorator
@inline
function isOws(c: u32): bool { return c == 0x20 || c == 0x09; }
// @ts-ignore: decorator
@inline
function isLcAlpha(c: u32): bool { return c - 0x61 < 26; }
// @ts-ignore: decorator
@inline
function isDigit(c: u32): bool { return c - 0x30 < 10; }
// @ts-ignore: decorator
@inline
function isKeyChar(c: u32): bool {
  return isLcAlpha(c) || isDigit(c) || c == 0x5f || c == 0x2d || c == 0x2a || c == 0x2f;
}
// @ts-ignore: decorator
@inline
function isNblk(c: u32): bool {
  return c >= 0x21 && c <= 0x7e && c != 0x2c && c != 0x3d;
}

/** Key length/first-character rules (the characters were checked while scanning). */
// @ts-ignore: decorator
@inline
function keyShapeOk(p: usize, len: i32, at: i32): bool {
  if (len < 1 || len > 256) return false;
  const c0 = <u32>load<u8>(p);
  if (at < 0) return isLcAlpha(c0);
  // multi-tenant: tenant-id (1..241, starts lcalpha/digit) "@" system-id (1..14, starts lcalpha)
  const systemLen = len - at - 1;
  if (at < 1 || at > 241 || systemLen < 1 || systemLen > 14) return false;
  if (!(isLcAlpha(c0) || isDigit(c0))) return false;
  return isLcAlpha(<u32>load<u8>(p + <usize>(at + 1)));
}

/** Parse `len` bytes at `ptr`; returns out.valid. An empty header is valid with 0 members. One pass. */
export function parseTracestate(ptr: usize, len: i32, out: TraceState): bool {
  out.reset();
  out.base = ptr;
  const spans = out.spans;
  let count: i32 = 0;
  let i: i32 = 0;
  while (true) {
    while (i < len && isOws(<u32>load<u8>(ptr + <usize>i))) i++;
    if (i >= len) break;
    if (load<u8>(ptr + <usize>i) == 0x2c) { i++; continue; } // empty list member
    if (count == MAX_MEMBERS) return false;
    // key: up to '='
    const ks = i;
    let at: i32 = -1;
    while (true) {
      if (i >= len) return false; // no '='
      const c = <u32>load<u8>(ptr + <usize>i);
      if (c == 0x3d) break;
      if (c == 0x40) {
        if (at >= 0) return false;
        at = i - ks;
      } else if (!isKeyChar(c)) {
        return false;
      }
      i++;
    }
    const keyLen = i - ks;
    if (!keyShapeOk(ptr + <usize>ks, keyLen, at)) return false;
    i++; // '='
    // value: up to ',' — trailing OWS belongs to the list separator, a tab inside is invalid
    const vs = i;
    let last: i32 = -1;
    let tab: i32 = -1;
    while (i < len) {
      const c = <u32>load<u8>(ptr + <usize>i);
      if (c == 0x2c) break;
      if (c == 0x09) { if (tab < 0) tab = i; }
      else if (c != 0x20) {
        if (!isNblk(c)) return false;
        last = i;
      }
      i++;
    }
    if (last < 0 || (tab >= 0 && tab < last)) return false;
    const valLen = last - vs + 1;
    if (valLen > 256) return false;
    for (let k = 0; k < count; k++) {
      if (unchecked(spans[(k << 2) + 1]) == keyLen &&
          memory.compare(ptr + <usize>unchecked(spans[k << 2]), ptr + <usize>ks, <usize>keyLen) == 0) return false;
    }
    const b = count << 2;
    unchecked(spans[b] = ks);
    unchecked(spans[b + 1] = keyLen);
    unchecked(spans[b + 2] = vs);
    unchecked(spans[b + 3] = valLen);
    if (keyLen == 2 && load<u8>(ptr + <usize>ks) == 0x6f && load<u8>(ptr + <usize>ks + 1) == 0x74) out.otIndex = count;
    count++;
    if (i < len) i++; // ','
  }
  out.count = count;
  out.valid = true;
  if (out.otIndex >= 0) parseOt(out);
  return true;
}

/** The `ot` value breaks the sub-key grammar: the member is dropped, nothing of it is used. */
function rejectOt(ts: TraceState): void {
  ts.otValid = false;
  ts.th = u64.MAX_VALUE;
  ts.rv = u64.MAX_VALUE;
  ts.thSeen = false;
  ts.thBad = false;
}

/**
 * Parse the `ot` value: sub-members `key:value` separated by ";" (key lcalpha *(lcalpha/digit),
 * value *(ALPHA/DIGIT/"."/"_"/"-")). A `th` whose value is not a threshold (e.g. "th:", 15 hex
 * digits) keeps the member valid but is recorded (thSeen, thBad): it must be erased on output.
 */
function parseOt(ts: TraceState): void {
  const p = ts.base + <usize>ts.valOff(ts.otIndex);
  const len = ts.valLen(ts.otIndex);
  let i: i32 = 0;
  while (i < len) {
    let j = i;
    while (j < len && load<u8>(p + <usize>j) != 0x3b) j++;
    // sub-member [i, j)
    let colon = i;
    while (colon < j && load<u8>(p + <usize>colon) != 0x3a) colon++;
    if (colon == j || colon == i) { rejectOt(ts); return; }
    if (!isLcAlpha(<u32>load<u8>(p + <usize>i))) { rejectOt(ts); return; }
    for (let k = i + 1; k < colon; k++) {
      const c = <u32>load<u8>(p + <usize>k);
      if (!(isLcAlpha(c) || isDigit(c))) { rejectOt(ts); return; }
    }
    for (let k = colon + 1; k < j; k++) {
      const c = <u32>load<u8>(p + <usize>k);
      const ok = isLcAlpha(c) || isDigit(c) || (c - 0x41 < 26) || c == 0x2e || c == 0x5f || c == 0x2d;
      if (!ok) { rejectOt(ts); return; }
    }
    const klen = colon - i;
    if (klen == 2) {
      const k0 = load<u8>(p + <usize>i);
      const k1 = load<u8>(p + <usize>i + 1);
      if (k0 == 0x74 && k1 == 0x68) {
        ts.thSeen = true;
        ts.th = parseThreshold(p + <usize>colon + 1, j - colon - 1);
        if (ts.th == u64.MAX_VALUE) ts.thBad = true;
      } else if (k0 == 0x72 && k1 == 0x76) ts.rv = parseRandomness(p + <usize>colon + 1, j - colon - 1);
    }
    i = j + 1;
  }
  ts.otValid = true;
}

/**
 * What to do with the `th` sub-key when rebuilding tracestate. In every mode a `th` that does not
 * parse is erased (OpenTelemetry "TraceState: Probability Sampling": an invalid th is erased, it
 * must not reach consistent samplers downstream).
 */
export namespace ThMode {
  /** Leave `ot` as it is (an unparsable th is still erased). */
  export const Keep: i32 = 0;
  /** Write th:<threshold> (we sampled by probability). */
  export const Set: i32 = 1;
  /** Remove any th, parsed or not (the propagated context is not sampled: a th would be inconsistent). */
  export const Remove: i32 = 2;
}

/**
 * Build the outgoing tracestate at `out` (capacity ≥ MAX_TRACESTATE_OUT + 64) from a VALID parsed
 * input. Returns the output length (0 = send no tracestate), or -1 when the input can be forwarded
 * unchanged (no header write needed).
 */
export function buildTracestate(ts: TraceState, mode: i32, threshold: u64, out: usize): i32 {
  const otInvalid = ts.otIndex >= 0 && !ts.otValid;
  // An `ot` member that breaks OpenTelemetry's grammar is dropped; an unparsable th is erased.
  let changed = otInvalid || ts.thBad;
  if (mode == ThMode.Set) changed = changed || !(ts.hasTh && ts.th == threshold);
  else if (mode == ThMode.Remove) changed = changed || ts.thSeen;
  if (!changed) return -1;

  let w = out;
  // 1) the new `ot` member first (modified members move to the front).
  const otStart = w;
  store<u8>(w, 0x6f); store<u8>(w + 1, 0x74); store<u8>(w + 2, 0x3d);
  w += 3;
  const valueStart = w;
  if (mode == ThMode.Set) {
    store<u8>(w, 0x74); store<u8>(w + 1, 0x68); store<u8>(w + 2, 0x3a);
    w += 3;
    w += <usize>writeThreshold(w, threshold);
  }
  if (ts.otIndex >= 0 && ts.otValid) {
    // Copy the other sub-members (all but th), in their order. Keep mode only gets here when the
    // th is unparsable (a valid th in Keep mode returned -1 above), so dropping every th is right.
    const p = ts.base + <usize>ts.valOff(ts.otIndex);
    const len = ts.valLen(ts.otIndex);
    let i: i32 = 0;
    while (i < len) {
      let j = i;
      while (j < len && load<u8>(p + <usize>j) != 0x3b) j++;
      const isTh = j - i >= 3 && load<u8>(p + <usize>i) == 0x74 && load<u8>(p + <usize>i + 1) == 0x68 && load<u8>(p + <usize>i + 2) == 0x3a;
      if (!isTh) {
        if (w != valueStart) { store<u8>(w, 0x3b); w++; }
        memory.copy(w, p + <usize>i, <usize>(j - i));
        w += <usize>(j - i);
      }
      i = j + 1;
    }
  }
  if (<i32>(w - valueStart) > 256) {
    // The ot value may not exceed 256 characters: keep only what we own (th).
    w = valueStart;
    if (mode == ThMode.Set) {
      store<u8>(w, 0x74); store<u8>(w + 1, 0x68); store<u8>(w + 2, 0x3a);
      w += 3;
      w += <usize>writeThreshold(w, threshold);
    }
  }
  let otLen = <i32>(w - otStart);
  if (w == valueStart) { w = otStart; otLen = 0; } // empty ot value: no member

  // 2) the other members, in order; drop from the end while over the 512 limit.
  let total = otLen;
  let keepMask: u64 = 0;
  for (let k = 0; k < ts.count; k++) {
    if (k == ts.otIndex) continue;
    keepMask |= <u64>1 << <u64>k;
    total += (total > 0 ? 1 : 0) + ts.memberLen(k);
  }
  if (total > MAX_TRACESTATE_OUT) {
    for (let pass = 0; pass < 2 && total > MAX_TRACESTATE_OUT; pass++) {
      for (let k = ts.count - 1; k >= 0 && total > MAX_TRACESTATE_OUT; k--) {
        if ((keepMask & (<u64>1 << <u64>k)) == 0) continue;
        if (pass == 0 && ts.memberLen(k) <= LONG_MEMBER) continue;
        keepMask &= ~(<u64>1 << <u64>k);
        total -= ts.memberLen(k) + 1;
      }
    }
  }
  for (let k = 0; k < ts.count; k++) {
    if ((keepMask & (<u64>1 << <u64>k)) == 0) continue;
    const ml = ts.memberLen(k);
    if (<i32>(w - out) + 1 + ml > MAX_TRACESTATE_OUT) continue; // only possible when ot alone is long
    if (w != out) { store<u8>(w, 0x2c); w++; }
    memory.copy(w, ts.base + <usize>ts.keyOff(k), <usize>ml);
    w += <usize>ml;
  }
  return <i32>(w - out);
}

/** Tracestate for a trace we start: just our `ot=th:` when sampled by probability. */
export function buildFreshTracestate(sampledByProbability: bool, threshold: u64, out: usize): i32 {
  if (!sampledByProbability) return 0;
  store<u8>(out, 0x6f); store<u8>(out + 1, 0x74); store<u8>(out + 2, 0x3d);
  store<u8>(out + 3, 0x74); store<u8>(out + 4, 0x68); store<u8>(out + 5, 0x3a);
  return 6 + writeThreshold(out + 6, threshold);
}

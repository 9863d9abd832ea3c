// Compact binary form of a built RuleSet, written once by the fetcher VM to shared data and loaded
// by every other VM without re-parsing JSON or re-sorting CIDRs: the loader copies the sorted
// arrays and only recomputes parent links and the first-level table (one linear pass).
// The loader validates every length, range and ordering (the blob lives in shared data, where a VM
// running another build could have written it): a bad blob yields null, never a trap.
//
// Layout (little-endian): "EWR1" u32 magic, u32 format, i64 version, u32 mode (bit 8:
// allow_large_blast_radius), u32 rules,
// u32 n4, u32 n6, u32 cidrs, sampling, default-deny rule, rules…, pad 8,
// starts4 u32[n4], lens4 u8[n4], vals4 u16[n4], pad 8, hi6 u64[n6], lo6 u64[n6], lens6 u8[n6], vals6 u16[n6].
import { RuleSet, Rule, SamplingRules, RuleAction, RulesMode, HeaderMatch } from "./rule-set";
import { CidrIndex, setV4, setV6, RULE_MASK, MAX_RULES } from "./cidr-index";
import { maskV4, maskHi, maskLo } from "./cidr";
import { validRuleId } from "./document";

export const SNAPSHOT_MAGIC: u32 = 0x31525745; // "EWR1"
export const SNAPSHOT_FORMAT: u32 = 1;
const NULL_LEN: u32 = 0xffffffff;
/** Flag bit in the mode word: the document said "allow_large_blast_radius": true. */
const MODE_ALLOW_LARGE_BLAST_RADIUS: u32 = 0x100;

class Writer {
  buf: ArrayBuffer = new ArrayBuffer(1024);
  pos: i32 = 0;

  reserve(n: i32): void {
    if (this.pos + n <= this.buf.byteLength) return;
    let cap = this.buf.byteLength * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = new ArrayBuffer(cap);
    memory.copy(changetype<usize>(b), changetype<usize>(this.buf), <usize>this.pos);
    this.buf = b;
  }
  u32(v: u32): void { this.reserve(4); store<u32>(changetype<usize>(this.buf) + <usize>this.pos, v); this.pos += 4; }
  u64(v: u64): void { this.reserve(8); store<u64>(changetype<usize>(this.buf) + <usize>this.pos, v); this.pos += 8; }
  f64(v: f64): void { this.reserve(8); store<f64>(changetype<usize>(this.buf) + <usize>this.pos, v); this.pos += 8; }
  raw(p: usize, n: i32): void {
    this.reserve(n);
    memory.copy(changetype<usize>(this.buf) + <usize>this.pos, p, <usize>n);
    this.pos += n;
  }
  bytes(b: ArrayBuffer | null): void {
    if (b === null) { this.u32(NULL_LEN); return; }
    this.u32(<u32>b.byteLength);
    this.raw(changetype<usize>(b), b.byteLength);
  }
  str(s: string): void { this.bytes(String.UTF8.encode(s)); }
  pad8(): void { while ((this.pos & 7) != 0) { this.reserve(1); store<u8>(changetype<usize>(this.buf) + <usize>this.pos, 0); this.pos++; } }
  finish(): ArrayBuffer { return this.buf.slice(0, this.pos); }
}

function writeRule(w: Writer, r: Rule): void {
  w.str(r.id);
  w.u32(<u32>r.action);
  w.u32(r.status);
  w.bytes(r.body);
  w.bytes(r.replyHeaders);
  w.bytes(r.details);
  w.bytes(r.pathPrefix);
  w.bytes(r.headerName);
  w.u32(<u32>r.headerOp);
  w.bytes(r.headerValue);
  w.u32(<u32>r.cidrCount);
}

/** Encode `set`; `prefix` bytes at the start are left zero for the caller (e.g. a cache key). */
export function encodeSnapshot(set: RuleSet, prefix: i32 = 0): ArrayBuffer {
  const w = new Writer();
  const idx = set.index;
  w.reserve(prefix + 256 + idx.n4 * 7 + idx.n6 * 19 + set.rules.length * 64);
  // The prefix is left for the caller; it must be a multiple of 8 so the arrays stay aligned.
  w.pos = prefix;
  w.u32(SNAPSHOT_MAGIC);
  w.u32(SNAPSHOT_FORMAT);
  w.u64(<u64>set.version);
  w.u32(<u32>set.mode | (set.allowLargeBlastRadius ? MODE_ALLOW_LARGE_BLAST_RADIUS : 0));
  w.u32(<u32>set.rules.length);
  w.u32(<u32>idx.n4);
  w.u32(<u32>idx.n6);
  w.u32(<u32>set.cidrCount);
  const s = set.sampling;
  w.f64(s.defaultRate);
  w.u32(s.alwaysKeep5xx ? 1 : 0);
  w.u64(<u64>s.slowThresholdMs);
  const keys = s.routes.keys();
  w.u32(<u32>keys.length);
  for (let i = 0; i < keys.length; i++) {
    w.str(keys[i]);
    w.f64(s.routes.get(keys[i]));
  }
  writeRule(w, set.defaultDeny);
  for (let i = 0; i < set.rules.length; i++) writeRule(w, set.rules[i]);
  w.pad8();
  w.raw(changetype<usize>(idx.starts4), idx.n4 * 4);
  w.raw(changetype<usize>(idx.lens4), idx.n4);
  // vals without the HAS_PARENT bit (recomputed by the loader)
  w.reserve(idx.n4 * 2);
  for (let i = 0; i < idx.n4; i++) {
    store<u16>(changetype<usize>(w.buf) + <usize>w.pos, unchecked(idx.vals4[i]) & RULE_MASK);
    w.pos += 2;
  }
  w.pad8();
  w.raw(changetype<usize>(idx.hi6), idx.n6 * 8);
  w.raw(changetype<usize>(idx.lo6), idx.n6 * 8);
  w.raw(changetype<usize>(idx.lens6), idx.n6);
  w.reserve(idx.n6 * 2);
  for (let i = 0; i < idx.n6; i++) {
    store<u16>(changetype<usize>(w.buf) + <usize>w.pos, unchecked(idx.vals6[i]) & RULE_MASK);
    w.pos += 2;
  }
  return w.finish();
}

/** Version stored in a snapshot header, or -1 when it is not a valid header. */
export function snapshotVersion(b: ArrayBuffer | null): i64 {
  if (b === null || b.byteLength < 16) return -1;
  const p = changetype<usize>(b);
  if (load<u32>(p) != SNAPSHOT_MAGIC || load<u32>(p + 4) != SNAPSHOT_FORMAT) return -1;
  return load<i64>(p + 8);
}

// ---------------------------------------------------------------------------------------------

class Reader {
  p: usize;
  pos: i32 = 0;
  bad: bool = false;
  constructor(public buf: ArrayBuffer, offset: i32) {
    this.p = changetype<usize>(buf) + <usize>offset;
    this.size = buf.byteLength - offset;
  }
  size: i32;
  @inline left(): i32 { return this.size - this.pos; }
  need(n: i32): bool {
    if (this.bad || n < 0 || n > this.left()) { this.bad = true; return false; }
    return true;
  }
  u32(): u32 { if (!this.need(4)) return 0; const v = load<u32>(this.p + <usize>this.pos); this.pos += 4; return v; }
  u64(): u64 { if (!this.need(8)) return 0; const v = load<u64>(this.p + <usize>this.pos); this.pos += 8; return v; }
  f64(): f64 { if (!this.need(8)) return 0; const v = load<f64>(this.p + <usize>this.pos); this.pos += 8; return v; }
  bytes(): ArrayBuffer | null {
    const n = this.u32();
    if (this.bad || n == NULL_LEN) return null;
    if (!this.need(<i32>n) || n > 0x7fffffff) { this.bad = true; return null; }
    const out = new ArrayBuffer(<i32>n);
    memory.copy(changetype<usize>(out), this.p + <usize>this.pos, <usize>n);
    this.pos += <i32>n;
    return out;
  }
  str(): string {
    const b = this.bytes();
    return b === null ? "" : String.UTF8.decode(b);
  }
  pad8(): void { while ((this.pos & 7) != 0 && !this.bad) { if (!this.need(1)) return; this.pos++; } }
}

function readRule(r: Reader): Rule | null {
  const rule = new Rule();
  rule.id = r.str();
  const action = r.u32();
  if (action > 2) return null;
  rule.action = <i32>action;
  rule.status = r.u32();
  if (rule.status < 200 || rule.status > 599) return null;
  if (!validRuleId(String.UTF8.encode(rule.id))) return null;
  const body = r.bytes();
  const headers = r.bytes();
  const details = r.bytes();
  if (body === null || headers === null || details === null) return null;
  rule.body = body;
  rule.replyHeaders = headers;
  rule.details = details;
  rule.pathPrefix = r.bytes();
  rule.headerName = r.bytes();
  const op = r.u32();
  if (op > <u32>HeaderMatch.Contains) return null;
  rule.headerOp = <i32>op;
  rule.headerValue = r.bytes();
  if (rule.headerOp != HeaderMatch.None && (rule.headerName === null || rule.headerValue === null)) return null;
  rule.cidrCount = <i32>r.u32();
  if (r.bad) return null;
  rule.decision.action = rule.action;
  rule.decision.ruleId = rule.id;
  rule.decision.rule = rule;
  return rule;
}

/** Rebuild a RuleSet from a snapshot blob; null when the blob is malformed. */
export function decodeSnapshot(b: ArrayBuffer | null, origin: string, offset: i32 = 0): RuleSet | null {
  if (b === null || offset < 0 || offset > b.byteLength) return null;
  const r = new Reader(b, offset);
  if (r.u32() != SNAPSHOT_MAGIC || r.u32() != SNAPSHOT_FORMAT) return null;
  const set = new RuleSet();
  set.origin = origin;
  set.version = <i64>r.u64();
  const modeWord = r.u32();
  const mode = modeWord & ~MODE_ALLOW_LARGE_BLAST_RADIUS;
  if (mode > <u32>RulesMode.Allow) return null;
  set.mode = <i32>mode;
  set.allowLargeBlastRadius = (modeWord & MODE_ALLOW_LARGE_BLAST_RADIUS) != 0;
  const nr = r.u32();
  const n4 = r.u32();
  const n6 = r.u32();
  set.cidrCount = <i32>r.u32();
  if (r.bad || nr > <u32>MAX_RULES || n4 > 0x3ffffff || n6 > 0x3ffffff || set.version < 0) return null;
  const s = set.sampling;
  s.defaultRate = r.f64();
  s.alwaysKeep5xx = r.u32() != 0;
  s.slowThresholdMs = <i64>r.u64();
  if (!(s.defaultRate >= 0.0 && s.defaultRate <= 1.0)) return null;
  const nroutes = r.u32();
  if (nroutes > 100000) return null;
  for (let i: u32 = 0; i < nroutes && !r.bad; i++) {
    const k = r.str();
    const v = r.f64();
    if (!(v >= 0.0 && v <= 1.0)) return null;
    s.routes.set(k, v);
  }
  const dd = readRule(r);
  if (dd === null) return null;
  set.defaultDeny = dd;
  const rules = new Array<Rule>(0);
  for (let i: u32 = 0; i < nr; i++) {
    const rule = readRule(r);
    if (rule === null) return null;
    rules.push(rule);
  }
  set.rules = rules;
  r.pad8();
  // IPv4 arrays
  const need4 = <i32>n4 * 7;
  if (r.bad || !r.need(need4)) return null;
  const starts = new StaticArray<u32>(<i32>n4);
  const lens = new StaticArray<u8>(<i32>n4);
  const vals = new StaticArray<u16>(<i32>n4);
  let p = r.p + <usize>r.pos;
  memory.copy(changetype<usize>(starts), p, <usize>n4 * 4);
  memory.copy(changetype<usize>(lens), p + <usize>n4 * 4, <usize>n4);
  memory.copy(changetype<usize>(vals), p + <usize>n4 * 5, <usize>n4 * 2);
  r.pos += need4;
  let prevS: u32 = 0, prevL: u32 = 0;
  for (let i = 0; i < <i32>n4; i++) {
    const st = unchecked(starts[i]);
    const ln = <u32>unchecked(lens[i]);
    const v = unchecked(vals[i]);
    if (ln > 32 || (st & ~maskV4(<i32>ln)) != 0 || <u32>v >= nr) return null;
    if (i > 0 && (st < prevS || (st == prevS && ln < prevL))) return null;
    prevS = st; prevL = ln;
  }
  r.pad8();
  // IPv6 arrays
  const need6 = <i32>n6 * 19;
  if (r.bad || !r.need(need6)) return null;
  const H = new StaticArray<u64>(<i32>n6);
  const L = new StaticArray<u64>(<i32>n6);
  const lens6 = new StaticArray<u8>(<i32>n6);
  const vals6 = new StaticArray<u16>(<i32>n6);
  p = r.p + <usize>r.pos;
  memory.copy(changetype<usize>(H), p, <usize>n6 * 8);
  memory.copy(changetype<usize>(L), p + <usize>n6 * 8, <usize>n6 * 8);
  memory.copy(changetype<usize>(lens6), p + <usize>n6 * 16, <usize>n6);
  memory.copy(changetype<usize>(vals6), p + <usize>n6 * 17, <usize>n6 * 2);
  r.pos += need6;
  let ph: u64 = 0, pl: u64 = 0, pn: u32 = 0;
  for (let i = 0; i < <i32>n6; i++) {
    const h = unchecked(H[i]), l = unchecked(L[i]);
    const ln = <u32>unchecked(lens6[i]);
    if (ln > 128 || (h & ~maskHi(<i32>ln)) != 0 || (l & ~maskLo(<i32>ln)) != 0 || <u32>unchecked(vals6[i]) >= nr) return null;
    if (i > 0 && (h < ph || (h == ph && (l < pl || (l == pl && ln < pn))))) return null;
    ph = h; pl = l; pn = ln;
  }
  const idx = new CidrIndex();
  setV4(idx, starts, lens, vals, <i32>n4);
  setV6(idx, H, L, lens6, vals6, <i32>n6);
  set.index = idx;
  return set;
}

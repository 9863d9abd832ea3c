// The rules snapshot: the compact binary form of a built RuleSet (format 2, documented in
// assembly/rules/README.md, "Snapshot format"). Three producers, one format:
//   - the fetcher VM writes it to shared data for the other VMs of the proxy (pull);
//   - the first VM to parse a pushed document leaves it in the push cache (push);
//   - `edgewatch rules snapshot` and the rules service build it by running this code in the .wasm
//     (export edgewatch_build_snapshot), and the service serves it instead of the JSON document.
// A loader copies the sorted arrays and recomputes only the parent links and the first-level table
// (one linear pass): no JSON, no CIDR parsing, no sort.
//
// Layout, little-endian. Header (64 bytes):
//    0 u32 magic "EWRS"         4 u32 format (2)          8 i64 document version
//   16 u32 flags (bit 0: allow_large_blast_radius)      20 u32 payload bytes (after the header)
//   24 [32] sha256 of the source document bytes (zero when not recorded)
//   56 u64 checksum = XXH64(header[0..56), seed = XXH64(payload, 0))
// Payload (offset 64): u32 mode, u32 rules, u32 n4, u32 n6, u32 cidrs, sampling, default-deny rule,
// rules…, pad 8, then the table region exactly as cidr-index.ts keeps it in memory: starts4 u32[n4],
// lens4 u8[n4], rules4 u16[n4], pad 8, hi6 u64[n6], lo6 u64[n6], lens6 u8[n6], rules6 u16[n6].
// A loaded snapshot's index points into the snapshot's own bytes (no copy), except when the caller
// asks for a copy (the push cache, whose blob also holds the document text).
//
// Everything is validated before use (a blob can come from the network, another build, or a bad
// disk): magic, format, payload length, checksum, then every length, range and ordering. A bad blob
// yields null with `snapshotError` saying why — never a trap.
import { RuleSet, Rule, RulesMode, HeaderMatch } from "./rule-set";
import { CidrIndex, installTables, installBadEntry, installOutOfOrder, tableRegionBytes, MAX_RULES } from "./cidr-index";
import { maskHi, maskLo } from "./cidr";
import { validRuleId } from "./document";
import { xxh64 } from "./xxh64";

export const SNAPSHOT_MAGIC: u32 = 0x53525745; // "EWRS"
export const SNAPSHOT_FORMAT: u32 = 2;
export const SNAPSHOT_HEADER_BYTES: i32 = 64;
/** Header flag: the document said "allow_large_blast_radius": true. */
export const FLAG_ALLOW_LARGE_BLAST_RADIUS: u32 = 1;
/** Media type the rules service answers with, and the fetcher asks for (with `; format=2`). */
export const SNAPSHOT_MEDIA_TYPE = "application/vnd.edgewatch.rules-snapshot";
const NULL_LEN: u32 = 0xffffffff;
const KNOWN_FLAGS: u32 = FLAG_ALLOW_LARGE_BLAST_RADIUS;

/** Why the last decodeSnapshot returned null. */
export let snapshotError: string = "";

// ---------------------------------------------------------------------------------------------
// Encoding: one measuring pass, one allocation of the exact size, one writing pass.

class Writer {
  base: usize = 0;
  pos: i32 = 0;
  constructor(public measuring: bool) {}

  u32(v: u32): void { if (!this.measuring) store<u32>(this.base + <usize>this.pos, v); this.pos += 4; }
  u64(v: u64): void { if (!this.measuring) store<u64>(this.base + <usize>this.pos, v); this.pos += 8; }
  f64(v: f64): void { if (!this.measuring) store<f64>(this.base + <usize>this.pos, v); this.pos += 8; }
  raw(p: usize, n: i32): void {
    if (!this.measuring) memory.copy(this.base + <usize>this.pos, p, <usize>n);
    this.pos += n;
  }
  bytes(b: ArrayBuffer | null): void {
    if (b === null) { this.u32(NULL_LEN); return; }
    this.u32(<u32>b.byteLength);
    this.raw(changetype<usize>(b), b.byteLength);
  }
  str(s: string): void {
    const n = String.UTF8.byteLength(s);
    this.u32(<u32>n);
    if (!this.measuring) String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.base + <usize>this.pos);
    this.pos += n;
  }
  pad8(): void {
    while ((this.pos & 7) != 0) {
      if (!this.measuring) store<u8>(this.base + <usize>this.pos, 0);
      this.pos++;
    }
  }
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

/** Everything of the payload before the table region (its size does not depend on the table). */
function writeHead(w: Writer, set: RuleSet): void {
  const idx = set.index;
  w.u32(<u32>set.mode);
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
}

/**
 * Where the table region of `set`'s snapshot starts when it is encoded after `prefix` bytes. A
 * builder that puts its table there (CidrIndexBuilder.build(offset)) lets encodeSnapshot fill in
 * the header and rules around the live table instead of copying it.
 */
export function snapshotTableOffset(set: RuleSet, prefix: i32): i32 {
  const m = new Writer(true);
  m.pos = prefix + SNAPSHOT_HEADER_BYTES;
  writeHead(m, set);
  return m.pos;
}

/**
 * Encode `set`. The first `prefix` bytes (a multiple of 8) are left zero for the caller (the push
 * cache puts its key there). `sourceSha256` (32 bytes, or null) is recorded in the header.
 */
export function encodeSnapshot(set: RuleSet, prefix: i32 = 0, sourceSha256: ArrayBuffer | null = null): ArrayBuffer {
  const idx = set.index;
  const tableOff = snapshotTableOffset(set, prefix);
  const region = tableRegionBytes(idx.n4, idx.n6);
  const total = tableOff + region;
  let buf: ArrayBuffer;
  const data = idx.data;
  if (idx.s4 == changetype<usize>(data) + <usize>tableOff && data.byteLength == total) {
    buf = data; // the table already sits where the snapshot wants it: write around it
  } else {
    buf = new ArrayBuffer(total);
    memory.copy(changetype<usize>(buf) + <usize>tableOff, idx.s4, <usize>region);
  }
  const base = changetype<usize>(buf);
  memory.fill(base, 0, <usize>prefix); // the caller's prefix (and a reused buffer's) starts zeroed
  const w = new Writer(false);
  w.base = base;
  w.pos = prefix + SNAPSHOT_HEADER_BYTES;
  writeHead(w, set);
  const h = base + <usize>prefix;
  store<u32>(h, SNAPSHOT_MAGIC);
  store<u32>(h + 4, SNAPSHOT_FORMAT);
  store<i64>(h + 8, set.version);
  store<u32>(h + 16, set.allowLargeBlastRadius ? FLAG_ALLOW_LARGE_BLAST_RADIUS : 0);
  const payload = total - prefix - SNAPSHOT_HEADER_BYTES;
  store<u32>(h + 20, <u32>payload);
  if (sourceSha256 !== null && sourceSha256.byteLength == 32) memory.copy(h + 24, changetype<usize>(sourceSha256), 32);
  store<u64>(h + 56, headerChecksum(h, payload));
  return buf;
}

function headerChecksum(h: usize, payloadBytes: i32): u64 {
  const body = xxh64(h + <usize>SNAPSHOT_HEADER_BYTES, <usize>payloadBytes, 0);
  return xxh64(h, 56, body);
}

/** Document version in a well-formed header at `offset` (magic and format checked), or -1. */
export function snapshotVersion(b: ArrayBuffer | null, offset: i32 = 0): i64 {
  if (b === null || offset < 0 || b.byteLength - offset < SNAPSHOT_HEADER_BYTES) return -1;
  const p = changetype<usize>(b) + <usize>offset;
  if (load<u32>(p) != SNAPSHOT_MAGIC || load<u32>(p + 4) != SNAPSHOT_FORMAT) return -1;
  return load<i64>(p + 8);
}

/** The source-document sha256 recorded in a header, as 64 hex digits ("" when not recorded). */
export function snapshotSourceDigest(b: ArrayBuffer, offset: i32 = 0): string {
  if (b.byteLength - offset < SNAPSHOT_HEADER_BYTES) return "";
  const p = changetype<usize>(b) + <usize>offset + 24;
  let any = false;
  for (let i = 0; i < 32; i++) if (load<u8>(p + <usize>i) != 0) { any = true; break; }
  if (!any) return "";
  let s = "";
  for (let i = 0; i < 32; i++) {
    const v = <u32>load<u8>(p + <usize>i);
    s += (v < 16 ? "0" : "") + v.toString(16);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
  pos: i32 = 0;
  bad: bool = false;
  constructor(public p: usize, public size: i32) {}
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
    if (n > 0x7fffffff || !this.need(<i32>n)) { this.bad = true; return null; }
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

function fail(msg: string): RuleSet | null {
  snapshotError = msg;
  return null;
}

let ruleError: string = "";

function readRule(r: Reader): Rule | null {
  const rule = new Rule();
  rule.id = r.str();
  const action = r.u32();
  rule.status = r.u32();
  if (r.bad) { ruleError = "truncated rule"; return null; }
  if (action > 2) { ruleError = "rule \"" + rule.id + "\": action " + action.toString(); return null; }
  rule.action = <i32>action;
  if (rule.status < 200 || rule.status > 599) { ruleError = "rule \"" + rule.id + "\": status " + rule.status.toString(); return null; }
  if (!validRuleId(String.UTF8.encode(rule.id))) { ruleError = "bad rule id"; return null; }
  const body = r.bytes();
  const headers = r.bytes();
  const details = r.bytes();
  if (body === null || headers === null || details === null) { ruleError = "rule \"" + rule.id + "\": missing reply"; return null; }
  rule.body = body;
  rule.replyHeaders = headers;
  rule.details = details;
  rule.pathPrefix = r.bytes();
  rule.headerName = r.bytes();
  const op = r.u32();
  rule.headerValue = r.bytes();
  rule.cidrCount = <i32>r.u32();
  if (r.bad) { ruleError = "truncated rule"; return null; }
  if (op > <u32>HeaderMatch.Contains) { ruleError = "rule \"" + rule.id + "\": header operator " + op.toString(); return null; }
  rule.headerOp = <i32>op;
  if (rule.headerOp != HeaderMatch.None && (rule.headerName === null || rule.headerValue === null)) { ruleError = "rule \"" + rule.id + "\": header condition without name or value"; return null; }
  if (rule.cidrCount < 0) { ruleError = "rule \"" + rule.id + "\": CIDR count"; return null; }
  rule.decision.action = rule.action;
  rule.decision.ruleId = rule.id;
  rule.decision.rule = rule;
  return rule;
}

/**
 * Rebuild a RuleSet from the snapshot at `offset` in `b` (which must end where the snapshot ends);
 * null when it is malformed, with `snapshotError` saying why.
 */
export function decodeSnapshot(b: ArrayBuffer | null, origin: string, offset: i32 = 0, copyTables: bool = false): RuleSet | null {
  if (b === null || offset < 0 || offset > b.byteLength) return fail("no snapshot");
  const total = b.byteLength - offset;
  const h = changetype<usize>(b) + <usize>offset;
  if (total < SNAPSHOT_HEADER_BYTES) return fail("truncated: " + total.toString() + " bytes, shorter than the " + SNAPSHOT_HEADER_BYTES.toString() + "-byte header");
  if (load<u32>(h) != SNAPSHOT_MAGIC) return fail("not an edgewatch rules snapshot (bad magic)");
  const format = load<u32>(h + 4);
  if (format != SNAPSHOT_FORMAT) return fail("format " + format.toString() + " is not supported (this filter reads format " + SNAPSHOT_FORMAT.toString() + "); rebuild it with this filter's `edgewatch rules snapshot`");
  const version = load<i64>(h + 8);
  const flags = load<u32>(h + 16);
  const payload = load<u32>(h + 20);
  const have = total - SNAPSHOT_HEADER_BYTES;
  if (<u64>payload != <u64>have) {
    return fail((<u64>payload > <u64>have ? "truncated" : "trailing bytes") + ": the header says " + payload.toString() + " payload bytes, got " + have.toString());
  }
  if (headerChecksum(h, have) != load<u64>(h + 56)) return fail("checksum mismatch: the snapshot is corrupt");
  if (version < 0) return fail("negative document version");
  if ((flags & ~KNOWN_FLAGS) != 0) return fail("unknown header flags 0x" + flags.toString(16));

  const r = new Reader(h + <usize>SNAPSHOT_HEADER_BYTES, have);
  const set = new RuleSet();
  set.origin = origin;
  set.version = version;
  set.allowLargeBlastRadius = (flags & FLAG_ALLOW_LARGE_BLAST_RADIUS) != 0;
  const mode = r.u32();
  const nr = r.u32();
  const n4 = r.u32();
  const n6 = r.u32();
  const cidrs = r.u32();
  if (r.bad) return fail("truncated payload");
  if (mode > <u32>RulesMode.Allow) return fail("malformed payload: mode " + mode.toString());
  set.mode = <i32>mode;
  if (nr > <u32>MAX_RULES) return fail("malformed payload: " + nr.toString() + " rules");
  if (n4 > 0x3ffffff || n6 > 0x3ffffff || cidrs > 0x7fffffff) return fail("malformed payload: table sizes");
  set.cidrCount = <i32>cidrs;
  const s = set.sampling;
  s.defaultRate = r.f64();
  s.alwaysKeep5xx = r.u32() != 0;
  s.slowThresholdMs = <i64>r.u64();
  if (!(s.defaultRate >= 0.0 && s.defaultRate <= 1.0)) return fail("malformed payload: sampling rate");
  if (s.slowThresholdMs < 0) return fail("malformed payload: slow threshold");
  const nroutes = r.u32();
  if (nroutes > 100000) return fail("malformed payload: " + nroutes.toString() + " sampling routes");
  for (let i: u32 = 0; i < nroutes && !r.bad; i++) {
    const k = r.str();
    const v = r.f64();
    if (!(v >= 0.0 && v <= 1.0)) return fail("malformed payload: route sampling rate");
    s.routes.set(k, v);
  }
  const dd = readRule(r);
  if (dd === null) return fail("malformed payload: default reply: " + ruleError);
  set.defaultDeny = dd;
  const rules = new Array<Rule>(0);
  for (let i: u32 = 0; i < nr; i++) {
    const rule = readRule(r);
    if (rule === null) return fail("malformed payload: rule " + i.toString() + ": " + ruleError);
    rules.push(rule);
  }
  set.rules = rules;
  r.pad8();
  // The table region: checked in place, then used in place (or copied once).
  const need = tableRegionBytes(<i32>n4, <i32>n6);
  if (r.bad || !r.need(need)) return fail("truncated payload: CIDR tables");
  if (r.left() != need) return fail("malformed payload: " + (r.left() - need).toString() + " unexpected bytes at the end");
  const t = r.p + <usize>r.pos;
  // The IPv4 entries are checked by installTables below, in the pass that indexes them.
  const b6 = t + <usize>((<i32>n4 * 7 + 7) & ~7);
  const H = b6, L = b6 + <usize>n6 * 8, l6 = b6 + <usize>n6 * 16, r6 = b6 + <usize>n6 * 17;
  let ph: u64 = 0, pl: u64 = 0, pn: u32 = 0;
  for (let i: usize = 0; i < <usize>n6; i++) {
    const hh = load<u64>(H + (i << 3)), l = load<u64>(L + (i << 3));
    const ln = <u32>load<u8>(l6 + i);
    if (ln > 128 || (hh & ~maskHi(<i32>ln)) != 0 || (l & ~maskLo(<i32>ln)) != 0 || <u32>load<u16>(r6 + (i << 1)) >= nr) return fail("malformed payload: IPv6 entry " + i.toString());
    if (i > 0 && (hh < ph || (hh == ph && (l < pl || (l == pl && ln < pn))))) return fail("malformed payload: IPv6 table out of order at " + i.toString());
    ph = hh; pl = l; pn = ln;
  }
  const idx = new CidrIndex();
  let installed: bool;
  if (copyTables) {
    const own = new ArrayBuffer(max(8, need));
    memory.copy(changetype<usize>(own), t, <usize>need);
    installed = installTables(idx, own, 0, <i32>n4, <i32>n6, nr);
  } else {
    installed = installTables(idx, b!, t - changetype<usize>(b), <i32>n4, <i32>n6, nr);
  }
  if (!installed) {
    return fail(installOutOfOrder ? "malformed payload: IPv4 table out of order at " + installBadEntry.toString() : "malformed payload: IPv4 entry " + installBadEntry.toString());
  }
  set.index = idx;
  snapshotError = "";
  return set;
}

// Push cache: a pushed document parsed once per proxy. Envoy runs on_configure for the same plugin
// configuration in the canary, the main thread and every worker (reference envoy-host.md §3.5):
// the first VM (the canary) parses, validates and indexes it and, once it accepted it, leaves an
// entry in shared data; the others find the entry and skip that work.
//
// Four shared-data keys (reload/shared-state.ts), written by the VM that parsed the document:
//   KEY_PUSH_CACHE_META:  the entry's key (CACHE_HEADER bytes, layout below).
//   KEY_PUSH_CACHE:       the same CACHE_HEADER bytes, then the rules snapshot.
//   KEY_PUSH_CACHE_TEXT:  the document's value as it stands in the configuration ("rules": the
//                         object's bytes; "rules_text": the string literal, quotes and escapes
//                         included), handed to the host straight from the configuration buffer.
//   KEY_PUSH_CACHE_FRAME: the same CACHE_HEADER bytes, then the configuration around that value
//                         (the settings: small).
// Two ways to hit:
//   - whole configuration (loadCachedConfiguration, before any JSON parse): the configuration is
//     byte for byte the one the entry was built from (frame + value compared), so the storing VM's
//     verdict on it stands. The settings are parsed from the frame alone, with the document value
//     replaced by a placeholder of the same JSON kind (the same settings, every check of
//     config/parse.ts run again), and the rules are the snapshot: no parse of the big document.
//   - document only (loadCachedRules, after the configuration was parsed): same document value,
//     different settings around it: the rules are the snapshot, and once the configuration is
//     accepted the entry is republished with its frame (republishCachedRules).
// A hit needs the lengths and bytes to match (a digest alone can be forged; the pre-check digest of
// the value's length and its first and last 4 KiB only spares most misses the copy of the big
// values, and a hit the hashing of all of it) and, with signing keys configured, the same signer
// and signature (the storing VM verified them). The keys are not written atomically: a frame, text or snapshot
// that does not match the meta record is a miss (full parse), never a wrong hit.
import { RuleSet } from "../../rules/rule-set";
import { encodeSnapshot, decodeSnapshot } from "../../rules/snapshot";
import { resolveSigner } from "../../rules/signing";
import { Reason } from "../../rules/reasons";
import { parseConfiguration, ConfigResult } from "../../config/parse";
import { getSharedData, getSharedDataRaw, rawPtr, rawLen, setSharedData, setSharedDataRaw } from "../../host/shared";
import { WasmResult } from "../../abi/status";
import { xxh64 } from "../../rules/xxh64";
import { bytesEqual, KEY_PUSH_CACHE, KEY_PUSH_CACHE_META, KEY_PUSH_CACHE_TEXT, KEY_PUSH_CACHE_FRAME } from "./shared-state";

// Entry key layout (CACHE_HEADER bytes, a multiple of 8: the snapshot follows it):
//     0 u64 digest of the document text (DOC_SEED)     8 u32 document text length
//    12 u32 flags (1: signed)                          16 public key (32) ‖ signature (64) when signed
//   112 u64 second digest (the blast-radius record's key)
//   120 u32 configuration length   124 u32 value start   128 u32 value end   132 u32 form (0 rules, 1 rules_text)
//   136 u64 pre-check digest of the value bytes (sampleDigest)   144..160 zero
export const CACHE_HEADER: i32 = 160;
const PROOF_BYTES: i32 = 96;
const M_DIGEST2: usize = 112;
const M_CONFIG_LEN: usize = 120;
const M_VALUE_START: usize = 124;
const M_VALUE_END: usize = 128;
const M_FORM: usize = 132;
const M_VALUE_SAMPLE: usize = 136;
/** Seed of the document digest (the blast-radius record's and rules_reload_total's key). */
export const DOC_SEED: u64 = 0x65770001;

/** Bytes at each end of a value that its pre-check digest covers. */
const SAMPLE_BYTES: usize = 4096;

/**
 * Pre-check digest of a configuration's document value: its length and its first and last
 * SAMPLE_BYTES (all of it when shorter than twice that). A whole-configuration lookup compares it
 * before copying the cached text in: a push of another document (its version is near the start)
 * is a miss without that copy, and a hit does not hash all of a 1.6 MB value (0.16 ms per VM at
 * 100k CIDRs) before the byte compare that proves it anyway.
 */
export function sampleDigest(p: usize, len: i32): u64 {
  const n = <usize>max(len, 0);
  if (n <= SAMPLE_BYTES * 2) return xxh64(p, n, DOC_SEED ^ <u64>n);
  return xxh64(p, SAMPLE_BYTES, xxh64(p + n - SAMPLE_BYTES, SAMPLE_BYTES, DOC_SEED ^ <u64>n));
}

export const FORM_RULES: i32 = 0;
export const FORM_RULES_TEXT: i32 = 1;

/** Public key ‖ signature: what a cache entry records as verified. */
export function signatureProof(key: ArrayBuffer, sig: ArrayBuffer): ArrayBuffer {
  const b = new ArrayBuffer(PROOF_BYTES);
  memory.copy(changetype<usize>(b), changetype<usize>(key), 32);
  memory.copy(changetype<usize>(b) + 32, changetype<usize>(sig), 64);
  return b;
}

/** The settings' verdict on a pushed document before it is parsed (see admitPush). */
export class PushAdmission {
  ok: bool = false;
  reason: string = "";
  message: string = "";
  /** With signing keys: the resolved signer's proof (what a cache entry records as verified). */
  proof: ArrayBuffer | null = null;
}

/**
 * Size (max_rules_bytes) and, with signing keys, the signer (safety step 1, issue 15: known before
 * anything else) of the pushed document of `textLen` bytes in `cfg`. One rule for the full parse
 * (on_configure rejects with it) and for a whole-configuration cache hit (refused unless admitted).
 */
export function admitPush(cfg: ConfigResult, textLen: i32): PushAdmission {
  const a = new PushAdmission();
  const settings = cfg.settings;
  const where = cfg.rulesNode >= 0 ? "$.rules" : "$.rules_text";
  if (textLen > settings.maxRulesBytes) {
    a.reason = Reason.Size;
    a.message = where + " is " + textLen.toString() + " bytes, max_rules_bytes is " + settings.maxRulesBytes.toString();
    return a;
  }
  const keys = settings.signing.keys;
  if (keys.length > 0) {
    a.reason = Reason.Signature;
    if (cfg.rulesNode >= 0) {
      a.message = "$.rules: rules_signing keys are configured, so the document must be pushed as \"rules_text\" with \"rules_signature\" (`edgewatch rules sign --format plugin`)";
      return a;
    }
    const who = resolveSigner(keys, cfg.signature, "$.rules_text");
    if (!who.ok) { a.message = who.message; return a; }
    a.proof = signatureProof(who.key!.key, cfg.signature!.sig);
  }
  a.ok = true;
  return a;
}

/** Where the pushed document's value stands in the configuration: bytes [start, end). */
export class ValueRange {
  constructor(public start: i32, public end: i32, public form: i32) {}
}

/** Range of the "rules" / "rules_text" value of a parsed configuration (string literals with their quotes). */
export function documentRange(cfg: ConfigResult): ValueRange {
  const doc = cfg.doc!;
  if (cfg.rulesNode >= 0) return new ValueRange(doc.start(cfg.rulesNode), doc.endOffset(cfg.rulesNode), FORM_RULES);
  return new ValueRange(doc.start(cfg.rulesTextNode) - 1, doc.endOffset(cfg.rulesTextNode), FORM_RULES_TEXT);
}

export class CacheHit {
  /** The entry (key, then snapshot) a document-only hit was loaded from: republished with this configuration's frame. */
  entry: ArrayBuffer | null = null;
  constructor(public rules: RuleSet, public digest: u64, public digest2: u64, public textLen: i32, public signed: bool) {}
}

/** A whole-configuration hit: the settings (parsed from the frame) and the cached rules. */
export class ConfigurationHit {
  constructor(public cfg: ConfigResult, public hit: CacheHit) {}
}

/** Does the entry key at `p` (CACHE_HEADER bytes) name this document, signer and signature? */
function keyMatches(p: usize, d: u64, len: i32, proof: ArrayBuffer | null): bool {
  if (load<u64>(p) != d || load<u32>(p + 8) != <u32>len) return false;
  if (proof !== null && (load<u32>(p + 12) != 1 || memory.compare(p + 16, changetype<usize>(proof), <usize>PROOF_BYTES) != 0)) return false;
  return true;
}

function readMeta(): ArrayBuffer | null {
  const mv = getSharedData(KEY_PUSH_CACHE_META);
  const m = mv.value;
  if (mv.status != WasmResult.Ok || m === null || m.byteLength != CACHE_HEADER) return null;
  return m;
}

/** Is the cached value text byte for byte the `len` bytes at `p`? (read as a raw block, freed here) */
function textEquals(p: usize, len: i32): bool {
  const ts = getSharedDataRaw(KEY_PUSH_CACHE_TEXT);
  const tp = rawPtr;
  const same = ts == WasmResult.Ok && rawLen == len && (len == 0 || (tp != 0 && bytesEqual(tp, p, <usize>len)));
  if (tp != 0) heap.free(tp);
  return same;
}

/** The entry blob (key, then snapshot) whose key is `meta` (null: missing or of another entry). */
function loadEntry(meta: usize): ArrayBuffer | null {
  const sv = getSharedData(KEY_PUSH_CACHE);
  const b = sv.value;
  if (sv.status != WasmResult.Ok || b === null || b.byteLength < CACHE_HEADER) return null;
  // The snapshot must belong to the same entry as the meta record (written separately).
  if (memory.compare(changetype<usize>(b), meta, <usize>CACHE_HEADER) != 0) return null;
  return b;
}

/** The frame value: the entry key at `key`, then `base`[0, configLen) without the value range. */
function frameOf(key: usize, base: usize, configLen: i32, r: ValueRange): ArrayBuffer {
  const frame = new ArrayBuffer(CACHE_HEADER + configLen - (r.end - r.start));
  const f = changetype<usize>(frame);
  memory.copy(f, key, <usize>CACHE_HEADER);
  memory.copy(f + <usize>CACHE_HEADER, base, <usize>r.start);
  memory.copy(f + <usize>(CACHE_HEADER + r.start), base + <usize>r.end, <usize>(configLen - r.end));
  return frame;
}

/**
 * Whole-configuration hit for the configuration bytes `buf`, or null (then parse it in full). The
 * settings are parsed again (from the frame), and a hit is refused (null, full parse, whose verdict
 * then stands) if they would not let this document through exactly as they did in the storing VM:
 * document over max_rules_bytes, or signing keys whose signer resolution or proof differs.
 */
export function loadCachedConfiguration(buf: ArrayBuffer): ConfigurationHit | null {
  const m = readMeta();
  if (m === null) return null;
  const mp = changetype<usize>(m);
  const len = buf.byteLength;
  const base = changetype<usize>(buf);
  const vs = <i32>load<u32>(mp + M_VALUE_START);
  const ve = <i32>load<u32>(mp + M_VALUE_END);
  const form = <i32>load<u32>(mp + M_FORM);
  if (<i32>load<u32>(mp + M_CONFIG_LEN) != len || vs < 0 || ve < vs || ve > len) return null;
  if (form != FORM_RULES && form != FORM_RULES_TEXT) return null;
  const vlen = ve - vs;
  if (sampleDigest(base + <usize>vs, vlen) != load<u64>(mp + M_VALUE_SAMPLE)) return null;
  // The frame: everything around the value, compared byte for byte.
  const fs = getSharedDataRaw(KEY_PUSH_CACHE_FRAME);
  const fp = rawPtr;
  const frameLen = len - vlen;
  let same = fs == WasmResult.Ok && fp != 0 && rawLen == CACHE_HEADER + frameLen &&
    memory.compare(fp, mp, <usize>CACHE_HEADER) == 0 &&
    bytesEqual(fp + <usize>CACHE_HEADER, base, <usize>vs) &&
    bytesEqual(fp + <usize>(CACHE_HEADER + vs), base + <usize>ve, <usize>(len - ve));
  if (!same) { if (fp != 0) heap.free(fp); return null; }
  // The settings: the frame with a placeholder value of the document's JSON kind.
  const hole: i32 = form == FORM_RULES ? 1 : 2; // `0` or `""`
  const spliced = new ArrayBuffer(frameLen + hole);
  const sp = changetype<usize>(spliced);
  memory.copy(sp, fp + <usize>CACHE_HEADER, <usize>vs);
  if (form == FORM_RULES) store<u8>(sp + <usize>vs, 0x30);
  else store<u16>(sp + <usize>vs, 0x2222);
  memory.copy(sp + <usize>(vs + hole), fp + <usize>(CACHE_HEADER + vs), <usize>(len - ve));
  heap.free(fp);
  if (!textEquals(base + <usize>vs, vlen)) return null;
  const cfg = parseConfiguration(spliced);
  if (!cfg.ok) return null;
  if (form == FORM_RULES ? cfg.rulesNode < 0 : cfg.rulesTextNode < 0) return null;
  const textLen = <i32>load<u32>(mp + 8);
  const admitted = admitPush(cfg, textLen);
  if (!admitted.ok) return null;
  const proof = admitted.proof;
  if (proof === null && load<u32>(mp + 12) != 0) return null; // stored as signed, now unsigned: settings differ
  const d = load<u64>(mp);
  if (!keyMatches(mp, d, textLen, proof)) return null;
  const entry = loadEntry(mp);
  if (entry === null) return null;
  const set = decodeSnapshot(entry, "push", CACHE_HEADER);
  if (set === null) return null;
  return new ConfigurationHit(cfg, new CacheHit(set, d, load<u64>(mp + M_DIGEST2), textLen, proof !== null));
}

/**
 * Document-only hit: the document text digest `d` and length `textLen`, its value bytes
 * `base`[r.start, r.end) in the configuration, and the verified signer's proof (null when unsigned).
 */
export function loadCachedRules(d: u64, textLen: i32, base: usize, r: ValueRange, proof: ArrayBuffer | null): CacheHit | null {
  const m = readMeta();
  if (m === null) return null;
  const mp = changetype<usize>(m);
  if (!keyMatches(mp, d, textLen, proof)) return null;
  if (!textEquals(base + <usize>r.start, r.end - r.start)) return null;
  const entry = loadEntry(mp);
  if (entry === null) return null;
  const set = decodeSnapshot(entry, "push", CACHE_HEADER);
  if (set === null) return null;
  const hit = new CacheHit(set, d, load<u64>(mp + M_DIGEST2), textLen, proof !== null);
  hit.entry = entry;
  return hit;
}

/**
 * After a document-only hit was accepted: the same entry under this configuration's frame, so the
 * other VMs of this push get a whole-configuration hit. The value bytes (KEY_PUSH_CACHE_TEXT) and
 * their digest are unchanged (the hit compared them equal); only the frame's place is rewritten.
 */
export function republishCachedRules(hit: CacheHit, base: usize, configLen: i32, r: ValueRange): void {
  const b = hit.entry;
  if (b !== null) publishEntry(b, base, configLen, r);
}

/** Publish an accepted document (`set`, built from the configuration `base`[0, configLen)). */
export function storeCachedRules(d: u64, d2: u64, textLen: i32, set: RuleSet, proof: ArrayBuffer | null, base: usize, configLen: i32, r: ValueRange): void {
  const blob = encodeSnapshot(set, CACHE_HEADER);
  const p = changetype<usize>(blob);
  store<u64>(p, d);
  store<u32>(p + 8, <u32>textLen);
  store<u32>(p + 12, proof !== null ? 1 : 0);
  if (proof !== null) memory.copy(p + 16, changetype<usize>(proof), <usize>PROOF_BYTES);
  else memory.fill(p + 16, 0, <usize>PROOF_BYTES);
  store<u64>(p + M_DIGEST2, d2);
  const vlen = r.end - r.start;
  store<u64>(p + M_VALUE_SAMPLE, sampleDigest(base + <usize>r.start, vlen));
  memory.fill(p + M_VALUE_SAMPLE + 8, 0, <usize>CACHE_HEADER - M_VALUE_SAMPLE - 8);
  setSharedDataRaw(KEY_PUSH_CACHE_TEXT, base + <usize>r.start, vlen, 0);
  publishEntry(blob, base, configLen, r);
}

/** The entry `blob` (key, then snapshot) with this configuration's value range, its frame, then the meta record last. */
function publishEntry(blob: ArrayBuffer, base: usize, configLen: i32, r: ValueRange): void {
  const p = changetype<usize>(blob);
  store<u32>(p + M_CONFIG_LEN, <u32>configLen);
  store<u32>(p + M_VALUE_START, <u32>r.start);
  store<u32>(p + M_VALUE_END, <u32>r.end);
  store<u32>(p + M_FORM, <u32>r.form);
  setSharedData(KEY_PUSH_CACHE_FRAME, frameOf(p, base, configLen, r), 0);
  setSharedData(KEY_PUSH_CACHE, blob, 0);
  setSharedDataRaw(KEY_PUSH_CACHE_META, p, CACHE_HEADER, 0);
}

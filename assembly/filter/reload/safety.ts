// The two safety steps of rule delivery (issue 15), called from the push path (root-context.ts,
// on_configure) and the pull path (reload/pull.ts, the fetcher's response handler):
//   1. signature: before the document is parsed (signing.ts);
//   2. blast radius: after it is built, before anything is swapped (rules/blast-radius.ts against
//      the proxy's client sample, filter/client-sample.ts).
//
// Same verdict on every VM. Envoy runs on_configure for a pushed configuration in a canary VM first
// and then in every VM of the proxy; each must reach the canary's verdict even though the shared
// client sample keeps changing. So the first VM to measure a pushed document records the
// measurement in shared data ("edgewatch.rules.guard", keyed by the document's length and two
// 64-bit digests, kept 60 s), and every later VM uses that record instead of measuring again. A
// pulled document is measured once, by the fetcher, before it is published.
// (The digests are not cryptographic: the record can only make a document adopt the verdict of
// another with the same length and digests. The guard protects against mistakes; signatures are
// what protect against someone else's documents.)
import { RuleSet } from "../../rules/rule-set";
import { BlastRadiusSettings } from "../../config/settings";
import { BlastMeasure, measureBlastRadius, exceedsLimits } from "../../rules/blast-radius";
import { readClientSample, sampleCount, sampleEntries } from "../client-sample";
import { getSharedData, setSharedData } from "../../host/shared";
import { WasmResult } from "../../abi/status";
import { recordBlastRadius, countBlastRadiusOverride } from "../../rules/safety-metrics";
import { logInfo, logWarn } from "../../host/log";

export const KEY_GUARD = "edgewatch.rules.guard";
const GUARD_MAGIC: u32 = 0x31475745; // "EWG1"
const RECORD_BYTES: i32 = 48;
const MAX_RECORDS: i32 = 16;
/** A recorded measurement is reused this long (a configuration rollout takes seconds). */
export const GUARD_RECORD_MS: u64 = 60_000;

/** Identity of a pushed document for the shared record. */
export class DocKey {
  constructor(public d1: u64, public d2: u64, public len: i32) {}
}

/** A second 64-bit digest, independent of shared-state.ts's FNV-1a (multiply-rotate over 8-byte words). */
export function digest2(p: usize, len: i32): u64 {
  let h: u64 = 0x9e3779b97f4a7c15 ^ <u64>len;
  let i = 0;
  while (i + 8 <= len) {
    h = rotl<u64>(h ^ (load<u64>(p + <usize>i) * 0xc2b2ae3d27d4eb4f), 31) * 0x9e3779b97f4a7c15;
    i += 8;
  }
  while (i < len) {
    h = rotl<u64>(h ^ (<u64>load<u8>(p + <usize>i) * 0x165667b19e3779f9), 23) * 0xc2b2ae3d27d4eb4f;
    i++;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 33;
  return h;
}

class Shared {
  constructor(public measure: BlastMeasure, public first: bool) {}
}

function readRecord(b: ArrayBuffer | null, key: DocKey, nowMs: u64): BlastMeasure | null {
  if (b === null || b.byteLength < 8) return null;
  const p = changetype<usize>(b);
  if (load<u32>(p) != GUARD_MAGIC) return null;
  const n = <i32>load<u32>(p + 4);
  if (n < 0 || 8 + n * RECORD_BYTES > b.byteLength) return null;
  for (let i = n - 1; i >= 0; i--) {
    const r = p + 8 + <usize>(i * RECORD_BYTES);
    if (load<u64>(r) != key.d1 || load<u64>(r + 8) != key.d2 || load<u32>(r + 24) != <u32>key.len) continue;
    if (load<u64>(r + 16) + GUARD_RECORD_MS < nowMs) return null;
    const m = new BlastMeasure();
    m.sampled = <i32>load<u32>(r + 28);
    m.denied = <i32>load<u32>(r + 32);
    const flags = load<u32>(r + 36);
    m.wholeV4 = (flags & 1) != 0;
    m.wholeV6 = (flags & 2) != 0;
    return m;
  }
  return null;
}

function appendRecord(b: ArrayBuffer | null, key: DocKey, m: BlastMeasure, nowMs: u64): ArrayBuffer {
  let n = 0;
  let p: usize = 0;
  if (b !== null && b.byteLength >= 8 && load<u32>(changetype<usize>(b)) == GUARD_MAGIC) {
    p = changetype<usize>(b);
    n = <i32>load<u32>(p + 4);
    if (n < 0 || 8 + n * RECORD_BYTES > b.byteLength) n = 0;
  }
  const keep = min(n, MAX_RECORDS - 1);
  const out = new ArrayBuffer(8 + (keep + 1) * RECORD_BYTES);
  const o = changetype<usize>(out);
  store<u32>(o, GUARD_MAGIC);
  store<u32>(o + 4, <u32>(keep + 1));
  if (keep > 0) memory.copy(o + 8, p + 8 + <usize>((n - keep) * RECORD_BYTES), <usize>(keep * RECORD_BYTES));
  const r = o + 8 + <usize>(keep * RECORD_BYTES);
  store<u64>(r, key.d1);
  store<u64>(r + 8, key.d2);
  store<u64>(r + 16, nowMs);
  store<u32>(r + 24, <u32>key.len);
  store<u32>(r + 28, <u32>m.sampled);
  store<u32>(r + 32, <u32>m.denied);
  store<u32>(r + 36, (m.wholeV4 ? 1 : 0) | (m.wholeV6 ? 2 : 0));
  return out;
}

/** Measure `set` against the proxy's client sample now. */
export function measureNow(set: RuleSet): BlastMeasure {
  const blob = readClientSample();
  const n = sampleCount(blob);
  return measureBlastRadius(set, n > 0 ? sampleEntries(blob!) : 0, n);
}

/** The proxy's measurement of the document `key`: the recorded one, or ours recorded (first wins). */
function sharedMeasure(set: RuleSet, key: DocKey, nowMs: u64): Shared {
  for (let attempt = 0; attempt < 8; attempt++) {
    const sv = getSharedData(KEY_GUARD);
    const cur = sv.status == WasmResult.Ok ? sv.value : null;
    const found = readRecord(cur, key, nowMs);
    if (found !== null) return new Shared(found, false);
    const m = measureNow(set);
    const r = setSharedData(KEY_GUARD, appendRecord(cur, key, m, nowMs), sv.status == WasmResult.Ok ? sv.cas : 0);
    if (r == WasmResult.Ok) return new Shared(m, true);
  }
  return new Shared(measureNow(set), true);
}

export class GuardOutcome {
  ok: bool = true;
  /** This VM was the first in the proxy to check the document (count once per proxy). */
  first: bool = true;
  message: string = "";
  measure: BlastMeasure = new BlastMeasure();
}

function pct(num: i32, den: i32): string {
  if (den == 0) return "0%";
  const tenths = <i64>Math.round(<f64>num * 1000.0 / <f64>den);
  return (tenths / 10).toString() + "." + (tenths % 10).toString() + "%";
}

function limitText(s: BlastRadiusSettings): string {
  const tenths = <i64>Math.round(s.maxDenyFraction * 1000.0);
  return (tenths / 10).toString() + "." + (tenths % 10).toString() + "%";
}

/** What the measurement says, for logs and rejection messages. */
export function describeMeasure(m: BlastMeasure, s: BlastRadiusSettings): string {
  let t = "denies " + m.denied.toString() + " of " + m.sampled.toString() + " sampled clients (" + pct(m.denied, m.sampled) +
    "; limit " + limitText(s) + (m.sampled < s.minClients ? ", not judged below min_clients " + s.minClients.toString() : "") + ")";
  if (m.wholeV4) t += "; denies every IPv4 address (0.0.0.0/0) for every request";
  if (m.wholeV6) t += "; denies every IPv6 address (::/0) for every request";
  return t;
}

/**
 * Step 2 of delivery: may `set` be applied? `key` identifies a pushed document (shared record),
 * null for a pulled one (measured by the single fetcher). Logs the verdict and exports the gauges.
 */
export function guardRules(set: RuleSet, s: BlastRadiusSettings, key: DocKey | null, nowMs: u64, origin: string): GuardOutcome {
  const out = new GuardOutcome();
  if (key !== null) {
    const sh = sharedMeasure(set, key, nowMs);
    out.measure = sh.measure;
    out.first = sh.first;
  } else {
    out.measure = measureNow(set);
  }
  const m = out.measure;
  recordBlastRadius(m.sampled, m.denied);
  const what = "rules version " + set.version.toString() + " (" + origin + ")";
  if (!exceedsLimits(m, s.maxDenyFraction, s.minClients)) {
    if (out.first) logInfo("edgewatch: blast radius of " + what + ": " + describeMeasure(m, s) + ": within limits");
    return out;
  }
  if (set.allowLargeBlastRadius) {
    if (out.first) {
      countBlastRadiusOverride();
      logWarn("edgewatch: blast radius of " + what + ": " + describeMeasure(m, s) + ": over the limits, applied because the document sets allow_large_blast_radius");
    }
    return out;
  }
  out.ok = false;
  out.message = what + " " + describeMeasure(m, s) + "; set \"allow_large_blast_radius\": true in the document if this is intended";
  return out;
}

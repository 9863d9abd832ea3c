// @ts-nocheck — AssemblyScript source (compiled by asc via test/rules/unit-module.ts), not TypeScript.
// AssemblyScript unit-test (and bench) entry for the rules code: compiled by test/rules/unit-module.ts
// with the filter's own compiler settings, instantiated with stub host imports. Data goes in through
// `scratch(n)` (a pinned buffer) and comes back through `outPtr()/outLen()` (UTF-8 text).
import { input, setOut, setOutBytes } from "./unit-io";
import { parseJson, JsonKind } from "../../assembly/json/parser";
import { parseCidr, parseClientAddress, formatIp, ipIsV4, ipV4, ipPrefix, ipHi, ipLo, setParsedV4 } from "../../assembly/rules/cidr";
import { buildRulesFromBytes, scanCidrText, scanError } from "../../assembly/rules/document";
import { CidrIndexBuilder } from "../../assembly/rules/cidr-index";
import { evaluate } from "../../assembly/rules/access";
import { RuleSet, RuleAction } from "../../assembly/rules/rule-set";
import { encodeSnapshot, decodeSnapshot, snapshotVersion } from "../../assembly/rules/snapshot";
import { parseConfiguration } from "../../assembly/config/parse";

export { scratch, outPtr, outLen } from "./unit-io";

let current: RuleSet | null = null;

function bytesAt(len: i32): ArrayBuffer {
  return input().byteLength == len ? input() : input().slice(0, len);
}

/** JSON parse: returns 0 ok or the error kind; out = message or "kind count". */
export function jsonParse(len: i32): i32 {
  const doc = parseJson(input(), changetype<usize>(input()), len);
  if (!doc.ok) { setOut(doc.errorMessage); return doc.errorKind; }
  setOut(doc.kind(0).toString() + " " + doc.count.toString());
  return 0;
}

/** Decode the top-level JSON string (escapes) to UTF-8 text in out. */
export function jsonString(len: i32): i32 {
  const doc = parseJson(input(), changetype<usize>(input()), len);
  if (!doc.ok || doc.kind(0) != JsonKind.String) return 0;
  setOutBytes(doc.stringBytes(0));
  return 1;
}

/** Top-level JSON number value. */
export function jsonNumber(len: i32): f64 {
  const doc = parseJson(input(), changetype<usize>(input()), len);
  if (!doc.ok || doc.kind(0) != JsonKind.Number) return NaN;
  return doc.numberValue(0);
}

/** CIDR → "v4 1.2.3.0/24" / "v6 2001:db8:0:0:0:0:0:0/32", or 0. */
export function cidr(len: i32): i32 {
  if (!parseCidr(changetype<usize>(input()), len)) return 0;
  setOut((ipIsV4 ? "v4 " : "v6 ") + formatIp() + "/" + ipPrefix.toString());
  return 1;
}

export function clientAddress(len: i32): i32 {
  if (!parseClientAddress(changetype<usize>(input()), len)) return 0;
  setOut((ipIsV4 ? "v4 " : "v6 ") + formatIp());
  return 1;
}

/** Build a rule document; 1 ok (out = "version cidrs rules tableBytes"), 0 failed (out = "reason\tmessage"). */
export function loadRules(len: i32, maxBytes: i32): i32 {
  const res = buildRulesFromBytes(bytesAt(len), maxBytes, "push");
  if (!res.ok) { setOut(res.reason + "\t" + res.message); return 0; }
  const s = res.rules!;
  current = s;
  setOut(s.version.toString() + " " + s.cidrCount.toString() + " " + s.rules.length.toString() + " " + s.tableBytes().toString() + " " + s.index.size.toString());
  return 1;
}

/**
 * Scan input[0..len) as the raw text of a cidrs_text (JSON escapes not decoded) for rule 3; the
 * bytes after len (the caller's padding) must not matter. Returns the CIDRs added or -1; out =
 * "n4 n6" (keys added, also before an error), the IPv4 keys in order (16 hex digits each), then the
 * error text, one per line.
 */
export function scanText(len: i32): i32 {
  const b = new CidrIndexBuilder();
  const n = scanCidrText(changetype<usize>(input()), len, b, 3);
  let s = b.n4.toString() + " " + b.n6.toString();
  for (let i = 0; i < b.n4; i++) s += "\n" + load<u64>(b.kp + (<usize>i << 3)).toString(16).padStart(16, "0");
  b.release();
  if (n < 0) s += "\n" + scanError;
  setOut(s);
  return n;
}

/** Decide for a client address: returns action (-1 bad address); out = rule id. */
export function decide(len: i32): i32 {
  const s = current;
  if (s === null) return -2;
  if (!parseClientAddress(changetype<usize>(input()), len)) return -1;
  const d = evaluate(s, false);
  setOut(d.ruleId);
  return d.action;
}

/** Replace the current set by encode → decode of itself; returns snapshot size or -1. */
export function snapshotRoundTrip(): i32 {
  const s = current;
  if (s === null) return -1;
  const blob = encodeSnapshot(s);
  const back = decodeSnapshot(blob, "pull");
  if (back === null) return -1;
  current = back;
  return blob.byteLength;
}

/** Decode arbitrary bytes as a snapshot (fuzzing): 1 decoded, 0 rejected. */
export function snapshotDecode(len: i32): i32 {
  return decodeSnapshot(bytesAt(len), "pull") === null ? 0 : 1;
}

/** Encode the current set into scratch-visible output (for corruption tests). */
export function snapshotEncode(): i32 {
  const s = current;
  if (s === null) return -1;
  const snap = encodeSnapshot(s);
  setOutBytes(snap);
  return snap.byteLength;
}

/** Plugin configuration: 1 ok (out = JSON summary), 0 rejected (out = reason\tmessage). */
export function config(len: i32): i32 {
  const res = parseConfiguration(len == 0 ? null : bytesAt(len));
  if (!res.ok) { setOut(res.reason + "\t" + res.message); return 0; }
  const s = res.settings;
  let routes = "[";
  for (let i = 0; i < s.telemetry.pathRoutes.length; i++) {
    if (i > 0) routes += ",";
    routes += "[\"" + s.telemetry.pathRoutes[i].prefix + "\",\"" + s.telemetry.pathRoutes[i].route + "\"]";
  }
  routes += "]";
  let codes = "[";
  for (let i = 0; i < s.telemetry.exactCodes.length; i++) { if (i > 0) codes += ","; codes += s.telemetry.exactCodes[i].toString(); }
  codes += "]";
  setOut("{\"source\":" + s.clientAddress.source.toString() +
    ",\"hops\":" + s.clientAddress.xffTrustedHops.toString() +
    ",\"telemetry\":{\"enabled\":" + (s.telemetry.enabled ? "true" : "false") + ",\"routesCap\":" + s.telemetry.routesCap.toString() +
    ",\"methodLabel\":" + (s.telemetry.methodLabel ? "true" : "false") + ",\"heartbeatMs\":" + s.telemetry.heartbeatMs.toString() +
    ",\"pathRoutes\":" + routes + ",\"exactCodes\":" + codes + "}" +
    ",\"tracing\":{\"enabled\":" + (s.tracing.enabled ? "true" : "false") + ",\"serviceName\":\"" + s.tracing.serviceName +
    "\",\"trustParent\":" + s.tracing.trustParent.toString() + ",\"trustedCidrs\":" + s.tracing.trustedCidrs.length.toString() +
    ",\"collector\":{\"cluster\":\"" + s.tracing.collector.cluster + "\",\"path\":\"" + s.tracing.collector.path + "\",\"batchMax\":" + s.tracing.collector.batchMax.toString() +
    ",\"flushMs\":" + s.tracing.collector.flushMs.toString() + "}}" +
    ",\"rulesService\":{\"cluster\":\"" + s.rulesService.cluster + "\",\"authority\":\"" + s.rulesService.authority + "\",\"path\":\"" + s.rulesService.path +
    "\",\"longPollMs\":" + s.rulesService.longPollMs.toString() + ",\"timeoutMs\":" + s.rulesService.timeoutMs.toString() +
    ",\"coldStartDeny\":" + (s.rulesService.coldStartDeny ? "true" : "false") + ",\"leaseMs\":" + s.rulesService.leaseMs.toString() + "}" +
    ",\"maxRulesBytes\":" + s.maxRulesBytes.toString() + ",\"rulesNode\":" + res.rulesNode.toString() + ",\"rulesBytes\":" + res.rulesBytes.toString() + "}");
  return 1;
}

// ---- bench entry points ---------------------------------------------------------------------

let rng: u64 = 0x9e3779b97f4a7c15;
@inline function next(): u64 {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

/** n lookups of pseudo-random IPv4 addresses against the current set; returns the hit count. */
export function benchLookups4(n: i32, seed: u64): i32 {
  const s = current;
  if (s === null) return -1;
  rng = seed | 1;
  const idx = s.index;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const a = <u32>(next() >> 32);
    if (idx.lookup4(a) >= 0) hits++;
  }
  return hits;
}

/** n full evaluations (lookup + fallback chain + decision, no host calls) of random IPv4 addresses. */
export function benchEvaluate4(n: i32, seed: u64): i32 {
  const s = current;
  if (s === null) return -1;
  rng = seed | 1;
  let denies = 0;
  for (let i = 0; i < n; i++) {
    setParsedV4(<u32>(next() >> 32));
    if (evaluate(s, false).action == RuleAction.Deny) denies++;
  }
  return denies;
}

/** Heap bytes in use (after a full collection). */
export function heapBytes(): i32 {
  __collect();
  return <i32>memory.size() << 16;
}

export function keepAlive(): i32 { return ipV4 == 0 && ipHi == 0 && ipLo == 0 ? 0 : 1; }

// ---- phase timing (bench) ----
import { clock_time_get } from "../../assembly/abi/imports";
import { scanCidrText } from "../../assembly/rules/document";
import { CidrIndexBuilder } from "../../assembly/rules/cidr-index";
const CLK: usize = memory.data(8);
/** Clock for phase timing: 1 = monotonic wall clock, 2 = process CPU time (the unit host maps it to process.cpuUsage). */
let benchClock: u32 = 1;
export function setBenchClock(id: u32): void { benchClock = id; }
function nowNs(): u64 { clock_time_get(benchClock, 1000, CLK); return load<u64>(CLK); }

/** End time of each phase of the last runPhases (bench clock, ns): 0 = start, 1 = JSON, 2 = scan, 3 = build. */
const PHASE_END = new StaticArray<u64>(4);
let builtSize: i32 = 0;

/**
 * Loads a document whose first rule has a cidrs_text, phase by phase up to `upTo` (1 = JSON parse,
 * 2 = + cidrs_text scan, 3 = + sort/index build), stamping PHASE_END. Returns the CIDRs scanned
 * (0 below phase 2; -1 bad JSON, -2 no cidrs_text).
 */
function runPhases(len: i32, upTo: i32): i32 {
  const buf = bytesAt(len);
  unchecked(PHASE_END[0] = nowNs());
  const doc = parseJson(buf, changetype<usize>(buf), len);
  unchecked(PHASE_END[1] = nowNs());
  if (!doc.ok) return -1;
  if (upTo < 2) return 0;
  const text = doc.member(doc.member(0, "access") + 1, "cidrs_text");
  if (text < 0) return -2;
  const b = new CidrIndexBuilder();
  const n = scanCidrText(doc.rawPtr(text), doc.rawLength(text), b, 0);
  unchecked(PHASE_END[2] = nowNs());
  if (upTo < 3) { b.release(); return n; }
  builtSize = b.build().size;
  unchecked(PHASE_END[3] = nowNs());
  return n;
}

/** Times the phases of loading a document whose first rule has a cidrs_text: "json scan build total" in µs. */
export function benchPhases(len: i32): i32 {
  const n = runPhases(len, 3);
  if (n < 0) return n;
  const us = (k: i32): string => ((unchecked(PHASE_END[k]) - unchecked(PHASE_END[k - 1])) / 1000).toString();
  setOut(us(1) + " " + us(2) + " " + us(3) + " " + builtSize.toString());
  return n;
}

/** Phases for instruction counting (bench/rules/instructions.mts, whose stub clock does nothing): the CIDRs
 * scanned (phase ≥ 2), 0 (phase 1), or < 0 (a bad document, or a build whose size differs from the CIDRs scanned). */
export function benchUpTo(len: i32, phase: i32): i32 {
  const n = runPhases(len, phase);
  if (phase < 3 || n < 0) return n;
  return builtSize == n ? n : -3;
}

import { isSortedKeys, radixSortKeys, installTables, CidrIndex } from "../../assembly/rules/cidr-index";
/** Build sub-phases for a cidrs_text document: "sortcheck sort write+link" in µs (bench clock). */
export function benchBuildPhases(len: i32): i32 {
  const buf = bytesAt(len);
  const doc = parseJson(buf, changetype<usize>(buf), len);
  if (!doc.ok) return -1;
  const rule0 = doc.member(0, "access") + 1;
  const text = doc.member(rule0, "cidrs_text");
  const b = new CidrIndexBuilder();
  scanCidrText(doc.rawPtr(text), doc.rawLength(text), b, 0);
  const n = b.n4;
  const t0 = nowNs();
  const sorted = isSortedKeys(b.kp, n);
  const t1 = nowNs();
  if (!sorted) radixSortKeys(b.kp, n);
  const t2 = nowNs();
  const idx = b.build(); // keys already sorted: write the table region + link
  const t3 = nowNs();
  setOut(((t1 - t0) / 1000).toString() + " " + ((t2 - t1) / 1000).toString() + " " + ((t3 - t2) / 1000).toString() + " " + idx.size.toString());
  return n;
}

let snapBlob: ArrayBuffer | null = null;
/** Time one snapshot load (decode) of the current set with the bench clock; out = µs. */
export function benchSnapshotLoad(): i32 {
  const s = current;
  if (s === null) return -1;
  if (snapBlob === null || snapshotVersion(snapBlob!) != s.version || snapBlobFor !== s) { snapBlob = encodeSnapshot(s); snapBlobFor = s; }
  const t0 = nowNs();
  const back = decodeSnapshot(snapBlob, "pull");
  const t1 = nowNs();
  if (back === null) return -2;
  setOut(((t1 - t0) / 1000).toString());
  return 1;
}
let snapBlobFor: RuleSet | null = null;

/** Time installTables (parent links + first-level table) on the current set's table region; out = µs. */
export function benchInstall(): i32 {
  const s = current;
  if (s === null) return -1;
  const idx = new CidrIndex();
  const t0 = nowNs();
  installTables(idx, s.index.data, s.index.s4 - changetype<usize>(s.index.data), s.index.n4, s.index.n6, <u32>s.rules.length);
  const t1 = nowNs();
  setOut(((t1 - t0) / 1000).toString());
  return idx.size;
}
import { xxh64 } from "../../assembly/rules/xxh64";
/** Time XXH64 over n bytes of the current set's table; out = µs. */
export function benchXxh(): i32 {
  const s = current;
  if (s === null) return -1;
  const t0 = nowNs();
  const h = xxh64(s.index.s4, <usize>s.index.n4 * 7, 0);
  const t1 = nowNs();
  setOut(((t1 - t0) / 1000).toString() + " " + h.toString());
  return 1;
}

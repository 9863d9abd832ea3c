// @ts-nocheck — AssemblyScript source (compiled by asc via test/rules/unit-module.ts), not TypeScript.
// Unit-test (and bench) entry for issue 15's safety rails: SHA-512, Ed25519 verification, base64,
// signature checks of documents, the client sample and the blast-radius guard. Same conventions as
// rules-unit.ts: input through `scratch(n)`, text output through `outPtr()/outLen()`.
import { input, setOut, setOutBytes } from "./unit-io";
import { sha512 } from "../../assembly/crypto/sha512";
import { ed25519VerifyRaw, ed25519KeyUsable } from "../../assembly/crypto/ed25519";
import { base64Decode } from "../../assembly/crypto/base64";

export { scratch, outPtr, outLen } from "./unit-io";

const DIGEST = memory.data(64);

/** SHA-512 of scratch[0..len) → out (64 bytes). */
export function hash512(len: i32): void {
  sha512(changetype<usize>(input()), <usize>len, DIGEST);
  const d = new ArrayBuffer(64);
  memory.copy(changetype<usize>(d), DIGEST, 64);
  setOutBytes(d);
}

/** scratch = key (32) ‖ sig (64) ‖ message: VerifyResult code. */
export function verify(len: i32): i32 {
  const p = changetype<usize>(input());
  return ed25519VerifyRaw(p, p + 32, p + 96, <usize>(len - 96));
}

/** scratch = 32-byte key: 1 usable. */
export function keyUsable(len: i32): i32 {
  return ed25519KeyUsable(input().slice(0, len)) ? 1 : 0;
}

/** base64 decode of scratch → out; -1 when rejected. */
export function b64(len: i32): i32 {
  const r = base64Decode(changetype<usize>(input()), len);
  if (r === null) return -1;
  setOutBytes(r);
  return r.byteLength;
}

// ---- rule documents, the blast-radius guard and the client sample ---------------------------
import { buildRulesFromBytes } from "../../assembly/rules/document";
import { RuleSet } from "../../assembly/rules/rule-set";
import { parseClientAddress, ipIsV4, ipV4, ipHi, ipLo } from "../../assembly/rules/cidr";
import { deniesV4, deniesV6, deniesAllV4, deniesAllV6, measureBlastRadius, exceedsLimits } from "../../assembly/rules/blast-radius";
import { offerClient, mergePending, clearPending, pendingClients, sampleCount, sampleEntries } from "../../assembly/filter/client-sample";
import { parseConfiguration } from "../../assembly/config/parse";
import { parseSignatureHeader, signatureParseError, checkSignature } from "../../assembly/rules/signing";

let current: RuleSet | null = null;
let sample: ArrayBuffer | null = null;


/** Build a rule document from scratch: 1 ok (current set), 0 rejected (out = reason\tmessage). */
export function loadRules(len: i32): i32 {
  const r = buildRulesFromBytes(input().slice(0, len), 64 * 1024 * 1024, "push");
  if (!r.ok) { setOut(r.reason + "\t" + r.message); current = null; return 0; }
  current = r.rules;
  return 1;
}

/** Does the current document deny every request from the address in scratch? -1 bad address. */
export function denies(len: i32): i32 {
  if (current === null || !parseClientAddress(changetype<usize>(input()), len)) return -1;
  const d = ipIsV4 ? deniesV4(current!, ipV4) : deniesV6(current!, ipHi, ipLo);
  return d ? 1 : 0;
}

/** bit 0: every IPv4 address denied; bit 1: every IPv6 address denied. */
export function wholeSpace(): i32 {
  if (current === null) return -1;
  return (deniesAllV4(current!) ? 1 : 0) | (deniesAllV6(current!) ? 2 : 0);
}

/** Offer the address in scratch to the pending set (as a request would). */
export function offer(len: i32): i32 {
  if (!parseClientAddress(changetype<usize>(input()), len)) return -1;
  offerClient();
  return pendingClients();
}

/** Merge the pending set into the unit's sample blob (as a tick would); returns the sample size. */
export function flush(capacity: i32): i32 {
  sample = mergePending(sample, capacity);
  clearPending();
  return sampleCount(sample);
}

export function resetSample(): void { sample = null; clearPending(); }

/** The sample's entries as "hi:lo" hex pairs, oldest first. */
export function sampleText(): void {
  const n = sampleCount(sample);
  let s = "";
  for (let i = 0; i < n; i++) {
    const p = sampleEntries(sample!) + <usize>(i * 16);
    s += (i > 0 ? " " : "") + load<u64>(p).toString(16) + ":" + load<u64>(p + 8).toString(16);
  }
  setOut(s);
}

/** Measure the current document against the unit's sample: out = "sampled denied wholeV4 wholeV6 exceeds". */
export function measure(maxFraction: f64, minClients: i32): i32 {
  if (current === null) return -1;
  const n = sampleCount(sample);
  const m = measureBlastRadius(current!, n > 0 ? sampleEntries(sample!) : 0, n);
  setOut(m.sampled.toString() + " " + m.denied.toString() + " " + (m.wholeV4 ? "1" : "0") + " " + (m.wholeV6 ? "1" : "0") + " " +
    (exceedsLimits(m, maxFraction, minClients) ? "1" : "0") + " " + (current!.allowLargeBlastRadius ? "1" : "0"));
  return 0;
}

/** Plugin configuration: 1 accepted (out = summary), 0 rejected (out = reason\tmessage). */
export function config(len: i32): i32 {
  const r = parseConfiguration(len == 0 ? null : input().slice(0, len));
  if (!r.ok) { setOut(r.reason + "\t" + r.message); return 0; }
  const s = r.settings;
  let keys = "";
  for (let i = 0; i < s.signing.keys.length; i++) keys += (i > 0 ? "," : "") + s.signing.keys[i].id;
  const sig = r.signature;
  setOut("{\"keys\":\"" + keys + "\",\"max_deny_fraction\":" + s.blastRadius.maxDenyFraction.toString() + ",\"min_clients\":" +
    s.blastRadius.minClients.toString() + ",\"sample_size\":" + s.blastRadius.sampleSize.toString() +
    ",\"rules_text\":" + (r.rulesTextNode >= 0 ? "true" : "false") + ",\"signature_key\":\"" + (sig !== null ? sig.keyId : "") + "\"}");
  return 1;
}

/** Parse an x-edgewatch-signature header value: 1 ok (out = key id), 0 (out = error). */
export function sigHeader(len: i32): i32 {
  const d = parseSignatureHeader(String.UTF8.decode(input().slice(0, len)));
  if (d === null) { setOut(signatureParseError); return 0; }
  setOut(d.keyId);
  return 1;
}

// ---- bench entry points (bench/signature.ts): one operation each, timed by the caller ----------
let benchDoc: ArrayBuffer = new ArrayBuffer(0);
let benchKey: ArrayBuffer = new ArrayBuffer(0);
let benchSig: ArrayBuffer = new ArrayBuffer(0);

/** scratch = key (32) ‖ sig (64) ‖ document: keep them for the bench calls. */
export function benchSetup(len: i32): void {
  benchKey = input().slice(0, 32);
  benchSig = input().slice(32, 96);
  benchDoc = input().slice(96, len);
}

/** Parse and index the document (what a reload pays without signatures): CIDR count, -1 on error. */
export function benchParse(): i32 {
  const r = buildRulesFromBytes(benchDoc, 64 * 1024 * 1024, "pull");
  if (!r.ok) return -1;
  current = r.rules;
  return r.rules!.cidrCount;
}

/** Verify the document's signature (SHA-512 over it + the curve arithmetic): VerifyResult. */
export function benchVerify(): i32 {
  return ed25519VerifyRaw(changetype<usize>(benchKey), changetype<usize>(benchSig), changetype<usize>(benchDoc), <usize>benchDoc.byteLength);
}

/** SHA-512 of the document alone. */
export function benchHash(): void {
  sha512(changetype<usize>(benchDoc), <usize>benchDoc.byteLength, DIGEST);
}

/** The blast-radius guard on the last parsed document against the unit's sample: denied count. */
export function benchGuard(): i32 {
  if (current === null) return -1;
  const n = sampleCount(sample);
  return measureBlastRadius(current!, n > 0 ? sampleEntries(sample!) : 0, n).denied;
}

// Plugin configuration (JSON, buffer 7 in on_configure) → FilterSettings, strictly validated:
// unknown fields, wrong types and out-of-range values reject the configuration (on_configure
// returns false and Envoy keeps the previous one). An empty configuration means all defaults.
// The optional "rules" member is a rule document (rules/document.ts) delivered by push.
import { JsonDoc, JsonKind, parseJson } from "../json/parser";
import {
  FilterSettings, ClientAddressSource, PathRoute, TelemetrySettings, TracingSettings, CollectorSettings,
  RulesServiceSettings, ClientAddressSettings, SigningSettings, BlastRadiusSettings, TrustedKey,
} from "./settings";
import { DocSignature, makeSignature, signatureParseError, validKeyId } from "../rules/signing";
import { base64DecodeString } from "../crypto/base64";
import { ed25519KeyUsable } from "../crypto/ed25519";
import { jsonFailure, typeError } from "../rules/document";
import { Reason } from "../rules/reasons";
import { parseCidr } from "../rules/cidr";

/** Hard cap on a plugin configuration, before max_rules_bytes is known. */
export const MAX_CONFIG_BYTES: i32 = 256 * 1024 * 1024;

export class ConfigResult {
  settings: FilterSettings = new FilterSettings();
  /** Parsed configuration (holds the "rules" member). */
  doc: JsonDoc | null = null;
  /** Tape index of the "rules" member value, -1 when absent. */
  rulesNode: i32 = -1;
  /** Byte size of the "rules" member text. */
  rulesBytes: i32 = 0;
  /** Tape index of the "rules_text" string (a signed document as text), -1 when absent. */
  rulesTextNode: i32 = -1;
  /** "rules_signature" of the pushed document (null when absent). */
  signature: DocSignature | null = null;
  reason: string = "";
  message: string = "";
  get ok(): bool { return this.reason.length == 0; }
}

let err: string = "";

function setErr(msg: string): void { if (err.length == 0) err = msg; }

function intIn(doc: JsonDoc, v: i32, path: string, lo: i64, hi: i64, fallback: i32): i32 {
  if (!doc.integerFits(v)) { setErr(path + ": expected an integer " + lo.toString() + ".." + hi.toString()); return fallback; }
  const x = doc.integerValue(v);
  if (x < lo || x > hi) { setErr(path + ": expected an integer " + lo.toString() + ".." + hi.toString()); return fallback; }
  return <i32>x;
}

function boolOf(doc: JsonDoc, v: i32, path: string, fallback: bool): bool {
  const k = doc.kind(v);
  if (k == JsonKind.True) return true;
  if (k == JsonKind.False) return false;
  setErr(typeError(doc, v, path, "boolean"));
  return fallback;
}

function strOf(doc: JsonDoc, v: i32, path: string, fallback: string, maxLen: i32 = 4096): string {
  if (doc.kind(v) != JsonKind.String) { setErr(typeError(doc, v, path, "string")); return fallback; }
  if (doc.rawLength(v) > maxLen) { setErr(path + ": longer than " + maxLen.toString() + " bytes"); return fallback; }
  return doc.stringValue(v);
}

function unknown(doc: JsonDoc, k: i32, path: string): void {
  setErr(path + ": unknown field \"" + doc.stringValue(k) + "\"");
}

/** Every configuration object is closed and small: more members than this is an error at once. */
const MAX_OBJECT_MEMBERS: i32 = 64;

/** An object with at most MAX_OBJECT_MEMBERS members and no duplicate key (compared decoded). */
function checkObject(doc: JsonDoc, n: i32, path: string): bool {
  if (doc.kind(n) != JsonKind.Object) { setErr(typeError(doc, n, path, "object")); return false; }
  if (doc.size(n) > MAX_OBJECT_MEMBERS) {
    setErr(path + ": " + doc.size(n).toString() + " members (unknown fields; at most " + MAX_OBJECT_MEMBERS.toString() + ")");
    return false;
  }
  const seen = new Set<string>();
  let a = n + 1;
  const stop = doc.next(n);
  while (a < stop) {
    const key = doc.stringValue(a);
    if (seen.has(key)) {
      setErr(path + ": duplicate field \"" + key + "\"");
      return false;
    }
    seen.add(key);
    a = doc.next(a + 1);
  }
  return true;
}

function parseClientAddress(doc: JsonDoc, n: i32, path: string, c: ClientAddressSettings): void {
  if (!checkObject(doc, n, path)) return;
  let k = n + 1;
  const stop = doc.next(n);
  while (k < stop && err.length == 0) {
    const v = k + 1;
    if (doc.equalsAscii(k, "source")) {
      if (doc.kind(v) != JsonKind.String) setErr(typeError(doc, v, path + ".source", "string"));
      else if (doc.equalsAscii(v, "connection")) c.source = ClientAddressSource.Connection;
      else if (doc.equalsAscii(v, "envoy_external")) c.source = ClientAddressSource.EnvoyExternal;
      else if (doc.equalsAscii(v, "xff")) c.source = ClientAddressSource.Xff;
      else setErr(path + ".source: expected \"connection\", \"envoy_external\" or \"xff\"");
    } else if (doc.equalsAscii(k, "xff_trusted_hops")) {
      c.xffTrustedHops = intIn(doc, v, path + ".xff_trusted_hops", 0, 16, 0);
    } else unknown(doc, k, path);
    k = doc.next(v);
  }
}

function parseTelemetry(doc: JsonDoc, n: i32, path: string, t: TelemetrySettings): void {
  if (!checkObject(doc, n, path)) return;
  let k = n + 1;
  const stop = doc.next(n);
  while (k < stop && err.length == 0) {
    const v = k + 1;
    if (doc.equalsAscii(k, "enabled")) t.enabled = boolOf(doc, v, path + ".enabled", true);
    else if (doc.equalsAscii(k, "routes_cap")) t.routesCap = intIn(doc, v, path + ".routes_cap", 1, 10000, 100);
    else if (doc.equalsAscii(k, "method_label")) t.methodLabel = boolOf(doc, v, path + ".method_label", false);
    else if (doc.equalsAscii(k, "heartbeat_ms")) t.heartbeatMs = intIn(doc, v, path + ".heartbeat_ms", 10, 3600000, 1000);
    else if (doc.equalsAscii(k, "exact_codes")) {
      if (doc.kind(v) != JsonKind.Array) setErr(typeError(doc, v, path + ".exact_codes", "array"));
      else if (doc.size(v) > 500) setErr(path + ".exact_codes: at most 500 codes");
      else {
        const codes = new Array<i32>(0);
        let c = v + 1;
        let i = 0;
        const cs = doc.next(v);
        while (c < cs && err.length == 0) {
          codes.push(intIn(doc, c, path + ".exact_codes[" + i.toString() + "]", 100, 599, 0));
          c = doc.next(c);
          i++;
        }
        t.exactCodes = codes;
      }
    } else if (doc.equalsAscii(k, "path_routes")) {
      if (doc.kind(v) != JsonKind.Array) setErr(typeError(doc, v, path + ".path_routes", "array"));
      else if (doc.size(v) > 1000) setErr(path + ".path_routes: at most 1000 entries");
      else {
        const routes = new Array<PathRoute>(0);
        let c = v + 1;
        let i = 0;
        const cs = doc.next(v);
        while (c < cs && err.length == 0) {
          const p = path + ".path_routes[" + i.toString() + "]";
          if (checkObject(doc, c, p)) {
            let prefix = "", route = "";
            let hasP = false, hasR = false;
            let m = c + 1;
            const ms = doc.next(c);
            while (m < ms && err.length == 0) {
              const mv = m + 1;
              if (doc.equalsAscii(m, "prefix")) { prefix = strOf(doc, mv, p + ".prefix", "", 1024); hasP = true; }
              else if (doc.equalsAscii(m, "route")) { route = strOf(doc, mv, p + ".route", "", 128); hasR = true; }
              else unknown(doc, m, p);
              m = doc.next(mv);
            }
            if (err.length == 0 && (!hasP || !hasR)) setErr(p + ": \"prefix\" and \"route\" required");
            if (err.length == 0 && (prefix.length == 0 || prefix.charCodeAt(0) != 0x2f)) setErr(p + ".prefix: must start with \"/\"");
            if (err.length == 0 && route.length == 0) setErr(p + ".route: must not be empty");
            routes.push(new PathRoute(prefix, route));
          }
          c = doc.next(c);
          i++;
        }
        t.pathRoutes = routes;
      }
    } else unknown(doc, k, path);
    k = doc.next(v);
  }
}

function parseCollector(doc: JsonDoc, n: i32, path: string, c: CollectorSettings): void {
  if (!checkObject(doc, n, path)) return;
  let k = n + 1;
  const stop = doc.next(n);
  while (k < stop && err.length == 0) {
    const v = k + 1;
    if (doc.equalsAscii(k, "cluster")) c.cluster = strOf(doc, v, path + ".cluster", "", 512);
    else if (doc.equalsAscii(k, "authority")) c.authority = strOf(doc, v, path + ".authority", "collector", 512);
    else if (doc.equalsAscii(k, "path")) c.path = strOf(doc, v, path + ".path", "/v1/traces", 1024);
    else if (doc.equalsAscii(k, "batch_max")) c.batchMax = intIn(doc, v, path + ".batch_max", 1, 100000, 256);
    else if (doc.equalsAscii(k, "buffer_max")) c.bufferMax = intIn(doc, v, path + ".buffer_max", 1, 1000000, 4096);
    else if (doc.equalsAscii(k, "flush_ms")) c.flushMs = intIn(doc, v, path + ".flush_ms", 10, 3600000, 1000);
    else if (doc.equalsAscii(k, "timeout_ms")) c.timeoutMs = intIn(doc, v, path + ".timeout_ms", 1, 3600000, 2000);
    else if (doc.equalsAscii(k, "backoff_base_ms")) c.backoffBaseMs = intIn(doc, v, path + ".backoff_base_ms", 1, 3600000, 200);
    else if (doc.equalsAscii(k, "backoff_max_ms")) c.backoffMaxMs = intIn(doc, v, path + ".backoff_max_ms", 1, 3600000, 10000);
    else unknown(doc, k, path);
    k = doc.next(v);
  }
  // As rules_service: an empty path (or authority) would make every export a BadArgument http_call.
  if (err.length == 0 && (c.path.length == 0 || c.path.charCodeAt(0) != 0x2f)) setErr(path + ".path: must start with \"/\"");
  if (err.length == 0 && c.authority.length == 0) setErr(path + ".authority: must not be empty");
  if (err.length == 0 && c.backoffMaxMs < c.backoffBaseMs) setErr(path + ".backoff_max_ms: must be ≥ backoff_base_ms");
}

function parseTracing(doc: JsonDoc, n: i32, path: string, t: TracingSettings): void {
  if (!checkObject(doc, n, path)) return;
  let k = n + 1;
  const stop = doc.next(n);
  while (k < stop && err.length == 0) {
    const v = k + 1;
    if (doc.equalsAscii(k, "enabled")) t.enabled = boolOf(doc, v, path + ".enabled", true);
    else if (doc.equalsAscii(k, "service_name")) t.serviceName = strOf(doc, v, path + ".service_name", "edgewatch", 256);
    else if (doc.equalsAscii(k, "trust_parent")) {
      if (doc.kind(v) != JsonKind.String) setErr(typeError(doc, v, path + ".trust_parent", "string"));
      else if (doc.equalsAscii(v, "always")) t.trustParent = 0;
      else if (doc.equalsAscii(v, "never")) t.trustParent = 1;
      else if (doc.equalsAscii(v, "trusted")) t.trustParent = 2;
      else setErr(path + ".trust_parent: expected \"always\", \"never\" or \"trusted\"");
    } else if (doc.equalsAscii(k, "trusted_cidrs")) {
      if (doc.kind(v) != JsonKind.Array) setErr(typeError(doc, v, path + ".trusted_cidrs", "array"));
      else if (doc.size(v) > 10000) setErr(path + ".trusted_cidrs: at most 10000 entries");
      else {
        const list = new Array<string>(0);
        let c = v + 1;
        let i = 0;
        const cs = doc.next(v);
        while (c < cs && err.length == 0) {
          const p = path + ".trusted_cidrs[" + i.toString() + "]";
          const s = strOf(doc, c, p, "", 64);
          if (err.length == 0) {
            const b = String.UTF8.encode(s);
            if (!parseCidr(changetype<usize>(b), b.byteLength)) { setErr(p + ": bad CIDR \"" + s + "\""); cidrError = true; }
          }
          list.push(s);
          c = doc.next(c);
          i++;
        }
        t.trustedCidrs = list;
      }
    } else if (doc.equalsAscii(k, "collector")) parseCollector(doc, v, path + ".collector", t.collector);
    else unknown(doc, k, path);
    k = doc.next(v);
  }
}

let cidrError: bool = false;

function parseRulesService(doc: JsonDoc, n: i32, path: string, r: RulesServiceSettings): void {
  if (!checkObject(doc, n, path)) return;
  let k = n + 1;
  const stop = doc.next(n);
  while (k < stop && err.length == 0) {
    const v = k + 1;
    if (doc.equalsAscii(k, "cluster")) r.cluster = strOf(doc, v, path + ".cluster", "", 512);
    else if (doc.equalsAscii(k, "authority")) r.authority = strOf(doc, v, path + ".authority", "rules", 512);
    else if (doc.equalsAscii(k, "path")) r.path = strOf(doc, v, path + ".path", "/rules", 1024);
    else if (doc.equalsAscii(k, "long_poll_ms")) r.longPollMs = intIn(doc, v, path + ".long_poll_ms", 0, 300000, 30000);
    else if (doc.equalsAscii(k, "timeout_ms")) r.timeoutMs = intIn(doc, v, path + ".timeout_ms", 10, 600000, 35000);
    else if (doc.equalsAscii(k, "backoff_base_ms")) r.backoffBaseMs = intIn(doc, v, path + ".backoff_base_ms", 1, 3600000, 100);
    else if (doc.equalsAscii(k, "backoff_max_ms")) r.backoffMaxMs = intIn(doc, v, path + ".backoff_max_ms", 1, 3600000, 5000);
    else if (doc.equalsAscii(k, "lease_ms")) r.leaseMs = intIn(doc, v, path + ".lease_ms", 50, 600000, 2000);
    else if (doc.equalsAscii(k, "tick_ms")) r.tickMs = intIn(doc, v, path + ".tick_ms", 10, 60000, 100);
    else if (doc.equalsAscii(k, "cold_start")) {
      if (doc.kind(v) != JsonKind.String) setErr(typeError(doc, v, path + ".cold_start", "string"));
      else if (doc.equalsAscii(v, "allow")) r.coldStartDeny = false;
      else if (doc.equalsAscii(v, "deny")) r.coldStartDeny = true;
      else setErr(path + ".cold_start: expected \"allow\" or \"deny\"");
    } else unknown(doc, k, path);
    k = doc.next(v);
  }
}

let signatureError: bool = false;

// Field names that would hold a private key. The plugin configuration is readable by everyone who can
// read the proxy's configuration (xDS, config_dump, the WasmPlugin object), so a private key there
// would let them sign rules: such fields are rejected with their own message, never ignored.
function privateKeyField(doc: JsonDoc, k: i32): bool {
  return doc.equalsAscii(k, "private_key") || doc.equalsAscii(k, "secret_key") || doc.equalsAscii(k, "signing_key") ||
    doc.equalsAscii(k, "seed") || doc.equalsAscii(k, "secret") || doc.equalsAscii(k, "private") ||
    doc.equalsAscii(k, "rules_signing_key") || doc.equalsAscii(k, "rules_private_key") || doc.equalsAscii(k, "sk");
}

const PRIVATE_KEY_ADVICE = "private keys must never be in a plugin configuration (anyone who can read the proxy configuration could sign rules); configure only public keys and sign with `edgewatch rules sign`";

/** SubjectPublicKeyInfo prefix of an Ed25519 public key (RFC 8410), as `openssl pkey -pubout -outform DER` writes it. */
const SPKI_PREFIX: StaticArray<u8> = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
/** PKCS#8 prefix of an Ed25519 private key (RFC 8410). */
const PKCS8_PREFIX: StaticArray<u8> = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

function hasPrefix(b: ArrayBuffer, prefix: StaticArray<u8>): bool {
  if (b.byteLength < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (load<u8>(changetype<usize>(b) + <usize>i) != prefix[i]) return false;
  return true;
}

function parsePublicKey(doc: JsonDoc, v: i32, path: string): ArrayBuffer | null {
  if (doc.kind(v) != JsonKind.String) { setErr(typeError(doc, v, path, "string")); return null; }
  if (doc.rawLength(v) > 512) { setErr(path + ": longer than 512 bytes"); return null; }
  const text = doc.stringValue(v);
  if (text.indexOf("PRIVATE KEY") >= 0) { setErr(path + ": this is a PEM private key; " + PRIVATE_KEY_ADVICE); return null; }
  const raw = base64DecodeString(text);
  if (raw === null) { setErr(path + ": expected standard padded base64 of a 32-byte Ed25519 public key"); return null; }
  let key = raw;
  if (raw.byteLength == 44 && hasPrefix(raw, SPKI_PREFIX)) key = raw.slice(12);
  else if (raw.byteLength == 48 && hasPrefix(raw, PKCS8_PREFIX)) { setErr(path + ": this is a PKCS#8 Ed25519 private key; " + PRIVATE_KEY_ADVICE); return null; }
  else if (raw.byteLength == 64) { setErr(path + ": 64 bytes looks like a private key (seed and public key); " + PRIVATE_KEY_ADVICE); return null; }
  if (key.byteLength != 32) { setErr(path + ": " + raw.byteLength.toString() + " bytes; an Ed25519 public key is 32 bytes (or 44 as DER SubjectPublicKeyInfo)"); return null; }
  if (!ed25519KeyUsable(key)) { setErr(path + ": not a usable Ed25519 public key (not a curve point, or of small order)"); return null; }
  return key;
}

function parseSigning(doc: JsonDoc, n: i32, path: string, sg: SigningSettings): void {
  if (!checkObject(doc, n, path)) return;
  let k = n + 1;
  const stop = doc.next(n);
  while (k < stop && err.length == 0) {
    const v = k + 1;
    if (doc.equalsAscii(k, "keys")) {
      if (doc.kind(v) != JsonKind.Array) setErr(typeError(doc, v, path + ".keys", "array"));
      else if (doc.size(v) < 1 || doc.size(v) > 16) setErr(path + ".keys: 1 to 16 keys");
      else {
        const keys = new Array<TrustedKey>(0);
        let c = v + 1;
        let i = 0;
        const cs = doc.next(v);
        while (c < cs && err.length == 0) {
          const p = path + ".keys[" + i.toString() + "]";
          if (checkObject(doc, c, p)) {
            let id = "";
            let key: ArrayBuffer | null = null;
            let m = c + 1;
            const ms = doc.next(c);
            while (m < ms && err.length == 0) {
              const mv = m + 1;
              if (doc.equalsAscii(m, "key_id")) id = strOf(doc, mv, p + ".key_id", "", 64);
              else if (doc.equalsAscii(m, "public_key")) key = parsePublicKey(doc, mv, p + ".public_key");
              else if (privateKeyField(doc, m)) setErr(p + "." + doc.stringValue(m) + ": " + PRIVATE_KEY_ADVICE);
              else unknown(doc, m, p);
              m = doc.next(mv);
            }
            if (err.length == 0 && !validKeyId(id)) setErr(p + ".key_id: required, [A-Za-z0-9_.-]{1,64}");
            if (err.length == 0 && key === null) setErr(p + ".public_key: required");
            for (let j = 0; j < keys.length && err.length == 0; j++) {
              if (keys[j].id == id) setErr(p + ".key_id: duplicate key id \"" + id + "\"");
            }
            if (err.length == 0) keys.push(new TrustedKey(id, key!));
          }
          c = doc.next(c);
          i++;
        }
        sg.keys = keys;
      }
    } else if (privateKeyField(doc, k)) setErr(path + "." + doc.stringValue(k) + ": " + PRIVATE_KEY_ADVICE);
    else unknown(doc, k, path);
    k = doc.next(v);
  }
  if (err.length == 0 && sg.keys.length == 0) setErr(path + ".keys: required (1 to 16 keys)");
}

function parseRulesSignature(doc: JsonDoc, n: i32, path: string): DocSignature | null {
  if (!checkObject(doc, n, path)) return null;
  let id = "", sig = "";
  let hasId = false, hasSig = false;
  let k = n + 1;
  const stop = doc.next(n);
  while (k < stop && err.length == 0) {
    const v = k + 1;
    if (doc.equalsAscii(k, "key_id")) { id = strOf(doc, v, path + ".key_id", "", 64); hasId = true; }
    else if (doc.equalsAscii(k, "sig")) { sig = strOf(doc, v, path + ".sig", "", 256); hasSig = true; }
    else if (privateKeyField(doc, k)) setErr(path + "." + doc.stringValue(k) + ": " + PRIVATE_KEY_ADVICE);
    else unknown(doc, k, path);
    k = doc.next(v);
  }
  if (err.length > 0) return null;
  if (!hasId || !hasSig) { setErr(path + ": \"key_id\" and \"sig\" required"); return null; }
  const d = makeSignature(id, sig);
  if (d === null) { setErr(path + ": " + signatureParseError); signatureError = true; }
  return d;
}

function parseBlastRadius(doc: JsonDoc, n: i32, path: string, b: BlastRadiusSettings): void {
  if (!checkObject(doc, n, path)) return;
  let k = n + 1;
  const stop = doc.next(n);
  while (k < stop && err.length == 0) {
    const v = k + 1;
    if (doc.equalsAscii(k, "max_deny_fraction")) {
      const x = doc.kind(v) == JsonKind.Number ? doc.numberValue(v) : -1.0;
      if (!(x >= 0.0 && x <= 1.0)) setErr(path + ".max_deny_fraction: expected a number 0..1");
      else b.maxDenyFraction = x;
    } else if (doc.equalsAscii(k, "min_clients")) b.minClients = intIn(doc, v, path + ".min_clients", 0, 1000000, 20);
    else if (doc.equalsAscii(k, "sample_size")) b.sampleSize = intIn(doc, v, path + ".sample_size", 16, 16384, 1024);
    else unknown(doc, k, path);
    k = doc.next(v);
  }
}

/** "PRIVATE KEY" (a PEM private key of any type) in buf[from..to). */
function containsPemPrivateKey(base: usize, from: i32, to: i32): bool {
  const pat = "PRIVATE KEY";
  for (let i = from; i + 11 <= to; i++) {
    if (load<u8>(base + <usize>i) != 0x50) continue;
    let j = 1;
    while (j < 11 && <u32>load<u8>(base + <usize>(i + j)) == <u32>pat.charCodeAt(j)) j++;
    if (j == 11) return true;
  }
  return false;
}

/** Cross-field checks, run after the rules_cluster shorthand is merged. */
function checkRulesService(path: string, r: RulesServiceSettings): void {
  if (err.length == 0 && (r.path.length == 0 || r.path.charCodeAt(0) != 0x2f)) setErr(path + ".path: must start with \"/\"");
  if (err.length == 0 && r.cluster.length > 0 && r.authority.length == 0) setErr(path + ".authority: must not be empty");
  if (err.length == 0 && r.backoffMaxMs < r.backoffBaseMs) setErr(path + ".backoff_max_ms: must be ≥ backoff_base_ms");
  if (err.length == 0 && r.cluster.length > 0 && r.timeoutMs <= r.longPollMs) setErr(path + ".timeout_ms: must be greater than long_poll_ms");
  if (err.length == 0 && r.leaseMs < 2 * r.tickMs) setErr(path + ".lease_ms: must be at least 2 × tick_ms");
}

/**
 * Parse the plugin configuration bytes; with `snapshotSettings`, the settings of a snapshot
 * configuration (config/snapshot-frame.ts): bytes [start, start + length) of `buf`, where the rules
 * are the attached snapshot, so "rules" / "rules_text" are refused and "rules_signature" signs it.
 */
export function parseConfiguration(buf: ArrayBuffer | null, snapshotSettings: bool = false, start: i32 = 0, length: i32 = -1): ConfigResult {
  const out = new ConfigResult();
  err = "";
  cidrError = false;
  signatureError = false;
  if (buf === null) return out;
  const len = length < 0 ? buf.byteLength : length;
  const base = changetype<usize>(buf) + <usize>start;
  // Empty or whitespace-only configuration → defaults.
  let blank = true;
  for (let i = 0; i < len; i++) {
    const c = load<u8>(base + <usize>i);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) { blank = false; break; }
  }
  if (blank) return out;
  if (len > MAX_CONFIG_BYTES) {
    out.reason = Reason.Size;
    out.message = "plugin configuration is " + len.toString() + " bytes (max " + MAX_CONFIG_BYTES.toString() + ")";
    return out;
  }
  const doc = parseJson(buf, base, len);
  if (!doc.ok) {
    const f = jsonFailure(doc, "plugin configuration");
    out.reason = f.reason;
    out.message = f.message;
    return out;
  }
  out.doc = doc;
  const s = out.settings;
  const path = "$";
  if (checkObject(doc, 0, path)) {
    let rulesCluster = "", collectorCluster = "";
    let k = 1;
    const stop = doc.next(0);
    while (k < stop && err.length == 0) {
      const v = k + 1;
      if (doc.equalsAscii(k, "client_address")) parseClientAddress(doc, v, path + ".client_address", s.clientAddress);
      else if (doc.equalsAscii(k, "telemetry")) parseTelemetry(doc, v, path + ".telemetry", s.telemetry);
      else if (doc.equalsAscii(k, "tracing")) parseTracing(doc, v, path + ".tracing", s.tracing);
      else if (doc.equalsAscii(k, "rules_service")) parseRulesService(doc, v, path + ".rules_service", s.rulesService);
      else if (doc.equalsAscii(k, "max_rules_bytes")) s.maxRulesBytes = intIn(doc, v, path + ".max_rules_bytes", 1024, MAX_CONFIG_BYTES, 16 * 1024 * 1024);
      else if (snapshotSettings && (doc.equalsAscii(k, "rules") || doc.equalsAscii(k, "rules_text"))) {
        setErr(path + "." + doc.stringValue(k) + ": not allowed in a snapshot configuration (its rules are the attached snapshot)");
      } else if (doc.equalsAscii(k, "rules")) {
        out.rulesNode = v;
        out.rulesBytes = doc.endOffset(v) - doc.start(v);
      } else if (doc.equalsAscii(k, "rules_text")) {
        if (doc.kind(v) != JsonKind.String) setErr(typeError(doc, v, path + ".rules_text", "string (a rules document as text)"));
        else out.rulesTextNode = v;
      } else if (doc.equalsAscii(k, "rules_signature")) out.signature = parseRulesSignature(doc, v, path + ".rules_signature");
      else if (doc.equalsAscii(k, "rules_signing")) parseSigning(doc, v, path + ".rules_signing", s.signing);
      else if (doc.equalsAscii(k, "blast_radius")) parseBlastRadius(doc, v, path + ".blast_radius", s.blastRadius);
      else if (privateKeyField(doc, k)) setErr(path + "." + doc.stringValue(k) + ": " + PRIVATE_KEY_ADVICE);
      // Shorthands the config tooling writes (harness/envoy-config): cluster names only.
      else if (doc.equalsAscii(k, "rules_cluster")) rulesCluster = strOf(doc, v, path + ".rules_cluster", "", 512);
      else if (doc.equalsAscii(k, "collector_cluster")) collectorCluster = strOf(doc, v, path + ".collector_cluster", "", 512);
      else unknown(doc, k, path);
      k = doc.next(v);
    }
    if (err.length == 0 && rulesCluster.length > 0) {
      if (s.rulesService.cluster.length > 0 && s.rulesService.cluster != rulesCluster) setErr(path + ".rules_cluster: conflicts with rules_service.cluster");
      else s.rulesService.cluster = rulesCluster;
    }
    if (err.length == 0 && collectorCluster.length > 0) {
      if (s.tracing.collector.cluster.length > 0 && s.tracing.collector.cluster != collectorCluster) setErr(path + ".collector_cluster: conflicts with tracing.collector.cluster");
      else s.tracing.collector.cluster = collectorCluster;
    }
    checkRulesService(path + ".rules_service", s.rulesService);
    if (err.length == 0 && out.rulesNode >= 0 && out.rulesTextNode >= 0) setErr(path + ": \"rules\" and \"rules_text\" are exclusive (one document per configuration)");
    if (err.length == 0 && out.signature !== null && out.rulesTextNode < 0 && !snapshotSettings) {
      setErr(path + ".rules_signature: signs \"rules_text\" (the exact bytes of the document), which is missing");
      signatureError = true;
    }
    // A PEM private key anywhere outside the rules document itself (which has no free-form key fields).
    if (err.length == 0) {
      const rn = out.rulesNode >= 0 ? out.rulesNode : out.rulesTextNode;
      const from = rn >= 0 ? doc.start(rn) : len;
      const to = rn >= 0 ? doc.endOffset(rn) : len;
      if (containsPemPrivateKey(base, 0, from) || containsPemPrivateKey(base, to, len)) setErr("plugin configuration contains a PEM private key: " + PRIVATE_KEY_ADVICE);
    }
  }
  if (err.length > 0) {
    out.reason = cidrError ? Reason.Cidr : (signatureError ? Reason.Signature : Reason.Schema);
    out.message = "plugin configuration: " + err;
  }
  return out;
}

// Rule document → RuleSet: strict validation (unknown fields, wrong types, bad CIDRs, duplicate
// ids, out-of-range values are rejected with a reason and a JSON path) and index build.
// Never throws: every failure is a RulesBuild with ok == false.
import { JsonDoc, JsonKind, JsonErrorKind, parseJsonBuffer, JSON_DEFAULT_MAX_DEPTH, unescapeInto } from "../json/parser";
import { parseCidr, ipIsV4, ipV4, ipHi, ipLo, ipPrefix, maskV4 } from "./cidr";
import { CidrIndexBuilder, MAX_RULES, ruleTag, v4Key } from "./cidr-index";
import { RuleSet, Rule, RuleAction, RulesMode, HeaderMatch, SamplingRules, RULE_HEADER, DEFAULT_RULE_ID } from "./rule-set";
import { Reason } from "./reasons";
import { snapshotTableOffset } from "./snapshot";
import { HeaderPair, serializePairs } from "../abi/pairs";

export class RulesBuild {
  rules: RuleSet | null = null;
  reason: string = "";
  message: string = "";
  get ok(): bool { return this.rules !== null; }
}

export const MAX_REPLY_HEADERS: i32 = 32;
export const MAX_BODY_BYTES: i32 = 65536;
export const MAX_SAMPLING_ROUTES: i32 = 4096;
export const MAX_TOKEN_BYTES: i32 = 128;
const DEFAULT_DENY_BODY = "access denied\n";

function fail(reason: string, message: string): RulesBuild {
  const r = new RulesBuild();
  r.reason = reason;
  r.message = message;
  return r;
}

/** Map a JSON parse failure to a reason + message. */
export function jsonFailure(doc: JsonDoc, what: string): RulesBuild {
  return fail(Reason.Json, what + ": " + (doc.errorKind == JsonErrorKind.Depth ? "nesting too deep (max " + JSON_DEFAULT_MAX_DEPTH.toString() + "): " : (doc.errorKind == JsonErrorKind.Utf8 ? "" : "malformed JSON: ")) + doc.errorMessage);
}

/** A standalone rule document (pull): size check, JSON parse, validation, index build. */
export function buildRulesFromBytes(buf: ArrayBuffer, maxBytes: i32, origin: string, snapshotPrefix: i32 = 0): RulesBuild {
  if (buf.byteLength > maxBytes) {
    return fail(Reason.Size, "rule document is " + buf.byteLength.toString() + " bytes, max_rules_bytes is " + maxBytes.toString());
  }
  const doc = parseJsonBuffer(buf);
  if (!doc.ok) return jsonFailure(doc, "rule document");
  return buildRulesFromNode(doc, 0, "$", origin, snapshotPrefix);
}

// ---------------------------------------------------------------------------------------------

function kindName(k: u32): string {
  if (k == JsonKind.Null) return "null";
  if (k == JsonKind.True || k == JsonKind.False) return "boolean";
  if (k == JsonKind.Number) return "number";
  if (k == JsonKind.String) return "string";
  if (k == JsonKind.Array) return "array";
  return "object";
}

export function typeError(doc: JsonDoc, n: i32, path: string, want: string): string {
  return path + ": expected " + want + ", got " + kindName(doc.kind(n));
}

/** Rule ids become metric labels: [A-Za-z0-9_.-]{1,64}. */
export function validRuleId(b: ArrayBuffer): bool {
  const n = b.byteLength;
  if (n < 1 || n > 64) return false;
  const p = changetype<usize>(b);
  for (let i = 0; i < n; i++) {
    const c = <u32>load<u8>(p + <usize>i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f || c == 0x2e || c == 0x2d;
    if (!ok) return false;
  }
  return true;
}

/** HTTP header name (RFC 9110 token), lower-cased in place. */
export function validHeaderName(b: ArrayBuffer): bool {
  const n = b.byteLength;
  if (n < 1 || n > MAX_TOKEN_BYTES) return false;
  const p = changetype<usize>(b);
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u8>(p + <usize>i);
    if (c >= 0x41 && c <= 0x5a) { c |= 0x20; store<u8>(p + <usize>i, <u8>c); continue; }
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) ||
      c == 0x21 || c == 0x23 || c == 0x24 || c == 0x25 || c == 0x26 || c == 0x27 || c == 0x2a || c == 0x2b ||
      c == 0x2d || c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
    if (!ok) return false;
  }
  return true;
}

/** Header value: no CR, LF or NUL. */
export function validHeaderValue(b: ArrayBuffer): bool {
  const n = b.byteLength;
  if (n > 8192) return false;
  const p = changetype<usize>(b);
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c == 0 || c == 0x0a || c == 0x0d) return false;
  }
  return true;
}

class Reply {
  status: u32 = 403;
  body: ArrayBuffer = String.UTF8.encode(DEFAULT_DENY_BODY);
  headers: HeaderPair[] = [];
}

/** Build the rule document at `node`. `path` names it in messages ("$" or "$.rules"). */
/**
 * Build the rule document at `node`. `path` names it in messages ("$" or "$.rules"). The tables are
 * laid out for encodeSnapshot(set, snapshotPrefix) to wrap without a copy.
 */
export function buildRulesFromNode(doc: JsonDoc, node: i32, path: string, origin: string, snapshotPrefix: i32 = 0): RulesBuild {
  if (doc.kind(node) != JsonKind.Object) return fail(Reason.Schema, typeError(doc, node, path, "object"));
  const set = new RuleSet();
  set.origin = origin;
  let accessNode = -1, samplingNode = -1, defaultReplyNode = -1;
  let seen: u32 = 0;
  // ---- top-level members
  let k = node + 1;
  const stop = doc.next(node);
  while (k < stop) {
    const v = k + 1;
    let bit: u32 = 0;
    if (doc.equalsAscii(k, "version")) {
      bit = 1;
      if (!doc.integerFits(v) || doc.integerValue(v) < 0) return fail(Reason.Schema, path + ".version: expected an integer ≥ 0");
      set.version = doc.integerValue(v);
    } else if (doc.equalsAscii(k, "mode")) {
      bit = 2;
      if (doc.kind(v) != JsonKind.String) return fail(Reason.Schema, typeError(doc, v, path + ".mode", "string"));
      if (doc.equalsAscii(v, "deny")) set.mode = RulesMode.Deny;
      else if (doc.equalsAscii(v, "allow")) set.mode = RulesMode.Allow;
      else return fail(Reason.Schema, path + ".mode: expected \"deny\" or \"allow\"");
    } else if (doc.equalsAscii(k, "access")) {
      bit = 4;
      if (doc.kind(v) != JsonKind.Array) return fail(Reason.Schema, typeError(doc, v, path + ".access", "array"));
      accessNode = v;
    } else if (doc.equalsAscii(k, "sampling")) {
      bit = 8;
      samplingNode = v;
    } else if (doc.equalsAscii(k, "default_reply")) {
      bit = 16;
      defaultReplyNode = v;
    } else if (doc.equalsAscii(k, "description")) {
      bit = 32;
      if (doc.kind(v) != JsonKind.String) return fail(Reason.Schema, typeError(doc, v, path + ".description", "string"));
    } else if (doc.equalsAscii(k, "allow_large_blast_radius")) {
      bit = 64;
      const kk = doc.kind(v);
      if (kk != JsonKind.True && kk != JsonKind.False) return fail(Reason.Schema, typeError(doc, v, path + ".allow_large_blast_radius", "boolean"));
      set.allowLargeBlastRadius = kk == JsonKind.True;
    } else {
      return fail(Reason.Schema, path + ": unknown field \"" + doc.stringValue(k) + "\"");
    }
    if ((seen & bit) != 0) return fail(Reason.Schema, path + ": duplicate field \"" + doc.stringValue(k) + "\"");
    seen |= bit;
    k = doc.next(v);
  }

  // ---- sampling
  if (samplingNode >= 0) {
    const err = parseSampling(doc, samplingNode, path + ".sampling", set.sampling);
    if (err.length > 0) return fail(Reason.Schema, err);
  }

  // ---- default reply (allow-list mode's implicit deny)
  const dr = new Reply();
  if (defaultReplyNode >= 0) {
    const err = parseReply(doc, defaultReplyNode, path + ".default_reply", dr);
    if (err.length > 0) return fail(Reason.Schema, err);
  }
  set.defaultDeny = makeRule(DEFAULT_RULE_ID, RuleAction.Deny, dr);

  // ---- access rules
  if (accessNode >= 0) {
    const n = doc.size(accessNode);
    if (n > MAX_RULES) return fail(Reason.Schema, path + ".access: at most " + MAX_RULES.toString() + " rules");
    const builder = new CidrIndexBuilder();
    const ids = new Set<string>();
    const rules = new Array<Rule>(0);
    let r = accessNode + 1;
    const rstop = doc.next(accessNode);
    let ri = 0;
    while (r < rstop) {
      const rpath = path + ".access[" + ri.toString() + "]";
      const res = parseRule(doc, r, rpath, ri, builder);
      if (res.rule === null) { builder.release(); return fail(res.reason, res.message); }
      const rule = res.rule!;
      if (ids.has(rule.id)) { builder.release(); return fail(Reason.Schema, rpath + ".id: duplicate rule id \"" + rule.id + "\""); }
      ids.add(rule.id);
      rules.push(rule);
      set.cidrCount += rule.cidrCount;
      r = doc.next(r);
      ri++;
    }
    set.rules = rules;
    set.index = builder.build(snapshotTableOffset(set, snapshotPrefix));
  }
  const out = new RulesBuild();
  out.rules = set;
  return out;
}

class RuleResult {
  rule: Rule | null = null;
  reason: string = "";
  message: string = "";
}

function ruleFail(reason: string, message: string): RuleResult {
  const r = new RuleResult();
  r.reason = reason;
  r.message = message;
  return r;
}

function parseRule(doc: JsonDoc, node: i32, path: string, index: i32, builder: CidrIndexBuilder): RuleResult {
  if (doc.kind(node) != JsonKind.Object) return ruleFail(Reason.Schema, typeError(doc, node, path, "object"));
  let id = "";
  let action = RuleAction.Deny;
  let cidrsNode = -1, textNode = -1, headerNode = -1;
  let pathPrefix: ArrayBuffer | null = null;
  const reply = new Reply();
  let seen: u32 = 0;
  let k = node + 1;
  const stop = doc.next(node);
  while (k < stop) {
    const v = k + 1;
    let bit: u32 = 0;
    if (doc.equalsAscii(k, "id")) {
      bit = 1;
      if (doc.kind(v) != JsonKind.String) return ruleFail(Reason.Schema, typeError(doc, v, path + ".id", "string"));
      const b = doc.stringBytes(v);
      if (!validRuleId(b)) return ruleFail(Reason.Schema, path + ".id: must match [A-Za-z0-9_.-]{1,64}");
      id = String.UTF8.decode(b);
      if (id == DEFAULT_RULE_ID) return ruleFail(Reason.Schema, path + ".id: \"" + DEFAULT_RULE_ID + "\" is reserved");
    } else if (doc.equalsAscii(k, "action")) {
      bit = 2;
      if (doc.kind(v) != JsonKind.String) return ruleFail(Reason.Schema, typeError(doc, v, path + ".action", "string"));
      if (doc.equalsAscii(v, "deny")) action = RuleAction.Deny;
      else if (doc.equalsAscii(v, "log")) action = RuleAction.Log;
      else if (doc.equalsAscii(v, "allow")) action = RuleAction.Allow;
      else return ruleFail(Reason.Schema, path + ".action: expected \"deny\", \"log\" or \"allow\"");
    } else if (doc.equalsAscii(k, "cidrs")) {
      bit = 4;
      if (doc.kind(v) != JsonKind.Array) return ruleFail(Reason.Schema, typeError(doc, v, path + ".cidrs", "array"));
      cidrsNode = v;
    } else if (doc.equalsAscii(k, "cidrs_text")) {
      bit = 8;
      if (doc.kind(v) != JsonKind.String) return ruleFail(Reason.Schema, typeError(doc, v, path + ".cidrs_text", "string"));
      textNode = v;
    } else if (doc.equalsAscii(k, "path_prefix")) {
      bit = 16;
      if (doc.kind(v) != JsonKind.String) return ruleFail(Reason.Schema, typeError(doc, v, path + ".path_prefix", "string"));
      const b = doc.stringBytes(v);
      if (b.byteLength < 1 || b.byteLength > 1024 || load<u8>(changetype<usize>(b)) != 0x2f) return ruleFail(Reason.Schema, path + ".path_prefix: must start with \"/\" (1..1024 bytes)");
      pathPrefix = b;
    } else if (doc.equalsAscii(k, "header")) {
      bit = 32;
      if (doc.kind(v) != JsonKind.Object) return ruleFail(Reason.Schema, typeError(doc, v, path + ".header", "object"));
      headerNode = v;
    } else if (doc.equalsAscii(k, "status") || doc.equalsAscii(k, "body") || doc.equalsAscii(k, "headers")) {
      bit = doc.equalsAscii(k, "status") ? 64 : (doc.equalsAscii(k, "body") ? 128 : 256);
      const err = parseReplyField(doc, k, v, path, reply);
      if (err.length > 0) return ruleFail(Reason.Schema, err);
    } else if (doc.equalsAscii(k, "description")) {
      bit = 512;
      if (doc.kind(v) != JsonKind.String) return ruleFail(Reason.Schema, typeError(doc, v, path + ".description", "string"));
    } else {
      return ruleFail(Reason.Schema, path + ": unknown field \"" + doc.stringValue(k) + "\"");
    }
    if ((seen & bit) != 0) return ruleFail(Reason.Schema, path + ": duplicate field \"" + doc.stringValue(k) + "\"");
    seen |= bit;
    k = doc.next(v);
  }
  if ((seen & 1) == 0) return ruleFail(Reason.Schema, path + ".id: required");
  if (cidrsNode < 0 && textNode < 0) return ruleFail(Reason.Schema, path + ": \"cidrs\" or \"cidrs_text\" required");

  const rule = makeRule(id, action, reply);
  rule.pathPrefix = pathPrefix;
  if (headerNode >= 0) {
    const err = parseHeaderCondition(doc, headerNode, path + ".header", rule);
    if (err.length > 0) return ruleFail(Reason.Schema, err);
  }

  let count = 0;
  if (cidrsNode >= 0) {
    let c = cidrsNode + 1;
    const cstop = doc.next(cidrsNode);
    let ci = 0;
    while (c < cstop) {
      if (doc.kind(c) != JsonKind.String) return ruleFail(Reason.Schema, typeError(doc, c, path + ".cidrs[" + ci.toString() + "]", "string"));
      let ok: bool;
      if (doc.isEscaped(c)) {
        const b = doc.stringBytes(c);
        ok = parseCidr(changetype<usize>(b), b.byteLength);
      } else {
        ok = parseCidr(doc.rawPtr(c), doc.rawLength(c));
      }
      if (!ok) return ruleFail(Reason.Cidr, path + ".cidrs[" + ci.toString() + "]: bad CIDR \"" + clip(doc.stringValue(c)) + "\"");
      addParsed(builder, index);
      count++;
      c = doc.next(c);
      ci++;
    }
  }
  if (textNode >= 0) {
    const n = scanCidrText(doc.rawPtr(textNode), doc.rawLength(textNode), builder, index);
    if (n < 0) return ruleFail(Reason.Cidr, path + ".cidrs_text: " + scanError);
    count += n;
  }
  rule.cidrCount = count;
  const out = new RuleResult();
  out.rule = rule;
  return out;
}

function clip(s: string): string {
  return s.length > 64 ? s.substring(0, 64) + "…" : s;
}

@inline function addParsed(builder: CidrIndexBuilder, rule: i32): void {
  if (ipIsV4) builder.addV4(ipV4, ipPrefix, rule);
  else builder.addV6(ipHi, ipLo, ipPrefix, rule);
}

function makeRule(id: string, action: i32, reply: Reply): Rule {
  const r = new Rule();
  r.id = id;
  r.action = action;
  r.status = reply.status;
  r.body = reply.body;
  const hs = new Array<HeaderPair>(0);
  hs.push(new HeaderPair(RULE_HEADER, id));
  for (let i = 0; i < reply.headers.length; i++) hs.push(reply.headers[i]);
  r.replyHeaders = serializePairs(hs);
  r.details = String.UTF8.encode("edgewatch_denied:" + id);
  r.decision.action = action;
  r.decision.ruleId = id;
  r.decision.rule = r;
  return r;
}

function parseReply(doc: JsonDoc, node: i32, path: string, reply: Reply): string {
  if (doc.kind(node) != JsonKind.Object) return typeError(doc, node, path, "object");
  let seen: u32 = 0;
  let k = node + 1;
  const stop = doc.next(node);
  while (k < stop) {
    const v = k + 1;
    let bit: u32 = 0;
    if (doc.equalsAscii(k, "status")) bit = 1;
    else if (doc.equalsAscii(k, "body")) bit = 2;
    else if (doc.equalsAscii(k, "headers")) bit = 4;
    else return path + ": unknown field \"" + doc.stringValue(k) + "\"";
    if ((seen & bit) != 0) return path + ": duplicate field \"" + doc.stringValue(k) + "\"";
    seen |= bit;
    const err = parseReplyField(doc, k, v, path, reply);
    if (err.length > 0) return err;
    k = doc.next(v);
  }
  return "";
}

function parseReplyField(doc: JsonDoc, k: i32, v: i32, path: string, reply: Reply): string {
  if (doc.equalsAscii(k, "status")) {
    if (!doc.integerFits(v)) return path + ".status: expected an integer 200..599";
    const s = doc.integerValue(v);
    if (s < 200 || s > 599) return path + ".status: expected an integer 200..599";
    reply.status = <u32>s;
  } else if (doc.equalsAscii(k, "body")) {
    if (doc.kind(v) != JsonKind.String) return typeError(doc, v, path + ".body", "string");
    const b = doc.stringBytes(v);
    if (b.byteLength > MAX_BODY_BYTES) return path + ".body: larger than " + MAX_BODY_BYTES.toString() + " bytes";
    reply.body = b;
  } else {
    if (doc.kind(v) != JsonKind.Object) return typeError(doc, v, path + ".headers", "object");
    if (doc.size(v) > MAX_REPLY_HEADERS) return path + ".headers: at most " + MAX_REPLY_HEADERS.toString() + " headers";
    let h = v + 1;
    const hstop = doc.next(v);
    while (h < hstop) {
      const hv = h + 1;
      const name = doc.stringBytes(h);
      if (!validHeaderName(name)) return path + ".headers: invalid header name \"" + clip(doc.stringValue(h)) + "\"";
      if (doc.kind(hv) != JsonKind.String) return typeError(doc, hv, path + ".headers." + doc.stringValue(h), "string");
      const value = doc.stringBytes(hv);
      if (!validHeaderValue(value)) return path + ".headers." + doc.stringValue(h) + ": invalid header value";
      const nameStr = String.UTF8.decode(name);
      for (let j = 0; j < reply.headers.length; j++) {
        if (reply.headers[j].key == nameStr) return path + ".headers: duplicate header \"" + clip(nameStr) + "\"";
      }
      reply.headers.push(new HeaderPair(nameStr, String.UTF8.decode(value)));
      h = doc.next(hv);
    }
  }
  return "";
}

function parseHeaderCondition(doc: JsonDoc, node: i32, path: string, rule: Rule): string {
  let name: ArrayBuffer | null = null;
  let k = node + 1;
  const stop = doc.next(node);
  while (k < stop) {
    const v = k + 1;
    if (doc.equalsAscii(k, "name")) {
      if (name !== null) return path + ": duplicate field \"name\"";
      if (doc.kind(v) != JsonKind.String) return typeError(doc, v, path + ".name", "string");
      const b = doc.stringBytes(v);
      if (!validHeaderName(b)) return path + ".name: invalid header name";
      name = b;
    } else {
      let op = HeaderMatch.None;
      if (doc.equalsAscii(k, "equals")) op = HeaderMatch.Equals;
      else if (doc.equalsAscii(k, "prefix")) op = HeaderMatch.Prefix;
      else if (doc.equalsAscii(k, "contains")) op = HeaderMatch.Contains;
      else return path + ": unknown field \"" + doc.stringValue(k) + "\"";
      if (rule.headerOp != HeaderMatch.None) return path + ": exactly one of \"equals\", \"prefix\", \"contains\"";
      if (doc.kind(v) != JsonKind.String) return typeError(doc, v, path + "." + doc.stringValue(k), "string");
      const b = doc.stringBytes(v);
      if (b.byteLength > 8192) return path + "." + doc.stringValue(k) + ": longer than 8192 bytes";
      rule.headerOp = op;
      rule.headerValue = b;
    }
    k = doc.next(v);
  }
  if (name === null) return path + ".name: required";
  if (rule.headerOp == HeaderMatch.None) return path + ": one of \"equals\", \"prefix\", \"contains\" required";
  rule.headerName = name;
  return "";
}

function rateOk(doc: JsonDoc, v: i32): bool {
  if (doc.kind(v) != JsonKind.Number) return false;
  const r = doc.numberValue(v);
  return r >= 0.0 && r <= 1.0;
}

function parseSampling(doc: JsonDoc, node: i32, path: string, s: SamplingRules): string {
  if (doc.kind(node) != JsonKind.Object) return typeError(doc, node, path, "object");
  let seen: u32 = 0;
  let k = node + 1;
  const stop = doc.next(node);
  while (k < stop) {
    const v = k + 1;
    let bit: u32 = 0;
    if (doc.equalsAscii(k, "default_rate")) {
      bit = 1;
      if (!rateOk(doc, v)) return path + ".default_rate: expected a number 0..1";
      s.defaultRate = doc.numberValue(v);
    } else if (doc.equalsAscii(k, "routes")) {
      bit = 2;
      if (doc.kind(v) != JsonKind.Object) return typeError(doc, v, path + ".routes", "object");
      if (doc.size(v) > MAX_SAMPLING_ROUTES) return path + ".routes: at most " + MAX_SAMPLING_ROUTES.toString() + " routes";
      let r = v + 1;
      const rstop = doc.next(v);
      while (r < rstop) {
        const rv = r + 1;
        const name = doc.stringValue(r);
        if (name.length == 0) return path + ".routes: empty route name";
        if (!rateOk(doc, rv)) return path + ".routes." + clip(name) + ": expected a number 0..1";
        if (s.routes.has(name)) return path + ".routes: duplicate route \"" + clip(name) + "\"";
        s.routes.set(name, doc.numberValue(rv));
        r = doc.next(rv);
      }
    } else if (doc.equalsAscii(k, "always_keep_5xx")) {
      bit = 4;
      const kk = doc.kind(v);
      if (kk != JsonKind.True && kk != JsonKind.False) return typeError(doc, v, path + ".always_keep_5xx", "boolean");
      s.alwaysKeep5xx = kk == JsonKind.True;
    } else if (doc.equalsAscii(k, "slow_threshold_ms")) {
      bit = 8;
      if (!doc.integerFits(v) || doc.integerValue(v) < 0 || doc.integerValue(v) > 3600000) return path + ".slow_threshold_ms: expected an integer 0..3600000";
      s.slowThresholdMs = doc.integerValue(v);
    } else {
      return path + ": unknown field \"" + doc.stringValue(k) + "\"";
    }
    if ((seen & bit) != 0) return path + ": duplicate field \"" + doc.stringValue(k) + "\"";
    seen |= bit;
    k = doc.next(v);
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// cidrs_text: one CIDR per line (or separated by spaces, tabs, commas), inside ONE JSON string,
// scanned directly on the raw (still escaped) JSON bytes: "\n", "\r", "\t" escapes are separators,
// '#' starts a comment that runs to the end of the line, other escapes ("\/") are decoded per token.

export let scanError: string = "";

// Per digit count n of a dotted-quad part (0..4), one u64: low half 256^(4 - n), the multiplier that
// moves the part's digits to the top of its 4-byte lane (the bytes from the '.' on fall off); high
// half 1024 - (the smallest value without a leading zero: 0, 10, 100) for n = 1..3, 0 for n = 0 or
// 4. For a value v ≤ 255, bit 10 of v + that is set iff the part is valid.
const PART: usize = memory.data<u64>([1, (<u64>1024 << 32) | 0x1000000, (<u64>1014 << 32) | 0x10000, (<u64>924 << 32) | 0x100, 1, 1, 1, 1]);
// The one-byte separators as bits of a u64: ' ', ',', '\t', and '#' (a comment follows).
const SEP_BITS: u64 = (<u64>1 << 0x20) | (<u64>1 << 0x2c) | (<u64>1 << 0x09) | (<u64>1 << 0x23);

/** Bit index of the first non-digit byte of d = x ^ "0000" (little-endian): 8·digits + 7, or 32 for four digits. */
// @ts-ignore: decorator
@inline function firstNonDigit(d: u32): u32 {
  // A byte of d is a digit iff it is ≤ 9: (b & 0x7f) + 0x76 sets bit 7 from 10 up (no carry into
  // the next byte), | b keeps bytes ≥ 0x80.
  return ctz<u32>((((d & 0x7f7f7f7f) + 0x76767676) | d) & 0x80808080);
}

/** Two parts' digit lanes (4 bytes each: digits in the top bytes, zeros below) → the parts' values in bits 0..15 and 32..47. */
// @ts-ignore: decorator
@inline function laneValues(l: u64): u64 {
  const pairs = ((l * 0x0a01) >> 8) & 0x00ff00ff00ff00ff;    // 16-bit lanes: 10·a + b
  return ((pairs * 0x00640001) >> 16) & 0x0000ffff0000ffff;  // 100·(10a + b) + (10c + d)
}

/** What scanV4Run leaves besides its return value: the write pointer, the "\n"s it consumed. */
let runW: usize = 0;
let runLines: i32 = 0;

/**
 * The IPv4 fast path: parse "a.b.c.d" or "a.b.c.d/len" followed by a separator at q, store its key at
 * w, step over it and the "\n" after it, and again, while q ≤ end (24 readable bytes from q: the
 * reads stay inside them whatever the bytes are). Each step consumes at least 7 bytes, so the caller
 * bounds the keys written by choosing end. No branch per byte or per part: each
 * part's digits are found on a 4-byte load (SWAR), converted two parts at a time by multiply-shift,
 * and everything is validated once at the end. Stops at the first token that is not such a CIDR
 * (the general parser then decides whether it is valid). Returns the new q (runW, runLines set).
 */
function scanV4Run(q: usize, end: usize, w: usize, tag: u64): usize {
  let lines = 0;
  while (q <= end) {
    if (<u32>load<u8>(q) - 0x30 > 9) break;
    const d1 = load<u32>(q) ^ 0x30303030;
    const t1 = firstNonDigit(d1);
    const q1 = q + <usize>(t1 >> 3);           // the '.' after part 1
    const d2 = load<u32>(q1, 1) ^ 0x30303030;
    const t2 = firstNonDigit(d2);
    const q2 = q1 + 1 + <usize>(t2 >> 3);
    const d3 = load<u32>(q2, 1) ^ 0x30303030;
    const t3 = firstNonDigit(d3);
    const q3 = q2 + 1 + <usize>(t3 >> 3);
    const d4 = load<u32>(q3, 1) ^ 0x30303030;
    const t4 = firstNonDigit(d4);
    const e = q3 + 1 + <usize>(t4 >> 3);       // the byte after part 4
    const p1 = load<u64>(PART + <usize>((t1 >> 3) << 3)), p2 = load<u64>(PART + <usize>((t2 >> 3) << 3));
    const p3 = load<u64>(PART + <usize>((t3 >> 3) << 3)), p4 = load<u64>(PART + <usize>((t4 >> 3) << 3));
    const v12 = laneValues(<u64>(d1 * <u32>p1) | (<u64>(d2 * <u32>p2) << 32));
    const v34 = laneValues(<u64>(d3 * <u32>p3) | (<u64>(d4 * <u32>p4) << 32));
    // part 1's and 3's checks move to bits 0..15, part 2's and 4's stay in bits 32..47
    const ok12 = v12 + (p1 >> 32) + (p2 & 0xffffffff00000000);
    const ok34 = v34 + (p3 >> 32) + (p4 & 0xffffffff00000000);
    let bad = ((v12 | v34) & 0x0000ff000000ff00) | ((ok12 & ok34 & 0x0000040000000400) ^ 0x0000040000000400) |
      <u64>((<u32>load<u8>(q1) | (<u32>load<u8>(q2) << 8) | (<u32>load<u8>(q3) << 16)) ^ 0x2e2e2e);
    // "/len": one digit, or two making 10..32 (so no leading zero).
    const y = load<u32>(e);
    let plen: u32 = 32;
    let s = e;
    if ((y & 0xff) == 0x2f) {
      const l0 = ((y >> 8) & 0xff) - 0x30;
      const l1 = ((y >> 16) & 0xff) - 0x30;
      if (l1 <= 9) {
        plen = l0 * 10 + l1;
        bad |= <u64>(plen - 10 > 22);
        s = e + 3;
      } else {
        plen = l0;
        bad |= <u64>(l0 > 9);
        s = e + 2;
      }
    }
    // The separator: "\n" (consumed), ' ', ',', '\t', '#', "\r" or "\t" (left to the caller).
    const sep = <u32>load<u16>(s);
    let nl = 0;
    if (sep == 0x6e5c) nl = 1;
    else {
      const sb = sep & 0xff;
      if (sb == 0x5c) bad |= <u64>((sep >> 8) != 0x72 && (sep >> 8) != 0x74);
      else bad |= <u64>(sb >= 64) | (((SEP_BITS >> <u64>sb) & 1) ^ 1);
    }
    if (bad != 0) break;
    // Parts ≤ 255 here: each shift below leaves one part's 8 bits in place.
    const addr = <u32>(v12 << 24) | <u32>(v12 >> 16) | <u32>(v34 << 8) | <u32>(v34 >> 32);
    store<u64>(w, v4Key(addr & <u32>(0xffffffff00000000 >> <u64>plen), plen, tag));
    w += 8;
    q = s + <usize>(nl << 1);
    lines += nl;
  }
  runW = w;
  runLines = lines;
  return q;
}

const TOKEN: usize = memory.data(256);

/**
 * Keys to add when the buffer of n4 keys is full with `rest` bytes of text left: as many as the
 * rest can hold (an IPv4 token is ≥ 7 bytes, "1.2.3.4", and tokens are ≥ 1 separator byte apart),
 * if that is below a doubling. So a dense text grows the buffer once, not once per doubling.
 */
@inline function growRoom(rest: i32, n4: i32): i32 {
  return min(max(n4, 8), (rest + 1) / 8 + 1);
}

/** Returns the number of CIDRs added, or -1 (scanError set). */
export function scanCidrText(p: usize, len: i32, builder: CidrIndexBuilder, rule: i32): i32 {
  // Expected keys: one per 14 bytes (a /24 list averages ~16.7 bytes a line). A denser text grows
  // the buffer once, by the most keys the rest of the text can hold (growRoom).
  if (len > 4096) builder.reserve4(builder.n4 + len / 14);
  // IPv4 keys go straight into the builder's key buffer through these locals (the builder is a
  // managed reference: every use of it costs a shadow-stack store), written back at the end.
  let kp = builder.kp;
  let n4 = builder.n4;
  let cap = builder.cap4;
  const tag = ruleTag(rule);
  const n4Before = n4, n6Before = builder.n6;
  // The fast path runs while 24 bytes are left (scanV4Run's reads); the last tokens take the general path.
  const fastEnd = p + <usize>max(len - 24, 0);
  let i = 0;
  let line = 1;
  while (true) {
    // Fast path: plain IPv4 CIDRs (each with the "\n" after it) parsed and keyed in a tight loop on
    // pointers (the common case of big lists), growing the key buffer when it is full.
    if (len >= 24) {
      let q = p + <usize>i;
      while (true) {
        if (n4 == cap) {
          builder.n4 = n4;
          builder.grow4(n4 + growRoom(len - <i32>(q - p), n4));
          kp = builder.kp;
          cap = builder.cap4;
        }
        // At most cap - n4 keys: a run of k keys starts them at least 7 bytes apart.
        const room = <u64>7 * <u64>(cap - n4 - 1);
        const end = q + room >= <u64>fastEnd ? fastEnd : q + <usize>room;
        q = scanV4Run(q, end, kp + (<usize>n4 << 3), tag);
        n4 = <i32>((runW - kp) >> 3);
        line += runLines;
        if (q <= end || end == fastEnd) break; // stopped at a token, or at the end of the fast range
      }
      i = <i32>(q - p);
    }
    if (i >= len) break;
    const c = <u32>load<u8>(p + <usize>i);
    // separators
    if (c == 0x20 || c == 0x2c || c == 0x09) { i++; continue; }
    if (c == 0x5c && i + 1 < len) {
      const x = <u32>load<u8>(p + <usize>i + 1);
      if (x == 0x6e) { i += 2; line++; continue; }
      if (x == 0x72 || x == 0x74) { i += 2; continue; }
    }
    if (c == 0x23) {
      // Comment to the end of the line: the next "\n" escape. Escape pairs are stepped over
      // whole, so an escaped backslash followed by 'n' ("\\n") does not end the comment.
      while (i < len) {
        if (load<u8>(p + <usize>i) == 0x5c) {
          if (i + 1 < len && load<u8>(p + <usize>i + 1) == 0x6e) break;
          i += 2;
          continue;
        }
        i++;
      }
      continue;
    }
    // token
    const s = i;
    let escaped = false;
    while (i < len) {
      const t = <u32>load<u8>(p + <usize>i);
      if (t == 0x20 || t == 0x2c || t == 0x09 || t == 0x23) break;
      if (t == 0x5c) {
        const x = i + 1 < len ? <u32>load<u8>(p + <usize>i + 1) : 0;
        if (x == 0x6e || x == 0x72 || x == 0x74) break;
        escaped = true;
        i += x == 0x75 ? 6 : 2;
        continue;
      }
      i++;
    }
    if (i > len) i = len;
    const tl = i - s;
    let ok: bool;
    if (!escaped) {
      ok = parseCidr(p + <usize>s, tl);
    } else if (tl <= 256) {
      const w = unescapeInto(p + <usize>s, tl, TOKEN);
      ok = parseCidr(TOKEN, w);
    } else ok = false;
    if (!ok) {
      builder.n4 = n4;
      const shown = min(tl, 64);
      scanError = "bad CIDR \"" + String.UTF8.decodeUnsafe(p + <usize>s, <usize>shown) + "\" on line " + line.toString();
      return -1;
    }
    // The general path (IPv6, escapes, the last tokens) adds through the builder: hand it the
    // locals' count and take its buffer back.
    builder.n4 = n4;
    addParsed(builder, rule);
    kp = builder.kp;
    n4 = builder.n4;
    cap = builder.cap4;
  }
  builder.n4 = n4;
  return (n4 - n4Before) + (builder.n6 - n6Before);
}

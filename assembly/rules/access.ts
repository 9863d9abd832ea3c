// Access decision for one request (called from on_request_headers while the headers are readable).
//
// Client address (settings "client_address"):
//   connection     — property source.address ("ip:port", "[v6]:port"). Default; not spoofable.
//   envoy_external — header x-envoy-external-address (Envoy sets it after its own XFF handling,
//                    use_remote_address); falls back to source.address when absent.
//   xff            — X-Forwarded-For: skip xff_trusted_hops entries from the RIGHT and take the
//                    next one (Envoy's xff_num_trusted_hops semantics); all XFF header lines are
//                    read as one list; fewer entries than hops+1, or an unparsable entry → falls
//                    back to source.address (as Envoy does).
//
// Evaluation: most specific CIDR first. A rule whose path/header condition fails, and a "log"
// rule (dry run: counted, then evaluation continues), fall back to the next less specific CIDR
// covering the address. The first deny/allow rule decides. Nothing decides → allow in deny-list
// mode, the implicit "_default" deny in allow-list mode. The lookup itself allocates nothing;
// host reads (address, :path, condition headers) are the only allocations.
import { ClientAddressSettings, ClientAddressSource } from "../config/settings";
import { RuleSet, AccessDecision, Rule, RuleAction, RulesMode, HeaderMatch, NO_MATCH } from "./rule-set";
import { parseClientAddress, ipIsV4, ipV4, ipHi, ipLo } from "./cidr";
import { getPropertyBytes } from "../host/properties";
import { getHeaderBytes } from "../host/headers";
import { proxy_get_header_map_pairs } from "../abi/imports";
import { MapType, WasmResult } from "../abi/status";
import { OUT_PTR, OUT_SIZE, clearOut, takeOut } from "../host/memory";
import { countDecision } from "./metrics";
import { offerClient } from "../filter/client-sample";

// @ts-ignore: decorator
@lazy const SOURCE_ADDRESS: ArrayBuffer = makePath("source\0address");
// @ts-ignore: decorator
@lazy const EXTERNAL_ADDRESS_HEADER: ArrayBuffer = String.UTF8.encode("x-envoy-external-address");
// @ts-ignore: decorator
@lazy const PATH_HEADER: ArrayBuffer = String.UTF8.encode(":path");

function makePath(s: string): ArrayBuffer { return String.UTF8.encode(s); }

/** Address family of the resolved client address (cidr.ts globals hold the value). */
export let resolvedOk: bool = false;

/** Resolve the client address per settings into the cidr.ts globals; false when unknown. */
export function resolveClientAddress(cfg: ClientAddressSettings): bool {
  if (cfg.source == ClientAddressSource.EnvoyExternal) {
    const h = getHeaderBytes(MapType.RequestHeaders, EXTERNAL_ADDRESS_HEADER);
    if (h !== null && parseClientAddress(changetype<usize>(h), h.byteLength)) return true;
  } else if (cfg.source == ClientAddressSource.Xff) {
    if (resolveFromXff(cfg.xffTrustedHops)) return true;
  }
  const a = getPropertyBytes(SOURCE_ADDRESS);
  if (a === null) return false;
  return parseClientAddress(changetype<usize>(a), a.byteLength);
}

// X-Forwarded-For across every header line: read the raw pairs buffer and walk it backwards
// without building strings.
const XFF_NAME: string = "x-forwarded-for";
const MAX_XFF_VALUES: i32 = 64;
const XFF_PTRS: usize = memory.data(MAX_XFF_VALUES * 8);

function isXffKey(p: usize, len: u32): bool {
  if (len != 15) return false;
  for (let i = 0; i < 15; i++) {
    let c = <u32>load<u8>(p + <usize>i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c != <u32>XFF_NAME.charCodeAt(i)) return false;
  }
  return true;
}

export function resolveFromXff(hops: i32): bool {
  clearOut();
  if (proxy_get_header_map_pairs(MapType.RequestHeaders, OUT_PTR, OUT_SIZE) != WasmResult.Ok) return false;
  const buf = takeOut();
  const size = <usize>buf.byteLength;
  if (size < 4) return false;
  const base = changetype<usize>(buf);
  const n = <usize>load<u32>(base);
  if (n > 1024 || <usize>4 + n * 8 > size) return false;
  // Collect (ptr, len) of every x-forwarded-for value, in order.
  let data = base + 4 + n * 8;
  const end = base + size;
  let nv = 0;
  for (let i: usize = 0; i < n; i++) {
    const kl = <usize>load<u32>(base + 4 + i * 8);
    const vl = <usize>load<u32>(base + 8 + i * 8);
    if (kl > size || vl > size || data + kl + vl + 2 > end) return false;
    if (isXffKey(data, <u32>kl) && nv < MAX_XFF_VALUES) {
      store<u32>(XFF_PTRS + <usize>nv * 8, <u32>(data + kl + 1));
      store<u32>(XFF_PTRS + <usize>nv * 8 + 4, <u32>vl);
      nv++;
    }
    data += kl + vl + 2;
  }
  // Walk entries from the right: skip `hops`, take the next.
  let skip = hops;
  for (let v = nv - 1; v >= 0; v--) {
    const vp = <usize>load<u32>(XFF_PTRS + <usize>v * 8);
    const vlen = <i32>load<u32>(XFF_PTRS + <usize>v * 8 + 4);
    let e = vlen;
    while (e > 0) {
      let s = e - 1;
      while (s >= 0 && load<u8>(vp + <usize>s) != 0x2c) s--;
      // entry is (s, e)
      const es = s + 1;
      if (!isBlank(vp + <usize>es, e - es)) {
        if (skip == 0) return parseClientAddress(vp + <usize>es, e - es);
        skip--;
      }
      e = s;
    }
  }
  return false;
}

function isBlank(p: usize, len: i32): bool {
  for (let i = 0; i < len; i++) {
    const c = load<u8>(p + <usize>i);
    if (c != 0x20 && c != 0x09) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

/** Lazily read request data for conditions (only when a conditional rule is on the chain). */
let pathBuf: ArrayBuffer | null = null;
let pathRead: bool = false;

function conditionMatches(rule: Rule): bool {
  const pp = rule.pathPrefix;
  if (pp !== null) {
    if (!pathRead) { pathBuf = getHeaderBytes(MapType.RequestHeaders, PATH_HEADER); pathRead = true; }
    const path = pathBuf;
    if (path === null || !startsWith(path, pp)) return false;
  }
  if (rule.headerOp != HeaderMatch.None) {
    const h = getHeaderBytes(MapType.RequestHeaders, rule.headerName!);
    if (h === null) return false;
    const want = rule.headerValue!;
    if (rule.headerOp == HeaderMatch.Equals) return bytesEqual(h, want);
    if (rule.headerOp == HeaderMatch.Prefix) return startsWith(h, want);
    return contains(h, want);
  }
  return true;
}

function startsWith(h: ArrayBuffer, p: ArrayBuffer): bool {
  const n = p.byteLength;
  if (h.byteLength < n) return false;
  return memory.compare(changetype<usize>(h), changetype<usize>(p), <usize>n) == 0;
}

function bytesEqual(a: ArrayBuffer, b: ArrayBuffer): bool {
  return a.byteLength == b.byteLength && memory.compare(changetype<usize>(a), changetype<usize>(b), <usize>a.byteLength) == 0;
}

function contains(h: ArrayBuffer, p: ArrayBuffer): bool {
  const n = p.byteLength, m = h.byteLength;
  if (n == 0) return true;
  const hp = changetype<usize>(h), pp = changetype<usize>(p);
  for (let i = 0; i + n <= m; i++) {
    if (memory.compare(hp + <usize>i, pp, <usize>n) == 0) return true;
  }
  return false;
}

/**
 * Evaluate the rule chain for the address in the cidr.ts globals. Pure except for condition
 * reads and decision counters. Exposed for unit tests and benches.
 */
export function evaluate(rules: RuleSet, count: bool): AccessDecision {
  pathRead = false;
  pathBuf = null;
  const idx = rules.index;
  const v4 = ipIsV4;
  let e = v4 ? idx.lookup4(ipV4) : idx.lookup6(ipHi, ipLo);
  let logged: Rule | null = null;
  const list = rules.rules;
  while (e >= 0) {
    const ri = v4 ? idx.rule4(e) : idx.rule6(e);
    if (ri < list.length) {
      const rule = unchecked(list[ri]);
      if (!rule.hasCondition() || conditionMatches(rule)) {
        if (rule.action == RuleAction.Log) {
          if (logged === null) {
            logged = rule;
            if (count) countDecision(rule);
          }
        } else if (rule.action == RuleAction.Deny) {
          if (count) countDecision(rule);
          return rule.decision;
        } else {
          // allow
          return logged !== null ? logged.decision : rule.decision;
        }
      }
    }
    e = v4 ? idx.parent4(e) : idx.parent6(e);
  }
  if (rules.mode == RulesMode.Allow) {
    const d = rules.defaultDeny;
    if (count) countDecision(d);
    return d.decision;
  }
  return logged !== null ? logged.decision : NO_MATCH;
}

/**
 * Called from on_request_headers (request headers readable): resolves the client address per
 * `clientAddress`, evaluates `rules` (CIDR index + optional header/path conditions) and returns the
 * decision. Never allocates on the no-match path beyond what the host calls need; never traps.
 */
export function decideAccess(rules: RuleSet, clientAddress: ClientAddressSettings): AccessDecision {
  if (!resolveClientAddress(clientAddress)) {
    // Unknown client address: no CIDR can match.
    if (rules.mode == RulesMode.Allow) {
      countDecision(rules.defaultDeny);
      return rules.defaultDeny.decision;
    }
    return NO_MATCH;
  }
  offerClient(); // the blast-radius guard's sample of recent clients (a few compares, no host call)
  return evaluate(rules, true);
}

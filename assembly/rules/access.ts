// Access decision for one request (called from on_request_headers while the headers are readable).
//
// Client address (settings "client_address"):
//   connection     — property source.address ("ip:port", "[v6]:port"). Default; not spoofable.
//   envoy_external — header x-envoy-external-address (Envoy sets it after its own XFF handling,
//                    use_remote_address); falls back to source.address when absent.
//   xff            — X-Forwarded-For: skip xff_trusted_hops entries from the RIGHT and take the
//                    next one (Envoy's xff_num_trusted_hops semantics); all XFF header lines are
//                    read as one list (in Envoy they are one entry already, see resolveFromXff);
//                    fewer entries than hops+1, or an unparsable entry → falls back to
//                    source.address (as Envoy does).
//
// Evaluation: most specific CIDR first. A rule whose path/header condition fails, and a "log"
// rule (dry run: counted, then evaluation continues), fall back to the next less specific CIDR
// covering the address. The first deny/allow rule decides. Nothing decides → allow in deny-list
// mode, the implicit "_default" deny in allow-list mode. Nothing here allocates: the address
// property goes to scratch memory and every header (x-envoy-external-address, :path, condition
// headers) comes from the one request-headers read of host/request-headers.ts; X-Forwarded-For too
// when that read was made already, else from one get_header_map_value.
// A condition on a repeated header sees its first line (what get_header_map_value returned).
import { ClientAddressSettings, ClientAddressSource } from "../config/settings";
import { RuleSet, AccessDecision, Rule, RuleAction, RulesMode, HeaderMatch, NO_MATCH } from "./rule-set";
import { parseClientAddress, ipIsV4, ipV4, ipHi, ipLo, setParsedV4, setParsedV6 } from "./cidr";
import { propertyScratch, headerScratch, scratchPtr, scratchLen } from "../host/scratch";
import { first, collectLines, requestHeadersRead, valuePtr, valueLen } from "../host/request-headers";
import { MapType } from "../abi/status";
import { countDecision } from "./metrics";
import { offerClient } from "../filter/client-sample";

// @ts-ignore: decorator
@lazy const SOURCE_ADDRESS: ArrayBuffer = makePath("source\0address");
// @ts-ignore: decorator
@lazy const EXTERNAL_ADDRESS_HEADER: ArrayBuffer = String.UTF8.encode("x-envoy-external-address");
// @ts-ignore: decorator
@lazy const PATH_HEADER: ArrayBuffer = String.UTF8.encode(":path");
// @ts-ignore: decorator
@lazy const XFF_HEADER: ArrayBuffer = String.UTF8.encode("x-forwarded-for");

function makePath(s: string): ArrayBuffer { return String.UTF8.encode(s); }

/**
 * Client address of the current request, resolved once per stream callback: the access rules,
 * tracing.trusted_cidrs and the span's client.address all ask for it. 0 = not resolved yet in this
 * callback, 1 = resolved (the cidr.ts globals hold it), 2 = unknown. The stream context resets it
 * (forgetClientAddress) when a callback starts.
 */
export let clientMemo: u8 = 0;
export let clientV4: bool = false;
export let clientIp4: u32 = 0;
export let clientHi: u64 = 0;
export let clientLo: u64 = 0;

// @ts-ignore: decorator
@inline
export function forgetClientAddress(): void { clientMemo = 0; }

/** Resolve the client address per settings into the cidr.ts globals; false when unknown. */
export function resolveClientAddress(cfg: ClientAddressSettings): bool {
  if (clientMemo == 0) {
    const ok = resolveUncached(cfg);
    clientMemo = ok ? 1 : 2;
    if (ok) { clientV4 = ipIsV4; clientIp4 = ipV4; clientHi = ipHi; clientLo = ipLo; }
    return ok;
  }
  if (clientMemo != 1) return false;
  restoreClientAddress(clientV4, clientIp4, clientHi, clientLo);
  return true;
}

/** Put a resolved client address back into the cidr.ts globals (memo hit, or a stream's saved one). */
export function restoreClientAddress(v4: bool, ip4: u32, hi: u64, lo: u64): void {
  if (v4) setParsedV4(ip4);
  else setParsedV6(hi, lo);
}

function resolveUncached(cfg: ClientAddressSettings): bool {
  if (cfg.source == ClientAddressSource.EnvoyExternal) {
    if (first(EXTERNAL_ADDRESS_HEADER) && parseClientAddress(valuePtr, valueLen)) return true;
  } else if (cfg.source == ClientAddressSource.Xff) {
    if (resolveFromXff(cfg.xffTrustedHops)) return true;
  }
  if (!propertyScratch(SOURCE_ADDRESS)) return false;
  return parseClientAddress(scratchPtr, scratchLen);
}

// X-Forwarded-For across every header line, walked backwards in place without building strings.
const MAX_XFF_VALUES: i32 = 64;
const XFF_PTRS: usize = memory.data(MAX_XFF_VALUES * 8);

export function resolveFromXff(hops: i32): bool {
  // In Envoy X-Forwarded-For is ONE entry: an inline request header (envoy/http/header_map.h
  // INLINE_REQ_HEADERS, ForwardedFor), and HeaderMapImpl appends every further line to it after a
  // ',' (addViaMove / insertByKey → appendToHeader: the codecs' lines, a filter's addCopy, the
  // connection manager's own hop). So one get_header_map_value returns the whole list; the
  // request's header pairs (every header serialized, copied into this VM and scanned) are used
  // only when this callback read them already (method label, tracing): no second host call.
  // Through the embedded host, cold: 6-7 µs less per request (bench/request-path --host --cold).
  let nv = 0;
  if (requestHeadersRead()) {
    nv = collectLines(XFF_HEADER, XFF_PTRS, MAX_XFF_VALUES);
  } else if (headerScratch(MapType.RequestHeaders, XFF_HEADER)) {
    store<u32>(XFF_PTRS, <u32>scratchPtr);
    store<u32>(XFF_PTRS + 4, <u32>scratchLen);
    nv = 1;
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

function conditionMatches(rule: Rule): bool {
  const pp = rule.pathPrefix;
  if (pp !== null) {
    if (!first(PATH_HEADER) || !startsWith(valuePtr, valueLen, pp)) return false;
  }
  if (rule.headerOp != HeaderMatch.None) {
    if (!first(rule.headerName!)) return false;
    const want = rule.headerValue!;
    if (rule.headerOp == HeaderMatch.Equals) return valueLen == want.byteLength && startsWith(valuePtr, valueLen, want);
    if (rule.headerOp == HeaderMatch.Prefix) return startsWith(valuePtr, valueLen, want);
    return contains(valuePtr, valueLen, want);
  }
  return true;
}

function startsWith(hp: usize, m: i32, p: ArrayBuffer): bool {
  const n = p.byteLength;
  if (m < n) return false;
  return memory.compare(hp, changetype<usize>(p), <usize>n) == 0;
}

function contains(hp: usize, m: i32, p: ArrayBuffer): bool {
  const n = p.byteLength;
  if (n == 0) return true;
  const pp = changetype<usize>(p);
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

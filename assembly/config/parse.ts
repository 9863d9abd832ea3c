// Plugin configuration (JSON, buffer 7 in on_configure) → FilterSettings, strictly validated:
// unknown fields, wrong types and out-of-range values reject the configuration (on_configure
// returns false and Envoy keeps the previous one). An empty configuration means all defaults.
// The optional "rules" member is a rule document (rules/document.ts) delivered by push.
import { JsonDoc, JsonKind, parseJson } from "../json/parser";
import {
  FilterSettings, ClientAddressSource, PathRoute, TelemetrySettings, TracingSettings, CollectorSettings,
  RulesServiceSettings, ClientAddressSettings,
} from "./settings";
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
  if (err.length == 0 && c.path.length > 0 && c.path.charCodeAt(0) != 0x2f) setErr(path + ".path: must start with \"/\"");
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

/** Cross-field checks, run after the rules_cluster shorthand is merged. */
function checkRulesService(path: string, r: RulesServiceSettings): void {
  if (err.length == 0 && (r.path.length == 0 || r.path.charCodeAt(0) != 0x2f)) setErr(path + ".path: must start with \"/\"");
  if (err.length == 0 && r.cluster.length > 0 && r.authority.length == 0) setErr(path + ".authority: must not be empty");
  if (err.length == 0 && r.backoffMaxMs < r.backoffBaseMs) setErr(path + ".backoff_max_ms: must be ≥ backoff_base_ms");
  if (err.length == 0 && r.cluster.length > 0 && r.timeoutMs <= r.longPollMs) setErr(path + ".timeout_ms: must be greater than long_poll_ms");
  if (err.length == 0 && r.leaseMs < 2 * r.tickMs) setErr(path + ".lease_ms: must be at least 2 × tick_ms");
}

/** Parse the plugin configuration bytes. */
export function parseConfiguration(buf: ArrayBuffer | null): ConfigResult {
  const out = new ConfigResult();
  err = "";
  cidrError = false;
  if (buf === null) return out;
  const len = buf.byteLength;
  const base = changetype<usize>(buf);
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
      else if (doc.equalsAscii(k, "rules")) {
        out.rulesNode = v;
        out.rulesBytes = doc.endOffset(v) - doc.start(v);
      }
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
  }
  if (err.length > 0) {
    out.reason = cidrError ? Reason.Cidr : Reason.Schema;
    out.message = "plugin configuration: " + err;
  }
  return out;
}

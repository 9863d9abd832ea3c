/**
 * Reference validators for edgewatch's two documents, written from the documented schema
 * (assembly/config/settings.ts field comments, assembly/rules/document.ts and config/parse.ts
 * headers, issue #3), independently of the AssemblyScript code:
 *
 *   rule document   {version, mode, access[], sampling{}, default_reply{}, description}
 *   plugin config   {client_address{}, telemetry{}, tracing{collector{}}, rules_service{},
 *                    max_rules_bytes, rules, rules_cluster, collector_cluster}
 *
 * Every object is closed (unknown member → schema error) and a member may appear once (compared
 * by DECODED key). All errors are collected (not just the first) with their reason class:
 * json | schema | cidr | size. A document is valid iff there is no error.
 *
 * The reference also evaluates an accepted rule set for one request (evaluateRef), so probes can
 * check what the filter enforces after a reload.
 */
import { integerOf, kindName, parseJsonRef, JsonRefError, type JArr, type JObj, type JStr, type JValue } from "./json.js";
import { cidrContains, parseCidrRef, type Addr, type Cidr } from "./net.js";
import { wholeSpaceRejectedRef } from "./blast-radius.js";

export type Reason = "json" | "schema" | "cidr" | "size" | "version" | "signature" | "blast_radius";

export interface RefError { reason: Reason; path: string; message: string }

export interface RefRule {
  index: number;
  id: string;
  action: "deny" | "log" | "allow";
  cidrs: Cidr[];
  pathPrefix: Buffer | null;
  header: { name: string; op: "equals" | "prefix" | "contains"; value: Buffer } | null;
  status: number;
}

export interface RefRules {
  version: number;
  mode: "deny" | "allow";
  rules: RefRule[];
  defaultStatus: number;
  sampling: { defaultRate: number; routes: Map<string, number>; alwaysKeep5xx: boolean; slowThresholdMs: number };
  cidrCount: number;
  /** "allow_large_blast_radius" (issue 15). */
  allowLargeBlastRadius: boolean;
}

export interface RefResult<T> {
  valid: boolean;
  errors: RefError[];
  value: T | null;
  /** The single reason when every error shares it (null when valid or mixed). */
  reason: Reason | null;
}

function finish<T>(errors: RefError[], value: T | null): RefResult<T> {
  const reasons = new Set(errors.map((e) => e.reason));
  return {
    valid: errors.length === 0,
    errors,
    value: errors.length === 0 ? value : null,
    reason: reasons.size === 1 ? [...reasons][0] : null,
  };
}

class Ctx {
  errors: RefError[] = [];
  err(reason: Reason, path: string, message: string): void {
    this.errors.push({ reason, path, message });
  }
  schema(path: string, message: string): void {
    this.err("schema", path, message);
  }
  type(v: JValue, path: string, want: string): void {
    this.schema(path, `expected ${want}, got ${kindName(v)}`);
  }
}

/** Iterate an object's members by decoded key; duplicates and unknown keys are errors. */
function members(ctx: Ctx, o: JObj, path: string, known: readonly string[]): Map<string, JValue> {
  const out = new Map<string, JValue>();
  for (const [k, v] of o.members) {
    if (!known.includes(k.v)) ctx.schema(path, `unknown field "${k.v}"`);
    else if (out.has(k.v)) ctx.schema(path, `duplicate field "${k.v}"`);
    else out.set(k.v, v);
  }
  return out;
}

const RULE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function validHeaderNameRef(b: Buffer): boolean {
  return b.length >= 1 && b.length <= 128 && TOKEN_CHARS.test(b.toString("latin1"));
}

function validHeaderValueRef(b: Buffer): boolean {
  return b.length <= 8192 && !b.includes(0) && !b.includes(0x0a) && !b.includes(0x0d);
}

// ------------------------------------------------------------------------------------------------
// cidrs_text: tokens of the RAW JSON string text. "\n" "\r" "\t" escapes, spaces, commas (and raw
// tabs) separate; '#' starts a comment to the end of the line (the next "\n" escape); any other
// escape ("\/", "\u0041", "\u000a" ...) is decoded inside its token.

export function cidrsTextTokensRef(raw: Buffer): string[] {
  const s = raw.toString("latin1");
  const units: Array<{ sep: "nl" | "sep" | null; ch: string; escaped?: boolean }> = [];
  for (let i = 0; i < s.length;) {
    const c = s[i];
    if (c === "\\") {
      const x = s[i + 1];
      if (x === "n") { units.push({ sep: "nl", ch: "\n" }); i += 2; continue; }
      if (x === "r" || x === "t") { units.push({ sep: "sep", ch: x }); i += 2; continue; }
      if (x === "u") { units.push({ sep: null, ch: String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16)), escaped: true }); i += 6; continue; }
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f" };
      units.push({ sep: null, ch: simple[x] ?? x, escaped: true });
      i += 2;
      continue;
    }
    units.push({ sep: c === " " || c === "," || c === "\t" ? "sep" : null, ch: c });
    i++;
  }
  const tokens: string[] = [];
  let cur: string | null = null;
  let comment = false;
  for (const u of units) {
    if (comment) {
      if (u.sep === "nl") comment = false;
      continue;
    }
    if (u.sep !== null) {
      if (cur !== null) tokens.push(cur);
      cur = null;
      continue;
    }
    if (u.ch === "#" && !u.escaped) {
      if (cur !== null) tokens.push(cur);
      cur = null;
      comment = true;
      continue;
    }
    cur = (cur ?? "") + u.ch;
  }
  if (cur !== null) tokens.push(cur);
  // latin1 → the token's real bytes were UTF-8: re-decode per token.
  return tokens.map((t) => Buffer.from(t, "latin1").toString("utf8"));
}

// ------------------------------------------------------------------------------------------------
// Rule document

function reply(ctx: Ctx, key: string, v: JValue, path: string, out: { status: number }): void {
  if (key === "status") {
    const n = integerOf(v);
    if (n === null || n < 200 || n > 599) ctx.schema(`${path}.status`, "expected an integer 200..599");
    else out.status = n;
  } else if (key === "body") {
    if (v.t !== "str") ctx.type(v, `${path}.body`, "string");
    else if (v.bytes.length > 65536) ctx.schema(`${path}.body`, "larger than 65536 bytes");
  } else {
    if (v.t !== "obj") { ctx.type(v, `${path}.headers`, "object"); return; }
    if (v.members.length > 32) { ctx.schema(`${path}.headers`, "at most 32 headers"); return; }
    const names = new Set<string>();
    for (const [k, hv] of v.members) {
      // Header names are case-insensitive: one header may appear once.
      const lower = k.bytes.toString("latin1").toLowerCase();
      if (names.has(lower)) ctx.schema(`${path}.headers`, `duplicate header "${k.v}"`);
      names.add(lower);
      if (!validHeaderNameRef(k.bytes)) ctx.schema(`${path}.headers`, `invalid header name "${k.v}"`);
      else if (hv.t !== "str") ctx.type(hv, `${path}.headers.${k.v}`, "string");
      else if (!validHeaderValueRef(hv.bytes)) ctx.schema(`${path}.headers.${k.v}`, "invalid header value");
    }
  }
}

function rate(v: JValue): number | null {
  if (v.t !== "num") return null;
  return v.v >= 0 && v.v <= 1 ? v.v : null;
}

function sampling(ctx: Ctx, v: JValue, path: string, out: RefRules["sampling"]): void {
  if (v.t !== "obj") { ctx.type(v, path, "object"); return; }
  const m = members(ctx, v, path, ["default_rate", "routes", "always_keep_5xx", "slow_threshold_ms"]);
  const dr = m.get("default_rate");
  if (dr !== undefined) {
    const r = rate(dr);
    if (r === null) ctx.schema(`${path}.default_rate`, "expected a number 0..1");
    else out.defaultRate = r;
  }
  const routes = m.get("routes");
  if (routes !== undefined) {
    if (routes.t !== "obj") ctx.type(routes, `${path}.routes`, "object");
    else if (routes.members.length > 4096) ctx.schema(`${path}.routes`, "at most 4096 routes");
    else {
      for (const [k, rv] of routes.members) {
        if (k.v.length === 0) ctx.schema(`${path}.routes`, "empty route name");
        else if (rate(rv) === null) ctx.schema(`${path}.routes.${k.v}`, "expected a number 0..1");
        else if (out.routes.has(k.v)) ctx.schema(`${path}.routes`, `duplicate route "${k.v}"`);
        else out.routes.set(k.v, rate(rv)!);
      }
    }
  }
  const ak = m.get("always_keep_5xx");
  if (ak !== undefined) {
    if (ak.t !== "bool") ctx.type(ak, `${path}.always_keep_5xx`, "boolean");
    else out.alwaysKeep5xx = ak.v;
  }
  const st = m.get("slow_threshold_ms");
  if (st !== undefined) {
    const n = integerOf(st);
    if (n === null || n < 0 || n > 3_600_000) ctx.schema(`${path}.slow_threshold_ms`, "expected an integer 0..3600000");
    else out.slowThresholdMs = n;
  }
}

function rule(ctx: Ctx, v: JValue, path: string, index: number): RefRule | null {
  if (v.t !== "obj") { ctx.type(v, path, "object"); return null; }
  const before = ctx.errors.length;
  const m = members(ctx, v, path, ["id", "action", "cidrs", "cidrs_text", "path_prefix", "header", "status", "body", "headers", "description"]);
  const r: RefRule = { index, id: "", action: "deny", cidrs: [], pathPrefix: null, header: null, status: 403 };
  const id = m.get("id");
  if (id === undefined) ctx.schema(`${path}.id`, "required");
  else if (id.t !== "str") ctx.type(id, `${path}.id`, "string");
  else if (!RULE_ID.test(id.bytes.toString("latin1"))) ctx.schema(`${path}.id`, "must match [A-Za-z0-9_.-]{1,64}");
  else if (id.v === "_default") ctx.schema(`${path}.id`, "reserved");
  else r.id = id.v;
  const action = m.get("action");
  if (action !== undefined) {
    if (action.t !== "str") ctx.type(action, `${path}.action`, "string");
    else if (action.v === "deny" || action.v === "log" || action.v === "allow") r.action = action.v;
    else ctx.schema(`${path}.action`, "expected deny, log or allow");
  }
  const cidrs = m.get("cidrs");
  const text = m.get("cidrs_text");
  if (cidrs === undefined && text === undefined) ctx.schema(path, "\"cidrs\" or \"cidrs_text\" required");
  if (cidrs !== undefined) {
    if (cidrs.t !== "arr") ctx.type(cidrs, `${path}.cidrs`, "array");
    else {
      cidrs.items.forEach((c, i) => {
        if (c.t !== "str") { ctx.type(c, `${path}.cidrs[${i}]`, "string"); return; }
        const p = parseCidrRef(c.v);
        if (p === null) ctx.err("cidr", `${path}.cidrs[${i}]`, `bad CIDR "${c.v.slice(0, 64)}"`);
        else r.cidrs.push(p);
      });
    }
  }
  if (text !== undefined) {
    if (text.t !== "str") ctx.type(text, `${path}.cidrs_text`, "string");
    else {
      for (const tok of cidrsTextTokensRef(text.raw)) {
        const p = Buffer.byteLength(tok, "utf8") <= 256 ? parseCidrRef(tok) : null;
        if (p === null) { ctx.err("cidr", `${path}.cidrs_text`, `bad CIDR "${tok.slice(0, 64)}"`); break; }
        r.cidrs.push(p);
      }
    }
  }
  const pp = m.get("path_prefix");
  if (pp !== undefined) {
    if (pp.t !== "str") ctx.type(pp, `${path}.path_prefix`, "string");
    else if (pp.bytes.length < 1 || pp.bytes.length > 1024 || pp.bytes[0] !== 0x2f) ctx.schema(`${path}.path_prefix`, "must start with / (1..1024 bytes)");
    else r.pathPrefix = pp.bytes;
  }
  const h = m.get("header");
  if (h !== undefined) {
    if (h.t !== "obj") ctx.type(h, `${path}.header`, "object");
    else {
      let name: string | null = null;
      let op: { op: "equals" | "prefix" | "contains"; value: Buffer } | null = null;
      let ops = 0;
      for (const [k, hv] of h.members) {
        if (k.v === "name") {
          if (name !== null) { ctx.schema(`${path}.header`, "duplicate field \"name\""); continue; }
          if (hv.t !== "str") ctx.type(hv, `${path}.header.name`, "string");
          else if (!validHeaderNameRef(hv.bytes)) ctx.schema(`${path}.header.name`, "invalid header name");
          name = hv.t === "str" ? hv.bytes.toString("latin1").toLowerCase() : "";
        } else if (k.v === "equals" || k.v === "prefix" || k.v === "contains") {
          ops++;
          if (ops > 1) { ctx.schema(`${path}.header`, "exactly one of equals, prefix, contains"); continue; }
          if (hv.t !== "str") ctx.type(hv, `${path}.header.${k.v}`, "string");
          else if (hv.bytes.length > 8192) ctx.schema(`${path}.header.${k.v}`, "longer than 8192 bytes");
          else op = { op: k.v, value: hv.bytes };
        } else ctx.schema(`${path}.header`, `unknown field "${k.v}"`);
      }
      if (name === null) ctx.schema(`${path}.header.name`, "required");
      if (ops === 0) ctx.schema(`${path}.header`, "one of equals, prefix, contains required");
      if (name !== null && op !== null) r.header = { name, ...op };
    }
  }
  const st = { status: 403 };
  for (const key of ["status", "body", "headers"] as const) {
    const x = m.get(key);
    if (x !== undefined) reply(ctx, key, x, path, st);
  }
  r.status = st.status;
  const d = m.get("description");
  if (d !== undefined && d.t !== "str") ctx.type(d, `${path}.description`, "string");
  return ctx.errors.length === before ? r : null;
}

export function validateRulesNode(ctx: Ctx, doc: JValue, path: string): RefRules | null {
  if (doc.t !== "obj") { ctx.type(doc, path, "object"); return null; }
  const before = ctx.errors.length;
  const m = members(ctx, doc, path, ["version", "mode", "access", "sampling", "default_reply", "description", "allow_large_blast_radius"]);
  const out: RefRules = {
    version: 0, mode: "deny", rules: [], defaultStatus: 403, cidrCount: 0,
    sampling: { defaultRate: 1, routes: new Map(), alwaysKeep5xx: true, slowThresholdMs: 0 },
    allowLargeBlastRadius: false,
  };
  const alb = m.get("allow_large_blast_radius");
  if (alb !== undefined) {
    if (alb.t !== "bool") ctx.type(alb, `${path}.allow_large_blast_radius`, "boolean");
    else out.allowLargeBlastRadius = alb.v;
  }
  const ver = m.get("version");
  if (ver !== undefined) {
    const n = integerOf(ver);
    if (n === null || n < 0) ctx.schema(`${path}.version`, "expected an integer ≥ 0");
    else out.version = n;
  }
  const mode = m.get("mode");
  if (mode !== undefined) {
    if (mode.t !== "str") ctx.type(mode, `${path}.mode`, "string");
    else if (mode.v === "deny" || mode.v === "allow") out.mode = mode.v;
    else ctx.schema(`${path}.mode`, "expected deny or allow");
  }
  const s = m.get("sampling");
  if (s !== undefined) sampling(ctx, s, `${path}.sampling`, out.sampling);
  const dr = m.get("default_reply");
  if (dr !== undefined) {
    if (dr.t !== "obj") ctx.type(dr, `${path}.default_reply`, "object");
    else {
      const st = { status: 403 };
      const dm = members(ctx, dr, `${path}.default_reply`, ["status", "body", "headers"]);
      for (const [k, v] of dm) reply(ctx, k, v, `${path}.default_reply`, st);
      out.defaultStatus = st.status;
    }
  }
  const access = m.get("access");
  if (access !== undefined) {
    if (access.t !== "arr") ctx.type(access, `${path}.access`, "array");
    else if (access.items.length > 32767) ctx.schema(`${path}.access`, "at most 32767 rules");
    else {
      const ids = new Set<string>();
      access.items.forEach((rv, i) => {
        const r = rule(ctx, rv, `${path}.access[${i}]`, i);
        if (r === null) return;
        if (ids.has(r.id)) ctx.schema(`${path}.access[${i}].id`, `duplicate rule id "${r.id}"`);
        ids.add(r.id);
        out.rules.push(r);
        out.cidrCount += r.cidrs.length;
      });
    }
  }
  const d = m.get("description");
  if (d !== undefined && d.t !== "str") ctx.type(d, `${path}.description`, "string");
  return ctx.errors.length === before ? out : null;
}

function parseOrError(ctx: Ctx, bytes: Buffer): JValue | null {
  try {
    return parseJsonRef(bytes);
  } catch (e) {
    if (e instanceof JsonRefError) {
      ctx.err("json", "$", e.message);
      return null;
    }
    throw e;
  }
}

/** A standalone rule document (pull), with the size limit. */
export function validateRulesDocument(bytes: Buffer, maxRulesBytes = 16 * 1024 * 1024): RefResult<RefRules> {
  const ctx = new Ctx();
  if (bytes.length > maxRulesBytes) {
    ctx.err("size", "$", `${bytes.length} bytes > max_rules_bytes ${maxRulesBytes}`);
    return finish<RefRules>(ctx.errors, null);
  }
  const doc = parseOrError(ctx, bytes);
  if (doc === null) return finish<RefRules>(ctx.errors, null);
  const r = validateRulesNode(ctx, doc, "$");
  return finish(ctx.errors, r);
}

// ------------------------------------------------------------------------------------------------
// Plugin configuration

export interface RefConfig {
  /** blast_radius.max_deny_fraction: below 1 the guard also judges the client sample (not modelled). */
  maxDenyFraction: number;
  clientAddress: { source: "connection" | "envoy_external" | "xff"; xffTrustedHops: number };
  telemetry: { enabled: boolean; routesCap: number; methodLabel: boolean; heartbeatMs: number };
  tracing: { enabled: boolean; trustParent: "always" | "never" | "trusted"; trustedCidrs: Cidr[]; collectorCluster: string };
  rulesService: { cluster: string; authority: string; path: string; longPollMs: number; timeoutMs: number; backoffBaseMs: number; backoffMaxMs: number; leaseMs: number; tickMs: number; coldStartDeny: boolean };
  maxRulesBytes: number;
  rules: RefRules | null;
}

export const MAX_CONFIG_BYTES = 256 * 1024 * 1024;

function intIn(ctx: Ctx, v: JValue, path: string, lo: number, hi: number): number | null {
  const n = integerOf(v);
  if (n === null || n < lo || n > hi) { ctx.schema(path, `expected an integer ${lo}..${hi}`); return null; }
  return n;
}

function boolOf(ctx: Ctx, v: JValue, path: string): boolean | null {
  if (v.t !== "bool") { ctx.type(v, path, "boolean"); return null; }
  return v.v;
}

/** Strings in the configuration: limits count the RAW (escaped) JSON text, as documented by the parser. */
function strOf(ctx: Ctx, v: JValue, path: string, maxLen: number): string | null {
  if (v.t !== "str") { ctx.type(v, path, "string"); return null; }
  if (v.raw.length > maxLen) { ctx.schema(path, `longer than ${maxLen} bytes`); return null; }
  return v.v;
}

function obj(ctx: Ctx, v: JValue, path: string, known: readonly string[]): Map<string, JValue> | null {
  if (v.t !== "obj") { ctx.type(v, path, "object"); return null; }
  return members(ctx, v, path, known);
}

function enumOf<T extends string>(ctx: Ctx, v: JValue, path: string, values: readonly T[]): T | null {
  if (v.t !== "str") { ctx.type(v, path, "string"); return null; }
  if (!(values as readonly string[]).includes(v.v)) { ctx.schema(path, `expected one of ${values.join(", ")}`); return null; }
  return v.v as T;
}

export function validatePluginConfiguration(bytes: Buffer): RefResult<RefConfig> {
  const ctx = new Ctx();
  const cfg: RefConfig = {
    clientAddress: { source: "connection", xffTrustedHops: 0 },
    telemetry: { enabled: true, routesCap: 100, methodLabel: false, heartbeatMs: 1000 },
    tracing: { enabled: true, trustParent: "always", trustedCidrs: [], collectorCluster: "" },
    rulesService: { cluster: "", authority: "rules", path: "/rules", longPollMs: 30000, timeoutMs: 35000, backoffBaseMs: 100, backoffMaxMs: 5000, leaseMs: 2000, tickMs: 100, coldStartDeny: false },
    maxRulesBytes: 16 * 1024 * 1024,
    rules: null,
    maxDenyFraction: 0.5,
  };
  if (bytes.every((c) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) return finish([], cfg);
  if (bytes.length > MAX_CONFIG_BYTES) {
    ctx.err("size", "$", "configuration too large");
    return finish<RefConfig>(ctx.errors, null);
  }
  const doc = parseOrError(ctx, bytes);
  if (doc === null) return finish<RefConfig>(ctx.errors, null);
  const top = obj(ctx, doc, "$", ["client_address", "telemetry", "tracing", "rules_service", "max_rules_bytes", "rules", "rules_cluster", "collector_cluster", "blast_radius"]);
  if (top === null) return finish<RefConfig>(ctx.errors, null);

  const ca = top.get("client_address");
  if (ca !== undefined) {
    const m = obj(ctx, ca, "$.client_address", ["source", "xff_trusted_hops"]);
    if (m) {
      const s = m.get("source");
      if (s) { const e = enumOf(ctx, s, "$.client_address.source", ["connection", "envoy_external", "xff"] as const); if (e) cfg.clientAddress.source = e; }
      const h = m.get("xff_trusted_hops");
      if (h) { const n = intIn(ctx, h, "$.client_address.xff_trusted_hops", 0, 16); if (n !== null) cfg.clientAddress.xffTrustedHops = n; }
    }
  }
  const tel = top.get("telemetry");
  if (tel !== undefined) {
    const m = obj(ctx, tel, "$.telemetry", ["enabled", "routes_cap", "method_label", "heartbeat_ms", "exact_codes", "path_routes"]);
    if (m) {
      const P = "$.telemetry";
      if (m.has("enabled")) { const b = boolOf(ctx, m.get("enabled")!, `${P}.enabled`); if (b !== null) cfg.telemetry.enabled = b; }
      if (m.has("routes_cap")) { const n = intIn(ctx, m.get("routes_cap")!, `${P}.routes_cap`, 1, 10000); if (n !== null) cfg.telemetry.routesCap = n; }
      if (m.has("method_label")) { const b = boolOf(ctx, m.get("method_label")!, `${P}.method_label`); if (b !== null) cfg.telemetry.methodLabel = b; }
      if (m.has("heartbeat_ms")) { const n = intIn(ctx, m.get("heartbeat_ms")!, `${P}.heartbeat_ms`, 10, 3_600_000); if (n !== null) cfg.telemetry.heartbeatMs = n; }
      const ec = m.get("exact_codes");
      if (ec !== undefined) {
        if (ec.t !== "arr") ctx.type(ec, `${P}.exact_codes`, "array");
        else if (ec.items.length > 500) ctx.schema(`${P}.exact_codes`, "at most 500 codes");
        else ec.items.forEach((c, i) => intIn(ctx, c, `${P}.exact_codes[${i}]`, 100, 599));
      }
      const pr = m.get("path_routes");
      if (pr !== undefined) {
        if (pr.t !== "arr") ctx.type(pr, `${P}.path_routes`, "array");
        else if (pr.items.length > 1000) ctx.schema(`${P}.path_routes`, "at most 1000 entries");
        else pr.items.forEach((e, i) => {
          const p = `${P}.path_routes[${i}]`;
          const em = obj(ctx, e, p, ["prefix", "route"]);
          if (!em) return;
          const pre = em.has("prefix") ? strOf(ctx, em.get("prefix")!, `${p}.prefix`, 1024) : null;
          const route = em.has("route") ? strOf(ctx, em.get("route")!, `${p}.route`, 128) : null;
          if (!em.has("prefix") || !em.has("route")) ctx.schema(p, "prefix and route required");
          if (pre !== null && (pre.length === 0 || pre[0] !== "/")) ctx.schema(`${p}.prefix`, "must start with /");
          if (route !== null && route.length === 0) ctx.schema(`${p}.route`, "must not be empty");
        });
      }
    }
  }
  const tr = top.get("tracing");
  if (tr !== undefined) {
    const m = obj(ctx, tr, "$.tracing", ["enabled", "service_name", "trust_parent", "trusted_cidrs", "collector"]);
    if (m) {
      const P = "$.tracing";
      if (m.has("enabled")) { const b = boolOf(ctx, m.get("enabled")!, `${P}.enabled`); if (b !== null) cfg.tracing.enabled = b; }
      if (m.has("service_name")) strOf(ctx, m.get("service_name")!, `${P}.service_name`, 256);
      if (m.has("trust_parent")) { const e = enumOf(ctx, m.get("trust_parent")!, `${P}.trust_parent`, ["always", "never", "trusted"] as const); if (e) cfg.tracing.trustParent = e; }
      const tc = m.get("trusted_cidrs");
      if (tc !== undefined) {
        if (tc.t !== "arr") ctx.type(tc, `${P}.trusted_cidrs`, "array");
        else if (tc.items.length > 10000) ctx.schema(`${P}.trusted_cidrs`, "at most 10000 entries");
        else tc.items.forEach((c, i) => {
          const s = strOf(ctx, c, `${P}.trusted_cidrs[${i}]`, 64);
          if (s === null) return;
          const p = parseCidrRef(s);
          if (p === null) ctx.err("cidr", `${P}.trusted_cidrs[${i}]`, `bad CIDR "${s}"`);
          else cfg.tracing.trustedCidrs.push(p);
        });
      }
      const col = m.get("collector");
      if (col !== undefined) {
        const C = `${P}.collector`;
        const cm = obj(ctx, col, C, ["cluster", "authority", "path", "batch_max", "buffer_max", "flush_ms", "timeout_ms", "backoff_base_ms", "backoff_max_ms"]);
        if (cm) {
          if (cm.has("cluster")) { const s = strOf(ctx, cm.get("cluster")!, `${C}.cluster`, 512); if (s !== null) cfg.tracing.collectorCluster = s; }
          let authority = "collector";
          if (cm.has("authority")) { const s = strOf(ctx, cm.get("authority")!, `${C}.authority`, 512); if (s !== null) authority = s; }
          let path = "/v1/traces";
          if (cm.has("path")) { const s = strOf(ctx, cm.get("path")!, `${C}.path`, 1024); if (s !== null) path = s; }
          if (cm.has("batch_max")) intIn(ctx, cm.get("batch_max")!, `${C}.batch_max`, 1, 100000);
          if (cm.has("buffer_max")) intIn(ctx, cm.get("buffer_max")!, `${C}.buffer_max`, 1, 1_000_000);
          if (cm.has("flush_ms")) intIn(ctx, cm.get("flush_ms")!, `${C}.flush_ms`, 10, 3_600_000);
          if (cm.has("timeout_ms")) intIn(ctx, cm.get("timeout_ms")!, `${C}.timeout_ms`, 1, 3_600_000);
          let bb = 200, bm = 10000;
          if (cm.has("backoff_base_ms")) { const n = intIn(ctx, cm.get("backoff_base_ms")!, `${C}.backoff_base_ms`, 1, 3_600_000); if (n !== null) bb = n; }
          if (cm.has("backoff_max_ms")) { const n = intIn(ctx, cm.get("backoff_max_ms")!, `${C}.backoff_max_ms`, 1, 3_600_000); if (n !== null) bm = n; }
          // Documented: path "/..." (an empty one too is rejected, as rules_service.path is), authority not empty.
          if (path.length === 0 || path[0] !== "/") ctx.schema(`${C}.path`, "must start with /");
          if (authority.length === 0) ctx.schema(`${C}.authority`, "must not be empty");
          if (bm < bb) ctx.schema(`${C}.backoff_max_ms`, "must be ≥ backoff_base_ms");
        }
      }
    }
  }
  const rs = top.get("rules_service");
  let rsGiven = false;
  if (rs !== undefined) {
    const R = "$.rules_service";
    const m = obj(ctx, rs, R, ["cluster", "authority", "path", "long_poll_ms", "timeout_ms", "backoff_base_ms", "backoff_max_ms", "lease_ms", "tick_ms", "cold_start"]);
    if (m) {
      rsGiven = true;
      const r = cfg.rulesService;
      if (m.has("cluster")) { const s = strOf(ctx, m.get("cluster")!, `${R}.cluster`, 512); if (s !== null) r.cluster = s; }
      if (m.has("authority")) { const s = strOf(ctx, m.get("authority")!, `${R}.authority`, 512); if (s !== null) r.authority = s; }
      if (m.has("path")) { const s = strOf(ctx, m.get("path")!, `${R}.path`, 1024); if (s !== null) r.path = s; }
      if (m.has("long_poll_ms")) { const n = intIn(ctx, m.get("long_poll_ms")!, `${R}.long_poll_ms`, 0, 300000); if (n !== null) r.longPollMs = n; }
      if (m.has("timeout_ms")) { const n = intIn(ctx, m.get("timeout_ms")!, `${R}.timeout_ms`, 10, 600000); if (n !== null) r.timeoutMs = n; }
      if (m.has("backoff_base_ms")) { const n = intIn(ctx, m.get("backoff_base_ms")!, `${R}.backoff_base_ms`, 1, 3_600_000); if (n !== null) r.backoffBaseMs = n; }
      if (m.has("backoff_max_ms")) { const n = intIn(ctx, m.get("backoff_max_ms")!, `${R}.backoff_max_ms`, 1, 3_600_000); if (n !== null) r.backoffMaxMs = n; }
      if (m.has("lease_ms")) { const n = intIn(ctx, m.get("lease_ms")!, `${R}.lease_ms`, 50, 600000); if (n !== null) r.leaseMs = n; }
      if (m.has("tick_ms")) { const n = intIn(ctx, m.get("tick_ms")!, `${R}.tick_ms`, 10, 60000); if (n !== null) r.tickMs = n; }
      if (m.has("cold_start")) { const e = enumOf(ctx, m.get("cold_start")!, `${R}.cold_start`, ["allow", "deny"] as const); if (e) r.coldStartDeny = e === "deny"; }
    }
  }
  if (top.has("max_rules_bytes")) {
    const n = intIn(ctx, top.get("max_rules_bytes")!, "$.max_rules_bytes", 1024, MAX_CONFIG_BYTES);
    if (n !== null) cfg.maxRulesBytes = n;
  }
  const br = top.get("blast_radius");
  if (br !== undefined) {
    const m = obj(ctx, br, "$.blast_radius", ["max_deny_fraction", "min_clients", "sample_size"]);
    if (m) {
      const f = m.get("max_deny_fraction");
      if (f !== undefined) {
        if (f.t !== "num" || !(f.v >= 0 && f.v <= 1)) ctx.schema("$.blast_radius.max_deny_fraction", "expected a number 0..1");
        else cfg.maxDenyFraction = f.v;
      }
      if (m.has("min_clients")) intIn(ctx, m.get("min_clients")!, "$.blast_radius.min_clients", 0, 1_000_000);
      if (m.has("sample_size")) intIn(ctx, m.get("sample_size")!, "$.blast_radius.sample_size", 16, 16384);
    }
  }
  let rulesCluster = "", collectorCluster = "";
  if (top.has("rules_cluster")) rulesCluster = strOf(ctx, top.get("rules_cluster")!, "$.rules_cluster", 512) ?? "";
  if (top.has("collector_cluster")) collectorCluster = strOf(ctx, top.get("collector_cluster")!, "$.collector_cluster", 512) ?? "";
  if (rulesCluster.length > 0) {
    if (cfg.rulesService.cluster.length > 0 && cfg.rulesService.cluster !== rulesCluster) ctx.schema("$.rules_cluster", "conflicts with rules_service.cluster");
    else cfg.rulesService.cluster = rulesCluster;
  }
  if (collectorCluster.length > 0) {
    if (cfg.tracing.collectorCluster.length > 0 && cfg.tracing.collectorCluster !== collectorCluster) ctx.schema("$.collector_cluster", "conflicts with tracing.collector.cluster");
    else cfg.tracing.collectorCluster = collectorCluster;
  }
  // Cross-field rules of rules_service hold for the EFFECTIVE settings (whichever way the cluster was named).
  const r = cfg.rulesService;
  const R = "$.rules_service";
  if (r.path.length === 0 || r.path[0] !== "/") ctx.schema(`${R}.path`, "must start with /");
  if (r.cluster.length > 0 && r.authority.length === 0) ctx.schema(`${R}.authority`, "must not be empty");
  if (r.backoffMaxMs < r.backoffBaseMs) ctx.schema(`${R}.backoff_max_ms`, "must be ≥ backoff_base_ms");
  if (r.cluster.length > 0 && r.timeoutMs <= r.longPollMs) ctx.schema(`${R}.timeout_ms`, "must be greater than long_poll_ms");
  if (rsGiven && r.leaseMs < 2 * r.tickMs) ctx.schema(`${R}.lease_ms`, "must be at least 2 × tick_ms");

  const rules = top.get("rules");
  if (rules !== undefined && ctx.errors.length === 0) {
    const rawLen = rawLengthOf(bytes, rules);
    if (rawLen > cfg.maxRulesBytes) ctx.err("size", "$.rules", `${rawLen} bytes > max_rules_bytes`);
    else cfg.rules = validateRulesNode(ctx, rules, "$.rules");
    // The blast-radius guard judges a valid pushed document: a whole address family denied outright
    // is rejected whatever the client sample (the sampled fraction is not modelled: the fuzz
    // configurations set max_deny_fraction 1). Pulled documents: the family applies it after the
    // version check, as the fetcher does.
    if (cfg.rules !== null) {
      const whole = wholeSpaceRejectedRef(cfg.rules);
      if (whole !== null) ctx.err("blast_radius", "$.rules", whole);
    }
  }
  return finish(ctx.errors, cfg);
}

/** Byte length of a member value's text: re-serializing is not exact, so measure from the source. */
function rawLengthOf(src: Buffer, _v: JValue): number {
  return rulesValueSpan(src)?.length ?? 0;
}

/** The exact source bytes of the top-level "rules" member value (last occurrence by decoded key). */
export function rulesValueSpan(src: Buffer): Buffer | null {
  // A small scanner: walk the top-level object, skipping values by bracket depth and strings.
  let i = 0;
  const n = src.length;
  const ws = () => { while (i < n && (src[i] === 0x20 || src[i] === 0x0a || src[i] === 0x0d || src[i] === 0x09)) i++; };
  const skipString = () => {
    i++;
    while (i < n && src[i] !== 0x22) i += src[i] === 0x5c ? 2 : 1;
    i++;
  };
  const skipValue = () => {
    ws();
    if (src[i] === 0x22) { skipString(); return; }
    if (src[i] === 0x7b || src[i] === 0x5b) {
      let depth = 0;
      while (i < n) {
        const c = src[i];
        if (c === 0x22) { skipString(); continue; }
        if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) { depth--; if (depth === 0) { i++; return; } }
        i++;
      }
      return;
    }
    while (i < n && src[i] !== 0x2c && src[i] !== 0x7d && !(src[i] === 0x20 || src[i] === 0x0a || src[i] === 0x0d || src[i] === 0x09)) i++;
  };
  ws();
  if (src[i] !== 0x7b) return null;
  i++;
  let found: Buffer | null = null;
  for (;;) {
    ws();
    if (src[i] !== 0x22) return found;
    const ks = i;
    skipString();
    const key = parseJsonRef(src.subarray(ks, i)) as JStr;
    ws();
    i++; // ':'
    ws();
    const vs = i;
    skipValue();
    if (key.v === "rules") found = src.subarray(vs, i);
    ws();
    if (src[i] === 0x2c) { i++; continue; }
    return found;
  }
}

// ------------------------------------------------------------------------------------------------
// Evaluation of an accepted rule set for one request (documented semantics, rules/access.ts header):
// most specific CIDR first (equal prefixes: the rule listed first), a rule whose condition fails
// and a "log" rule fall through to the next less specific one; deny/allow decide; nothing →
// allow (deny-list mode) or the implicit "_default" deny (allow-list mode).

export interface RefRequest {
  client: Addr | null;
  /** First value of each lower-case header name (latin1 text). */
  header(name: string): string | undefined;
  path: string | undefined;
}

export interface RefDecision {
  denied: boolean;
  ruleId: string | null;
  status: number;
  /** Two candidate entries tie in a way the documentation does not order: skip the assertion. */
  ambiguous: boolean;
}

function conditionHolds(r: RefRule, req: RefRequest): boolean {
  if (r.pathPrefix !== null) {
    if (req.path === undefined) return false;
    const p = Buffer.from(req.path, "latin1");
    if (p.length < r.pathPrefix.length || !p.subarray(0, r.pathPrefix.length).equals(r.pathPrefix)) return false;
  }
  if (r.header !== null) {
    const v = req.header(r.header.name);
    if (v === undefined) return false;
    const b = Buffer.from(v, "latin1");
    const w = r.header.value;
    if (r.header.op === "equals") return b.equals(w);
    if (r.header.op === "prefix") return b.length >= w.length && b.subarray(0, w.length).equals(w);
    return w.length === 0 || b.indexOf(w) >= 0;
  }
  return true;
}

export function evaluateRef(rules: RefRules, req: RefRequest): RefDecision {
  const allowDefault: RefDecision = { denied: false, ruleId: null, status: 0, ambiguous: false };
  const defaultDeny: RefDecision = { denied: true, ruleId: "_default", status: rules.defaultStatus, ambiguous: false };
  if (req.client === null) return rules.mode === "allow" ? defaultDeny : allowDefault;
  const chain: Array<{ len: number; rule: RefRule }> = [];
  const seen = new Set<string>();
  for (const r of rules.rules) {
    for (const c of r.cidrs) {
      if (!cidrContains(c, req.client)) continue;
      const key = `${c.len}|${r.index}`;
      if (seen.has(key)) continue;
      seen.add(key);
      chain.push({ len: c.len, rule: r });
    }
  }
  chain.sort((a, b) => b.len - a.len || a.rule.index - b.rule.index);
  for (const e of chain) {
    const r = e.rule;
    if (!conditionHolds(r, req)) continue;
    if (r.action === "log") continue;
    if (r.action === "deny") return { denied: true, ruleId: r.id, status: r.status, ambiguous: false };
    return allowDefault;
  }
  return rules.mode === "allow" ? defaultDeny : allowDefault;
}

export { parseJsonRef, JsonRefError };
export type { JArr, JObj, JStr, JValue };

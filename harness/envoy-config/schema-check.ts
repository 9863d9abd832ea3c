/**
 * Structural check of a JSON/YAML-shaped object against a protobuf message type, the way Envoy's
 * loader treats it (MessageUtil::loadFromYaml → protobuf JSON parser → PGV validate):
 *  - field names: proto name or its JSON camelCase name; anything else is an unknown field;
 *  - scalars, enums (name or number), maps, repeated fields, oneofs (at most one set);
 *  - well-known types in their JSON forms: Duration "5s", Timestamp RFC 3339, Struct/Value as free
 *    JSON, wrappers as plain scalars, Any as {"@type": "type.googleapis.com/<name>", ...fields}
 *    ({"@type", "value"} for well-known types) resolved and checked recursively; TypedStruct too;
 *  - protoc-gen-validate rules from the protos ((validate.rules), (validate.required) oneofs);
 *  - fields that will become a oneof ((udpa.annotations.field_migrate).oneof_promotion);
 *  - deprecated fields are warnings, (envoy.annotations.disallowed_by_default) ones are errors.
 *
 * The result also carries a normalized copy (canonical proto field names, Any contents expanded)
 * for the semantic checks in validate.ts, with a map back to the paths as written.
 */
import * as net from "node:net";
import protobuf from "protobufjs";
import { fullName, lookupMessageType } from "./proto-schema.js";

export interface ValidationIssue {
  /** JSON path into the checked object, e.g. `$.static_resources.clusters[0].name`. */
  path: string;
  message: string;
}

export interface SchemaCheckResult {
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** Canonical-name copy of the input (undefined where the input was unusable). */
  normalized: unknown;
  /** Path (as written in the input) of every normalized object/array, and its keys as written. */
  origin: WeakMap<object, Origin>;
}

export interface Origin {
  path: string;
  /** canonical field name → key as written */
  keys: Record<string, string>;
}

type Rules = Record<string, any>;

const MAX_DEPTH = 64;
const ANY = "google.protobuf.Any";
const TYPED_STRUCTS = new Set(["xds.type.v3.TypedStruct", "udpa.type.v1.TypedStruct"]);
const WRAPPERS = new Set([
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);
/** Types whose JSON form is not an object of fields; inside an Any they go under "value". */
const SPECIAL_JSON = new Set([
  ...WRAPPERS,
  "google.protobuf.Duration",
  "google.protobuf.Timestamp",
  "google.protobuf.FieldMask",
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
]);

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};
/** PGV rule family for each scalar type. */
const RULE_KIND: Record<string, string> = {
  double: "double", float: "float", int32: "int32", int64: "int64", uint32: "uint32", uint64: "uint64",
  sint32: "sint32", sint64: "sint64", fixed32: "fixed32", fixed64: "fixed64", sfixed32: "sfixed32",
  sfixed64: "sfixed64", bool: "bool", string: "string", bytes: "bytes",
};

export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Resolve "type.googleapis.com/<full name>" (any prefix up to the last '/') to a message type. */
export function resolveTypeUrl(url: string): protobuf.Type | undefined {
  const slash = url.lastIndexOf("/");
  if (slash < 0) return undefined;
  const name = url.slice(slash + 1);
  if (!name) return undefined;
  return lookupMessageType(name);
}

export function checkAgainstType(value: unknown, typeName: string, rootPath = "$"): SchemaCheckResult {
  const type = lookupMessageType(typeName);
  if (!type) throw new Error(`unknown message type ${typeName}`);
  const checker = new SchemaChecker();
  const normalized = checker.message(value, type, rootPath, 0);
  return { errors: checker.errors, warnings: checker.warnings, normalized, origin: checker.origin };
}

class SchemaChecker {
  readonly errors: ValidationIssue[] = [];
  readonly warnings: ValidationIssue[] = [];
  readonly origin = new WeakMap<object, Origin>();
  private readonly jsonNames = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

  private err(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  private warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }

  private fieldByKey(type: protobuf.Type, key: string): protobuf.Field | undefined {
    const byName = type.fields[key];
    if (byName) return byName;
    let m = this.jsonNames.get(type);
    if (!m) {
      m = new Map();
      for (const f of type.fieldsArray) m.set(f.jsonName ?? lowerCamel(f.name), f);
      this.jsonNames.set(type, m);
    }
    return m.get(key);
  }

  // -- messages -------------------------------------------------------------------------------

  message(value: unknown, type: protobuf.Type, path: string, depth: number): unknown {
    if (depth > MAX_DEPTH) {
      this.err(path, `nesting deeper than ${MAX_DEPTH} levels`);
      return undefined;
    }
    const name = fullName(type);
    if (name === ANY) return this.any(value, path, depth);
    if (SPECIAL_JSON.has(name)) return this.specialJson(value, name, type, path);
    if (!isPlainObject(value)) {
      this.err(path, `expected an object (${name}), got ${describe(value)}`);
      return undefined;
    }
    const out: Record<string, unknown> = {};
    const origin: Origin = { path, keys: {} };
    this.origin.set(out, origin);
    const present = new Set<string>();
    for (const [key, raw] of Object.entries(value)) {
      const childPath = joinPath(path, key);
      const field = this.fieldByKey(type, key);
      if (!field) {
        this.err(childPath, `unknown field "${key}" in ${name}${suggest(type, key)}`);
        continue;
      }
      if (origin.keys[field.name] !== undefined) {
        this.err(childPath, `field ${field.name} is set twice (as "${origin.keys[field.name]}" and "${key}")`);
        continue;
      }
      origin.keys[field.name] = key;
      // Protobuf JSON: null means "not set".
      if (raw === null) continue;
      present.add(field.name);
      this.fieldAnnotations(field, childPath);
      out[field.name] = this.field(raw, field, childPath, depth);
    }
    this.oneofs(type, value, origin, present, path);
    for (const field of type.fieldsArray) this.fieldRules(field, out, present, joinPath(path, origin.keys[field.name] ?? field.name));
    return out;
  }

  private fieldAnnotations(field: protobuf.Field, path: string): void {
    const opts = field.options ?? {};
    if (opts["(envoy.annotations.disallowed_by_default)"] === true) {
      this.err(path, `${field.name} is disallowed by default in Envoy (deprecated and removed)`);
    } else if (opts.deprecated === true) {
      this.warn(path, `${field.name} is deprecated`);
    }
  }

  private oneofs(type: protobuf.Type, raw: Record<string, unknown>, origin: Origin, present: Set<string>, path: string): void {
    const groups = new Map<string, { members: string[]; required: boolean }>();
    const realMembers = new Set<string>();
    for (const oneof of type.oneofsArray) {
      // proto3 `optional` synthesizes a one-member oneof named _<field>; it constrains nothing.
      if (oneof.oneof.length === 1 && oneof.name === `_${oneof.oneof[0]}`) continue;
      groups.set(oneof.name, { members: [...oneof.oneof], required: oneof.options?.["(validate.required)"] === true });
      for (const m of oneof.oneof) realMembers.add(m);
    }
    // (udpa.annotations.field_migrate).oneof_promotion: plain fields that will join a oneof.
    for (const f of type.fieldsArray) {
      const promo = f.options?.["(udpa.annotations.field_migrate).oneof_promotion"];
      if (typeof promo !== "string") continue;
      const g = groups.get(promo) ?? { members: [], required: false };
      if (!g.members.includes(f.name)) g.members.push(f.name);
      groups.set(promo, g);
    }
    for (const [name, g] of groups) {
      // A oneof member written explicitly is set even at its default (`port_value: 0` selects the
      // port_value case); a plain field awaiting promotion counts only with a non-default value.
      const set = g.members.filter((m) => present.has(m) && (realMembers.has(m) || !isProtoDefault(raw[origin.keys[m]!], type.fields[m]!)));
      if (set.length > 1) {
        this.err(path, `oneof ${name}: at most one of [${g.members.join(", ")}] may be set, got ${set.join(", ")}`);
      } else if (set.length === 0 && g.required) {
        this.err(path, `oneof ${name}: exactly one of [${g.members.join(", ")}] is required`);
      }
    }
  }

  // -- fields ---------------------------------------------------------------------------------

  private field(raw: unknown, field: protobuf.Field, path: string, depth: number): unknown {
    if (field instanceof protobuf.MapField || (field as { map?: boolean }).map) {
      const mf = field as unknown as protobuf.MapField;
      if (!isPlainObject(raw)) {
        this.err(path, `expected an object (map<${mf.keyType}, ${mf.type}>), got ${describe(raw)}`);
        return undefined;
      }
      const out: Record<string, unknown> = {};
      this.origin.set(out, { path, keys: Object.fromEntries(Object.keys(raw).map((k) => [k, k])) });
      for (const [k, v] of Object.entries(raw)) {
        const p = joinPath(path, k);
        this.mapKey(k, mf.keyType, p);
        out[k] = this.single(v, field, p, depth + 1);
      }
      return out;
    }
    if (field.repeated) {
      if (!Array.isArray(raw)) {
        this.err(path, `expected an array (repeated ${field.type}), got ${describe(raw)}`);
        return undefined;
      }
      const out = raw.map((item, i) => this.single(item, field, joinPath(path, i), depth + 1));
      this.origin.set(out, { path, keys: {} });
      return out;
    }
    return this.single(raw, field, path, depth + 1);
  }

  private mapKey(key: string, keyType: string, path: string): void {
    if (keyType === "string") return;
    if (keyType === "bool") {
      if (key !== "true" && key !== "false") this.err(path, `map key must be "true" or "false", got ${JSON.stringify(key)}`);
      return;
    }
    this.integer(key, keyType, path);
  }

  private single(raw: unknown, field: protobuf.Field, path: string, depth: number): unknown {
    if (raw === null) {
      this.err(path, `null is not allowed here (${field.type})`);
      return undefined;
    }
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) return this.message(raw, rt, path, depth);
    if (rt instanceof protobuf.Enum) return this.enumValue(raw, rt, path);
    return this.scalar(raw, field.type, path);
  }

  private enumValue(raw: unknown, e: protobuf.Enum, path: string): unknown {
    if (typeof raw === "string") {
      if (!(raw in e.values)) {
        this.err(path, `invalid value ${JSON.stringify(raw)} for enum ${fullName(e)}; expected one of ${Object.keys(e.values).join(", ")}`);
        return undefined;
      }
      return raw;
    }
    if (typeof raw === "number" && Number.isInteger(raw)) return raw;
    this.err(path, `expected an enum name or number (${fullName(e)}), got ${describe(raw)}`);
    return undefined;
  }

  private scalar(raw: unknown, type: string, path: string): unknown {
    switch (type) {
      case "string":
        if (typeof raw !== "string") {
          this.err(path, `expected a string, got ${describe(raw)}`);
          return undefined;
        }
        return raw;
      case "bool":
        if (typeof raw !== "boolean") {
          this.err(path, `expected true or false, got ${describe(raw)}`);
          return undefined;
        }
        return raw;
      case "double":
      case "float":
        if (typeof raw === "number") return raw;
        if (typeof raw === "string" && (raw === "NaN" || raw === "Infinity" || raw === "-Infinity" || (raw.trim() !== "" && Number.isFinite(Number(raw))))) return Number(raw);
        this.err(path, `expected a number, got ${describe(raw)}`);
        return undefined;
      case "bytes":
        if (typeof raw !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(raw)) {
          this.err(path, `expected base64 bytes, got ${describe(raw)}`);
          return undefined;
        }
        return raw;
      default:
        if (type in INT_RANGES) return this.integer(raw, type, path);
        this.err(path, `unsupported scalar type ${type}`);
        return undefined;
    }
  }

  private integer(raw: unknown, type: string, path: string): number | undefined {
    let v: bigint;
    if (typeof raw === "number" && Number.isInteger(raw)) v = BigInt(raw);
    else if (typeof raw === "string" && /^-?\d+$/.test(raw.trim())) v = BigInt(raw.trim());
    else {
      this.err(path, `expected an integer (${type}), got ${describe(raw)}`);
      return undefined;
    }
    const [lo, hi] = INT_RANGES[type]!;
    if (v < lo || v > hi) {
      this.err(path, `${v} is out of range for ${type} [${lo}, ${hi}]`);
      return undefined;
    }
    return Number(v);
  }

  // -- well-known types -----------------------------------------------------------------------

  private specialJson(value: unknown, name: string, type: protobuf.Type, path: string): unknown {
    if (WRAPPERS.has(name)) return this.scalar(value, type.fields.value!.type, path);
    switch (name) {
      case "google.protobuf.Duration":
        if (typeof value !== "string" || parseDurationNanos(value) === undefined) {
          this.err(path, `expected a duration string like "5s" or "0.25s", got ${describe(value)}`);
          return undefined;
        }
        return value;
      case "google.protobuf.Timestamp":
        if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
          this.err(path, `expected an RFC 3339 timestamp, got ${describe(value)}`);
          return undefined;
        }
        return value;
      case "google.protobuf.FieldMask":
        if (typeof value !== "string") {
          this.err(path, `expected a field mask string, got ${describe(value)}`);
          return undefined;
        }
        return value;
      case "google.protobuf.Struct":
        if (!isPlainObject(value)) {
          this.err(path, `expected an object (Struct), got ${describe(value)}`);
          return undefined;
        }
        return value;
      case "google.protobuf.ListValue":
        if (!Array.isArray(value)) {
          this.err(path, `expected an array (ListValue), got ${describe(value)}`);
          return undefined;
        }
        return value;
      default: // google.protobuf.Value: any JSON
        return value;
    }
  }

  private any(value: unknown, path: string, depth: number): unknown {
    if (!isPlainObject(value)) {
      this.err(path, `expected an object with "@type" (google.protobuf.Any), got ${describe(value)}`);
      return undefined;
    }
    const url = value["@type"];
    const typePath = joinPath(path, "@type");
    if (typeof url !== "string" || url === "") {
      this.err(typePath, `Any is missing its "@type"`);
      return undefined;
    }
    const t = resolveTypeUrl(url);
    if (!t) {
      this.err(typePath, `@type ${JSON.stringify(url)} does not resolve to a message in Envoy's v3 API protos`);
      return undefined;
    }
    const name = fullName(t);
    const rest: Record<string, unknown> = { ...value };
    delete rest["@type"];
    let inner: unknown;
    if (SPECIAL_JSON.has(name)) {
      for (const k of Object.keys(rest)) if (k !== "value") this.err(joinPath(path, k), `unknown field "${k}" in Any holding ${name} (expected only "value")`);
      if (!("value" in rest)) {
        this.err(path, `Any holding ${name} needs a "value"`);
        return undefined;
      }
      inner = { value: this.message(rest.value, t, joinPath(path, "value"), depth + 1) };
    } else {
      const checked = this.message(rest, t, path, depth + 1);
      if (!isPlainObject(checked)) return undefined;
      inner = checked;
      if (TYPED_STRUCTS.has(name)) this.typedStruct(checked, path, depth);
    }
    const out = { "@type": url, ...(inner as Record<string, unknown>) };
    const prev = isPlainObject(inner) ? this.origin.get(inner) : undefined;
    this.origin.set(out, { path, keys: { "@type": "@type", ...(prev?.keys ?? { value: "value" }) } });
    return out;
  }

  /** TypedStruct {type_url, value: Struct}: check value as the named type (Envoy converts it). */
  private typedStruct(ts: Record<string, unknown>, path: string, depth: number): void {
    const url = ts.type_url;
    if (typeof url !== "string" || url === "") return;
    const t = resolveTypeUrl(url);
    const o = this.origin.get(ts);
    if (!t) {
      this.err(joinPath(path, o?.keys.type_url ?? "type_url"), `type_url ${JSON.stringify(url)} does not resolve to a message in Envoy's v3 API protos`);
      return;
    }
    ts.value = this.message(ts.value ?? {}, t, joinPath(path, o?.keys.value ?? "value"), depth + 1);
  }

  // -- protoc-gen-validate --------------------------------------------------------------------

  private fieldRules(field: protobuf.Field, out: Record<string, unknown>, present: Set<string>, path: string): void {
    const rules = pgvRules(field);
    const isMessage = field.resolvedType instanceof protobuf.Type;
    const isSet = present.has(field.name);
    const inOneof = field.partOf !== null && field.partOf !== undefined;
    if (!rules) return;
    // PGV checks a oneof member only when that case is the one set.
    if (inOneof && !isSet) return;
    const value = out[field.name];

    if (field.repeated || (field as { map?: boolean }).map) {
      const kindRules = (field as { map?: boolean }).map ? rules.map : rules.repeated;
      if (!kindRules) return;
      if (!isSet && kindRules.ignore_empty) return;
      if ((field as { map?: boolean }).map) {
        const obj = isPlainObject(value) ? value : {};
        const n = Object.keys(obj).length;
        if (kindRules.min_pairs !== undefined && n < Number(kindRules.min_pairs)) this.err(path, `needs at least ${kindRules.min_pairs} entries, got ${n}`);
        if (kindRules.max_pairs !== undefined && n > Number(kindRules.max_pairs)) this.err(path, `allows at most ${kindRules.max_pairs} entries, got ${n}`);
        for (const [k, v] of Object.entries(obj)) {
          if (kindRules.keys) this.applyRules(kindRules.keys, "string", k, joinPath(path, k));
          if (kindRules.values && v !== undefined) this.applyItemRules(kindRules.values, field, v, joinPath(path, k));
        }
        return;
      }
      const arr = Array.isArray(value) ? value : [];
      if (kindRules.min_items !== undefined && arr.length < Number(kindRules.min_items)) {
        this.err(path, `needs at least ${kindRules.min_items} item(s), got ${arr.length}`);
      }
      if (kindRules.max_items !== undefined && arr.length > Number(kindRules.max_items)) {
        this.err(path, `allows at most ${kindRules.max_items} items, got ${arr.length}`);
      }
      if (kindRules.unique) {
        const seen = new Set<string>();
        arr.forEach((v, i) => {
          const key = JSON.stringify(v);
          if (seen.has(key)) this.err(joinPath(path, i), `duplicate item ${key} (items must be unique)`);
          seen.add(key);
        });
      }
      if (kindRules.items) arr.forEach((v, i) => v !== undefined && this.applyItemRules(kindRules.items, field, v, joinPath(path, i)));
      return;
    }

    if (isMessage) {
      const family = messageRuleFamily(field);
      const r = family ? rules[family] : undefined;
      // `required` may sit under any family: message, any, duration, timestamp (ExtensionConfigSource
      // puts `any.required` on a plain message field).
      const required = Object.values(rules).some((x) => isPlainObject(x) && x.required === true);
      if (required && !isSet) {
        this.err(path, `${field.name} is required`);
        return;
      }
      if (isSet && value !== undefined && r && family !== "message") this.applyRules(r, family!, value, path);
      return;
    }

    // Scalars and enums: PGV checks proto3 scalars even when unset (their default value).
    const kind = field.resolvedType instanceof protobuf.Enum ? "enum" : RULE_KIND[field.type];
    if (!kind || !rules[kind]) return;
    const v = isSet ? value : defaultFor(field);
    if (v === undefined) return;
    this.applyRules(rules[kind], kind, v, path, field.resolvedType instanceof protobuf.Enum ? field.resolvedType : undefined);
  }

  private applyItemRules(itemRules: Rules, field: protobuf.Field, v: unknown, path: string): void {
    if (itemRules.message?.required && v === undefined) this.err(path, `item is required`);
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Enum) {
      if (itemRules.enum) this.applyRules(itemRules.enum, "enum", v, path, rt);
      return;
    }
    if (rt instanceof protobuf.Type) {
      const family = messageRuleFamily(field);
      if (family && family !== "message" && itemRules[family]) this.applyRules(itemRules[family], family, v, path);
      return;
    }
    const kind = RULE_KIND[field.type];
    if (kind && itemRules[kind]) this.applyRules(itemRules[kind], kind, v, path);
  }

  private applyRules(r: Rules, kind: string, v: unknown, path: string, enumType?: protobuf.Enum): void {
    if (r.ignore_empty && (v === "" || v === 0 || v === false)) return;
    switch (kind) {
      case "string":
        if (typeof v === "string") this.stringRules(r, v, path);
        return;
      case "bytes":
        if (typeof v === "string") {
          const n = Buffer.from(v, "base64").length;
          if (r.min_len !== undefined && n < Number(r.min_len)) this.err(path, `needs at least ${r.min_len} bytes`);
          if (r.max_len !== undefined && n > Number(r.max_len)) this.err(path, `allows at most ${r.max_len} bytes`);
        }
        return;
      case "bool":
        if (r.const !== undefined && v !== r.const) this.err(path, `must be ${r.const}`);
        return;
      case "enum": {
        const num = typeof v === "string" && enumType ? enumType.values[v] : (v as number);
        if (r.defined_only && enumType && typeof num === "number" && !Object.values(enumType.values).includes(num)) {
          this.err(path, `${num} is not a defined value of ${fullName(enumType)}`);
        }
        if (r.const !== undefined && num !== Number(r.const)) this.err(path, `must be ${r.const}`);
        if (Array.isArray(r.in) && !r.in.map(Number).includes(num)) this.err(path, `must be one of ${r.in.join(", ")}`);
        if (r.not_in !== undefined && toArray(r.not_in).map(Number).includes(num as number)) this.err(path, `must not be ${String(v)}`);
        return;
      }
      case "duration": {
        const ns = typeof v === "string" ? parseDurationNanos(v) : undefined;
        if (ns === undefined) return;
        const cmp = (bound: unknown): bigint => durationRuleNanos(bound);
        if (r.lt !== undefined && !(ns < cmp(r.lt))) this.err(path, `duration must be < ${fmtDurationRule(r.lt)}`);
        if (r.lte !== undefined && !(ns <= cmp(r.lte))) this.err(path, `duration must be ≤ ${fmtDurationRule(r.lte)}`);
        if (r.gt !== undefined && !(ns > cmp(r.gt))) this.err(path, `duration must be > ${fmtDurationRule(r.gt)}`);
        if (r.gte !== undefined && !(ns >= cmp(r.gte))) this.err(path, `duration must be ≥ ${fmtDurationRule(r.gte)}`);
        if (r.const !== undefined && ns !== cmp(r.const)) this.err(path, `duration must be ${fmtDurationRule(r.const)}`);
        return;
      }
      case "any": {
        const url = isPlainObject(v) ? v["@type"] : undefined;
        if (Array.isArray(r.in) && typeof url === "string" && !r.in.includes(url)) this.err(path, `@type must be one of ${r.in.join(", ")}`);
        if (Array.isArray(r.not_in) && typeof url === "string" && r.not_in.includes(url)) this.err(path, `@type ${url} is not allowed here`);
        return;
      }
      default: {
        if (typeof v !== "number") return;
        const b = (x: unknown): number => Number(x);
        if (r.const !== undefined && v !== b(r.const)) this.err(path, `must be ${r.const}, got ${v}`);
        if (r.lt !== undefined && !(v < b(r.lt))) this.err(path, `must be < ${r.lt}, got ${v}`);
        if (r.lte !== undefined && !(v <= b(r.lte))) this.err(path, `must be ≤ ${r.lte}, got ${v}`);
        if (r.gt !== undefined && !(v > b(r.gt))) this.err(path, `must be > ${r.gt}, got ${v}`);
        if (r.gte !== undefined && !(v >= b(r.gte))) this.err(path, `must be ≥ ${r.gte}, got ${v}`);
        if (r.in !== undefined && !toArray(r.in).map(b).includes(v)) this.err(path, `must be one of ${toArray(r.in).join(", ")}, got ${v}`);
        if (r.not_in !== undefined && toArray(r.not_in).map(b).includes(v)) this.err(path, `must not be ${v}`);
      }
    }
  }

  private stringRules(r: Rules, v: string, path: string): void {
    const chars = [...v].length;
    const bytes = Buffer.byteLength(v, "utf8");
    if (r.const !== undefined && v !== r.const) this.err(path, `must be ${JSON.stringify(r.const)}`);
    if (r.len !== undefined && chars !== Number(r.len)) this.err(path, `must be exactly ${r.len} characters`);
    if (r.min_len !== undefined && chars < Number(r.min_len)) this.err(path, `must be at least ${r.min_len} character(s) long, got ${chars}`);
    if (r.max_len !== undefined && chars > Number(r.max_len)) this.err(path, `must be at most ${r.max_len} characters long, got ${chars}`);
    if (r.min_bytes !== undefined && bytes < Number(r.min_bytes)) this.err(path, `must be at least ${r.min_bytes} bytes`);
    if (r.max_bytes !== undefined && bytes > Number(r.max_bytes)) this.err(path, `must be at most ${r.max_bytes} bytes, got ${bytes}`);
    if (r.prefix !== undefined && !v.startsWith(r.prefix)) this.err(path, `must start with ${JSON.stringify(r.prefix)}`);
    if (r.suffix !== undefined && !v.endsWith(r.suffix)) this.err(path, `must end with ${JSON.stringify(r.suffix)}`);
    if (r.contains !== undefined && !v.includes(r.contains)) this.err(path, `must contain ${JSON.stringify(r.contains)}`);
    if (r.in !== undefined && !toArray(r.in).includes(v)) this.err(path, `must be one of ${toArray(r.in).map((x) => JSON.stringify(x)).join(", ")}`);
    if (r.not_in !== undefined && toArray(r.not_in).includes(v)) this.err(path, `must not be ${JSON.stringify(v)}`);
    if (r.pattern !== undefined) {
      let re: RegExp | undefined;
      try {
        re = new RegExp(r.pattern, "u");
      } catch {
        re = undefined; // RE2 syntax JS cannot compile: skip rather than guess
      }
      if (re && !re.test(v)) this.err(path, `must match ${r.pattern}`);
    }
    if (r.well_known_regex === "HTTP_HEADER_NAME" || r.well_known_regex === "HTTP_HEADER_VALUE") {
      // strict: false (every use in Envoy's API) only forbids NUL, CR and LF.
      if (/[\0\r\n]/.test(v)) this.err(path, `must not contain NUL, CR or LF (${r.well_known_regex})`);
    }
    if (r.ip && v !== "" && net.isIP(v) === 0) this.err(path, `must be an IP address`);
    if (r.ipv4 && v !== "" && !net.isIPv4(v)) this.err(path, `must be an IPv4 address`);
    if (r.ipv6 && v !== "" && !net.isIPv6(v)) this.err(path, `must be an IPv6 address`);
  }
}

// -- helpers --------------------------------------------------------------------------------------

/** Merged (validate.rules) of a field, from protobufjs's parsedOptions. */
function pgvRules(field: protobuf.Field): Rules | undefined {
  const parsed = (field as { parsedOptions?: Array<Record<string, unknown>> | null }).parsedOptions;
  if (!parsed) return undefined;
  let merged: Rules | undefined;
  for (const entry of parsed) {
    const r = entry["(validate.rules)"];
    if (isPlainObject(r)) merged = deepMerge(merged ?? {}, r);
  }
  return merged;
}

function deepMerge(a: Rules, b: Rules): Rules {
  const out: Rules = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k], v) : v;
  return out;
}

function messageRuleFamily(field: protobuf.Field): string | undefined {
  const rt = field.resolvedType;
  if (!(rt instanceof protobuf.Type)) return undefined;
  const name = fullName(rt);
  if (name === ANY) return "any";
  if (name === "google.protobuf.Duration") return "duration";
  if (name === "google.protobuf.Timestamp") return "timestamp";
  if (WRAPPERS.has(name)) return RULE_KIND[rt.fields.value!.type];
  return "message";
}

function defaultFor(field: protobuf.Field): unknown {
  if (field.resolvedType instanceof protobuf.Enum) return 0;
  switch (field.type) {
    case "string":
      return "";
    case "bool":
      return false;
    case "bytes":
      return "";
    default:
      return field.type in INT_RANGES || field.type === "double" || field.type === "float" ? 0 : undefined;
  }
}

function isProtoDefault(raw: unknown, field: protobuf.Field): boolean {
  if (field.repeated || field.resolvedType instanceof protobuf.Type) return false;
  if (field.resolvedType instanceof protobuf.Enum) return raw === 0 || raw === Object.keys(field.resolvedType.values)[0];
  return raw === "" || raw === 0 || raw === false || raw === "0";
}

function toArray(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [x];
}

function lowerCamel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** "5s", "-0.25s", "1.000000001s" → nanoseconds; undefined when not a valid JSON Duration. */
export function parseDurationNanos(s: string): bigint | undefined {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(s);
  if (!m) return undefined;
  const secs = BigInt(m[2]!);
  if (secs > 315576000000n) return undefined;
  const nanos = BigInt((m[3] ?? "").padEnd(9, "0") || "0");
  const total = secs * 1_000_000_000n + nanos;
  return m[1] ? -total : total;
}

function durationRuleNanos(bound: unknown): bigint {
  const b = isPlainObject(bound) ? bound : {};
  return BigInt(Number(b.seconds ?? 0)) * 1_000_000_000n + BigInt(Number(b.nanos ?? 0));
}

function fmtDurationRule(bound: unknown): string {
  const ns = durationRuleNanos(bound);
  return `${Number(ns) / 1e9}s`;
}

/** Fields newer Envoy versions have and this API snapshot (pre-1.33, like the pinned image) lacks. */
const NEWER_ENVOY_FIELDS: Record<string, string> = {
  "envoy.extensions.wasm.v3.PluginConfig.failure_policy": "failure_policy needs Envoy 1.33+; use fail_open on 1.30–1.32",
  "envoy.extensions.wasm.v3.PluginConfig.reload_config": "reload_config needs Envoy 1.33+",
  "envoy.extensions.wasm.v3.PluginConfig.allow_on_headers_stop_iteration": "allow_on_headers_stop_iteration needs Envoy 1.35+",
};

/** " (did you mean …?)" for a near-miss field name. */
function suggest(type: protobuf.Type, key: string): string {
  const newer = NEWER_ENVOY_FIELDS[`${fullName(type)}.${key}`];
  if (newer) return ` (${newer})`;
  const want = key.toLowerCase().replace(/[_-]/g, "");
  const hit = type.fieldsArray.find((f) => f.name.replace(/_/g, "") === want);
  if (hit) return ` (did you mean "${hit.name}"?)`;
  const names = type.fieldsArray.map((f) => f.name);
  const close = names.filter((n) => editDistance(n, key) <= 2);
  return close.length ? ` (did you mean "${close[0]}"?)` : "";
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length]![b.length]!;
}

/**
 * Decode OTLP/HTTP JSON export bodies with the OFFICIAL OTLP protobuf schema
 * (opentelemetry-proto, compiled to a protobufjs static module and shipped by
 * @opentelemetry/otlp-transformer up to 0.212.x as build/src/generated/root.js; later releases
 * replaced it by a hand-written serializer and no longer carry the schema).
 *
 * Decoding is strict: the JSON (with the OTLP JSON mapping: hex ids, integer enums, string int64)
 * is converted to protobuf messages with `fromObject`, encoded to the protobuf wire format, decoded
 * back and turned into JSON again; every key and value of the original must survive the round
 * trip. A misspelled field, a wrong type, a bad id length or an invalid enum fails the decode.
 *
 * EDGEWATCH_OTLP_PROTO_ROOT may point at another copy of that generated root module.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

type ProtoType = {
  verify(o: unknown): string | null;
  fromObject(o: unknown): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, opts: Record<string, unknown>): any;
};

let cached: ProtoType | null = null;

/** The ExportTraceServiceRequest type of the official schema. */
export function exportTraceServiceRequestType(): ProtoType {
  if (cached) return cached;
  const candidates = [
    process.env.EDGEWATCH_OTLP_PROTO_ROOT,
    "@opentelemetry/otlp-transformer/build/src/generated/root.js",
  ].filter((x): x is string => !!x);
  const errors: string[] = [];
  for (const c of candidates) {
    try {
      const root = require(c);
      const t = root?.opentelemetry?.proto?.collector?.trace?.v1?.ExportTraceServiceRequest;
      if (t?.fromObject && t?.toObject) {
        cached = t as ProtoType;
        return cached;
      }
      errors.push(`${c}: no ExportTraceServiceRequest with fromObject/toObject`);
    } catch (e) {
      errors.push(`${c}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  throw new Error(
    "official OTLP protobuf schema not found — install @opentelemetry/otlp-transformer@0.212.0 " +
      "(its build/src/generated/root.js is opentelemetry-proto compiled by pbjs), or set " +
      `EDGEWATCH_OTLP_PROTO_ROOT. Tried: ${errors.join("; ")}`,
  );
}

const ID_FIELDS = new Set(["traceId", "spanId", "parentSpanId"]);
const ID_LEN: Record<string, number> = { traceId: 16, spanId: 8, parentSpanId: 8 };

/** OTLP JSON → protobufjs object form: hex ids become bytes (OTLP JSON deviates from proto3 JSON here). */
function hexIdsToBytes(v: unknown, key = ""): unknown {
  if (Array.isArray(v)) return v.map((x) => hexIdsToBytes(x));
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = hexIdsToBytes(x, k);
    return out;
  }
  if (ID_FIELDS.has(key)) {
    if (typeof v !== "string" || !/^[0-9a-f]*$/.test(v) || (v.length !== 0 && v.length !== ID_LEN[key] * 2)) {
      throw new Error(`${key}: not a ${ID_LEN[key]}-byte lowercase hex id: ${JSON.stringify(v)}`);
    }
    return Buffer.from(v, "hex");
  }
  return v;
}

function bytesToHexIds(v: unknown, key = ""): unknown {
  if (Array.isArray(v)) return v.map((x) => bytesToHexIds(x));
  if (ID_FIELDS.has(key) && typeof v === "string") return Buffer.from(v, "base64").toString("hex");
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = bytesToHexIds(x, k);
    return out;
  }
  return v;
}

/** Every key/value of `orig` must be present and equal in `back` (back may add nothing we check). */
function assertSubset(orig: unknown, back: unknown, path: string): void {
  if (Array.isArray(orig)) {
    if (!Array.isArray(back) || back.length !== orig.length) throw new Error(`${path}: array lost in the schema round trip`);
    orig.forEach((x, i) => assertSubset(x, back[i], `${path}[${i}]`));
    return;
  }
  if (orig && typeof orig === "object") {
    if (!back || typeof back !== "object") throw new Error(`${path}: object lost in the schema round trip`);
    for (const [k, x] of Object.entries(orig)) {
      const b = (back as Record<string, unknown>)[k];
      // proto3: default values (0, "", empty) are not encoded and come back absent
      const isDefault = x === 0 || x === "" || x === "0" || x === false;
      if (b === undefined && isDefault) continue;
      if (b === undefined) throw new Error(`${path}.${k}: not a field of the OTLP schema (dropped by the round trip)`);
      assertSubset(x, b, `${path}.${k}`);
    }
    return;
  }
  if (String(orig) !== String(back)) throw new Error(`${path}: ${JSON.stringify(orig)} came back as ${JSON.stringify(back)}`);
}

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, string | number | boolean>;
  statusCode: number;
  serviceName: string;
  scopeName: string;
}

/** Decode an export body with the official schema; throws on anything the schema rejects. */
export function decodeExportJson(body: string | Uint8Array): { message: any; spans: DecodedSpan[] } {
  const T = exportTraceServiceRequestType();
  const json = JSON.parse(typeof body === "string" ? body : Buffer.from(body).toString("utf8"));
  const obj = hexIdsToBytes(json);
  // fromObject accepts the JSON-mapping spellings (decimal-string int64, enum numbers); verify then
  // checks the resulting message's types.
  const msg = T.fromObject(obj);
  const err = T.verify(msg);
  if (err) throw new Error(`OTLP schema: ${err}`);
  const wire = T.encode(msg).finish();
  const decoded = T.decode(wire);
  const back = bytesToHexIds(T.toObject(decoded, { longs: String, enums: Number, bytes: String, defaults: false }));
  assertSubset(json, back, "ExportTraceServiceRequest");
  const full = T.toObject(decoded, { longs: String, enums: Number, bytes: String, defaults: true });
  const spans: DecodedSpan[] = [];
  for (const rs of full.resourceSpans ?? []) {
    const svcAttr = (rs.resource?.attributes ?? []).find((a: any) => a.key === "service.name");
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const attributes: Record<string, string | number | boolean> = {};
        for (const a of s.attributes ?? []) {
          const v = a.value ?? {};
          if (v.stringValue !== undefined && v.stringValue !== "") attributes[a.key] = v.stringValue;
          else if (v.intValue !== undefined && v.intValue !== "0") attributes[a.key] = Number(v.intValue);
          else if (v.boolValue !== undefined) attributes[a.key] = v.boolValue;
          else attributes[a.key] = v.stringValue ?? Number(v.intValue ?? 0);
        }
        spans.push({
          traceId: Buffer.from(s.traceId, "base64").toString("hex"),
          spanId: Buffer.from(s.spanId, "base64").toString("hex"),
          parentSpanId: Buffer.from(s.parentSpanId ?? "", "base64").toString("hex"),
          traceState: s.traceState ?? "",
          flags: s.flags ?? 0,
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: BigInt(s.startTimeUnixNano),
          endTimeUnixNano: BigInt(s.endTimeUnixNano),
          attributes,
          statusCode: s.status?.code ?? 0,
          serviceName: svcAttr?.value?.stringValue ?? "",
          scopeName: ss.scope?.name ?? "",
        });
      }
    }
  }
  return { message: full, spans };
}

// OTLP/HTTP JSON encoding of an ExportTraceServiceRequest (opentelemetry-proto
// collector/trace/v1, JSON mapping per the OTLP specification "JSON Protobuf Encoding"):
//   - traceId / spanId / parentSpanId are lowercase hex strings (not base64);
//   - enums are integers (kind 2 = SPAN_KIND_SERVER; status code 2 = STATUS_CODE_ERROR);
//   - 64-bit integers (…UnixNano, intValue) are decimal strings; field names are lowerCamelCase.
// One resourceSpans (service.name) → one scopeSpans (scope "edgewatch") → the batch's spans.
// Written into a reusable ByteWriter with pre-encoded fragments: no string concatenation.
import { ByteWriter } from "./byte-writer";
import {
  SpanStore, SAMPLE_REASON_NAMES, SPAN_DECISION_NAMES,
  recTraceHi, recTraceLo, recSpanId, recParentId, recStart, recEnd, recStatus, recFlags, recReason,
  recMethod, recLocal, recDecision, recRoute, recRouteLen, recClient, recClientLen, recRule, recRuleLen,
  recTracestate, recTracestateLen,
} from "./span-store";
import { METHOD_SEMCONV, METHOD_OTHER } from "../telemetry/labels";

export const SCOPE_NAME = "edgewatch";
export const SCOPE_VERSION = "0.1.0";
/** Span.flags bits 8/9 (proto 1.1+): "has is_remote" and "is_remote" of the parent context. */
const FLAG_HAS_IS_REMOTE: u32 = 0x100;
const FLAG_IS_REMOTE: u32 = 0x200;

// @ts-ignore: decorator
@lazy const F_OPEN_RESOURCE = utf8('{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"');
// @ts-ignore: decorator
@lazy const F_OPEN_SCOPE = utf8('"}}]},"scopeSpans":[{"scope":{"name":"' + SCOPE_NAME + '","version":"' + SCOPE_VERSION + '"},"spans":[');
// @ts-ignore: decorator
@lazy const F_CLOSE = utf8("]}]}]}");
// @ts-ignore: decorator
@lazy const F_TRACE_ID = utf8('{"traceId":"');
// @ts-ignore: decorator
@lazy const F_SPAN_ID = utf8('","spanId":"');
// @ts-ignore: decorator
@lazy const F_PARENT = utf8('","parentSpanId":"');
// @ts-ignore: decorator
@lazy const F_TRACESTATE = utf8('","traceState":"');
// @ts-ignore: decorator
@lazy const F_FLAGS = utf8('","flags":');
// @ts-ignore: decorator
@lazy const F_NAME = utf8(',"name":"');
// @ts-ignore: decorator
@lazy const F_KIND_START = utf8('","kind":2,"startTimeUnixNano":"');
// @ts-ignore: decorator
@lazy const F_END = utf8('","endTimeUnixNano":"');
// @ts-ignore: decorator
@lazy const F_ATTRS = utf8('","attributes":[');
// @ts-ignore: decorator
@lazy const F_ATTR_CLOSE = utf8('"}}');
// @ts-ignore: decorator
@lazy const F_STATUS_ERROR = utf8('],"status":{"code":2}}');
// @ts-ignore: decorator
@lazy const F_STATUS_UNSET = utf8('],"status":{}}');
// @ts-ignore: decorator
@lazy const K_METHOD = utf8('{"key":"http.request.method","value":{"stringValue":"');
// @ts-ignore: decorator
@lazy const K_ROUTE = utf8('{"key":"http.route","value":{"stringValue":"');
// @ts-ignore: decorator
@lazy const K_STATUS = utf8('{"key":"http.response.status_code","value":{"intValue":"');
// @ts-ignore: decorator
@lazy const K_CLIENT = utf8('{"key":"client.address","value":{"stringValue":"');
// @ts-ignore: decorator
@lazy const K_DECISION = utf8('{"key":"edgewatch.rule.decision","value":{"stringValue":"');
// @ts-ignore: decorator
@lazy const K_RULE = utf8('{"key":"edgewatch.rule.id","value":{"stringValue":"');
// @ts-ignore: decorator
@lazy const K_SOURCE = utf8('{"key":"edgewatch.response.source","value":{"stringValue":"');
// @ts-ignore: decorator
@lazy const K_REASON = utf8('{"key":"edgewatch.sampling.reason","value":{"stringValue":"');
// @ts-ignore: decorator
@lazy const V_LOCAL = utf8("local");
// @ts-ignore: decorator
@lazy const V_UPSTREAM = utf8("upstream");
// @ts-ignore: decorator
@lazy const V_HTTP = utf8("HTTP");
// @ts-ignore: decorator
@lazy const METHOD_BYTES: ArrayBuffer[] = encodeAll(METHOD_SEMCONV);
// @ts-ignore: decorator
@lazy const REASON_BYTES: ArrayBuffer[] = encodeAll(SAMPLE_REASON_NAMES);
// @ts-ignore: decorator
@lazy const DECISION_BYTES: ArrayBuffer[] = encodeAll(SPAN_DECISION_NAMES);

function utf8(s: string): ArrayBuffer { return String.UTF8.encode(s); }

function encodeAll(a: string[]): ArrayBuffer[] {
  const out = new Array<ArrayBuffer>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = String.UTF8.encode(a[i]);
  return out;
}

/** Open the request envelope (resource with service.name, scope "edgewatch"). */
export function beginExport(w: ByteWriter, serviceName: ArrayBuffer): void {
  w.raw(F_OPEN_RESOURCE);
  w.jsonEscaped(changetype<usize>(serviceName), serviceName.byteLength);
  w.raw(F_OPEN_SCOPE);
}

export function endExport(w: ByteWriter): void {
  w.raw(F_CLOSE);
}

/** `opener` is the pre-encoded `{"key":"…","value":{"stringValue":"`. */
function attrStr(w: ByteWriter, opener: ArrayBuffer, p: usize, n: i32, first: bool): void {
  if (!first) w.byte(0x2c);
  w.raw(opener);
  w.jsonEscaped(p, n);
  w.raw(F_ATTR_CLOSE);
}

function attrBuf(w: ByteWriter, key: ArrayBuffer, v: ArrayBuffer): void {
  attrStr(w, key, changetype<usize>(v), v.byteLength, false);
}

/** Append one span record as a JSON Span object (preceded by "," unless first). */
export function encodeSpan(w: ByteWriter, r: usize, first: bool): void {
  if (!first) w.byte(0x2c);
  w.raw(F_TRACE_ID);
  w.hex(recTraceHi(r), 16);
  w.hex(recTraceLo(r), 16);
  w.raw(F_SPAN_ID);
  w.hex(recSpanId(r), 16);
  const parent = recParentId(r);
  if (parent != 0) {
    w.raw(F_PARENT);
    w.hex(parent, 16);
  }
  const tsl = recTracestateLen(r);
  if (tsl > 0) {
    w.raw(F_TRACESTATE);
    w.jsonEscaped(recTracestate(r), tsl);
  }
  w.raw(F_FLAGS);
  let flags = <u32>recFlags(r) | FLAG_HAS_IS_REMOTE;
  if (parent != 0) flags |= FLAG_IS_REMOTE;
  w.dec(<u64>flags);

  // name: "{method} {route}" (semantic conventions; "HTTP {route}" for unknown methods)
  const m = <i32>recMethod(r);
  w.raw(F_NAME);
  if (m == METHOD_OTHER) w.raw(V_HTTP); else w.raw(unchecked(METHOD_BYTES[m]));
  w.byte(0x20);
  w.jsonEscaped(recRoute(r), recRouteLen(r));
  w.raw(F_KIND_START);
  w.dec(recStart(r));
  w.raw(F_END);
  w.dec(recEnd(r));
  w.raw(F_ATTRS);

  attrStr(w, K_METHOD, changetype<usize>(unchecked(METHOD_BYTES[m])), unchecked(METHOD_BYTES[m]).byteLength, true);
  attrStr(w, K_ROUTE, recRoute(r), recRouteLen(r), false);
  const status = recStatus(r);
  if (status > 0) {
    w.byte(0x2c);
    w.raw(K_STATUS);
    w.dec(<u64>status);
    w.raw(F_ATTR_CLOSE);
  }
  if (recClientLen(r) > 0) attrStr(w, K_CLIENT, recClient(r), recClientLen(r), false);
  attrBuf(w, K_DECISION, unchecked(DECISION_BYTES[<i32>recDecision(r)]));
  if (recRuleLen(r) > 0) attrStr(w, K_RULE, recRule(r), recRuleLen(r), false);
  attrBuf(w, K_SOURCE, recLocal(r) ? V_LOCAL : V_UPSTREAM);
  attrBuf(w, K_REASON, unchecked(REASON_BYTES[<i32>recReason(r)]));
  // Server spans: 5xx is an error, 4xx is not (HTTP semantic conventions).
  w.raw(status >= 500 ? F_STATUS_ERROR : F_STATUS_UNSET);
}

/** Encode the `n` oldest spans of `store` as one ExportTraceServiceRequest into `w` (reset first). */
export function encodeBatch(w: ByteWriter, store: SpanStore, n: i32, serviceName: ArrayBuffer): void {
  w.reset();
  beginExport(w, serviceName);
  for (let i = 0; i < n; i++) encodeSpan(w, store.record(i), i == 0);
  endExport(w);
}

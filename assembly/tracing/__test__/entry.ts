// Test-only entry point (compiled by test/tracing/support/as-module.ts, never part of the filter):
// exposes the pure tracing modules over a flat memory interface so vitest can drive them.
// JS writes input bytes at inputPtr(), calls a function, reads results from getters / outputPtr().
import { TraceParent, parseTraceparent, formatTraceparent } from "../traceparent";
import { TraceState, parseTracestate, buildTracestate, buildFreshTracestate } from "../tracestate";
import { thresholdFor, probabilityOf, writeThreshold, parseThreshold, keepByThreshold, traceRandomness } from "../sampling";

const INPUT = new StaticArray<u8>(65536);
const OUTPUT = new StaticArray<u8>(65536);

export function inputPtr(): usize { return changetype<usize>(INPUT); }
export function outputPtr(): usize { return changetype<usize>(OUTPUT); }

const tp = new TraceParent();
const ts = new TraceState();

export function tpParse(len: i32): bool { return parseTraceparent(inputPtr(), len, tp); }
export function tpVersion(): u32 { return tp.version; }
export function tpTraceHi(): u64 { return tp.traceHi; }
export function tpTraceLo(): u64 { return tp.traceLo; }
export function tpParent(): u64 { return tp.parentId; }
export function tpFlags(): u32 { return tp.flags; }
export function tpFormat(hi: u64, lo: u64, span: u64, flags: u32): i32 {
  formatTraceparent(outputPtr(), hi, lo, span, <u8>flags);
  return 55;
}

export function tsParse(len: i32): bool { return parseTracestate(inputPtr(), len, ts); }
export function tsCount(): i32 { return ts.count; }
export function tsOtIndex(): i32 { return ts.otIndex; }
export function tsOtValid(): bool { return ts.otValid; }
export function tsTh(): u64 { return ts.th; }
export function tsRv(): u64 { return ts.rv; }
/** Build from the last parsed input; -1 = unchanged. */
export function tsBuild(mode: i32, threshold: u64): i32 { return buildTracestate(ts, mode, threshold, outputPtr()); }
export function tsFresh(sampled: bool, threshold: u64): i32 { return buildFreshTracestate(sampled, threshold, outputPtr()); }

export function threshold(p: f64): u64 { return thresholdFor(p); }
export function probability(t: u64): f64 { return probabilityOf(t); }
export function thWrite(t: u64): i32 { return writeThreshold(outputPtr(), t); }
export function thParse(len: i32): u64 { return parseThreshold(inputPtr(), len); }
export function keep(traceLo: u64, t: u64): bool { return keepByThreshold(traceRandomness(traceLo), t); }

/** Kept count over n trace ids derived from a xorshift sequence (distribution check inside wasm). */
export function keepCount(seed: u64, n: i32, p: f64): i32 {
  const t = thresholdFor(p);
  let x = seed | 1;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    if (keepByThreshold(traceRandomness(x), t)) kept++;
  }
  return kept;
}

// ---- span store + OTLP JSON encoder ----
import { SpanStore, SpanFields } from "../span-store";
import { ByteWriter } from "../byte-writer";
import { encodeBatch } from "../otlp-json";

let store = new SpanStore(8, 1024);
const writer = new ByteWriter(64);
const fields = new SpanFields();

export function storeInit(capacity: i32, arena: i32): void { store = new SpanStore(capacity, arena); }
export function storeCount(): i32 { return store.count; }
export function storeArena(): i32 { return store.arenaBytes; }
export function storeDrop(n: i32): void { store.dropOldest(n); }
/** Strings are consecutive in the input area: route, client, rule, tracestate. Returns "dropped oldest". */
export function spanPush(
  traceHi: u64, traceLo: u64, spanId: u64, parentId: u64, start: u64, end: u64,
  status: i32, flags: u32, reason: u32, method: u32, local: bool, decision: u32,
  routeLen: i32, clientLen: i32, ruleLen: i32, tsLen: i32,
): bool {
  fields.traceHi = traceHi; fields.traceLo = traceLo; fields.spanId = spanId; fields.parentId = parentId;
  fields.startNs = start; fields.endNs = end; fields.status = status; fields.flags = <u8>flags;
  fields.reason = <u8>reason; fields.method = <u8>method; fields.local = local; fields.decision = <u8>decision;
  const p = inputPtr();
  fields.route = p; fields.routeLen = routeLen;
  fields.client = p + <usize>routeLen; fields.clientLen = clientLen;
  fields.rule = fields.client + <usize>clientLen; fields.ruleLen = ruleLen;
  fields.tracestate = fields.rule + <usize>ruleLen; fields.tracestateLen = tsLen;
  return store.push(fields);
}
/** Encode the n oldest spans; service name at the input area. Returns the JSON length (bytes at writerPtr()). */
export function encode(n: i32, serviceLen: i32): i32 {
  const svc = new ArrayBuffer(serviceLen);
  memory.copy(changetype<usize>(svc), inputPtr(), <usize>serviceLen);
  encodeBatch(writer, store, n, svc);
  return writer.len;
}
export function writerPtr(): usize { return writer.ptr; }

// ---- micro-benchmarks (pure wasm loops, no host calls) ----
/** Parse the traceparent in the input area n times; returns the number of valid parses. */
export function benchTraceparent(len: i32, n: i32): i32 {
  let ok = 0;
  for (let i = 0; i < n; i++) if (parseTraceparent(inputPtr(), len, tp)) ok++;
  return ok;
}
/** Parse the tracestate in the input area and rebuild it with a new th, n times. */
export function benchTracestate(len: i32, n: i32, threshold: u64): i32 {
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (parseTracestate(inputPtr(), len, ts)) total += buildTracestate(ts, 1, threshold + <u64>(i & 1), outputPtr());
  }
  return total;
}
/** Decide n times (threshold for a rate + keep check) over xorshift trace ids. */
export function benchDecide(n: i32, p: f64): i32 {
  let x: u64 = 0x9e3779b97f4a7c15;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    if (keepByThreshold(traceRandomness(x), thresholdFor(p))) kept++;
  }
  return kept;
}
/** Format a traceparent n times. */
export function benchFormat(n: i32): i32 {
  for (let i = 0; i < n; i++) formatTraceparent(outputPtr(), <u64>i, <u64>i * 31, <u64>i * 17 + 1, 1);
  return 55;
}
/** Encode the store's first `spans` records n times; returns the body length. */
export function benchEncode(spans: i32, n: i32): i32 {
  const svc = String.UTF8.encode("edgewatch");
  for (let i = 0; i < n; i++) encodeBatch(writer, store, spans, svc);
  return writer.len;
}

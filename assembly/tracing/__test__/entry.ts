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

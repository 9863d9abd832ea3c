// Trace context at the proxy: parse, decide, propagate (request-headers phase), and the
// response-time "always keep" rules (on_log).
//
// Decision (head, at request headers):
//   1. A valid incoming traceparent whose sender we trust (tracing.trust_parent: "always", "never",
//      or "trusted" = client address in tracing.trusted_cidrs): its sampled flag decides ("parent").
//   2. Otherwise the route's probability from the rules (rules.sampling.rateFor(route)), decided
//      consistently from the trace's randomness (the ot=rv sub-key if present, else the trace id's
//      right-most 56 bits): R ≥ T keeps, T = (1-p)·2^56 ("probability"). Every proxy applying the
//      same rate to the same trace id decides the same, without coordination.
// Propagation (always, even when not sampled): traceparent is replaced by
// 00-<trace-id>-<OUR span id>-<flags>, flags = sampled bit of our decision + the random bit (kept
// from the parent, set for traces we start). tracestate: when we sampled by probability,
// ot=th:<T> is written first (rv and other ot sub-keys kept); when the propagated context is not
// sampled any th is removed, and a th that does not parse is always erased; an invalid tracestate,
// or any tracestate without a valid traceparent, is removed (W3C: a restarted trace has no vendor
// state). An invalid traceparent is treated as absent: a new trace id and span id come from the
// host's randomness.
// Header lines: all request headers come from ONE get_header_map_pairs read per request
// (host/request-headers.ts), because Envoy's get_header_map_value returns only the first line of a
// repeated header. Several tracestate lines form one list (W3C: combined in order, as with ","): they
// are parsed joined and propagated as one line. Several traceparent lines make the request's
// traceparent invalid (W3C Trace Context: a combined traceparent is not a valid value; RFC 9110
// combination): a new trace starts, as for any invalid traceparent.
// Tail rules (on_log): a request not kept at the head is still exported when it answered 5xx
// (sampling.always_keep_5xx) or took at least sampling.slow_threshold_ms ("error" / "slow").
// The flag already propagated upstream stays as decided at the head: downstream services will not
// have sampled such a trace, so its exported span is the proxy's view alone.
import { TracingSettings, ClientAddressSettings } from "../config/settings";
import { TraceParent, parseTraceparent, formatTraceparent, FLAG_RANDOM, FLAG_SAMPLED, TRACEPARENT_LEN } from "./traceparent";
import { TraceState, parseTracestate, buildTracestate, buildFreshTracestate, ThMode, MAX_TRACESTATE_OUT } from "./tracestate";
import { thresholdFor, RANDOMNESS_MASK } from "./sampling";
import { SampleReason } from "./span-store";
import { randomNonZero64, random64 } from "./random";
import { TrustedSources } from "./trusted-sources";
import { getHeaderBytes, replaceHeaderRaw, removeHeaderRaw } from "../host/headers";
import { MapType } from "../abi/status";
import { first, lineCount, collectLines, valuePtr, valueLen } from "../host/request-headers";
import { scratchAlloc } from "../host/scratch";

// @ts-ignore: decorator
@lazy const K_TRACEPARENT: ArrayBuffer = String.UTF8.encode("traceparent");
// @ts-ignore: decorator
@lazy const K_TRACESTATE: ArrayBuffer = String.UTF8.encode("tracestate");

const TP_OUT: usize = memory.data(64);
/** Outgoing tracestates up to this size are copied for the span; longer ones are read back at on_log. */
const MAX_CAPTURED: i32 = 256;
/** (ptr, len) of each tracestate line; more lines than this make the list invalid. */
const MAX_TS_LINES: i32 = 64;
const TS_LINES: usize = memory.data(MAX_TS_LINES * 8);
const TS_OUT: usize = memory.data(MAX_TRACESTATE_OUT + 320);

/** Per-stream trace state (lives on the stream context). */
export class StreamTrace {
  traceHi: u64 = 0;
  traceLo: u64 = 0;
  spanId: u64 = 0;
  /** 0 when the trace started here. */
  parentId: u64 = 0;
  /** W3C flags propagated upstream. */
  flags: u8 = 0;
  /** Kept by the head decision. */
  headSampled: bool = false;
  /** SampleReason of the final decision (None = not exported). */
  reason: u8 = 0;
  /**
   * The tracestate of a request answered locally (not propagated), kept for its span. Propagated
   * requests carry theirs in the request headers, which on_log reads back (no copy per request).
   */
  tracestate: ArrayBuffer | null = null;
  /** The outgoing tracestate was written to (or left in) the request headers. */
  propagated: bool = false;
  /**
   * A head-sampled propagated stream's outgoing tracestate, copied when it was written (its span
   * is exported for sure), so on_log needs no host call to read it back: capturedLen bytes of
   * `captured` (reused with the pooled StreamTrace); -1 = not captured (read back at on_log).
   */
  captured: ArrayBuffer = new ArrayBuffer(MAX_CAPTURED);
  capturedLen: i32 = -1;
}

export class Tracer {
  enabled: bool = true;
  trustParent: i32 = 0;
  trusted: TrustedSources = new TrustedSources();
  private tp: TraceParent = new TraceParent();
  private ts: TraceState = new TraceState();
  private lastRate: f64 = -1.0;
  private lastThreshold: u64 = 0;
  /** Recycled per-stream states: no allocation per request after warm-up. */
  private pool: StreamTrace[] = [];

  acquire(): StreamTrace {
    const n = this.pool.length;
    return n > 0 ? this.pool.pop() : new StreamTrace();
  }

  release(st: StreamTrace): void {
    st.tracestate = null;
    st.capturedLen = -1;
    st.propagated = false;
    st.reason = 0;
    st.headSampled = false;
    if (this.pool.length < 1024) this.pool.push(st);
  }

  configure(t: TracingSettings): void {
    this.enabled = t.enabled;
    this.trustParent = t.trustParent;
    this.trusted = new TrustedSources();
    this.trusted.configure(t.trustedCidrs);
  }

  /** Threshold for a rate, cached for the common case of one rate across requests. */
  thresholdOf(rate: f64): u64 {
    if (rate != this.lastRate) {
      this.lastRate = rate;
      this.lastThreshold = thresholdFor(rate);
    }
    return this.lastThreshold;
  }

  /**
   * Request-headers phase: read traceparent/tracestate, decide, write the propagated headers.
   * `rate` is the route's head-sampling probability; `propagate` false (the request is answered
   * locally) decides without writing headers.
   */
  begin(st: StreamTrace, rate: f64, client: ClientAddressSettings, propagate: bool): void {
    const tp = this.tp;
    // Exactly one traceparent line: two lines are one invalid (combined) value.
    const valid = lineCount(K_TRACEPARENT) == 1 && first(K_TRACEPARENT) && parseTraceparent(valuePtr, valueLen, tp);
    let tsPtr: usize = 0;
    let tsLen: i32 = 0;
    let tsPresent = false;
    let tsValid = false;
    /** tracestate came in several header lines (tsPtr holds them joined, in scratch memory). */
    let multiLine = false;
    if (valid) {
      st.traceHi = tp.traceHi;
      st.traceLo = tp.traceLo;
      st.parentId = tp.parentId;
      const lines = collectLines(K_TRACESTATE, TS_LINES, MAX_TS_LINES);
      if (lines > 0) {
        tsPresent = true;
        if (lines == 1) {
          tsPtr = <usize>load<u32>(TS_LINES);
          tsLen = <i32>load<u32>(TS_LINES + 4);
          tsValid = parseTracestate(tsPtr, tsLen, this.ts);
        } else if (lines < MAX_TS_LINES || lineCount(K_TRACESTATE) == MAX_TS_LINES) {
          multiLine = true;
          tsLen = joinLines(lines);
          tsPtr = scratchPtrOfJoin;
          tsValid = parseTracestate(tsPtr, tsLen, this.ts);
        }
      }
    } else {
      st.traceHi = random64();
      st.traceLo = randomNonZero64();
      st.parentId = 0;
    }
    st.spanId = randomNonZero64();

    const threshold = this.thresholdOf(rate);
    let sampled: bool;
    let mode: i32;
    if (valid && this.trusts(client)) {
      sampled = tp.sampled;
      st.reason = sampled ? SampleReason.Parent : SampleReason.None;
      mode = sampled ? ThMode.Keep : ThMode.Remove;
    } else {
      const r = valid && tsValid && this.ts.hasRv ? this.ts.rv : (st.traceLo & RANDOMNESS_MASK);
      sampled = r >= threshold;
      st.reason = sampled ? SampleReason.Probability : SampleReason.None;
      mode = sampled ? ThMode.Set : ThMode.Remove;
    }
    st.headSampled = sampled;
    st.propagated = propagate;
    st.tracestate = null;
    st.capturedLen = -1;
    const capture = propagate && sampled;
    const flags: u8 = (valid ? (tp.flags & FLAG_RANDOM) : FLAG_RANDOM) | (sampled ? FLAG_SAMPLED : 0);
    st.flags = flags;

    formatTraceparent(TP_OUT, st.traceHi, st.traceLo, st.spanId, flags);
    if (propagate) replaceHeaderRaw(MapType.RequestHeaders, K_TRACEPARENT, TP_OUT, TRACEPARENT_LEN);

    let n: i32;
    if (tsValid) {
      n = buildTracestate(this.ts, mode, threshold, TS_OUT);
      if (n < 0) {
        // Forwarded unchanged; a list over several lines goes as one line, so that the span
        // (spanTracestate reads the first line back at on_log) records all of it.
        if (!propagate) st.tracestate = copyOut(tsPtr, tsLen);
        else if (multiLine) replaceHeaderRaw(MapType.RequestHeaders, K_TRACESTATE, tsPtr, tsLen);
        if (capture) captureFor(st, tsPtr, tsLen);
        return;
      }
    } else {
      n = buildFreshTracestate(mode == ThMode.Set, threshold, TS_OUT);
    }
    if (n > 0) {
      if (propagate) {
        replaceHeaderRaw(MapType.RequestHeaders, K_TRACESTATE, TS_OUT, n);
        if (capture) captureFor(st, TS_OUT, n);
      } else {
        st.tracestate = copyOut(TS_OUT, n);
      }
    } else {
      // A restarted trace carries no vendor state; an invalid or emptied tracestate is dropped.
      if (propagate && (valid ? tsPresent : lineCount(K_TRACESTATE) > 0)) removeHeaderRaw(MapType.RequestHeaders, K_TRACESTATE);
      if (capture) st.capturedLen = 0;
    }
  }

  private trusts(client: ClientAddressSettings): bool {
    if (this.trustParent == 0) return true;
    if (this.trustParent == 1) return false;
    return this.trusted.containsClient(client);
  }
}

/** A GC copy of bytes that must outlive the callback (a local reply's tracestate, for its span). */
function copyOut(p: usize, n: i32): ArrayBuffer {
  const out = new ArrayBuffer(n);
  memory.copy(changetype<usize>(out), p, <usize>n);
  return out;
}

let scratchPtrOfJoin: usize = 0;

/**
 * The `lines` tracestate lines collected at TS_LINES joined with "," (W3C: one list, in order) into
 * scratch memory at scratchPtrOfJoin; returns the length. Empty lines add no member.
 */
function joinLines(lines: i32): i32 {
  let total: usize = 0;
  for (let i = 0; i < lines; i++) total += <usize>load<u32>(TS_LINES + <usize>i * 8 + 4) + 1;
  const out = scratchAlloc(<i32>total);
  let w = out;
  for (let i = 0; i < lines; i++) {
    const p = <usize>load<u32>(TS_LINES + <usize>i * 8);
    const l = <usize>load<u32>(TS_LINES + <usize>i * 8 + 4);
    if (l == 0) continue;
    if (w != out) { store<u8>(w, 0x2c); w++; }
    memory.copy(w, p, l);
    w += l;
  }
  scratchPtrOfJoin = out;
  return <i32>(w - out);
}

/** Tail decision at on_log for a request the head did not keep. */
export function tailReason(st: StreamTrace, status: i32, durationUs: u64, keep5xx: bool, slowMs: i64): u8 {
  if (st.headSampled) return st.reason;
  if (keep5xx && status >= 500) return SampleReason.Error;
  if (slowMs > 0 && durationUs >= <u64>slowMs * 1000) return SampleReason.Slow;
  return SampleReason.None;
}

function captureFor(st: StreamTrace, p: usize, n: i32): void {
  if (n > MAX_CAPTURED) return; // read back at on_log
  memory.copy(changetype<usize>(st.captured), p, <usize>n);
  st.capturedLen = n;
}

/** The span's tracestate after spanTracestate(): spanTsLen bytes at spanTsPtr (0 = none). */
export let spanTsPtr: usize = 0;
export let spanTsLen: i32 = 0;
/** A read-back buffer, kept alive until the span has been stored. */
let readBack: ArrayBuffer | null = null;

/**
 * The tracestate a stream propagated (or would have), for its span: the copy made when it was
 * written, or (a stream kept only at the tail, or a very long list) read back from the request
 * headers, which are readable in on_log.
 */
export function spanTracestate(st: StreamTrace): void {
  let b: ArrayBuffer | null = null;
  if (!st.propagated) {
    b = st.tracestate;
  } else if (st.capturedLen >= 0) {
    spanTsPtr = changetype<usize>(st.captured);
    spanTsLen = st.capturedLen;
    return;
  } else {
    b = getHeaderBytes(MapType.RequestHeaders, K_TRACESTATE);
    readBack = b;
  }
  spanTsPtr = b === null ? 0 : changetype<usize>(b);
  spanTsLen = b === null ? 0 : b.byteLength;
}

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
// Several tracestate header lines form one list (W3C: combined in order, as with ","). Envoy's
// get_header_map_value returns only the first line, so when that line is present and valid (an
// invalid first line already invalidates the whole list) all lines are read joined: the property
// request.headers.tracestate (Envoy's CEL headers map joins repeated headers with ","; one header
// lookup, whatever the size of the map), or the header pairs on a host without that property. A
// list that spans several lines is parsed as one and propagated as one line.
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
import { MapType, WasmResult } from "../abi/status";
import { proxy_get_header_map_pairs } from "../abi/imports";
import { OUT_PTR, OUT_SIZE, clearOut, takeOut } from "../host/memory";
import { getPropertyBytes } from "../host/properties";
import { __pin, __unpin } from "rt/itcms";

// @ts-ignore: decorator
@lazy const K_TRACEPARENT: ArrayBuffer = String.UTF8.encode("traceparent");
// @ts-ignore: decorator
@lazy const K_TRACESTATE: ArrayBuffer = String.UTF8.encode("tracestate");
// @ts-ignore: decorator
@lazy const P_TRACESTATE: ArrayBuffer = String.UTF8.encode("request\0headers\0tracestate");

const TP_OUT: usize = memory.data(64);
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
    const tpBuf = getHeaderBytes(MapType.RequestHeaders, K_TRACEPARENT);
    const valid = tpBuf !== null && parseTraceparent(changetype<usize>(tpBuf), tpBuf.byteLength, tp);
    let tsBuf: ArrayBuffer | null = null;
    let tsValid = false;
    /** tracestate came in several header lines (tsBuf holds them joined). */
    let multiLine = false;
    if (valid) {
      st.traceHi = tp.traceHi;
      st.traceLo = tp.traceLo;
      st.parentId = tp.parentId;
      tsBuf = getHeaderBytes(MapType.RequestHeaders, K_TRACESTATE);
      if (tsBuf !== null) {
        tsValid = parseTracestate(changetype<usize>(tsBuf), tsBuf.byteLength, this.ts);
        // Only the first line came back. A valid one may be continued by further lines (which can
        // add members or invalidate the list); an invalid one invalidates the list whatever follows.
        if (tsValid) {
          const all = joinedTracestateLines(tsBuf.byteLength);
          if (all !== null) {
            tsBuf = all;
            multiLine = true;
            tsValid = parseTracestate(changetype<usize>(all), all.byteLength, this.ts);
          }
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
        if (!propagate) st.tracestate = tsBuf;
        else if (multiLine) replaceHeaderRaw(MapType.RequestHeaders, K_TRACESTATE, changetype<usize>(tsBuf), tsBuf!.byteLength);
        return;
      }
    } else {
      n = buildFreshTracestate(mode == ThMode.Set, threshold, TS_OUT);
    }
    if (n > 0) {
      if (propagate) {
        replaceHeaderRaw(MapType.RequestHeaders, K_TRACESTATE, TS_OUT, n);
      } else {
        const copy = new ArrayBuffer(n);
        memory.copy(changetype<usize>(copy), TS_OUT, <usize>n);
        st.tracestate = copy;
      }
    } else {
      // A restarted trace carries no vendor state; an invalid or emptied tracestate is dropped.
      if (propagate && (!valid || tsBuf !== null)) removeHeaderRaw(MapType.RequestHeaders, K_TRACESTATE);
    }
  }

  private trusts(client: ClientAddressSettings): bool {
    if (this.trustParent == 0) return true;
    if (this.trustParent == 1) return false;
    return this.trusted.containsClient(client);
  }
}

/** ASCII case-insensitive "tracestate" (Envoy lower-cases header names; cheap to be lenient). */
function isTracestateKey(p: usize, len: usize): bool {
  if (len != 10) return false;
  const k = changetype<usize>(K_TRACESTATE);
  for (let i: usize = 0; i < 10; i++) {
    if ((<u32>load<u8>(p + i) | 0x20) != <u32>load<u8>(k + i)) return false;
  }
  return true;
}

/**
 * Every tracestate line of the request headers joined with "," (W3C: one list, in order), or null
 * when there is only one line (the first line, `firstLen` bytes, already read, is the whole list).
 * Envoy answers request.headers.tracestate with the lines joined by "," (HeaderUtility::
 * getAllOfHeaderAsString): longer than the first line ⇔ several lines. Since the header exists, a
 * failed property read means a host without it: fall back to the header pairs.
 */
function joinedTracestateLines(firstLen: i32): ArrayBuffer | null {
  const joined = getPropertyBytes(P_TRACESTATE);
  if (joined !== null) return joined.byteLength > firstLen ? joined : null;
  return joinedTracestatePairs();
}

/**
 * Same from the header pairs (one get_header_map_pairs call, which serializes the whole map): walks
 * the pairs in place (u32 count, count × (u32 key_len, u32 value_len), then key NUL value NUL per
 * pair), allocates only for a list that spans several lines; empty lines add no member.
 */
function joinedTracestatePairs(): ArrayBuffer | null {
  clearOut();
  if (proxy_get_header_map_pairs(MapType.RequestHeaders, OUT_PTR, OUT_SIZE) != WasmResult.Ok) return null;
  const buf = takeOut();
  const size = <usize>buf.byteLength;
  if (size < 4) return null;
  const base = changetype<usize>(buf);
  const n = <usize>load<u32>(base);
  if (n > 1024 || <usize>4 + n * 8 > size) return null;
  const end = base + size;
  // Pass 1: how many lines (empty ones included: a first line "" may be followed by members),
  // how many non-empty ones, how many bytes.
  let lines: i32 = 0;
  let filled: i32 = 0;
  let total: usize = 0;
  let data = base + 4 + n * 8;
  for (let i: usize = 0; i < n; i++) {
    const kl = <usize>load<u32>(base + 4 + i * 8);
    const vl = <usize>load<u32>(base + 8 + i * 8);
    if (kl > size || vl > size || data + kl + vl + 2 > end) return null;
    if (isTracestateKey(data, kl)) {
      lines++;
      if (vl > 0) { filled++; total += vl; }
    }
    data += kl + vl + 2;
  }
  if (lines < 2) return null;
  // Pass 2: copy the non-empty values, "," between them (an empty line adds no member). `buf` is
  // only reached through `base` from here: pinned so that the allocation cannot collect it.
  __pin(base);
  const out = new ArrayBuffer(<i32>(total + <usize>(filled > 0 ? filled - 1 : 0)));
  let w = changetype<usize>(out);
  data = base + 4 + n * 8;
  let first = true;
  for (let i: usize = 0; i < n; i++) {
    const kl = <usize>load<u32>(base + 4 + i * 8);
    const vl = <usize>load<u32>(base + 8 + i * 8);
    if (vl > 0 && isTracestateKey(data, kl)) {
      if (!first) { store<u8>(w, 0x2c); w++; }
      first = false;
      memory.copy(w, data + kl + 1, vl);
      w += vl;
    }
    data += kl + vl + 2;
  }
  __unpin(base);
  return out;
}

/** Tail decision at on_log for a request the head did not keep. */
export function tailReason(st: StreamTrace, status: i32, durationUs: u64, keep5xx: bool, slowMs: i64): u8 {
  if (st.headSampled) return st.reason;
  if (keep5xx && status >= 500) return SampleReason.Error;
  if (slowMs > 0 && durationUs >= <u64>slowMs * 1000) return SampleReason.Slow;
  return SampleReason.None;
}

/** The tracestate a stream propagated, for its span (on_log: request headers are readable there). */
export function spanTracestate(st: StreamTrace): ArrayBuffer | null {
  if (!st.propagated) return st.tracestate;
  return getHeaderBytes(MapType.RequestHeaders, K_TRACESTATE);
}

// OpenTelemetry consistent probability sampling (spec "TraceState: Probability Sampling", OTEP 235):
//   - randomness R: 56 bits, from the `rv` sub-key of the `ot` tracestate member if present,
//     else the right-most 7 bytes of the trace id (W3C Level 2 "random" trace id bits);
//   - rejection threshold T = (1 - p) · 2^56; a span is kept iff R ≥ T;
//   - T travels as `ot=th:<hex>`: 14 hex digits with trailing zeros removed ("th:0" = keep all).
// Every proxy that applies the same rate to the same trace id reaches the same decision, and a hop
// with a lower rate keeps a subset of what a hop with a higher rate keeps.
// Thresholds are rounded to 4 significant hex digits of the acceptance count p·2^56 (the
// OpenTelemetry SDK default precision, extended past leading "f"s for small p), so the rounding
// error on p stays below 2^-12 relative.

/** 2^56: the randomness / threshold domain. */
export const MAX_THRESHOLD: u64 = 1 << 56;
export const RANDOMNESS_MASK: u64 = MAX_THRESHOLD - 1;
const PRECISION_DIGITS: i32 = 4;

/** Rejection threshold for probability p (p ≤ 0 or NaN → MAX_THRESHOLD: never keep; p ≥ 1 → 0). */
export function thresholdFor(p: f64): u64 {
  if (!(p > 0.0)) return MAX_THRESHOLD;
  if (p >= 1.0) return 0;
  let a = <u64>(p * <f64>MAX_THRESHOLD + 0.5); // acceptance count
  if (a == 0) a = 1;
  const bits = 64 - <i32>clz(a);
  const digits = (bits + 3) >> 2;
  if (digits > PRECISION_DIGITS) {
    const shift = <u64>((digits - PRECISION_DIGITS) << 2);
    a = ((a + (<u64>1 << (shift - 1))) >> shift) << shift;
  }
  if (a >= MAX_THRESHOLD) return 0;
  return MAX_THRESHOLD - a;
}

/** The probability a threshold stands for (for attributes and tests). */
export function probabilityOf(threshold: u64): f64 {
  if (threshold >= MAX_THRESHOLD) return 0.0;
  return <f64>(MAX_THRESHOLD - threshold) / <f64>MAX_THRESHOLD;
}

/** Keep decision for randomness R (56 bits) against threshold T. */
// @ts-ignore: decorator
@inline
export function keepByThreshold(randomness: u64, threshold: u64): bool {
  return (randomness & RANDOMNESS_MASK) >= threshold;
}

/** Randomness of a trace id: its right-most 56 bits. */
// @ts-ignore: decorator
@inline
export function traceRandomness(traceLo: u64): u64 {
  return traceLo & RANDOMNESS_MASK;
}

const HEX_CHARS: usize = memory.data<u8>([
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
]);

/** Write the `th` value of T (< 2^56) at ptr: 14 hex digits, trailing zeros removed, "0" for 0. Returns the length. */
export function writeThreshold(ptr: usize, threshold: u64): i32 {
  if (threshold == 0) {
    store<u8>(ptr, 0x30);
    return 1;
  }
  let n: i32 = 14;
  let t = threshold;
  while ((t & 0xf) == 0) { t >>= 4; n--; }
  // t now holds the n significant digits.
  for (let i = n - 1; i >= 0; i--) {
    store<u8>(ptr + <usize>i, load<u8>(HEX_CHARS + <usize>(t & 0xf)));
    t >>= 4;
  }
  return n;
}

/** Parse a `th` value (1..14 lowercase hex digits) → T, or -1 (as u64 max) when invalid. */
export function parseThreshold(ptr: usize, len: i32): u64 {
  if (len < 1 || len > 14) return u64.MAX_VALUE;
  let v: u64 = 0;
  for (let i = 0; i < len; i++) {
    const c = <u32>load<u8>(ptr + <usize>i);
    let d: u32;
    if (c - 0x30 < 10) d = c - 0x30;
    else if (c - 0x61 < 6) d = c - 0x61 + 10;
    else return u64.MAX_VALUE;
    v = (v << 4) | <u64>d;
  }
  return v << <u64>((14 - len) << 2);
}

/** Parse an `rv` value (exactly 14 lowercase hex digits) → R, or u64 max when invalid. */
export function parseRandomness(ptr: usize, len: i32): u64 {
  if (len != 14) return u64.MAX_VALUE;
  return parseThreshold(ptr, len);
}

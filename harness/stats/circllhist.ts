/**
 * Log-linear histogram binning as libcircllhist does it (openhistogram/libcircllhist
 * src/circllhist.c), which is what Envoy's histograms are built on
 * (envoy source/common/stats/histogram_impl.cc, thread_local_store.cc).
 *
 * A bin is (val, exp) with val a two-digit mantissa 10..99 (or -10..-99) and exp -128..127; it covers
 * [val/10·10^exp, (val+1)/10·10^exp), i.e. two significant digits: 1234 → [1200, 1300), 25 → [25, 26),
 * 5 → [5, 5.1). There is one zero bin and one NaN bin.
 *
 * Bins are encoded here as small integers ("keys") whose numeric order is the order of the values:
 *   0 = the zero bin; k > 0: positive bin ((exp+128)·90 + (val-10) + 1); k < 0: the mirrored negative
 *   bin. NaN samples are counted separately (libcircllhist keeps them in a NaN bin that is counted by
 *   hist_sample_count but skipped by every approximation).
 *
 * The approximations reproduce libcircllhist:
 *  - hist_approx_count_below: a bin counts toward a threshold only if its whole range is <= the
 *    threshold (so a sample equal to a bucket bound lands in the *next* Prometheus bucket, envoy#36549);
 *  - hist_approx_sum: Σ midpoint·count with the arithmetic midpoint (libcircllhist as pinned by Envoy
 *    1.30–1.3x; newer libcircllhist releases weight the midpoint toward the lower bound);
 *  - hist_approx_quantile: linear interpolation inside the bin holding the quantile.
 */

const POW10: Float64Array = (() => {
  // Same values as libcircllhist's power_of_ten[] literal table (nearest doubles to 10^e).
  const t = new Float64Array(256);
  for (let e = -128; e <= 127; e++) t[e + 128] = parseFloat(`1e${e}`);
  return t;
})();

function pow10(exp: number): number {
  return POW10[exp + 128];
}

/** Sentinel returned by binKey for NaN/±Inf samples (libcircllhist's NaN bin). */
export const NAN_KEY = 0x7fffffff;

function encode(sign: number, val: number, exp: number): number {
  return sign * ((exp + 128) * 90 + (val - 10) + 1);
}

/**
 * Bin of an integer sample, like libcircllhist int_scale_to_hist_bucket(value, 0), which Envoy uses for
 * every recorded value (ThreadLocalHistogramImpl::recordValue → hist_insert_intscale(h, value, 0, 1)).
 */
function intKey(value: number): number {
  if (value === 0) return 0;
  let sign = 1;
  let v = value;
  if (v < 0) {
    v = -v;
    sign = -1;
  }
  let scale = 1;
  if (v < 10) {
    v *= 10;
    scale -= 1;
  }
  while (v >= 100) {
    const r = v % 10;
    v = (v - r) / 10; // exact for integers below 2^53
    scale++;
  }
  if (scale > 127) return NAN_KEY;
  return encode(sign, v, scale);
}

/** Bin of a non-integer sample, like libcircllhist double_to_hist_bucket. */
function doubleKey(d: number): number {
  if (!Number.isFinite(d)) return NAN_KEY;
  if (d === 0) return 0;
  const sign = d < 0 ? -1 : 1;
  let a = Math.abs(d);
  const bigExp = Math.floor(Math.log10(a));
  if (bigExp < -128) return 0; // "we rolled": below the smallest bin → zero bin
  if (bigExp > 127) return NAN_KEY;
  let exp = bigExp;
  a /= pow10(exp);
  a *= 10;
  // Same tolerance as libcircllhist against rounding at the bin boundary (0.11 must give val 11).
  let val = Math.floor(a + 1e-13);
  if (val === 100) {
    if (exp < 127) {
      val = 10;
      exp++;
    } else {
      return NAN_KEY;
    }
  }
  if (val === 0) return 0;
  if (val < 10 || val >= 100) return NAN_KEY;
  return encode(sign, val, exp);
}

/** Bin key for a sample value (integers take libcircllhist's int path, others the double path). */
export function binKey(value: number): number {
  if (Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER) return intKey(value);
  return doubleKey(value);
}

function decode(key: number): { val: number; exp: number } {
  const k = Math.abs(key) - 1;
  const exp = Math.floor(k / 90) - 128;
  const val = (k % 90) + 10;
  return { val: key < 0 ? -val : val, exp };
}

/** hist_bucket_to_double: the bin's bound nearest zero (lower bound for positive bins). */
export function binBound(key: number): number {
  if (key === 0) return 0;
  const { val, exp } = decode(key);
  return (val / 10.0) * pow10(exp);
}

/** hist_bucket_to_double_bin_width. */
export function binWidth(key: number): number {
  if (key === 0) return 0;
  return pow10(decode(key).exp) / 10.0;
}

/** hist_bucket_midpoint (arithmetic). */
export function binMidpoint(key: number): number {
  if (key === 0) return 0;
  const out = binBound(key);
  let interval = binWidth(key);
  if (out < 0) interval *= -1.0;
  return out + interval / 2.0;
}

/** Lower edge (toward -inf) of a bin: hist_bucket_left. */
export function binLeft(key: number): number {
  if (key === 0) return 0;
  const out = binBound(key);
  if (out > 0) return out;
  return out - binWidth(key);
}

/** Upper edge of a bin as hist_approx_count_below computes it. */
export function binUpper(key: number): number {
  const bound = binBound(key);
  return bound < 0.0 ? bound : bound + binWidth(key);
}

/**
 * Pending samples of one histogram between flushes (Envoy: the thread-local histogram).
 * Open-addressing hash of bin key → count in typed arrays: `add` is O(1) and allocation-free except
 * when the table grows (rare: a histogram rarely touches more than a few dozen bins).
 */
export class PendingBins {
  private static readonly EMPTY = -0x80000000;
  private keys: Int32Array;
  private counts: Float64Array;
  private mask: number;
  private size = 0;
  /** Samples recorded since the last drain (incl. NaN). */
  total = 0;
  nanCount = 0;

  constructor(initialCapacity = 32) {
    let cap = 8;
    while (cap < initialCapacity) cap <<= 1;
    this.keys = new Int32Array(cap).fill(PendingBins.EMPTY);
    this.counts = new Float64Array(cap);
    this.mask = cap - 1;
  }

  add(key: number, count = 1): void {
    this.total += count;
    if (key === NAN_KEY) {
      this.nanCount += count;
      return;
    }
    const keys = this.keys;
    let i = Math.imul(key, 0x9e3779b1) >>> 0 & this.mask;
    for (;;) {
      const k = keys[i];
      if (k === key) {
        this.counts[i] += count;
        return;
      }
      if (k === PendingBins.EMPTY) {
        keys[i] = key;
        this.counts[i] = count;
        if (++this.size * 2 > keys.length) this.grow();
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    const cap = oldKeys.length * 2;
    this.keys = new Int32Array(cap).fill(PendingBins.EMPTY);
    this.counts = new Float64Array(cap);
    this.mask = cap - 1;
    this.size = 0;
    const total = this.total;
    for (let j = 0; j < oldKeys.length; j++) {
      if (oldKeys[j] !== PendingBins.EMPTY) this.add(oldKeys[j], oldCounts[j]);
    }
    this.total = total;
  }

  /** Move the pending samples out as a sorted BinSet and reset (keeps the table's capacity). */
  drain(): BinSet {
    const entries: Array<[number, number]> = [];
    const keys = this.keys;
    for (let j = 0; j < keys.length; j++) {
      if (keys[j] !== PendingBins.EMPTY) {
        if (this.counts[j] > 0) entries.push([keys[j], this.counts[j]]);
        keys[j] = PendingBins.EMPTY;
        this.counts[j] = 0;
      }
    }
    entries.sort((a, b) => a[0] - b[0]);
    const out = new BinSet(
      Int32Array.from(entries, (e) => e[0]),
      Float64Array.from(entries, (e) => e[1]),
      this.nanCount,
    );
    this.size = 0;
    this.total = 0;
    this.nanCount = 0;
    return out;
  }
}

/** Immutable sorted bins (Envoy's interval or cumulative histogram after a merge). */
export class BinSet {
  static readonly EMPTY = new BinSet(new Int32Array(0), new Float64Array(0), 0);

  constructor(
    readonly keys: Int32Array,
    readonly counts: Float64Array,
    readonly nanCount: number,
  ) {}

  static fromSamples(values: Iterable<number>): BinSet {
    const p = new PendingBins();
    for (const v of values) p.add(binKey(v));
    return p.drain();
  }

  /** hist_accumulate: bin-wise sum of two histograms. */
  merge(other: BinSet): BinSet {
    if (other.keys.length === 0 && other.nanCount === 0) return this;
    if (this.keys.length === 0 && this.nanCount === 0) return other;
    const a = this.keys;
    const b = other.keys;
    const keys: number[] = [];
    const counts: number[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (j >= b.length || (i < a.length && a[i] < b[j])) {
        keys.push(a[i]);
        counts.push(this.counts[i++]);
      } else if (i >= a.length || b[j] < a[i]) {
        keys.push(b[j]);
        counts.push(other.counts[j++]);
      } else {
        keys.push(a[i]);
        counts.push(this.counts[i++] + other.counts[j++]);
      }
    }
    return new BinSet(Int32Array.from(keys), Float64Array.from(counts), this.nanCount + other.nanCount);
  }

  /** hist_sample_count (includes NaN samples). */
  sampleCount(): number {
    let total = this.nanCount;
    for (let i = 0; i < this.counts.length; i++) total += this.counts[i];
    return total;
  }

  /** hist_approx_sum. */
  approxSum(): number {
    let sum = 0.0;
    for (let i = 0; i < this.keys.length; i++) sum += binMidpoint(this.keys[i]) * this.counts[i];
    return sum;
  }

  /** hist_approx_count_below: samples in bins lying entirely at or below `threshold`. */
  countBelow(threshold: number): number {
    let running = 0;
    for (let i = 0; i < this.keys.length; i++) {
      if (binUpper(this.keys[i]) <= threshold) running += this.counts[i];
      else break;
    }
    return running;
  }

  /** hist_approx_quantile for sorted quantiles in [0,1]; NaN for an empty histogram. */
  quantiles(qs: readonly number[]): number[] {
    const out = new Array<number>(qs.length);
    const n = this.keys.length;
    let totalCnt = 0;
    for (let i = 0; i < n; i++) totalCnt += this.counts[i];
    if (totalCnt === 0) return out.fill(NaN);
    for (let q = 0; q < qs.length; q++) out[q] = totalCnt * qs[q];
    let ib = 0;
    let width = 0;
    let left = 0;
    let lower = 0;
    let upper = 0;
    const track = (idx: number) => {
      width = binWidth(this.keys[idx]);
      left = binLeft(this.keys[idx]);
      lower = upper;
      upper = lower + this.counts[idx];
    };
    for (ib = 0; ib < n; ib++) {
      if (this.counts[ib] === 0) continue;
      track(ib);
      break;
    }
    for (let q = 0; q < qs.length; q++) {
      while (ib < n - 1 && upper < out[q]) {
        ib++;
        track(ib);
      }
      if (lower === out[q]) out[q] = left;
      else if (upper === out[q]) out[q] = left + width;
      else if (width === 0) out[q] = left;
      else out[q] = left + ((out[q] - lower) / (upper - lower)) * width;
    }
    return out;
  }

  /** Per-bin detail (lower bound, width, count), like ParentHistogram::detailedTotalBuckets. */
  details(): Array<{ lowerBound: number; width: number; count: number }> {
    const out: Array<{ lowerBound: number; width: number; count: number }> = [];
    for (let i = 0; i < this.keys.length; i++) {
      out.push({ lowerBound: binLeft(this.keys[i]), width: binWidth(this.keys[i]), count: this.counts[i] });
    }
    return out;
  }
}

/** Envoy's supported quantiles (HistogramStatisticsImpl::supportedQuantiles). */
export const SUPPORTED_QUANTILES: readonly number[] = [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1];

/** Envoy's default histogram bucket bounds (HistogramSettingsImpl::defaultBuckets). */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
];

/** Statistics of one BinSet for given bucket bounds (HistogramStatisticsImpl). */
export interface HistogramStatistics {
  readonly supportedBuckets: readonly number[];
  /** Cumulative counts per bucket bound (hist_approx_count_below). */
  readonly computedBuckets: readonly number[];
  readonly computedQuantiles: readonly number[];
  readonly sampleCount: number;
  readonly sampleSum: number;
}

export function computeStatistics(bins: BinSet, buckets: readonly number[]): HistogramStatistics {
  return {
    supportedBuckets: buckets,
    computedBuckets: buckets.map((b) => bins.countBelow(b)),
    computedQuantiles: bins.quantiles(SUPPORTED_QUANTILES),
    sampleCount: bins.sampleCount(),
    sampleSum: bins.approxSum(),
  };
}

/** HistogramStatisticsImpl::computeDisjointBuckets. */
export function disjointBuckets(stats: HistogramStatistics): number[] {
  const out: number[] = [];
  let prev = 0;
  for (const c of stats.computedBuckets) {
    out.push(c - prev);
    prev = c;
  }
  return out;
}

// Log-linear binning and the approximations Envoy derives from it (libcircllhist semantics).
import { describe, expect, it } from "vitest";
import {
  BinSet,
  DEFAULT_BUCKETS,
  PendingBins,
  binBound,
  binKey,
  binUpper,
  binWidth,
  computeStatistics,
  NAN_KEY,
} from "../../harness/stats/circllhist.js";

const bin = (v: number) => {
  const k = binKey(v);
  return [binBound(k), binBound(k) + binWidth(k)];
};

describe("binning: two significant digits like libcircllhist", () => {
  it("puts a sample in [m·10^e, (m+1)·10^e) with a two-digit m", () => {
    expect(bin(1234)).toEqual([1200, 1300]);
    expect(bin(25)).toEqual([25, 26]);
    expect(bin(99)).toEqual([99, 100]);
    expect(bin(100)).toEqual([100, 110]);
    expect(bin(5)).toEqual([5, 5.1]);
    expect(bin(1)).toEqual([1, 1.1]);
    expect(bin(3_600_000)).toEqual([3_600_000, 3_700_000]);
  });

  it("uses the double path for fractional values, with the boundary tolerance", () => {
    const [lo, hi] = bin(0.11);
    expect(lo).toBeCloseTo(0.11, 15);
    expect(hi).toBeCloseTo(0.12, 15);
    expect(bin(99.5)).toEqual([99, 100]);
    expect(bin(2.5)).toEqual([2.5, 2.6]);
  });

  it("has a zero bin, mirrored negative bins and a NaN bin", () => {
    expect(binKey(0)).toBe(0);
    expect(binWidth(0)).toBe(0);
    expect(binKey(1e-300)).toBe(0); // below the smallest exponent → zero bin
    expect(binBound(binKey(-25))).toBe(-25);
    expect(binUpper(binKey(-25))).toBe(-25);
    expect(binKey(NaN)).toBe(NAN_KEY);
    expect(binKey(Infinity)).toBe(NAN_KEY);
  });

  it("orders keys like values", () => {
    const values = [-1e6, -250, -25, -1, 0, 0.001, 0.5, 1, 9.9, 10, 25, 26, 99, 100, 1234, 1e12];
    const keys = values.map(binKey);
    expect([...keys].sort((a, b) => a - b)).toEqual(keys);
  });
});

describe("bucket counts (hist_approx_count_below)", () => {
  it("counts a bin toward le=b only if the whole bin is <= b: a value equal to a bound lands in the next bucket", () => {
    const h = BinSet.fromSamples([25]);
    expect(h.countBelow(25)).toBe(0);
    expect(h.countBelow(26)).toBe(1);
    const s = computeStatistics(h, DEFAULT_BUCKETS);
    expect(s.computedBuckets[DEFAULT_BUCKETS.indexOf(25)]).toBe(0);
    expect(s.computedBuckets[DEFAULT_BUCKETS.indexOf(50)]).toBe(1);
    // 24 is in [24,25): counted at le=25.
    expect(BinSet.fromSamples([24]).countBelow(25)).toBe(1);
    // 1234 is in [1200,1300): not ≤ 1250.
    expect(BinSet.fromSamples([1234]).countBelow(1250)).toBe(0);
    expect(BinSet.fromSamples([1234]).countBelow(1300)).toBe(1);
  });

  it("reproduces Envoy's prometheus_stats_test golden histogram (values 50,20,30,70,100,5000,200)", () => {
    // envoy test/server/admin/prometheus_stats_test.cc OutputWithAllMetricTypes (Envoy 1.3x).
    const s = computeStatistics(BinSet.fromSamples([50, 20, 30, 70, 100, 5000, 200]), DEFAULT_BUCKETS);
    expect(s.computedBuckets).toEqual([0, 0, 0, 0, 1, 2, 4, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7]);
    expect(s.sampleCount).toBe(7);
    expect(s.sampleSum).toBe(5532); // Σ arithmetic midpoints, not 5470
  });

  it("keeps the sum approximate (binned) while the count is exact", () => {
    const s = computeStatistics(BinSet.fromSamples([1234, 1234, 1299]), DEFAULT_BUCKETS);
    expect(s.sampleCount).toBe(3);
    expect(s.sampleSum).toBe(3 * 1250);
  });

  it("counts NaN samples in the count but in no bucket", () => {
    const s = computeStatistics(BinSet.fromSamples([NaN, 10]), [100]);
    expect(s.sampleCount).toBe(2);
    expect(s.computedBuckets).toEqual([1]);
  });
});

describe("quantiles (hist_approx_quantile)", () => {
  it("interpolates inside the bin, as Envoy's P-summary shows", () => {
    // A single sample of 1 → bin [1, 1.1): Envoy prints P25(…,1.025) … P100(…,1.1).
    expect(BinSet.fromSamples([1]).quantiles([0, 0.25, 0.5, 0.99, 1])).toEqual([1, 1.025, 1.05, 1.099, 1.1]);
  });

  it("returns NaN for an empty histogram", () => {
    expect(BinSet.EMPTY.quantiles([0.5])).toEqual([NaN]);
  });
});

describe("PendingBins (hot-path store)", () => {
  it("accumulates, grows and drains into sorted bins", () => {
    const p = new PendingBins(8);
    const values: number[] = [];
    for (let i = 0; i < 5000; i++) values.push((i * 7919) % 100000);
    for (const v of values) p.add(binKey(v));
    expect(p.total).toBe(values.length);
    const drained = p.drain();
    expect(drained.sampleCount()).toBe(values.length);
    const keys = [...drained.keys];
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
    expect(drained.countBelow(1e9)).toBe(values.length);
    expect(p.total).toBe(0);
    expect(p.drain().sampleCount()).toBe(0);
  });

  it("merges interval bins into the cumulative bins", () => {
    const a = BinSet.fromSamples([1, 25, 25]);
    const b = BinSet.fromSamples([25, 1000]);
    const m = a.merge(b);
    expect(m.sampleCount()).toBe(5);
    expect(m.countBelow(26)).toBe(4);
  });
});

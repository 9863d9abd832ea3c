// Pairwise summaries of the overhead bench and latency percentiles with their intervals (harness/bench/pair-stats.ts).
import { describe, expect, it } from "vitest";
import { median, pairStats, percentile, quantileStats, roundDifference } from "../../harness/bench/pair-stats.js";

describe("pairStats", () => {
  it("min / median / max of the differences; the bootstrap interval holds the median and stays inside the range", () => {
    const d = [4.1, 3.9, 4.3, 12.0, 4.0, 4.2];
    const s = pairStats(d);
    expect([s.n, s.min, s.median, s.max]).toEqual([6, 3.9, 4.15, 12.0]);
    expect(s.ci95_low).toBeLessThanOrEqual(s.median);
    expect(s.ci95_high).toBeGreaterThanOrEqual(s.median);
    expect(s.ci95_low).toBeGreaterThanOrEqual(3.9);
    expect(s.ci95_high).toBeLessThan(12); // one disturbed pair does not carry the interval to it
    expect(pairStats(d)).toEqual(s); // seeded
  });

  it("identical differences give a zero-width interval; no pairs give NaN", () => {
    expect(pairStats([2, 2, 2])).toMatchObject({ min: 2, median: 2, max: 2, ci95_low: 2, ci95_high: 2 });
    expect(Number.isNaN(pairStats([]).median)).toBe(true);
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
});

describe("quantileStats", () => {
  it("nearest-rank percentiles: the p99 of 200 values is the 198th (the third largest), the p50 the 100th", () => {
    const xs = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(percentile(xs, 99)).toBe(198);
    expect(percentile(xs, 50)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });

  it("a p99 carried by a few slow values gets a wide interval, a steady p50 a narrow one", () => {
    // 196 reloads near 3 ms, four slow ones: the p99 is one of the slow ones, and a rerun drawing
    // fewer of them would read ~3 ms — the interval has to say so.
    const xs = [...Array.from({ length: 196 }, (_, i) => 3 + (i % 7) * 0.1), 9, 11, 14, 20];
    const p99 = quantileStats(xs, 99);
    expect(p99.value).toBe(11);
    expect(p99.ci95_low).toBeLessThanOrEqual(9);
    expect(p99.ci95_high).toBeGreaterThanOrEqual(14);
    const p50 = quantileStats(xs, 50);
    expect(p50.value).toBeCloseTo(3.3, 10);
    expect(p50.ci95_high - p50.ci95_low).toBeLessThanOrEqual(0.3);
    expect(quantileStats(xs, 99)).toEqual(p99); // seeded
    expect(xs.at(-1)).toBe(20); // the input is not reordered
  });
});

describe("roundDifference", () => {
  it("takes each round's own difference before the median, so a slow round moves both sides together", () => {
    // Rounds 3 and 4 ran on a slow machine: both variants read ~2× there; the round differences stay 100.
    const on = [800, 805, 1600, 1610, 802];
    const off = [700, 705, 1500, 1510, 702];
    const d = roundDifference(on, off);
    expect(d.median).toBe(100);
    expect(d.ci95).toEqual([100, 100]);
    // Two slow rounds on one side, one on the other: medians first would read 1600 − 700 = 900.
    expect(roundDifference([800, 1600, 1600], [700, 700, 1500]).median).toBe(100);
  });
});

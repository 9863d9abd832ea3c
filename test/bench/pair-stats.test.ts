// Pairwise summaries of the overhead bench (harness/bench/pair-stats.ts).
import { describe, expect, it } from "vitest";
import { median, pairStats } from "../../harness/bench/pair-stats.js";

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

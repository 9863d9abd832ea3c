/**
 * Repeatability of an interleaved on/off comparison: the pairwise differences (round k with the
 * filter − round k without) summarised by min / median / max and a 95 % bootstrap interval of the
 * median (seeded: the same input gives the same interval). The median is the headline: one
 * disturbed round moves it little, and the interval shows how far a rerun could move it.
 */
export interface PairStats {
  n: number;
  min: number;
  median: number;
  max: number;
  ci95_low: number;
  ci95_high: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function pairStats(diffs: number[], resamples = 2000, seed = 1): PairStats {
  const n = diffs.length;
  if (n === 0) return { n, min: NaN, median: NaN, max: NaN, ci95_low: NaN, ci95_high: NaN };
  let x = seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  const meds: number[] = [];
  const sample = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = diffs[Math.floor(rnd() * n)];
    meds.push(median(sample));
  }
  meds.sort((a, b) => a - b);
  const q = (p: number) => meds[Math.min(meds.length - 1, Math.max(0, Math.round(p * (meds.length - 1))))];
  return { n, min: Math.min(...diffs), median: median(diffs), max: Math.max(...diffs), ci95_low: q(0.025), ci95_high: q(0.975) };
}

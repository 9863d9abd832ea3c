/**
 * How far a rerun could move a bench figure. Pairs: the pairwise differences of an interleaved on/off
 * comparison (round k with the filter − round k without) summarised by min / median / max and a 95 %
 * bootstrap interval of the median; the median is the headline: one disturbed round moves it little.
 * Quantiles: a latency percentile (nearest rank) with a 95 % bootstrap interval — a p99 of 200
 * reloads is their third slowest, and the interval shows what the next 200 could read. Seeded: the
 * same input gives the same interval.
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

/** Percentile p (0–100) of ascending `sorted`, nearest rank (the p99 of 200 values is the 198th, the third largest). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** 2.5 % and 97.5 % points of `stat` over `resamples` bootstrap resamples of xs (xorshift, seeded). */
function bootstrapCi(xs: readonly number[], stat: (sample: number[]) => number, resamples: number, seed: number): [number, number] {
  const n = xs.length;
  let x = seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  const stats: number[] = [];
  const sample = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = xs[Math.floor(rnd() * n)]!;
    stats.push(stat(sample));
  }
  stats.sort((a, b) => a - b);
  const q = (p: number) => stats[Math.min(stats.length - 1, Math.max(0, Math.round(p * (stats.length - 1))))]!;
  return [q(0.025), q(0.975)];
}

export function pairStats(diffs: number[], resamples = 2000, seed = 1): PairStats {
  const n = diffs.length;
  if (n === 0) return { n, min: NaN, median: NaN, max: NaN, ci95_low: NaN, ci95_high: NaN };
  const [lo, hi] = bootstrapCi(diffs, median, resamples, seed);
  return { n, min: Math.min(...diffs), median: median(diffs), max: Math.max(...diffs), ci95_low: lo, ci95_high: hi };
}

/**
 * Variants measured in turn in each round (a[r] and b[r] in round r): the median of the per-round
 * differences a[r] − b[r], rounded, and the 95 % bootstrap interval of that median. A round's two
 * measurements share the machine's speed at that moment; medians taken first do not.
 */
export function roundDifference(a: readonly number[], b: readonly number[]): { median: number; ci95: [number, number] } {
  const st = pairStats(a.map((x, r) => x - b[r]!));
  return { median: Math.round(st.median), ci95: [Math.round(st.ci95_low), Math.round(st.ci95_high)] };
}

export interface QuantileStats {
  value: number;
  ci95_low: number;
  ci95_high: number;
}

/** Percentile p of xs (nearest rank) and a 95 % bootstrap interval of it. */
export function quantileStats(xs: readonly number[], p: number, resamples = 2000, seed = 1): QuantileStats {
  if (xs.length === 0) return { value: NaN, ci95_low: NaN, ci95_high: NaN };
  const [lo, hi] = bootstrapCi(xs, (s) => percentile(s.sort((a, b) => a - b), p), resamples, seed);
  return { value: percentile([...xs].sort((a, b) => a - b), p), ci95_low: lo, ci95_high: hi };
}

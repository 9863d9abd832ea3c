// The goals table (harness/bench/goals.ts) shows how far a rerun could move a reload percentile: the
// 95 % interval the reload bench stores beside p50 and p99.
import { describe, expect, it } from "vitest";
import { goalRows } from "../../harness/bench/goals.js";
import type { BenchFile } from "../../harness/bench/report.js";

const reload = (cases: Record<string, unknown>[]): BenchFile => ({
  name: "reload",
  path: "reload.json",
  meta: { provenance: { noisy: false } },
  sections: [{ name: "cases", cases }],
});

describe("goal rows of the reload percentiles", () => {
  it("carry the stored intervals; the verdict stays on the figure itself", () => {
    const rows = goalRows([reload([
      { target: "embedded", mode: "push-snapshot", cidrs: 10_000, workers: 2, p50_ms: 2.85, p99_ms: 6.59, p50_ci95_ms: [2.7, 3.01], p99_ci95_ms: [5.21, 9.8] },
      { target: "embedded", mode: "pull", cidrs: 100_000, workers: 2, p50_ms: 3.63, p99_ms: 11.43, p50_ci95_ms: [3.5, 3.8], p99_ci95_ms: [9.9, 13.04] },
      { target: "embedded", mode: "pull", cidrs: 10_000, workers: 2, p50_ms: 1.45, p99_ms: 3.97 },
    ])]);
    const row = (goal: string) => rows.find((r) => r.goal === goal)!;
    const snap = row("reload p99 ≤ 5 ms, 10k CIDRs, push-snapshot");
    expect(snap.measured).toBe("6.59 ms (95 % interval 5.21…9.80)");
    expect(snap.verdict).toBe("missed");
    const pull100k = row("reload p50 ≤ 5 ms, p99 ≤ 20 ms, 100k CIDRs, pull");
    expect(pull100k.measured).toBe("3.63 / 11.43 ms (95 % intervals 3.50…3.80 / 9.90…13.04)");
    expect(pull100k.verdict).toBe("met");
    // A file from before the intervals: the figure alone.
    expect(row("reload p99 ≤ 5 ms, 10k CIDRs, pull").measured).toBe("3.97 ms");
  });
});

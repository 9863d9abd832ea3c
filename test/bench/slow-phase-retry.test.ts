// bench:overhead measures a case again when the probes around it say the machine ran in a slow phase
// (harness/bench/cpu-probe.ts SlowPhaseRetry): the decision rests on the probes alone.
import { describe, expect, it } from "vitest";
import { SlowPhaseRetry, type CpuProbe } from "../../harness/bench/cpu-probe.js";

const probe = (runs: number[], mem = [150, 150]): CpuProbe => ({
  runs_ms: runs,
  pinned: true,
  median_ms: Math.max(...runs),
  spread: Math.max(...runs) / Math.min(...runs),
  unsteady: Math.max(...runs) / Math.min(...runs) > 1.15,
  mem_ns: mem,
});

describe("slow-phase retries of a bench case", () => {
  it("a case between steady probes stands; one CPU 1.5× slower, or a CPU slower than the fastest seen, or dear memory, is a slow phase", () => {
    const r = new SlowPhaseRetry(2, 0, 0, () => null);
    const before = r.seen(probe([115, 118]));
    expect(r.slow(before, probe([117, 116]))).toBe(false);
    expect(r.slow(before, probe([115, 175]))).toBe(true); // one CPU slow after the case
    expect(r.slow(probe([170, 172]), probe([168, 171]))).toBe(true); // both slow against the fastest seen (115)
    expect(r.slow(before, probe([116, 117], [150, 230]))).toBe(true); // a cold load far above the run's median
    expect(r.slow(null, null)).toBe(false); // no probes: nothing to decide on
  });

  it("waits for a steady probe before the next attempt, and gives up waiting after waitMs", async () => {
    const seq = [probe([115, 180]), probe([175, 116]), probe([116, 117])];
    let calls = 0;
    const r = new SlowPhaseRetry(1, 1000, 1, () => seq[Math.min(calls++, seq.length - 1)]!);
    r.seen(probe([114, 116]));
    const p = await r.steadyProbe();
    expect(p!.runs_ms).toEqual([116, 117]);
    expect(calls).toBe(3);

    let n = 0;
    const stuck = new SlowPhaseRetry(1, 30, 10, () => (n++, probe([115, 190])));
    stuck.seen(probe([114, 116]));
    const last = await stuck.steadyProbe();
    expect(last!.runs_ms).toEqual([115, 190]); // still slow: the last probe, after the wait ran out
    expect(n).toBeGreaterThanOrEqual(2);
    expect(n).toBeLessThanOrEqual(5);
  });
});

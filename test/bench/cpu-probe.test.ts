// The machine-speed probe every results file records (harness/bench/cpu-probe.ts): one fixed pure-JS
// workload per CPU, so a run taken while the hypervisor slowed a CPU says so in its provenance.
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { PROBE_RUNS, PROBE_SPREAD_LIMIT, probeCpu, probeShort, summarise } from "../../harness/bench/cpu-probe.js";
import { canPin } from "../../harness/process/cpu-affinity.js";

describe("CPU probe", () => {
  it("marks runs that spread past the limit as unsteady and keeps them in order", () => {
    const steady = summarise([120, 125, 122], false);
    expect(steady).toMatchObject({ runs_ms: [120, 125, 122], median_ms: 122, unsteady: false });
    const slowCpu0 = summarise([196, 126], true);
    expect(slowCpu0.spread).toBeGreaterThan(PROBE_SPREAD_LIMIT);
    expect(slowCpu0.unsteady).toBe(true);
    expect(slowCpu0.runs_ms).toEqual([196, 126]);
  });

  it("prints each CPU's figure when pinned, the median otherwise, and nothing for files without a probe", () => {
    expect(probeShort(summarise([196.4, 125.6], true), summarise([130, 128], true))).toBe(", CPU probe 196/126 ms (unsteady) → 130/128 ms");
    expect(probeShort(summarise([120, 121, 123]), null)).toBe(", CPU probe 121 ms → ?");
    expect(probeShort(undefined, undefined)).toBe("");
  });

  it("times the workload on every CPU (or PROBE_RUNS times unpinned) in fresh processes", () => {
    const p = probeCpu();
    expect(p).not.toBeNull();
    const pinned = availableParallelism() <= 8 && canPin(1);
    expect(p!.pinned).toBe(pinned);
    expect(p!.runs_ms).toHaveLength(pinned ? availableParallelism() : PROBE_RUNS);
    for (const ms of p!.runs_ms) expect(ms).toBeGreaterThan(1);
  });
});

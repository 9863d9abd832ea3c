// The machine-speed probe every results file records (harness/bench/cpu-probe.ts): one fixed pure-JS
// workload per CPU, so a run taken while the hypervisor slowed a CPU says so in its provenance.
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
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

  it("times the workload on every CPU of the machine, even from a process pinned to one (or PROBE_RUNS times unpinned)", () => {
    const p = probeCpu();
    expect(p).not.toBeNull();
    const pinned = cpus().length <= 8 && canPin(1);
    expect(p!.pinned).toBe(pinned);
    expect(p!.runs_ms).toHaveLength(pinned ? cpus().length : PROBE_RUNS);
    for (const ms of p!.runs_ms) expect(ms).toBeGreaterThan(1);
  });

  it.skipIf(!canPin(2))("a process pinned to CPU 0 (bench:overhead's coordinator) still probes every CPU", () => {
    const probe = fileURLToPath(new URL("../../harness/bench/cpu-probe.ts", import.meta.url));
    const code = `import(${JSON.stringify(pathToFileURL(probe).href)}).then((m) => process.stdout.write(JSON.stringify(m.probeCpu())))`;
    const r = spawnSync("taskset", ["-c", "0", process.execPath, "--import", "tsx", "-e", code], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).runs_ms).toHaveLength(cpus().length);
  });
});

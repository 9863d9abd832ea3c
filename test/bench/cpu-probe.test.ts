// The machine-speed probe every results file records (harness/bench/cpu-probe.ts): one fixed pure-JS
// workload per CPU, so a run taken while the hypervisor slowed a CPU says so in its provenance.
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { MEM_SLOW_LIMIT, PROBE_RUNS, PROBE_SPREAD_LIMIT, allMemProbes, allProbeRuns, caseSlowPhase, probeCpu, probeShort, summarise } from "../../harness/bench/cpu-probe.js";
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
    // With the memory probe: each CPU's ns per cold load after the CPU figures.
    expect(probeShort(summarise([118, 121], true, [160, 158]), summarise([119, 120], true, [161, 157]))).toBe(", CPU probe 118/121 ms → 119/120 ms, cold load 160/158 → 161/157 ns");
    expect(probeShort(summarise([118, 121], true, [160, 158]), null)).toBe(", CPU probe 118/121 ms → ?, cold load 160/158 → ? ns");
  });

  it("flags a case whose own probes spread, or ran slower than the file's fastest probe, as a slow phase", () => {
    const provenance = { cpu_probe_before: summarise([112.5, 113.8], true), cpu_probe_after: summarise([121.7, 195.8], true) };
    const cases: Array<Record<string, unknown>> = [
      { cpu_probe_ms: [111, 114], cpu_probe_after_ms: [113, 112] },
      { cpu_probe_ms: [113, 196] },
      { cpu_probe_ms: [150, 152] },
      { cpu_probe_ms: [112, 113], cpu_probe_after_ms: [171, 113] }, // slowed while it ran
      {},
    ];
    const all = allProbeRuns(provenance, cases);
    expect(all).toEqual([112.5, 113.8, 121.7, 195.8, 111, 114, 113, 112, 113, 196, 150, 152, 112, 113, 171, 113]);
    expect(caseSlowPhase(cases[0]!, all)).toEqual({ slow: false, text: "CPU probe before → after the case 111/114 → 113/112 ms, fastest in the file 111 ms" });
    expect(caseSlowPhase(cases[1]!, all)).toEqual({ slow: true, text: "CPU probe before the case 113/196 ms, fastest in the file 111 ms" }); // one CPU slower
    expect(caseSlowPhase(cases[2]!, all)!.slow).toBe(true); // both CPUs slower than the file's best
    expect(caseSlowPhase(cases[3]!, all)!.slow).toBe(true);
    expect(caseSlowPhase(cases[4]!, all)).toBeUndefined();
  });

  it("flags a case whose memory probe ran MEM_SLOW_LIMIT over the median of its file's, with steady CPU probes", () => {
    const provenance = { cpu_probe_before: summarise([112, 113], true, [158, 161]), cpu_probe_after: summarise([113, 112], true, [160, 159]) };
    const cases: Array<Record<string, unknown>> = [
      { cpu_probe_ms: [112, 113], mem_probe_ns: [160, 162], cpu_probe_after_ms: [113, 112], mem_probe_after_ns: [159, 163] },
      { cpu_probe_ms: [112, 114], mem_probe_ns: [161, 160], cpu_probe_after_ms: [113, 113], mem_probe_after_ns: [166, 215] }, // memory slowed while it ran
      { cpu_probe_ms: [112, 113] }, // a file from before the memory probe: CPU rule only
    ];
    const cpu = allProbeRuns(provenance, cases);
    const mem = allMemProbes(provenance, cases);
    expect(mem).toEqual([158, 161, 160, 159, 160, 162, 159, 163, 161, 160, 166, 215]);
    expect(caseSlowPhase(cases[0]!, cpu, mem)).toEqual({ slow: false, text: "CPU probe before → after the case 112/113 → 113/112 ms, fastest in the file 112 ms; cold load 160/162 → 159/163 ns, median in the file 161 ns" });
    expect(215 / 161).toBeGreaterThan(MEM_SLOW_LIMIT);
    // One low reading in the file does not make every other case slow (the probe spreads by itself).
    expect(caseSlowPhase({ cpu_probe_ms: [112, 113], mem_probe_ns: [180, 175] }, cpu, [...mem, 100, 102])!.slow).toBe(false);
    expect(caseSlowPhase(cases[1]!, cpu, mem)!.slow).toBe(true);
    expect(caseSlowPhase(cases[2]!, cpu, mem)).toEqual({ slow: false, text: "CPU probe before the case 112/113 ms, fastest in the file 112 ms" });
  });

  it("times the workload on every CPU of the machine, even from a process pinned to one (or PROBE_RUNS times unpinned)", () => {
    const p = probeCpu();
    expect(p).not.toBeNull();
    const pinned = cpus().length <= 8 && canPin(1);
    expect(p!.pinned).toBe(pinned);
    expect(p!.runs_ms).toHaveLength(pinned ? cpus().length : PROBE_RUNS);
    for (const ms of p!.runs_ms) expect(ms).toBeGreaterThan(1);
    // A cold load costs tens to hundreds of ns on any machine (a cache hit would be ~1 ns).
    expect(p!.mem_ns).toHaveLength(p!.runs_ms.length);
    for (const ns of p!.mem_ns!) expect(ns).toBeGreaterThan(10);
  });

  it.skipIf(!canPin(2))("a process pinned to CPU 0 (bench:overhead's coordinator) still probes every CPU", () => {
    const probe = fileURLToPath(new URL("../../harness/bench/cpu-probe.ts", import.meta.url));
    const code = `import(${JSON.stringify(pathToFileURL(probe).href)}).then((m) => process.stdout.write(JSON.stringify(m.probeCpu())))`;
    const r = spawnSync("taskset", ["-c", "0", process.execPath, "--import", "tsx", "-e", code], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).runs_ms).toHaveLength(cpus().length);
  });
});

// What a fresh page of memory costs on the machine a bench ran on (harness/bench/page-fault-probe.ts),
// recorded in every results file and used by the goals table to show a reload's page-fault share.
import { describe, expect, it } from "vitest";
import { PROBE_PAGES, PROBE_ROUNDS, pageFaultShort, probePageFaults, usPerFault } from "../../harness/bench/page-fault-probe.js";
import { goalRows } from "../../harness/bench/goals.js";
import type { BenchFile } from "../../harness/bench/report.js";

describe("page-fault probe", () => {
  it("counts one fault per 4 KiB page of fresh wasm memory and prices it", () => {
    const p = probePageFaults();
    expect(p).not.toBeNull();
    expect(p!.runs_us.length).toBeGreaterThan(0);
    expect(p!.runs_us.length).toBeLessThanOrEqual(PROBE_ROUNDS);
    // Every 4 KiB page written once faults once (more when the process faults elsewhere meanwhile).
    for (const f of p!.faults) expect(f).toBeGreaterThanOrEqual(PROBE_PAGES * 16 * 0.9);
    expect(p!.us_per_fault).toBeGreaterThan(0);
    expect(p!.us_per_fault).toBeLessThan(1000);
  });

  it("prints the figure for a provenance line, nothing for files without it", () => {
    expect(pageFaultShort({ page_fault_probe: { us_per_fault: 10.72, faults: [1024], runs_us: [10.72] } })).toBe(", page fault 10.7 µs");
    expect(pageFaultShort({ page_fault_probe: { us_per_fault: 0.184, faults: [1024], runs_us: [0.184] } })).toBe(", page fault 0.18 µs");
    expect(pageFaultShort({ page_fault_probe: null })).toBe("");
    expect(pageFaultShort(undefined)).toBe("");
    expect(usPerFault({ page_fault_probe: { us_per_fault: -1 } })).toBeUndefined();
  });

  it("the goals table prices a reload's median page faults with the file's probe", () => {
    const reload = (probe: unknown): BenchFile => ({
      name: "reload",
      path: "reload.json",
      meta: { provenance: { noisy: false, page_fault_probe: probe } },
      sections: [{ name: "cases", cases: [
        { target: "embedded", mode: "push-snapshot", cidrs: 100_000, workers: 2, p50_ms: 8.66, p99_ms: 14.48, page_faults_p50: 209 },
        { target: "embedded", mode: "pull", cidrs: 100_000, workers: 2, p50_ms: 3.53, p99_ms: 10.25, page_faults_p50: 0 },
      ] }],
    });
    const row = (rows: ReturnType<typeof goalRows>, mode: string) => rows.find((r) => r.goal === `reload p50 ≤ 5 ms, p99 ≤ 20 ms, 100k CIDRs, ${mode}`)!;
    const priced = goalRows([reload({ us_per_fault: 10.7, faults: [1024], runs_us: [10.7] })]);
    expect(row(priced, "push-snapshot").measured).toBe("8.66 / 14.48 ms (209 page faults per reload ≈ 2.24 ms at 10.7 µs each)");
    expect(row(priced, "pull").measured).toBe("3.53 / 10.25 ms");
    // Files from before the probe: the figures alone.
    expect(row(goalRows([reload(undefined)]), "push-snapshot").measured).toBe("8.66 / 14.48 ms");
    // A case measured while a CPU ran slow says so (its probe, taken just before it).
    const slow = reload(undefined);
    slow.sections[0]!.cases[0]!.cpu_probe_ms = [112, 196];
    slow.sections[0]!.cases[1]!.cpu_probe_ms = [111, 113];
    const rows = goalRows([slow]);
    expect(row(rows, "push-snapshot").measured).toBe("8.66 / 14.48 ms — slow phase (CPU probe before the case 112/196 ms, fastest in the file 111 ms)");
    expect(row(rows, "pull").measured).toBe("3.53 / 10.25 ms");
  });
});

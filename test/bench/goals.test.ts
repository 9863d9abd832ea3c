// The goals table (harness/bench/goals.ts) shows how far a rerun could move a reload percentile: the
// 95 % interval the reload bench stores beside p50 and p99, and how far a throughput ratio's pairs spread.
import { describe, expect, it } from "vitest";
import { goalRows } from "../../harness/bench/goals.js";
import { renderResults } from "../../harness/bench/readme.js";
import type { BenchFile } from "../../harness/bench/report.js";

const benchFile = (name: string, cases: Record<string, unknown>[]): BenchFile => ({
  name,
  path: `${name}.json`,
  meta: { provenance: { noisy: false } },
  sections: [{ name: "cases", cases }],
});
const reload = (cases: Record<string, unknown>[]) => benchFile("reload", cases);
const overhead = (cases: Record<string, unknown>[]) => benchFile("overhead", cases);
/** The goals table of `files`, one row looked up by its goal. */
const table = (files: BenchFile[]) => {
  const rows = goalRows(files);
  return (goal: string) => rows.find((r) => r.goal === goal)!;
};

describe("goal rows of the reload percentiles", () => {
  it("carry the stored intervals; the verdict stays on the figure itself", () => {
    const row = table([reload([
      { target: "embedded", mode: "push-snapshot", cidrs: 10_000, workers: 2, p50_ms: 2.85, p99_ms: 6.59, p50_ci95_ms: [2.7, 3.01], p99_ci95_ms: [5.21, 9.8] },
      { target: "embedded", mode: "pull", cidrs: 100_000, workers: 2, p50_ms: 3.63, p99_ms: 11.43, p50_ci95_ms: [3.5, 3.8], p99_ci95_ms: [9.9, 13.04] },
      { target: "embedded", mode: "pull", cidrs: 10_000, workers: 2, p50_ms: 1.45, p99_ms: 3.97 },
    ])]);
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

describe("goal rows of the throughput ratio", () => {
  it("show how far the saturation pairs spread; the verdict stays on the ratio itself", () => {
    const row = table([overhead([
      { target: "embedded", filter: "edgewatch", cidrs: 10_000, workers: 2, tracing: "0.01", ratio: 0.995, ratio_min: 0.821, ratio_max: 1.321, rounds: 2 },
      { target: "embedded", filter: "edgewatch", cidrs: 0, workers: 2, tracing: "off", ratio: 0.87 },
    ])]);
    const verdict = (goal: string) => [row(goal).measured, row(goal).verdict];
    expect(verdict("throughput with / without the filter ≥ 0.95, 10k CIDRs + tracing 1 %")).toEqual(["0.99 (range 0.82…1.32 over 2 saturation pairs)", "met"]);
    // A file without the range: the ratio alone.
    expect(verdict("throughput with / without the filter ≥ 0.95, no tracing")).toEqual(["0.87", "missed"]);
  });
});

describe("the host's GC pauses beside a reload case (gc_major_reloads, p99_without_gc_ms)", () => {
  const cases = [
    { target: "embedded", mode: "push-snapshot", cidrs: 10_000, workers: 2, reloads: 200, p50_ms: 2.6, p99_ms: 6.03, gc_ms_p99: 1.2, gc_major_reloads: 3, p99_without_gc_ms: 4.87 },
    { target: "embedded", mode: "push", cidrs: 10_000, workers: 2, reloads: 200, p50_ms: 4.1, p99_ms: 9.2 },
  ];

  it("the goal row says how many reloads held a full GC and the p99 without the pauses; the verdict stays on the p99", () => {
    const row = table([reload(cases)]);
    const snap = row("reload p99 ≤ 5 ms, 10k CIDRs, push-snapshot");
    expect(snap.measured).toBe("6.03 ms (3 of 200 reloads held a full GC; p99 less GC pauses 4.87 ms)");
    expect(snap.verdict).toBe("missed");
    expect(row("reload p99 ≤ 5 ms, 10k CIDRs, push").measured).toBe("9.20 ms");
  });

  it("the README reload table gains the two columns only for files that have them", () => {
    const withGc = renderResults([reload(cases)]);
    expect(withGc).toContain("| p99 ms | full GCs | p99 less GC ms | CPU p50 ms |");
    expect(withGc).toMatch(/\| push-snapshot \| 10,000 \| 2 \| 2\.60 \| 6\.03 \| 3 \| 4\.87 \|/);
    expect(withGc).toMatch(/\| push \| 10,000 \| 2 \| 4\.10 \| 9\.20 \| — \| — \|/);
    const old = renderResults([reload([cases[1]!])]);
    expect(old).not.toContain("full GCs");
  });
});

describe("where the push reloads' time went (reload_parts)", () => {
  const parts = (latency: number, start: number, configure: number, vms: number, gc: number | null) =>
    ({ reloads: 10, latency_ms: latency, canary_start_ms: start, canary_configure_ms: configure, vms_ms: vms, other_ms: latency - start - configure - vms, gc_ms: gc });

  it("the README shows the median and slowest rows of each 2-worker case that has them, and no table for files without them", () => {
    const cases = [
      { target: "embedded", mode: "push-snapshot", cidrs: 10_000, workers: 2, reloads: 200, p50_ms: 2.6, p99_ms: 6.03, reload_parts: { median: parts(2.6, 0.7, 0.6, 0.45, 0), slowest: parts(8.5, 3.4, 0.8, 0.6, 0.5) } },
      { target: "embedded", mode: "push", cidrs: 10_000, workers: 4, reloads: 200, p50_ms: 4.1, p99_ms: 9.2, reload_parts: { median: parts(4, 1, 2, 0.5, null), slowest: parts(9, 3, 2.5, 1, null) } },
    ];
    const md = renderResults([reload(cases)]);
    expect(md).toContain("| mode | CIDRs | reloads | latency ms | canary instantiate + `_start` | canary configure | VMs | rest | GC |");
    expect(md).toContain("| push-snapshot | 10,000 | median (10) | 2.60 | 0.70 | 0.60 | 0.45 | 0.85 | 0.00 |");
    expect(md).toContain("| push-snapshot | 10,000 | slowest 5 % (10) | 8.50 | 3.40 | 0.80 | 0.60 | 3.70 | 0.50 |");
    expect(md).not.toMatch(/\| push \| 10,000 \| median/); // 4 workers: not in this table
    expect(renderResults([reload([{ ...cases[0]!, reload_parts: undefined }])])).not.toContain("canary instantiate");
  });
});

describe("what a VM holds after the reload cases (vm_memory_mib, vm_written_mib)", () => {
  const micro: BenchFile = { name: "reload-micro", path: "reload-micro.json", meta: { provenance: { noisy: false } }, sections: [{ name: "parse", cases: [{ cidrs: 1_000_000, rule_table_bytes: 7_013_000 }] }] };
  const cases = [
    { target: "embedded", mode: "pull", cidrs: 1_000_000, workers: 2, reloads: 30, p50_ms: 27.5, p99_ms: 40, vm_memory_mib: 57.5, vm_written_mib: 53.67 },
    { target: "embedded", mode: "push-snapshot", cidrs: 1_000_000, workers: 2, reloads: 30, p50_ms: 45, p99_ms: 99, vm_memory_mib: 57.5, vm_written_mib: 40.25 },
    { target: "embedded", mode: "push", cidrs: 10_000, workers: 2, reloads: 200, p50_ms: 3.3, p99_ms: 8.1 },
  ];

  it("the rule-tables goal row says what VMs wrote beside the tables; the verdict stays on the tables", () => {
    const r = table([reload(cases), micro])("rule tables ≤ 8 MiB per VM, 1,000,000 CIDRs");
    expect(r.measured).toBe("6.69 MiB (pages written in a VM after the 1,000,000-CIDR reload cases: pull 53.7 MiB after 30 reloads, push-snapshot 40.3 MiB after 30 reloads, reload.json)");
    expect(r.verdict).toBe("met");
    expect(table([reload(cases.map((c) => ({ ...c, vm_written_mib: undefined }))), micro])("rule tables ≤ 8 MiB per VM, 1,000,000 CIDRs").measured).toBe("6.69 MiB");
  });

  it("the README reload table has a VM memory column only for files that have it", () => {
    const md = renderResults([reload(cases)]);
    expect(md).toContain("| VMs ms (slowest) | VM MiB (written) | fetched bytes |");
    expect(md).toMatch(/\| pull \| 1,000,000 \| 2 \| 27\.50 \| 40\.00 \| — \| — \| — \| 57\.5 \(53\.7\) \| — \|/);
    expect(md).toMatch(/\| push \| 10,000 \| 2 \| 3\.30 \| 8\.10 \| — \| — \| — \| — \| — \|/);
    expect(renderResults([reload([cases[2]!])])).not.toContain("VM MiB");
  });
});

describe("an overhead case measured again after a slow phase", () => {
  it("the goal row names the discarded attempts and what they read; the verdict is on the kept attempt", () => {
    const row = table([overhead([
      { target: "embedded", filter: "edgewatch", cidrs: 0, workers: 2, tracing: "off", added_cpu_us_per_request: 5.4, added_cpu_us_ci95_low: 4.1, added_cpu_us_ci95_high: 7.2, attempts: 2, slow_attempts: [{ cpu_probe_ms: [170, 118], cpu_probe_after_ms: [172, 117], added_cpu_us_per_request: 27.9, ratio: 0.87 }] },
    ])]);
    const r = row("added CPU per request (filter on − off), 0 CIDRs, no tracing ≤ 6 µs");
    expect(r.measured).toBe("5.4 µs (95 % interval 4.1…7.2; measured again: 1 earlier attempt met a slow phase and read 27.9 µs)");
    expect(r.verdict).toBe("met");
  });

  it("a reload goal row does the same with the discarded attempts' p99", () => {
    const row = table([reload([
      { target: "embedded", mode: "pull", cidrs: 10_000, workers: 2, reloads: 200, p50_ms: 1.2, p99_ms: 3.7, attempts: 2, slow_attempts: [{ cpu_probe_ms: [120, 182], cpu_probe_after_ms: [194, 183], p50_ms: 2.17, p99_ms: 8.06 }] },
    ])]);
    expect(row("reload p99 ≤ 5 ms, 10k CIDRs, pull").measured).toBe("3.70 ms (measured again: 1 earlier attempt met a slow phase and read p99 8.06 ms)");
  });
});

describe("telemetry and trace differences with their 95 % intervals", () => {
  const files = (withCi: boolean): BenchFile[] => [
    benchFile("telemetry", [{ case: "telemetry on", routes: 1, telemetry_wasm_ns: 98, telemetry_cpu_ns: 292, telemetry_host_calls: 4, request_wasm_ns: 624, host_calls_per_request: 10, ...(withCi ? { telemetry_wasm_ns_ci95: [61, 140], telemetry_cpu_ns_ci95: [286, 319] } : {}) }]),
    {
      ...benchFile("trace", []),
      sections: [
        { name: "cases", cases: [{ case: "new trace", trace_wasm_ns: 180, trace_cpu_ns: 1369, trace_host_calls: 2.12, ...(withCi ? { trace_wasm_ns_ci95: [41, 347], trace_cpu_ns_ci95: [1352, 1411] } : {}) }] },
        { name: "export", cases: [{ case: "OTLP export", export_wasm_ns_per_span: 931, export_bytes_per_span: 693, ...(withCi ? { export_wasm_ns_per_span_ci95: [880, 1003] } : {}) }] },
      ],
    },
  ];

  it("the README names each interval where the file has one, and only then", () => {
    const md = renderResults(files(true));
    expect(md).toContain("- telemetry on, 1 route(s): telemetry adds 98 ns of wasm per request (95 % interval 61…140); 292 ns of process CPU with its 4.0 extra host calls (JS stubs) (95 % interval 286…319) (whole request 624 ns of wasm, 10 host calls)");
    expect(md).toContain("- trace path, new trace: 180 ns of wasm per request (95 % interval 41…347); 1,369 ns of process CPU with its 2.1 extra host calls (JS stubs) (95 % interval 1,352…1,411)");
    expect(md).toContain("- OTLP export: 931 ns of wasm (95 % interval 880…1,003) and 693 bytes per span");
    const old = renderResults(files(false));
    expect(old).toContain("- trace path, new trace: 180 ns of wasm per request\n");
    expect(old).not.toContain("95 % interval");
    // An interval across zero: the difference is within the rounds' noise, and the line says so.
    const noise = renderResults([benchFile("trace", [{ case: "new trace", trace_wasm_ns: -18, trace_wasm_ns_ci95: [-69, 51] }])]);
    expect(noise).toContain("- trace path, new trace: -18 ns of wasm per request (95 % interval -69…51: not told apart from the baseline in this run)");
  });
});

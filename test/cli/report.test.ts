// Bench report and --compare on crafted result files: what a CI job sees.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compareBenches, interpretBench, metricDirection, renderBarChart, writeReport } from "../../harness/bench/report.js";
import { runEdgewatch } from "./helpers.js";

function overhead(rpsWith: number, wasmUs: number, p99: number) {
  return {
    bench: "overhead",
    quick: true,
    cases: [
      { filter: "none", cidrs: 0, workers: 1, routes: 100, tracing: false, requests: 20000, rps: 10000, p50_us: 300, p99_us: 900, wasm_us_per_request: 0, ratio: 1 },
      { filter: "edgewatch", cidrs: 0, workers: 1, routes: 100, tracing: false, requests: 20000, rps: rpsWith, p50_us: 320, p99_us: p99, wasm_us_per_request: wasmUs, ratio: rpsWith / 10000 },
      { filter: "edgewatch", cidrs: 10000, workers: 2, routes: 100, tracing: true, requests: 20000, rps: rpsWith, p50_us: 330, p99_us: p99, wasm_us_per_request: wasmUs + 0.5, ratio: rpsWith / 10000 },
    ],
    memory: [{ filter: "edgewatch", cidrs: 10000, workers: 2, requests: 100000, wasm_memory_bytes: 2 * 1048576, rss_bytes: 150 * 1048576 }],
  };
}

const reload = {
  cases: [
    { mode: "push", cidrs: 10000, workers: 2, reloads: 200, p50_ms: 2.1, p99_ms: 6.5, max_ms: 9.9 },
    { mode: "pull", cidrs: 10000, workers: 2, reloads: 200, p50_ms: 3.1, p99_ms: 12.5, max_ms: 30 },
  ],
};

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "ew-report-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(content));
  return dir;
}

describe("bench report", () => {
  it("classifies metric directions and case identity", () => {
    expect(metricDirection("p99_ms")).toBe("lower");
    expect(metricDirection("wasm_us_per_request")).toBe("lower");
    expect(metricDirection("rps")).toBe("higher");
    expect(metricDirection("ratio")).toBe("higher");
    expect(metricDirection("cidrs")).toBeUndefined();
    expect(metricDirection("requests")).toBeUndefined();
    const b = interpretBench(overhead(9500, 2, 1000), "/x/overhead.json");
    expect(b.sections.map((s) => s.name)).toEqual(["cases", "memory"]);
    expect(b.meta.quick).toBe(true);
  });

  it("writes REPORT.md: goals with verdicts and sources, provenance per file, tables, linked chart files", () => {
    const prov = { git_commit: "0123456789abcdef", wasm_sha256: "ab".repeat(32), node: "v20.20.2", cpu_model: "AMD EPYC", cores: 2, loadavg_before: { "1m": 3.5 }, loadavg_after: { "1m": 4.1 }, quick: false, target: "embedded", noisy: true, noisy_reason: "1-minute load average 4.1 exceeded the 2 cores" };
    const reloadNew = {
      bench: "reload",
      provenance: prov,
      cases: [
        ...reload.cases.map((c) => ({ ...c, target: "embedded", cpu_p50_ms: c.p50_ms / 2 })),
        { target: "embedded", mode: "pull", cidrs: 100000, workers: 2, reloads: 200, p50_ms: 4.5, p99_ms: 19, max_ms: 30, cpu_p50_ms: 3 },
        { target: "embedded", mode: "pull", cidrs: 1000000, workers: 2, reloads: 30, p50_ms: 41, p99_ms: 60, max_ms: 70, cpu_p50_ms: 30 },
        {
          target: "embedded", mode: "push", cidrs: 100000, workers: 4, reloads: 200, p50_ms: 18.5, p99_ms: 28, max_ms: 31, cpu_p50_ms: 19, p99_ci95_ms: [26.8, 31.1],
          reload_parts: {
            median: { reloads: 21, latency_ms: 18.5, canary_start_ms: 0.86, canary_configure_ms: 13.1, vms_ms: 3.2, other_ms: 1.34, gc_ms: 0.4 },
            slowest: { reloads: 10, latency_ms: 28.7, canary_start_ms: 1.25, canary_configure_ms: 17.2, vms_ms: 4, other_ms: 6.25, gc_ms: 3.9 },
          },
        },
      ],
    };
    const micro = { bench: "reload-micro", provenance: { ...prov, noisy: false }, parse: [10, 100000, 1000000].map((n) => ({ cidrs: n, json_ms: n / 1e5, scan_ms: (2 * n) / 1e5, sort_index_ms: n / 1e5, parse_index_ms: (4 * n) / 1e5, snapshot_load_ms: n / 2e5, rule_table_bytes: n * 7 })) };
    const dir = dirWith({ "overhead.json": overhead(9500, 2, 1000), "reload.json": reloadNew, "reload-micro.json": micro });
    const rep = writeReport(dir);
    const md = readFileSync(rep.path, "utf8");
    expect(rep.benches).toEqual(["overhead", "reload", "reload-micro"]);
    expect(md).toMatch(/\| filter \| cidrs \| workers \|/);
    // Goals: measured value, verdict and the case it came from (noisy runs flagged).
    expect(md).toMatch(/\| reload p99 ≤ 5 ms, 10k CIDRs, pull \| 12\.50 ms \| \*\*missed\*\* \| `reload\.json: mode=pull cidrs=10000 workers=2` \(noisy run\) \|/);
    expect(md).toMatch(/\| reload p50 ≤ 5 ms, p99 ≤ 20 ms, 100k CIDRs, pull \| 4\.50 \/ 19\.00 ms \| met \|/);
    expect(md).toMatch(/\| parse \+ index 100k CIDRs in wasm ≤ 3 ms CPU \| 4\.00 ms \(JSON 1\.00 \+ CIDR scan 2\.00 \+ sort\/index 1\.00\) \| \*\*missed\*\*/);
    expect(md).toMatch(/\| rule tables ≤ 8 MiB per VM, 1,000,000 CIDRs \| 6\.68 MiB \| met \|/);
    expect(md).toMatch(/reload p50 ≤ 5 ms, p99 ≤ 20 ms, 100k CIDRs, push \| — \| not measured/);
    // Provenance per file, and files without it say so.
    expect(md).toMatch(/Provenance: commit `0123456789ab` · wasm sha256 `abababababababab…` · Node v20\.20\.2 · AMD EPYC × 2 cores · load average 3\.5 → 4\.1 · full run · target embedded .*\*\*NOISY\*\*: 1-minute load average/);
    expect(md).toMatch(/## overhead\n\nProvenance: not recorded/);
    // Cells: an interval as low…high, where a push reload's time went as its parts.
    expect(md).toContain("| 26.80…31.10 |");
    expect(md).toContain("| median 18.50 = 0.86 + 13.10 + 3.20 + 1.34 · slowest 5 % 28.70 = 1.25 + 17.20 + 4 + 6.25 (canary start + configure + VMs + rest) |");
    // Charts are files, linked (no inline SVG), including the log-log growth chart.
    expect(md).not.toMatch(/<svg/);
    const links = [...md.matchAll(/!\[[^\]]*\]\(charts\/([\w.-]+\.svg)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThanOrEqual(4);
    expect(readdirSync(join(dir, "charts")).filter((f) => f.endsWith(".svg")).sort()).toEqual([...links].sort());
    expect(md).toMatch(/!\[Reload cost against the number of CIDRs/);
    const growth = readFileSync(join(dir, "charts", links.find((l) => readFileSync(join(dir, "charts", l), "utf8").includes("against the number of CIDRs"))!), "utf8");
    expect(growth).toMatch(/\(log scale\)/);
    expect(growth).toMatch(/pull: reload p50/);
  });

  it("charts fit their labels and skip sections too long to read", () => {
    const long = "mode=pull cidrs=1000000 workers=4 target=embedded tracing=off with a long label";
    const svg = renderBarChart({ title: "a very long chart title that must not be cut at the right edge of the image", unit: "ms", series: [{ name: "p50", color: "#000" }], rows: [{ label: long, values: [123456.7] }], target: { value: 100000, label: "the goal line's caption, also long" } });
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    expect(width).toBeGreaterThan(long.length * 6);
    const labelX = Number(new RegExp(`<text x="([\\d.]+)"[^>]*text-anchor="end">${long}`).exec(svg)![1]);
    expect(labelX - long.length * 6.4).toBeGreaterThanOrEqual(0);
    const many = dirWith({ "fuzz.json": { bench: "fuzz", cases: Array.from({ length: 800 }, (_, i) => ({ name: `c${i}`, p50_ms: i, p99_ms: i * 2 })) } });
    const rep = writeReport(many);
    expect(rep.charts).toHaveLength(0);
    expect(readFileSync(rep.path, "utf8")).toMatch(/\| c799 \|/);
  });

  it("draws bars proportional to values, with a dashed target line", () => {
    const svg = renderBarChart({
      title: "t",
      unit: "ms",
      series: [{ name: "a", color: "#000" }],
      rows: [
        { label: "x", values: [10] },
        { label: "y", values: [5] },
      ],
      target: { value: 10, label: "goal" },
    });
    const widths = [...svg.matchAll(/<rect x="\d+(?:\.\d+)?" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(2);
    expect(widths[0] / widths[1]).toBeCloseTo(2, 1);
    expect(svg).toMatch(/stroke-dasharray/);
    expect(svg).toMatch(/goal/);
  });

  it("compare: within tolerance is OK; a slowdown past it is reported per metric", () => {
    const base = [interpretBench(overhead(9500, 2, 1000), "overhead.json")];
    const same = compareBenches(base, [interpretBench(overhead(9300, 2.1, 1050), "overhead.json")], 0.15);
    expect(same.ok).toBe(true);
    expect(same.regressions).toHaveLength(0);
    const slower = compareBenches(base, [interpretBench(overhead(7000, 4, 1000), "overhead.json")], 0.15);
    expect(slower.ok).toBe(false);
    const metrics = slower.regressions.map((r) => `${r.caseId.includes("cidrs=10000") ? "10k" : "0"}:${r.metric}`).sort();
    expect(metrics).toEqual(["0:ratio", "0:rps", "0:wasm_us_per_request", "10k:ratio", "10k:rps", "10k:wasm_us_per_request"]);
    // a tiny absolute change is noise even when the ratio is large
    const tiny = compareBenches(base, [interpretBench(overhead(9500, 2.3, 1000), "overhead.json")], 0.1);
    expect(tiny.regressions.filter((r) => r.metric === "wasm_us_per_request")).toHaveLength(0);
  });

  it("edgewatch report --compare exits 1 past the tolerance and 0 within it (summary.json baseline)", async () => {
    const baseline = dirWith({ "summary.json": { benches: { overhead: overhead(9500, 2, 1000), reload } } });
    const slower = dirWith({ "overhead.json": overhead(9400, 2, 1000), "reload.json": { cases: reload.cases.map((c) => ({ ...c, p99_ms: c.p99_ms * 1.5 })) } });
    const bad = await runEdgewatch(["report", "--compare", join(baseline, "summary.json"), "--against", slower, "--tolerance", "0.15"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/WORSE\s+reload\/cases \[cidrs=10000 mode=push workers=2\] p99_ms: 6\.50 → 9\.75 \(50\.0% slower\)/);
    expect(bad.stdout).toMatch(/compare: 2 worse, .* → FAIL/);
    // The reverse direction reads as an improvement, without a contradicting word.
    const better = await runEdgewatch(["report", "--compare", slower, "--against", join(baseline, "summary.json"), "--tolerance", "0.15"]);
    expect(better.code).toBe(0);
    expect(better.stdout).toMatch(/BETTER\s+reload\/cases \[cidrs=10000 mode=push workers=2\] p99_ms: 9\.75 → 6\.50 \(33\.3% faster\)/);
    expect(better.stdout).not.toMatch(/worse\)/);
    const ok = await runEdgewatch(["report", "--compare", join(baseline, "summary.json"), "--against", slower, "--tolerance", "0.6"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/→ OK/);
    const missing = await runEdgewatch(["report", "--compare", "/nonexistent/base.json"]);
    expect(missing.code).toBe(2);
  });

  it("refuses to compare a quick run with a full one", async () => {
    const full = dirWith({ "overhead.json": { ...overhead(9500, 2, 1000), quick: false } });
    const quick = dirWith({ "overhead.json": { ...overhead(9500, 2, 1000), provenance: { quick: true } } });
    const r = await runEdgewatch(["report", "--compare", full, "--against", quick]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to compare a --quick run with a baseline from a full run/);
  });
});

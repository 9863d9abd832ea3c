/**
 * The performance goals of issue 13 and their verdicts, read from result files: one place for the
 * report (REPORT.md "Goals") and the README tables. Every verdict names the file and case it came
 * from and whether that run was noisy. Goals are judged on the embedded host (target "embedded"
 * or files from before the target field).
 */
import { spanText, type BenchFile, type Case } from "./report.js";
import { usPerFault } from "./page-fault-probe.js";
import { allMemProbes, allProbeRuns, caseSlowPhase } from "./cpu-probe.js";

export interface GoalRow {
  goal: string;
  measured: string;
  verdict: "met" | "missed" | "not measured";
  /** "reload.json: mode=pull cidrs=10000 workers=2" */
  source: string;
  noisy: boolean;
}

const num = (c: Case | undefined, k: string): number | undefined => {
  const v = c?.[k];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
};

export function fileNoisy(b: BenchFile | undefined): boolean {
  const p = b?.meta.provenance as { noisy?: unknown } | undefined;
  return p?.noisy === true;
}

/**
 * Older result files: overhead `tracing` was a boolean (true = every request sampled) and had no
 * added_cpu_us_per_request (derived here from the no-filter case of the same shape, same run).
 */
export function normalizeCases(all: Case[]): Case[] {
  const norm = all.map((c) => (typeof c.tracing === "boolean" ? { ...c, tracing: c.tracing ? "1" : "off" } : c));
  return norm.map((c) => {
    if (c.filter !== "edgewatch" || typeof c.added_cpu_us_per_request === "number" || typeof c.cpu_us_per_request !== "number") return c;
    const none = norm.find((x) => x.filter === "none" && x.cidrs === c.cidrs && x.workers === c.workers && x.tracing === c.tracing);
    return typeof none?.cpu_us_per_request === "number" ? { ...c, added_cpu_us_per_request: Number((c.cpu_us_per_request - none.cpu_us_per_request).toFixed(1)) } : c;
  });
}

function cases(b: BenchFile | undefined, section = "cases"): Case[] {
  if (!b) return [];
  const s = b.sections.find((x) => x.name === section) ?? (section === "cases" ? b.sections[0] : undefined);
  return normalizeCases(s?.cases ?? []).filter((c) => c.target === undefined || c.target === "embedded");
}

/**
 * "measured again: 1 earlier attempt met a slow phase and read 27.9 µs" for a case the bench measured
 * again (its `slow_attempts`, see cpu-probe.ts SlowPhaseRetry), "" for a case measured once; `label`
 * names the figure read ("p99 ").
 */
const attemptsText = (c: Case | undefined, field: string, show: (v: number) => string, label = ""): string => {
  const earlier = c?.slow_attempts;
  if (!Array.isArray(earlier) || earlier.length === 0) return "";
  const read = earlier.map((a) => (a as Record<string, unknown>)[field]).filter((v): v is number => typeof v === "number");
  return `measured again: ${earlier.length} earlier attempt${earlier.length === 1 ? "" : "s"} met a slow phase${read.length > 0 ? ` and read ${label}${read.map(show).join(", ")}` : ""}`;
};
/** " (measured again: …)" for a reload case ("" when measured once). */
const reloadAttempts = (c: Case | undefined, field: "p50_ms" | "p99_ms") => {
  const t = attemptsText(c, field, (v) => `${fmt(v)} ms`, field === "p50_ms" ? "p50 " : "p99 ");
  return t === "" ? "" : ` (${t})`;
};
/** " (95 % interval a…b; 13 % of the proxy's own CPU; 10 host calls)", from whichever fields the file has. */
const addedDetail = (c: Case | undefined) => {
  const parts: string[] = [];
  const lo = num(c, "added_cpu_us_ci95_low"), hi = num(c, "added_cpu_us_ci95_high");
  if (lo !== undefined && hi !== undefined) parts.push(`95 % interval ${spanText(lo, hi, (v) => fmt(v, 1))}`);
  const share = num(c, "added_cpu_share");
  if (share !== undefined) parts.push(`${(share * 100).toFixed(1)} % of the proxy's own CPU`);
  const calls = num(c, "host_calls_per_request");
  if (calls !== undefined) parts.push(`${calls} host calls`);
  const again = attemptsText(c, "added_cpu_us_per_request", (v) => `${fmt(v, 1)} µs`);
  if (again !== "") parts.push(again);
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
};
/**
 * " (range 0.82…1.32 over 2 saturation pairs)": how far a throughput ratio's pairs spread ("" when the
 * file has no range). A ratio above 1 in that range is the machine's noise, the filter adds work.
 */
const ratioDetail = (c: Case | undefined) => {
  const lo = num(c, "ratio_min"), hi = num(c, "ratio_max"), pairs = num(c, "rounds");
  if (lo === undefined || hi === undefined) return "";
  return ` (range ${spanText(lo, hi, (v) => v.toFixed(2))}${pairs !== undefined ? ` over ${pairs} saturation pair${pairs === 1 ? "" : "s"}` : ""})`;
};
/**
 * " (210 page faults per reload ≈ 2.2 ms here)": the machine's share of an embedded reload, from the
 * case's median fault count and the file's page-fault probe ("" when either is missing or the
 * faults come to less than 0.1 ms).
 */
const faultDetail = (file: BenchFile | undefined, c: Case | undefined) => {
  const n = num(c, "page_faults_p50");
  const us = usPerFault(file?.meta.provenance);
  if (n === undefined || n <= 0 || us === undefined || (n * us) / 1000 < 0.1) return "";
  return ` (${n} page faults per reload ≈ ${fmt((n * us) / 1000)} ms at ${us.toFixed(1)} µs each)`;
};
/** Every CPU and memory probe reading of a file (what a case's readings are compared with), collected once per file. */
const probesOf = new WeakMap<BenchFile, { cpu: number[]; mem: number[] }>();
function fileProbes(file: BenchFile): { cpu: number[]; mem: number[] } {
  let p = probesOf.get(file);
  if (p === undefined) {
    const cs = file.sections.flatMap((x) => x.cases);
    p = { cpu: allProbeRuns(file.meta.provenance, cs), mem: allMemProbes(file.meta.provenance, cs) };
    probesOf.set(file, p);
  }
  return p;
}
/**
 * " (4 of 200 reloads held a full GC; p99 less GC pauses 5.37 ms)": how much of a reload case's tail
 * was the host process's V8 GC ("" for files or targets without the gc_* fields). The verdict stays
 * on the p99 itself.
 */
const gcDetail = (c: Case | undefined) => {
  const major = num(c, "gc_major_reloads"), rest = num(c, "p99_without_gc_ms"), of = num(c, "reloads");
  if (major === undefined || rest === undefined) return "";
  return ` (${major}${of !== undefined ? ` of ${of}` : ""} reloads held a full GC; p99 less GC pauses ${fmt(rest)} ms)`;
};
/** " — slow phase (CPU probe before the case …)" when the case ran while the machine was slow, else "". */
const phaseDetail = (file: BenchFile | undefined, c: Case | undefined) => {
  if (!file || !c) return "";
  const probes = fileProbes(file);
  const ph = caseSlowPhase(c, probes.cpu, probes.mem);
  return ph?.slow ? ` — slow phase (${ph.text})` : "";
};
/** The [low, high] 95 % interval a reload case stores for a percentile (p50_ci95_ms, p99_ci95_ms), or undefined. */
export const interval = (c: Case | undefined, k: string): [number, number] | undefined => {
  const v = c?.[k];
  return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "number" && Number.isFinite(x)) ? [v[0], v[1]] : undefined;
};
/** " (95 % interval 5.21…9.80)" or " (95 % intervals 2.6…3.1 / 5.2…9.8)" for the percentiles named, "" when the case has none. */
const intervalDetail = (c: Case | undefined, keys: string[]) => {
  const iv = keys.map((k) => interval(c, k));
  if (iv.some((x) => x === undefined)) return "";
  return ` (95 % interval${iv.length > 1 ? "s" : ""} ${iv.map((x) => spanText(x![0], x![1], fmt)).join(" / ")})`;
};
const fmt = (v: number, d = 2) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(d));

export function goalRows(benches: BenchFile[]): GoalRow[] {
  const get = (n: string) => benches.find((b) => b.name === n);
  const reload = get("reload");
  const micro = get("reload-micro");
  const overhead = get("overhead");
  const rows: GoalRow[] = [];
  const add = (goal: string, file: BenchFile | undefined, c: Case | undefined, what: string, measured: string | undefined, ok: boolean | undefined) => {
    rows.push({
      goal,
      measured: measured ?? "—",
      verdict: measured === undefined || ok === undefined ? "not measured" : ok ? "met" : "missed",
      source: c && file ? `${file.name}.json: ${what}` : "",
      noisy: fileNoisy(file),
    });
  };
  const rc = cases(reload);
  const rcase = (mode: string, cidrs: number, workers = 2) => rc.find((c) => c.mode === mode && c.cidrs === cidrs && c.workers === workers);
  for (const mode of ["pull", "push", "push-snapshot"]) {
    const c = rcase(mode, 10_000);
    const p99 = num(c, "p99_ms");
    add(`reload p99 ≤ 5 ms, 10k CIDRs, ${mode}`, reload, c, `mode=${mode} cidrs=10000 workers=2`, p99 === undefined ? undefined : `${fmt(p99)} ms${intervalDetail(c, ["p99_ci95_ms"])}${gcDetail(c)}${reloadAttempts(c, "p99_ms")}${faultDetail(reload, c)}${phaseDetail(reload, c)}`, p99 === undefined ? undefined : p99 <= 5);
  }
  for (const mode of ["pull", "push", "push-snapshot"]) {
    const c = rcase(mode, 100_000);
    const p50 = num(c, "p50_ms");
    const p99 = num(c, "p99_ms");
    const has = p50 !== undefined && p99 !== undefined;
    add(`reload p50 ≤ 5 ms, p99 ≤ 20 ms, 100k CIDRs, ${mode}`, reload, c, `mode=${mode} cidrs=100000 workers=2`, has ? `${fmt(p50!)} / ${fmt(p99!)} ms${intervalDetail(c, ["p50_ci95_ms", "p99_ci95_ms"])}${gcDetail(c)}${reloadAttempts(c, "p99_ms")}${faultDetail(reload, c)}${phaseDetail(reload, c)}` : undefined, has ? p50! <= 5 && p99! <= 20 : undefined);
  }
  {
    const c = rcase("pull", 1_000_000);
    const p50 = num(c, "p50_ms");
    add("reload p50 ≤ 50 ms, 1,000,000 CIDRs, pull", reload, c, "mode=pull cidrs=1000000 workers=2", p50 === undefined ? undefined : `${fmt(p50)} ms${intervalDetail(c, ["p50_ci95_ms"])}${reloadAttempts(c, "p50_ms")}${faultDetail(reload, c)}${phaseDetail(reload, c)}`, p50 === undefined ? undefined : p50 <= 50);
  }
  const parse = cases(micro, "parse");
  {
    const c = parse.find((x) => x.cidrs === 1_000_000);
    const t = num(c, "rule_table_bytes");
    // What a VM holds after the 1,000,000-CIDR reload cases (a linear memory never shrinks), beside
    // the tables it needs: the goal is the tables', the row says both.
    const held = ["pull", "push-snapshot"]
      .map((mode) => rcase(mode, 1_000_000))
      .filter((x) => num(x, "vm_written_mib") !== undefined)
      .map((x) => `${x!.mode} ${fmt(num(x, "vm_written_mib")!, 1)} MiB after ${num(x, "reloads")} reloads`);
    const heldText = held.length > 0 ? ` (pages written in a VM after the 1,000,000-CIDR reload cases: ${held.join(", ")}, reload.json)` : "";
    add("rule tables ≤ 8 MiB per VM, 1,000,000 CIDRs", micro, c, "parse cidrs=1000000", t === undefined ? undefined : `${fmt(t / 1048576)} MiB${heldText}`, t === undefined ? undefined : t <= 8 * 1048576);
  }
  {
    const c = parse.find((x) => x.cidrs === 100_000);
    const t = num(c, "parse_index_ms");
    const parts = c ? ` (JSON ${fmt(num(c, "json_ms") ?? NaN)} + CIDR scan ${fmt(num(c, "scan_ms") ?? NaN)} + sort/index ${fmt(num(c, "sort_index_ms") ?? NaN)})` : "";
    add("parse + index 100k CIDRs in wasm ≤ 3 ms CPU", micro, c, "parse cidrs=100000", t === undefined ? undefined : `${fmt(t)} ms${parts}`, t === undefined ? undefined : t <= 3);
  }
  const oc = cases(overhead);
  const ocase = (cidrs: number, tracing: string, workers = 2) =>
    oc.find((c) => c.filter === "edgewatch" && c.cidrs === cidrs && c.workers === workers && String(c.tracing) === tracing);
  {
    const c = ocase(0, "off");
    const v = num(c, "added_cpu_us_per_request");
    add("added CPU per request (filter on − off), 0 CIDRs, no tracing ≤ 6 µs", overhead, c, "cidrs=0 tracing=off workers=2", v === undefined ? undefined : `${fmt(v, 1)} µs${addedDetail(c)}${phaseDetail(overhead, c)}`, v === undefined ? undefined : v <= 6);
  }
  {
    const c = ocase(10_000, "0.01");
    const v = num(c, "added_cpu_us_per_request");
    add("added CPU per request, 10k CIDRs, tracing 1 % ≤ 10 µs", overhead, c, "cidrs=10000 tracing=0.01 workers=2", v === undefined ? undefined : `${fmt(v, 1)} µs${addedDetail(c)}${phaseDetail(overhead, c)}`, v === undefined ? undefined : v <= 10);
  }
  for (const [cidrs, tracing, what] of [[0, "off", "no tracing"], [10_000, "0.01", "10k CIDRs + tracing 1 %"]] as const) {
    const c = ocase(cidrs, tracing);
    const v = num(c, "ratio");
    add(`throughput with / without the filter ≥ 0.95, ${what}`, overhead, c, `cidrs=${cidrs} tracing=${tracing} workers=2`, v === undefined ? undefined : `${v.toFixed(2)}${ratioDetail(c)}${phaseDetail(overhead, c)}`, v === undefined ? undefined : v >= 0.95);
  }
  return rows;
}

/** Informational rows (no goal): the costs issue 13 asks to report. */
export function reportedRows(benches: BenchFile[]): GoalRow[] {
  const overhead = benches.find((b) => b.name === "overhead");
  const rows: GoalRow[] = [];
  for (const c of cases(overhead).filter((x) => x.filter === "edgewatch" && x.cidrs === 10_000 && String(x.tracing) === "1")) {
    const v = num(c, "added_cpu_us_per_request");
    if (v === undefined) continue;
    rows.push({
      goal: `added CPU per request, 10k CIDRs, tracing every request, ${c.workers} worker(s) (reported)`,
      measured: `${fmt(v, 1)} µs`,
      verdict: "met",
      source: `overhead.json: cidrs=10000 tracing=1 workers=${c.workers}`,
      noisy: fileNoisy(overhead),
    });
  }
  return rows;
}

export function goalsMarkdown(benches: BenchFile[]): string {
  const rows = [...goalRows(benches), ...reportedRows(benches)];
  const verdict = (r: GoalRow) => (r.goal.endsWith("(reported)") ? "—" : r.verdict === "met" ? "met" : r.verdict === "missed" ? "**missed**" : "not measured");
  return [
    "| goal | measured | verdict | from |",
    "|---|---:|---|---|",
    ...rows.map((r) => `| ${r.goal} | ${r.measured} | ${verdict(r)} | ${r.source ? `\`${r.source}\`` : "—"}${r.noisy ? " (noisy run)" : ""} |`),
  ].join("\n");
}

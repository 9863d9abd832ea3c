/**
 * Bench report and comparison.
 *
 *  - `writeReport(dir)`: reads every `bench/results/*.json`, writes `REPORT.md`: the issue-13 goals
 *    with their verdicts (goals.ts), then per results file its provenance (commit, .wasm sha256,
 *    machine, load, NOISY), its charts (SVG files under `charts/`, linked) and its tables.
 *  - `compare(old, new, tolerance)`: matches cases between two result sets and lists what got slower
 *    by more than the tolerance (and what got faster). Used by `edgewatch bench --compare OLD.json`.
 *
 * Result files are read generically: a file is either an array of case objects or an object whose
 * array-of-object properties are sections (`cases`, `memory`, …). A case's identity is made of its
 * string/boolean fields and a known set of numeric shape fields (cidrs, workers, routes, …); its
 * metrics are numeric fields whose name says which direction is better (`*_ms`, `*_us`, `rps`, …).
 *
 * Command line: `edgewatch report [--dir DIR]` writes the report; `edgewatch report --compare OLD
 * [--against NEW] [--tolerance 0.15]` compares (exit 1 past the tolerance).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { MAX_CHART_ROWS, PALETTE, renderBarChart, renderLineChart, type BarChart, type LineChart } from "./charts.js";
import { goalsMarkdown } from "./goals.js";
import { probeShort } from "./cpu-probe.js";
import { pageFaultShort } from "./page-fault-probe.js";
import { REPO_ROOT } from "./results.js";

export type Case = Record<string, unknown>;

export interface BenchFile {
  /** Bench name (file base name without .json, or the file's `bench`/`name` field). */
  name: string;
  path: string;
  meta: Record<string, unknown>;
  sections: { name: string; cases: Case[] }[];
}

/** Numeric fields that describe the shape of a case (part of its identity), not a measurement. */
const IDENTITY_NUMERIC = new Set([
  "cidrs",
  "workers",
  "routes",
  "concurrency",
  "connections",
  "rules",
  "payload_bytes",
  "size",
  "vms",
  "rate",
  "sample_rate",
  "spans",
]);

/** Fields never used as identity (free text, timestamps). */
const NOT_IDENTITY = new Set(["note", "notes", "description", "error", "started_at", "finished_at", "timestamp", "date", "git", "commit"]);

export type Direction = "lower" | "higher";

/** Which direction is better for a numeric field; undefined = not a comparable metric. */
export function metricDirection(field: string): Direction | undefined {
  const f = field.toLowerCase();
  if (IDENTITY_NUMERIC.has(f)) return undefined;
  if (/(^|_)(rps|throughput|ops|ops_per_s|per_second|ratio|hit_rate|success_rate)$/.test(f)) return "higher";
  if (/_(ms|us|ns|s|sec|seconds|bytes|kib|mib|kb|mb)$/.test(f)) return "lower";
  if (/(^|_)(p50|p90|p95|p99|p999|max|mean|avg|min)(_|$)/.test(f)) return "lower";
  if (/_per_request$/.test(f)) return "lower";
  if (/(^|_)(errors|failures|dropped|drops)$/.test(f)) return "lower";
  return undefined;
}

function isCaseArray(v: unknown): v is Case[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => x !== null && typeof x === "object" && !Array.isArray(x));
}

export function loadBenchFile(path: string): BenchFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  return interpretBench(raw, path);
}

export function interpretBench(raw: unknown, path: string, fallbackName?: string): BenchFile {
  const name = fallbackName ?? basename(path).replace(/\.json$/, "");
  if (Array.isArray(raw)) {
    return { name, path, meta: {}, sections: isCaseArray(raw) ? [{ name: "cases", cases: raw }] : [] };
  }
  if (raw === null || typeof raw !== "object") throw new Error(`${path}: not a JSON object or array`);
  const obj = raw as Record<string, unknown>;
  const meta: Record<string, unknown> = {};
  const sections: BenchFile["sections"] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (isCaseArray(v)) sections.push({ name: k, cases: v });
    else if (v !== null && typeof v === "object" && !Array.isArray(v) && isFlatNumericRecord(v)) {
      sections.push({ name: k, cases: [v as Case] });
    } else meta[k] = v;
  }
  const declared = typeof obj.bench === "string" ? obj.bench : undefined;
  return { name: fallbackName ?? declared ?? name, path, meta, sections };
}

/** A one-object section like `"memory": {"rss_bytes": …, "wasm_bytes": …}`. */
function isFlatNumericRecord(v: object): boolean {
  const vals = Object.entries(v);
  return vals.length > 0 && vals.some(([k, x]) => typeof x === "number" && metricDirection(k) !== undefined) &&
    vals.every(([, x]) => x === null || ["number", "string", "boolean"].includes(typeof x));
}

/** Load a directory, a single bench file, or a combined file (`{"benches": {name: result}}`). */
export function loadResults(path: string): BenchFile[] {
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .filter((f) => f.endsWith(".json") && f !== "summary.json") // summary.json combines the others
      .sort()
      .flatMap((f) => {
        try {
          return expandCombined(join(path, f));
        } catch {
          return []; // a half-written or foreign JSON file in the folder is not a bench result
        }
      });
  }
  return expandCombined(path);
}

function expandCombined(path: string): BenchFile[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  if (raw && typeof raw === "object" && !Array.isArray(raw) && "benches" in raw) {
    const benches = (raw as { benches: Record<string, unknown> }).benches;
    if (benches && typeof benches === "object") {
      return Object.entries(benches).map(([n, v]) => interpretBench(v, path, n));
    }
  }
  return [interpretBench(raw, path)];
}

export function caseIdentity(c: Case): string {
  const parts: string[] = [];
  for (const k of Object.keys(c).sort()) {
    if (NOT_IDENTITY.has(k)) continue;
    const v = c[k];
    if (typeof v === "string" || typeof v === "boolean") parts.push(`${k}=${v}`);
    else if (typeof v === "number" && IDENTITY_NUMERIC.has(k)) parts.push(`${k}=${v}`);
  }
  return parts.join(" ");
}

// --- comparison ------------------------------------------------------------------------------------

export interface Change {
  bench: string;
  section: string;
  caseId: string;
  metric: string;
  old: number;
  new: number;
  /** Relative change in the "worse" direction: +0.2 = 20 % worse; negative = better. */
  worse: number;
}

export interface CompareResult {
  tolerance: number;
  regressions: Change[];
  improvements: Change[];
  unchanged: number;
  /** Cases present on one side only. */
  unmatched: string[];
  ok: boolean;
}

/** Metrics whose absolute change is below this are noise whatever the ratio (e.g. 0.01 ms → 0.02 ms). */
function absoluteFloor(metric: string): number {
  const m = metric.toLowerCase();
  if (m.endsWith("_ns")) return 50;
  if (m.endsWith("_us") || m.endsWith("_per_request")) return 0.5;
  if (m.endsWith("_ms")) return 0.05;
  if (/(bytes)$/.test(m)) return 64 * 1024;
  return 0;
}

export function compareBenches(oldSet: BenchFile[], newSet: BenchFile[], tolerance: number): CompareResult {
  const regressions: Change[] = [];
  const improvements: Change[] = [];
  const unmatched: string[] = [];
  let unchanged = 0;
  const oldByName = new Map(oldSet.map((b) => [b.name, b]));
  for (const nb of newSet) {
    const ob = oldByName.get(nb.name);
    if (!ob) continue; // a bench absent from the baseline is not a regression
    for (const ns of nb.sections) {
      const os = ob.sections.find((s) => s.name === ns.name);
      if (!os) continue;
      const oldCases = new Map(os.cases.map((c) => [caseIdentity(c), c]));
      for (const nc of ns.cases) {
        const id = caseIdentity(nc);
        const oc = oldCases.get(id);
        if (!oc) {
          unmatched.push(`${nb.name}/${ns.name}: new case ${id || "(no identity)"}`);
          continue;
        }
        oldCases.delete(id);
        for (const [metric, nv] of Object.entries(nc)) {
          const dir = metricDirection(metric);
          const ov = oc[metric];
          if (dir === undefined || typeof nv !== "number" || typeof ov !== "number") continue;
          if (!Number.isFinite(nv) || !Number.isFinite(ov)) continue;
          const base = Math.abs(ov);
          let worse: number;
          if (base === 0) worse = nv === 0 ? 0 : dir === "lower" ? (nv > 0 ? Infinity : -Infinity) : nv > 0 ? -Infinity : Infinity;
          else worse = dir === "lower" ? (nv - ov) / base : (ov - nv) / base;
          const change: Change = { bench: nb.name, section: ns.name, caseId: id, metric, old: ov, new: nv, worse };
          const tinyAbs = Math.abs(nv - ov) < absoluteFloor(metric);
          if (worse > tolerance && !tinyAbs) regressions.push(change);
          else if (worse < -tolerance && !tinyAbs) improvements.push(change);
          else unchanged++;
        }
      }
      for (const id of oldCases.keys()) unmatched.push(`${nb.name}/${ns.name}: case ${id || "(no identity)"} missing from the new results`);
    }
  }
  regressions.sort((a, b) => b.worse - a.worse);
  improvements.sort((a, b) => a.worse - b.worse);
  return { tolerance, regressions, improvements, unchanged, unmatched, ok: regressions.length === 0 };
}

function pct(x: number): string {
  if (!Number.isFinite(x)) return "∞%";
  return `${(Math.abs(x) * 100).toFixed(1)}%`;
}

/** "lower is better" metrics read as slower/faster; the others (rps, ratio) as worse/better. */
function changeWord(c: Change): string {
  const timeLike = metricDirection(c.metric) === "lower" && /(_ms|_us|_ns|_s|_seconds|_per_request|p50|p90|p99|max|mean)/.test(c.metric) && !/bytes|mib|kib/.test(c.metric);
  if (c.worse > 0) return timeLike ? "slower" : "worse";
  return timeLike ? "faster" : "better";
}

export function formatCompare(r: CompareResult): string {
  const lines: string[] = [];
  const fmtChange = (c: Change, tag: string) =>
    `  ${tag.padEnd(6)} ${c.bench}/${c.section} [${c.caseId}] ${c.metric}: ${fmtNum(c.old)} → ${fmtNum(c.new)} (${pct(c.worse)} ${changeWord(c)})`;
  if (r.regressions.length > 0) {
    lines.push(`Worse than the baseline by more than ${(r.tolerance * 100).toFixed(0)}%:`);
    for (const c of r.regressions) lines.push(fmtChange(c, "WORSE"));
  }
  if (r.improvements.length > 0) {
    lines.push(`Better than the baseline by more than ${(r.tolerance * 100).toFixed(0)}%:`);
    for (const c of r.improvements) lines.push(fmtChange(c, "BETTER"));
  }
  if (r.unmatched.length > 0) {
    lines.push("Not compared:");
    for (const u of r.unmatched.slice(0, 20)) lines.push(`  ${u}`);
    if (r.unmatched.length > 20) lines.push(`  … ${r.unmatched.length - 20} more`);
  }
  lines.push(
    `compare: ${r.regressions.length} worse, ${r.improvements.length} better, ${r.unchanged} within ±${(r.tolerance * 100).toFixed(0)}% → ${r.ok ? "OK" : "FAIL"}`,
  );
  return lines.join("\n");
}

/** Whether a result set came from --quick runs: true, false, or undefined when it does not say. */
export function quickOf(set: BenchFile[]): boolean | undefined {
  const flags = set
    .map((b) => {
      const p = b.meta.provenance as { quick?: unknown } | undefined;
      if (p && typeof p.quick === "boolean") return p.quick;
      return typeof b.meta.quick === "boolean" ? (b.meta.quick as boolean) : undefined;
    })
    .filter((x): x is boolean => x !== undefined);
  if (flags.length === 0) return undefined;
  return flags.some((f) => f);
}

/**
 * A quick run measures fewer, shorter rounds than a full one: comparing the two reports method
 * changes as regressions. Returns the refusal message, or null when both sides agree (or a side
 * does not say).
 */
export function quickMismatch(baseline: BenchFile[], quickNow: boolean | BenchFile[]): string | null {
  const a = quickOf(baseline);
  const b = typeof quickNow === "boolean" ? quickNow : quickOf(quickNow);
  if (a === undefined || b === undefined || a === b) return null;
  const name = (q: boolean) => (q ? "a --quick run" : "a full run");
  return `refusing to compare ${name(b)} with a baseline from ${name(a)}: the two measure different amounts of work; compare quick with quick (bench/results/quick) and full with full (bench/results)`;
}

/** Compare two paths (file, combined file or directory). */
export function compare(oldPath: string, newPath: string, tolerance = 0.15): CompareResult {
  const oldSet = loadResults(oldPath);
  const newSet = loadResults(newPath);
  const mixed = quickMismatch(oldSet, newSet);
  if (mixed) throw new Error(mixed);
  return compareBenches(oldSet, newSet, tolerance);
}

// --- tables -----------------------------------------------------------------------------------------

/** An interval or range as "low…high", each end through `f`: the one spelling of every report and table. */
export const spanText = (lo: number, hi: number, f: (v: number) => string = fmtNum): string => `${f(lo)}…${f(hi)}`;

export function fmtNum(v: unknown): string {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return Math.abs(v) >= 1e15 ? v.toExponential(2) : String(v);
    const a = Math.abs(v);
    if (a >= 1000) return v.toFixed(0);
    if (a >= 100) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    return v.toPrecision(2);
  }
  if (v === null || v === undefined) return "";
  // A list of numbers (a CPU probe's runs per CPU): "126/122".
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number")) return v.map((x) => Math.round(x as number)).join("/");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Columns: every key seen in the cases, identity-like fields first, nested objects flattened one level. */
export function tableColumns(cases: Case[]): string[] {
  const cols: string[] = [];
  for (const c of cases) for (const k of Object.keys(c)) if (!cols.includes(k)) cols.push(k);
  const isIdent = (k: string) => metricDirection(k) === undefined;
  return [...cols.filter(isIdent), ...cols.filter((k) => !isIdent(k))];
}

/** A cell: byte counts as MiB (the header says so), everything else through fmtNum. */
function cell(c: Case, k: string): string {
  const v = c[k];
  if (/_bytes$/.test(k) && typeof v === "number") return (v / 1048576).toFixed(v >= 100 * 1048576 ? 0 : 2);
  // A 95 % interval stored as [low, high] (reload's p50_ci95_ms / p99_ci95_ms, the telemetry and trace
  // differences' *_ci95): "5.21…9.80".
  if (/_ci95(_ms)?$/.test(k) && Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "number")) return spanText(v[0], v[1]);
  // bench:reload's reload_parts: each row's latency and parts (canary start, its configure, VMs, rest), ms.
  if (k === "reload_parts" && v !== null && typeof v === "object") {
    const row = (label: string, p: unknown) => {
      const r = (p ?? {}) as Record<string, number>;
      return `${label} ${fmtNum(r.latency_ms)} = ${[r.canary_start_ms, r.canary_configure_ms, r.vms_ms, r.other_ms].map(fmtNum).join(" + ")}`;
    };
    const rp = v as { median?: unknown; slowest?: unknown };
    return `${row("median", rp.median)} · ${row("slowest 5 %", rp.slowest)} (canary start + configure + VMs + rest)`;
  }
  return fmtNum(v);
}

function header(k: string): string {
  return /_bytes$/.test(k) ? `${k.replace(/_bytes$/, "")}_MiB` : k;
}

export function markdownTable(cases: Case[], columns = tableColumns(cases)): string {
  const head = `| ${columns.map(header).join(" | ")} |`;
  const sep = `|${columns.map((c) => (metricDirection(c) ? "---:" : "---")).join("|")}|`;
  const rows = cases.map((c) => `| ${columns.map((k) => cell(c, k).replace(/\|/g, "\\|")).join(" | ")} |`);
  return [head, sep, ...rows].join("\n");
}

export function textTable(cases: Case[], columns = tableColumns(cases)): string {
  const cells = cases.map((c) => columns.map((k) => cell(c, k)));
  const widths = columns.map((h, i) => Math.max(header(h).length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((v, i) => (metricDirection(columns[i]) ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join("  ");
  return [line(columns.map(header)), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

// --- charts -----------------------------------------------------------------------------------------

export { renderBarChart, renderLineChart, type BarChart, type LineChart } from "./charts.js";

function label(c: Case, fields: string[]): string {
  return fields
    .filter((f) => c[f] !== undefined)
    .map((f) => `${f === "filter" || f === "mode" ? "" : `${f}=`}${fmtNum(c[f])}`)
    .join(" ");
}

function num(c: Case, k: string): number | undefined {
  const v = c[k];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function sectionTitle(b: BenchFile, section: string): string {
  return section === "cases" ? `${b.name}:` : `${b.name}: ${section}`;
}

/** Identity fields whose values differ between the cases: what tells two bars apart. */
function labelFields(cases: Case[]): string[] {
  const ident = tableColumns(cases).filter((k) => {
    if (NOT_IDENTITY.has(k) || k === "description" || metricDirection(k) !== undefined) return false;
    return cases.some((c) => typeof c[k] === "string" || typeof c[k] === "boolean" || (typeof c[k] === "number" && IDENTITY_NUMERIC.has(k)));
  });
  const varying = ident.filter((k) => new Set(cases.map((c) => JSON.stringify(c[k]))).size > 1);
  return varying.length > 0 ? varying : ident.slice(0, 1);
}

export type Chart = { kind: "bar"; chart: BarChart } | { kind: "line"; chart: LineChart };

/** How reload cost grows with the list: p50 latency and CPU per reload (2 workers), parse and snapshot load in wasm. */
function reloadGrowth(reload: BenchFile | undefined, micro: BenchFile | undefined): LineChart | null {
  const series: LineChart["series"] = [];
  const rc = (reload?.sections.find((x) => x.name === "cases")?.cases ?? []).filter((c) => (c.workers === 2 || c.workers === undefined) && (c.target ?? "embedded") === "embedded");
  const modes = [...new Set(rc.map((c) => String(c.mode)))];
  modes.forEach((mode, i) => {
    const pts = rc.filter((c) => c.mode === mode).map((c) => ({ x: num(c, "cidrs") ?? 0, y: num(c, "p50_ms") ?? 0 }));
    if (pts.length > 1) series.push({ name: `${mode}: reload p50 (ms)`, color: PALETTE[i % PALETTE.length]!, points: pts });
    const cpu = rc.filter((c) => c.mode === mode).map((c) => ({ x: num(c, "cidrs") ?? 0, y: num(c, "cpu_p50_ms") ?? 0 }));
    if (cpu.filter((p) => p.y > 0).length > 1) series.push({ name: `${mode}: CPU per reload p50 (ms)`, color: PALETTE[i % PALETTE.length]!, points: cpu, dashed: true });
  });
  const parse = micro?.sections.find((x) => x.name === "parse")?.cases ?? [];
  const pp = parse.map((c) => ({ x: num(c, "cidrs") ?? 0, y: num(c, "parse_index_ms") ?? 0 }));
  if (pp.length > 1) series.push({ name: "wasm: parse + index (ms CPU)", color: PALETTE[4]!, points: pp });
  const sl = parse.map((c) => ({ x: num(c, "cidrs") ?? 0, y: num(c, "snapshot_load_ms") ?? 0 }));
  if (sl.length > 1) series.push({ name: "wasm: snapshot load, one VM (ms CPU)", color: PALETTE[5]!, points: sl });
  if (series.length === 0) return null;
  return {
    title: "Reload cost against the number of CIDRs (embedded host, 2 workers)",
    xLabel: "CIDRs in the document",
    yLabel: "ms",
    series,
    targets: [{ value: 5, label: "5 ms (p50 goal, 100k)" }, { value: 50, label: "50 ms (p50 goal, 1M pull)" }],
  };
}

/** Charts for one bench file. Known benches get purpose-made charts; others a generic one. */
export function chartsFor(b: BenchFile, all: BenchFile[] = [b]): Chart[] {
  const charts: Chart[] = [];
  if (b.name === "reload") {
    const g = reloadGrowth(b, all.find((x) => x.name === "reload-micro"));
    if (g) charts.push({ kind: "line", chart: g });
  }
  for (const s of b.sections) {
    const cases = s.cases;
    if (cases.length > MAX_CHART_ROWS) continue; // the table shows them; a chart would be unreadable
    const has = (k: string) => cases.some((c) => num(c, k) !== undefined);
    const idFields = labelFields(cases);
    const bar = (chart: BarChart) => charts.push({ kind: "bar", chart });
    if (has("p50_ms") && has("p99_ms")) {
      bar({
        title: `${sectionTitle(b, s.name)} latency`,
        unit: "ms",
        series: [
          { name: "p50", color: PALETTE[0]! },
          { name: "p99", color: PALETTE[1]! },
        ],
        rows: cases.map((c) => ({ label: label(c, idFields), values: [num(c, "p50_ms"), num(c, "p99_ms")] })),
        target: b.name === "reload" ? { value: 5, label: "5 ms goal (p50 at 100k; p99 at 10k)" } : undefined,
        log: true,
      });
    }
    if (has("added_cpu_us_per_request")) {
      const rows = cases.filter((c) => c.filter !== "none");
      bar({
        title: `${b.name}: CPU added per request (filter on − off, same run)`,
        unit: "µs",
        series: [{ name: "added CPU", color: PALETTE[3]! }],
        rows: rows.map((c) => ({ label: label(c, idFields.filter((f) => f !== "filter")), values: [num(c, "added_cpu_us_per_request")] })),
        target: { value: 6, label: "6 µs goal (0 CIDRs, no tracing)" },
      });
    } else if (has("rps")) {
      bar({
        title: `${sectionTitle(b, s.name)} throughput`,
        unit: "requests/s",
        series: [{ name: "rps", color: PALETTE[2]! }],
        rows: cases.map((c) => ({ label: label(c, idFields), values: [num(c, "rps")] })),
      });
    }
    const before = charts.length;
    const byteFields = [...new Set(cases.flatMap((c) => Object.keys(c)))].filter((k) => /_bytes$/.test(k) && has(k) && s.name === "memory");
    if (byteFields.length > 0) {
      bar({
        title: `${sectionTitle(b, s.name)}`,
        unit: "MiB",
        series: byteFields.map((f, i) => ({ name: f.replace(/_bytes$/, ""), color: PALETTE[i % PALETTE.length]! })),
        rows: cases.map((c) => ({
          label: label(c, idFields),
          values: byteFields.map((f) => {
            const v = num(c, f);
            return v === undefined ? undefined : v / (1024 * 1024);
          }),
        })),
      });
    }
    if (charts.length === before && b.name !== "reload-micro") {
      // Generic: the first comparable metric of the section.
      const metric = tableColumns(cases).find((k) => metricDirection(k) !== undefined && has(k));
      if (metric) {
        bar({
          title: `${sectionTitle(b, s.name)} ${metric}`,
          unit: "",
          series: [{ name: metric, color: PALETTE[0]! }],
          rows: cases.map((c) => ({ label: label(c, idFields), values: [num(c, metric)] })),
        });
      }
    }
  }
  return charts;
}

const ORDER = ["overhead", "reload", "reload-micro", "telemetry", "trace"];

export interface ReportOutput {
  path: string;
  charts: string[];
  benches: string[];
}

/** ", foreign CPU mean 3 % / worst 5 s window 12 % of a core" when the file measured it. */
function foreignLine(f: unknown): string {
  if (!f || typeof f !== "object") return "";
  const x = f as Record<string, unknown>;
  const pct = (v: unknown) => (typeof v === "number" ? `${Math.round(v * 1000) / 10} %` : "?");
  return `, foreign CPU mean ${pct(x.mean_cores)} / worst ${x.window_s ?? "?"} s window ${pct(x.max_window_cores)} of a core`;
}

/** One line on where a results file's figures come from (or that it does not say). */
export function provenanceLine(b: BenchFile): string {
  const p = b.meta.provenance as Record<string, unknown> | undefined;
  if (!p || typeof p !== "object") return "Provenance: not recorded (a results file from before provenance was kept).";
  const la = (x: unknown) => (x && typeof x === "object" ? (x as Record<string, number>)["1m"] : "?");
  const parts = [
    `commit \`${String(p.git_commit ?? "?").slice(0, 12)}\`${p.git_dirty ? " (uncommitted changes)" : ""}`,
    `wasm sha256 \`${String(p.wasm_sha256 ?? "?").slice(0, 16)}…\``,
    `Node ${p.node}`,
    `${p.cpu_model} × ${p.cores} cores`,
    `load average ${la(p.loadavg_before)} → ${la(p.loadavg_after)}${foreignLine(p.foreign_cpu)}${probeShort(p.cpu_probe_before, p.cpu_probe_after)}${pageFaultShort(p)}`,
    p.quick ? "quick run" : "full run",
    `target ${p.target}${p.envoy_version ? ` (Envoy ${p.envoy_version})` : ""}`,
    `${p.started_at}`,
  ];
  return `Provenance: ${parts.join(" · ")}${p.noisy ? ` · **NOISY**: ${p.noisy_reason}` : ""}`;
}

export function writeReport(dir: string, opts: { title?: string } = {}): ReportOutput {
  const benches = loadResults(dir).filter((b) => b.sections.length > 0 && b.name !== "all");
  benches.sort((a, b) => {
    const ia = ORDER.indexOf(a.name);
    const ib = ORDER.indexOf(b.name);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.name.localeCompare(b.name);
  });
  const chartDir = join(dir, "charts");
  mkdirSync(chartDir, { recursive: true });
  for (const f of readdirSync(chartDir)) if (f.endsWith(".svg")) rmSync(join(chartDir, f)); // no stale charts
  const chartFiles: string[] = [];
  const md: string[] = [];
  md.push(`# ${opts.title ?? "edgewatch bench report"}`);
  md.push("");
  md.push(`Written by \`edgewatch report\` from the result files in \`${relativeToRepo(dir)}/\` (each section names its file's provenance: commit, .wasm sha256, machine, load). Charts are SVG files in \`charts/\`, linked below.`);
  md.push("");
  if (benches.length > 0) md.push("## Goals (issue 13)", "", goalsMarkdown(benches), "");
  for (const b of benches) {
    md.push(`## ${b.name}`);
    md.push("");
    md.push(provenanceLine(b), "");
    const metaLine = Object.entries(b.meta)
      .filter(([k, v]) => v !== null && typeof v !== "object" && k !== "bench")
      .map(([k, v]) => `${k}: ${typeof v === "string" && v.length > 60 ? v : `\`${fmtNum(v)}\``}`)
      .join(" · ");
    if (metaLine) md.push(metaLine, "");
    chartsFor(b, benches).forEach((c, i) => {
      const svg = c.kind === "bar" ? renderBarChart(c.chart) : renderLineChart(c.chart);
      const file = `${b.name}-${i + 1}.svg`;
      writeFileSync(join(chartDir, file), `${svg}\n`);
      chartFiles.push(join(chartDir, file));
      md.push(`![${c.chart.title}](charts/${file})`, "");
    });
    for (const s of b.sections) {
      if (b.sections.length > 1 || s.name !== "cases") md.push(`### ${s.name}`, "");
      md.push(markdownTable(s.cases), "");
    }
  }
  if (benches.length === 0) md.push("No bench results found. Run `npm run bench -- --quick`.", "");
  const path = join(dir, "REPORT.md");
  writeFileSync(path, md.join("\n"));
  return { path, charts: chartFiles, benches: benches.map((b) => b.name) };
}

function relativeToRepo(dir: string): string {
  const root = REPO_ROOT;
  const abs = resolve(dir);
  return abs.startsWith(root) ? abs.slice(root.length + 1) || "." : abs;
}

/** Console tables for every bench (what CI prints). */
export function consoleTables(dir: string, only?: string[]): string {
  const out: string[] = [];
  for (const b of loadResults(dir)) {
    if (only && !only.includes(b.name)) continue;
    for (const s of b.sections) {
      out.push(`== ${b.name}${s.name !== "cases" ? ` / ${s.name}` : ""} ==`);
      out.push(textTable(s.cases));
      out.push("");
    }
  }
  return out.join("\n");
}

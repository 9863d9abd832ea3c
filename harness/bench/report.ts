/**
 * Bench report and comparison.
 *
 *  - `writeReport(dir)`: reads every `bench/results/*.json`, writes `REPORT.md` (tables plus inline,
 *    hand-written SVG bar charts) and the same charts as files under `charts/` (GitHub strips inline
 *    SVG from Markdown; the files render there).
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
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
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

// --- SVG bar charts (hand-written, no dependencies) --------------------------------------------

export interface BarSeries {
  name: string;
  color: string;
}

export interface BarChart {
  title: string;
  unit: string;
  series: BarSeries[];
  rows: { label: string; values: (number | undefined)[] }[];
  /** A vertical target line (e.g. the issue's target), drawn dashed. */
  target?: { value: number; label: string };
  /** Log-scaled axis for values spanning orders of magnitude. */
  log?: boolean;
}

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Horizontal grouped bar chart: one group per row, one bar per series. */
export function renderBarChart(chart: BarChart): string {
  const labelW = Math.min(300, Math.max(80, ...chart.rows.map((r) => r.label.length * 6.6 + 12)));
  const plotW = 440;
  const barH = 12;
  const gap = 8;
  const groupH = chart.series.length * barH + gap;
  const top = 34 + (chart.series.length > 1 ? 16 : 0);
  const height = top + chart.rows.length * groupH + 30;
  const width = labelW + plotW + 90;
  const vals = chart.rows.flatMap((r) => r.values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)));
  let max = Math.max(...vals, chart.target?.value ?? 0, 0);
  if (max <= 0) max = 1;
  const minPos = Math.min(...vals.filter((v) => v > 0), max);
  const useLog = chart.log === true && max / minPos > 50;
  const logMin = useLog ? Math.pow(10, Math.floor(Math.log10(minPos))) : 0;
  const scale = (v: number): number => {
    if (v <= 0) return 0;
    if (!useLog) return (v / max) * plotW;
    const span = Math.log10(max) - Math.log10(logMin);
    return Math.max(1, ((Math.log10(v) - Math.log10(logMin)) / (span || 1)) * plotW);
  };
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="8" y="18" font-size="13" font-weight="bold">${esc(chart.title)}${chart.unit ? ` (${esc(chart.unit)}${useLog ? ", log scale" : ""})` : ""}</text>`);
  if (chart.series.length > 1) {
    let x = labelW;
    for (const s of chart.series) {
      out.push(`<rect x="${x}" y="26" width="10" height="10" fill="${s.color}"/>`);
      out.push(`<text x="${x + 14}" y="35">${esc(s.name)}</text>`);
      x += 24 + s.name.length * 6.6;
    }
  }
  chart.rows.forEach((row, i) => {
    const y0 = top + i * groupH;
    out.push(`<text x="${labelW - 6}" y="${y0 + (chart.series.length * barH) / 2 + 4}" text-anchor="end">${esc(row.label)}</text>`);
    row.values.forEach((v, j) => {
      const y = y0 + j * barH;
      if (typeof v !== "number" || !Number.isFinite(v)) return;
      const w = scale(v);
      out.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${chart.series[j].color}"/>`);
      out.push(`<text x="${(labelW + w + 4).toFixed(1)}" y="${y + barH - 3}">${esc(fmtNum(v))}</text>`);
    });
  });
  const axisY = top + chart.rows.length * groupH;
  out.push(`<line x1="${labelW}" y1="${top - 4}" x2="${labelW}" y2="${axisY}" stroke="#333"/>`);
  out.push(`<line x1="${labelW}" y1="${axisY}" x2="${labelW + plotW}" y2="${axisY}" stroke="#333"/>`);
  out.push(`<text x="${labelW}" y="${axisY + 14}">${useLog ? fmtNum(logMin) : "0"}</text>`);
  out.push(`<text x="${labelW + plotW}" y="${axisY + 14}" text-anchor="end">${esc(fmtNum(max))}</text>`);
  if (chart.target && chart.target.value > 0) {
    const x = labelW + scale(chart.target.value);
    out.push(`<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${axisY}" stroke="#d62728" stroke-dasharray="4,3"/>`);
    out.push(`<text x="${x.toFixed(1)}" y="${axisY + 26}" fill="#d62728" text-anchor="middle">${esc(chart.target.label)}</text>`);
  }
  out.push("</svg>");
  return out.join("\n");
}

// --- per-bench charts -----------------------------------------------------------------------------

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

/** Charts for one bench file. Known benches get purpose-made charts; others a generic one. */
export function chartsFor(b: BenchFile): BarChart[] {
  const charts: BarChart[] = [];
  for (const s of b.sections) {
    const cases = s.cases;
    const has = (k: string) => cases.some((c) => num(c, k) !== undefined);
    const idFields = labelFields(cases);
    if (has("p50_ms") && has("p99_ms")) {
      charts.push({
        title: `${sectionTitle(b, s.name)} latency`,
        unit: "ms",
        series: [
          { name: "p50", color: PALETTE[0] },
          { name: "p99", color: PALETTE[1] },
          ...(has("max_ms") ? [{ name: "max", color: PALETTE[3] }] : []),
        ],
        rows: cases.map((c) => ({
          label: label(c, idFields),
          values: [num(c, "p50_ms"), num(c, "p99_ms"), ...(has("max_ms") ? [num(c, "max_ms")] : [])],
        })),
        target: b.name === "reload" ? { value: 10, label: "10 ms target (p99, 10k CIDRs, 2 workers)" } : undefined,
        log: true,
      });
    }
    if (has("rps")) {
      charts.push({
        title: `${sectionTitle(b, s.name)} throughput`,
        unit: "requests/s",
        series: [{ name: "rps", color: PALETTE[2] }],
        rows: cases.map((c) => ({ label: label(c, idFields), values: [num(c, "rps")] })),
      });
    }
    if (has("p50_us") && has("p99_us")) {
      charts.push({
        title: `${sectionTitle(b, s.name)} request latency`,
        unit: "µs",
        series: [
          { name: "p50", color: PALETTE[0] },
          { name: "p99", color: PALETTE[1] },
        ],
        rows: cases.map((c) => ({ label: label(c, idFields), values: [num(c, "p50_us"), num(c, "p99_us")] })),
      });
    }
    if (has("wasm_us_per_request")) {
      const rows = cases.filter((c) => num(c, "wasm_us_per_request") !== undefined && c.filter !== "none");
      charts.push({
        title: `${b.name}: wasm guest time per request`,
        unit: "µs",
        series: [{ name: "wasm µs/request", color: PALETTE[4] }],
        rows: rows.map((c) => ({ label: label(c, idFields), values: [num(c, "wasm_us_per_request")] })),
        target: { value: 5, label: "5 µs target" },
      });
    }
    const byteFields = [...new Set(cases.flatMap((c) => Object.keys(c)))].filter((k) => /_bytes$/.test(k) && has(k));
    if (byteFields.length > 0) {
      charts.push({
        title: `${sectionTitle(b, s.name)}${s.name === "memory" ? "" : " memory"}`,
        unit: "MiB",
        series: byteFields.map((f, i) => ({ name: f.replace(/_bytes$/, ""), color: PALETTE[i % PALETTE.length] })),
        rows: cases.map((c) => ({
          label: label(c, idFields),
          values: byteFields.map((f) => {
            const v = num(c, f);
            return v === undefined ? undefined : v / (1024 * 1024);
          }),
        })),
      });
    }
    if (charts.length === 0) {
      // Generic: the first comparable metric.
      const metric = tableColumns(cases).find((k) => metricDirection(k) !== undefined && has(k));
      if (metric) {
        charts.push({
          title: `${sectionTitle(b, s.name)} ${metric}`,
          unit: "",
          series: [{ name: metric, color: PALETTE[0] }],
          rows: cases.map((c) => ({ label: label(c, idFields), values: [num(c, metric)] })),
        });
      }
    }
  }
  return charts;
}

const ORDER = ["overhead", "memory", "reload", "telemetry", "trace"];

export interface ReportOutput {
  path: string;
  charts: string[];
  benches: string[];
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
  const chartFiles: string[] = [];
  const md: string[] = [];
  md.push(`# ${opts.title ?? "edgewatch bench report"}`);
  md.push("");
  md.push(`Generated ${new Date().toISOString()} from \`${relativeToRepo(dir)}/*.json\` by \`bench/report.ts\`.`);
  md.push("Charts are inline SVG; the same charts are in `charts/` for viewers that strip inline SVG (GitHub).");
  md.push("");
  const headline = headlines(benches);
  if (headline.length > 0) {
    md.push("## Targets at a glance", "", "| target | measured | verdict |", "|---|---:|---|", ...headline, "");
  }
  for (const b of benches) {
    md.push(`## ${b.name}`);
    md.push("");
    const metaLine = Object.entries(b.meta)
      .filter(([, v]) => v !== null && typeof v !== "object")
      .map(([k, v]) => `${k}: \`${fmtNum(v)}\``)
      .join(" · ");
    if (metaLine) md.push(metaLine, "");
    for (const s of b.sections) {
      if (b.sections.length > 1 || s.name !== "cases") md.push(`### ${s.name}`, "");
      md.push(markdownTable(s.cases), "");
    }
    chartsFor(b).forEach((chart, i) => {
      const svg = renderBarChart(chart);
      const file = `${b.name}-${i + 1}.svg`;
      writeFileSync(join(chartDir, file), `${svg}\n`);
      chartFiles.push(join(chartDir, file));
      md.push(svg, "");
    });
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

/** Rows for the issue targets, when the benches that measure them are present. */
function headlines(benches: BenchFile[]): string[] {
  const rows: string[] = [];
  const get = (n: string) => benches.find((b) => b.name === n);
  const overhead = get("overhead");
  if (overhead) {
    const cases = overhead.sections.find((s) => s.name === "cases")?.cases ?? overhead.sections[0]?.cases ?? [];
    const ratios = cases.filter((c) => c.filter === "edgewatch" && typeof c.ratio === "number");
    if (ratios.length > 0) {
      const worst = ratios.reduce((a, b) => ((a.ratio as number) <= (b.ratio as number) ? a : b));
      rows.push(
        `| throughput with filter ≥ 0.9 × without (worst case: ${label(worst, ["cidrs", "workers", "routes"])}) | ${fmtNum(worst.ratio)} | ${(worst.ratio as number) >= 0.9 ? "met" : "**missed**"} |`,
      );
    }
    // The filter's CPU per request: the same shape with and without it (proxy process CPU).
    for (const c of cases.filter((x) => x.filter === "edgewatch" && typeof x.cpu_us_per_request === "number")) {
      const none = cases.find((x) => x.filter === "none" && x.cidrs === c.cidrs && x.workers === c.workers && x.routes === c.routes && x.tracing === c.tracing);
      if (!none || typeof none.cpu_us_per_request !== "number") continue;
      const added = (c.cpu_us_per_request as number) - none.cpu_us_per_request;
      rows.push(`| (info) proxy CPU added by the filter (${label(c, ["cidrs", "workers", "tracing"])}) | ${fmtNum(added)} µs/request of ${fmtNum(none.cpu_us_per_request)} | — |`);
    }
    const big = cases.filter((c) => c.filter === "edgewatch" && c.cidrs === 10000 && typeof c.wasm_us_per_request === "number");
    for (const c of big) {
      rows.push(
        `| wasm time per request ≤ 5 µs (10k CIDRs, ${c.routes ?? "?"} routes, tracing ${c.tracing ?? "?"}, ${c.workers} worker(s)) | ${fmtNum(c.wasm_us_per_request)} µs | ${(c.wasm_us_per_request as number) <= 5 ? "met" : "**missed**"} |`,
      );
    }
  }
  const reload = get("reload");
  if (reload) {
    const cases = reload.sections.flatMap((s) => s.cases);
    for (const c of cases.filter((x) => x.cidrs === 10000 && x.workers === 2 && typeof x.p99_ms === "number")) {
      rows.push(`| reload p99 ≤ 10 ms (${c.mode}, 10k CIDRs, 2 workers) | ${fmtNum(c.p99_ms)} ms | ${(c.p99_ms as number) <= 10 ? "met" : "**missed**"} |`);
    }
    for (const c of cases.filter((x) => x.cidrs === 100000 && typeof x.p99_ms === "number" && typeof x.p50_ms === "number")) {
      const ok = (c.p50_ms as number) <= 5 && (c.p99_ms as number) <= 20;
      rows.push(
        `| reload p50 ≤ 5 ms, p99 ≤ 20 ms (${c.mode}, 100k CIDRs, ${c.workers} workers) | ${fmtNum(c.p50_ms)} / ${fmtNum(c.p99_ms)} ms | ${ok ? "met" : "**missed**"} |`,
      );
    }
  }
  return rows;
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

/**
 * Hand-written SVG charts for the bench report (no dependencies): a horizontal grouped bar chart
 * and a log-log line chart. Every text is measured before the canvas is sized, so nothing is cut:
 * labels, values, legend, title and the target's caption all fit inside the image.
 */

export interface BarSeries {
  name: string;
  color: string;
}

export interface BarChart {
  title: string;
  unit: string;
  series: BarSeries[];
  rows: { label: string; values: (number | undefined)[] }[];
  /** A vertical target line (e.g. the issue's goal), drawn dashed. */
  target?: { value: number; label: string };
  /** Log-scaled axis for values spanning orders of magnitude. */
  log?: boolean;
}

export interface LineSeries {
  name: string;
  color: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Horizontal goal lines. */
  targets?: { value: number; label: string }[];
}

/** Charts with more rows than this are not drawn (a table shows them): no 800-bar charts. */
export const MAX_CHART_ROWS = 40;

export const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#9c755f"];

const CHAR_W = 6.4; // average glyph width of 11px sans-serif, rounded up
const TITLE_CHAR_W = 7.6;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const textW = (s: string, w = CHAR_W) => s.length * w;

export function fmtValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return Math.abs(v) >= 1e15 ? v.toExponential(2) : v.toLocaleString("en-US");
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString("en-US");
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

/** Horizontal grouped bar chart: one group per row, one bar per series. */
export function renderBarChart(chart: BarChart): string {
  const labelW = Math.max(80, ...chart.rows.map((r) => textW(r.label) + 14));
  const plotW = 440;
  const barH = 12;
  const gap = 8;
  const groupH = chart.series.length * barH + gap;
  const legendW = chart.series.length > 1 ? chart.series.reduce((a, s) => a + 24 + textW(s.name), 0) : 0;
  const top = 34 + (chart.series.length > 1 ? 16 : 0);
  const height = top + chart.rows.length * groupH + (chart.target ? 42 : 30);
  const vals = chart.rows.flatMap((r) => r.values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)));
  const valueW = Math.max(40, ...vals.map((v) => textW(fmtValue(v)) + 8));
  let max = Math.max(...vals, chart.target?.value ?? 0, 0);
  if (max <= 0) max = 1;
  const minPos = Math.min(...vals.filter((v) => v > 0), max);
  const useLog = chart.log === true && max / minPos > 50;
  const logMin = useLog ? Math.pow(10, Math.floor(Math.log10(minPos))) : 0;
  const title = `${chart.title}${chart.unit ? ` (${chart.unit}${useLog ? ", log scale" : ""})` : ""}`;
  const width = Math.ceil(Math.max(labelW + plotW + valueW, 16 + textW(title, TITLE_CHAR_W), labelW + legendW + 10, chart.target ? labelW + plotW / 2 + textW(chart.target.label) : 0));
  const scale = (v: number): number => {
    if (v <= 0) return 0;
    if (!useLog) return (v / max) * plotW;
    const span = Math.log10(max) - Math.log10(logMin);
    return Math.max(1, ((Math.log10(v) - Math.log10(logMin)) / (span || 1)) * plotW);
  };
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="8" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`);
  if (chart.series.length > 1) {
    let x = labelW;
    for (const s of chart.series) {
      out.push(`<rect x="${x}" y="26" width="10" height="10" fill="${s.color}"/>`);
      out.push(`<text x="${x + 14}" y="35">${esc(s.name)}</text>`);
      x += 24 + textW(s.name);
    }
  }
  chart.rows.forEach((row, i) => {
    const y0 = top + i * groupH;
    out.push(`<text x="${labelW - 6}" y="${y0 + (chart.series.length * barH) / 2 + 4}" text-anchor="end">${esc(row.label)}</text>`);
    row.values.forEach((v, j) => {
      const y = y0 + j * barH;
      if (typeof v !== "number" || !Number.isFinite(v)) return;
      const w = scale(v);
      out.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${chart.series[j]!.color}"/>`);
      out.push(`<text x="${(labelW + w + 4).toFixed(1)}" y="${y + barH - 3}">${esc(fmtValue(v))}</text>`);
    });
  });
  const axisY = top + chart.rows.length * groupH;
  out.push(`<line x1="${labelW}" y1="${top - 4}" x2="${labelW}" y2="${axisY}" stroke="#333"/>`);
  out.push(`<line x1="${labelW}" y1="${axisY}" x2="${labelW + plotW}" y2="${axisY}" stroke="#333"/>`);
  out.push(`<text x="${labelW}" y="${axisY + 14}">${useLog ? fmtValue(logMin) : "0"}</text>`);
  out.push(`<text x="${labelW + plotW}" y="${axisY + 14}" text-anchor="end">${esc(fmtValue(max))}</text>`);
  if (chart.target && chart.target.value > 0) {
    const x = labelW + scale(chart.target.value);
    out.push(`<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${axisY}" stroke="#d62728" stroke-dasharray="4,3"/>`);
    const anchorEnd = x + textW(chart.target.label) / 2 > width - 4;
    out.push(`<text x="${(anchorEnd ? width - 4 : Math.max(4 + textW(chart.target.label) / 2, x)).toFixed(1)}" y="${axisY + 28}" fill="#d62728" text-anchor="${anchorEnd ? "end" : "middle"}">${esc(chart.target.label)}</text>`);
  }
  out.push("</svg>");
  return out.join("\n");
}

/** Log-log line chart (both axes decades), e.g. reload cost against the number of CIDRs. */
export function renderLineChart(chart: LineChart): string {
  const pts = chart.series.flatMap((s) => s.points).filter((p) => p.x > 0 && p.y > 0 && Number.isFinite(p.x) && Number.isFinite(p.y));
  const ys = [...pts.map((p) => p.y), ...(chart.targets ?? []).map((t) => t.value)];
  const xs = pts.map((p) => p.x);
  const decade = (v: number, up: boolean) => Math.pow(10, up ? Math.ceil(Math.log10(v)) : Math.floor(Math.log10(v)));
  const xMin = xs.length ? decade(Math.min(...xs), false) : 1;
  const xMax = xs.length ? decade(Math.max(...xs), true) : 10;
  const yMin = ys.length ? decade(Math.min(...ys), false) : 1;
  const yMax = ys.length ? Math.max(decade(Math.max(...ys), true), yMin * 10) : 10;
  const left = 64;
  const plotW = 460;
  const plotH = 280;
  const top = 40;
  const legendW = Math.max(...chart.series.map((s) => 30 + textW(s.name)), ...(chart.targets ?? []).map((t) => 30 + textW(t.label)), 0);
  const width = Math.ceil(Math.max(left + plotW + 20 + legendW, 16 + textW(chart.title, TITLE_CHAR_W)));
  const height = top + plotH + 50;
  const lx = (v: number) => left + ((Math.log10(v) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin) || 1)) * plotW;
  const ly = (v: number) => top + plotH - ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin) || 1)) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="8" y="18" font-size="13" font-weight="bold">${esc(chart.title)}</text>`);
  // grid: one line per decade
  for (let v = xMin; v <= xMax * 1.0001; v *= 10) {
    const x = lx(v);
    out.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${top + plotH}" stroke="#ddd"/>`);
    out.push(`<text x="${x.toFixed(1)}" y="${top + plotH + 14}" text-anchor="middle">${esc(fmtValue(v))}</text>`);
  }
  for (let v = yMin; v <= yMax * 1.0001; v *= 10) {
    const y = ly(v);
    out.push(`<line x1="${left}" y1="${y.toFixed(1)}" x2="${left + plotW}" y2="${y.toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 4}" y="${(y + 4).toFixed(1)}" text-anchor="end">${esc(fmtValue(v))}</text>`);
  }
  out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 32}" text-anchor="middle">${esc(chart.xLabel)} (log scale)</text>`);
  out.push(`<text x="14" y="${top + plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${top + plotH / 2})">${esc(chart.yLabel)} (log scale)</text>`);
  for (const t of chart.targets ?? []) {
    const y = ly(t.value);
    out.push(`<line x1="${left}" y1="${y.toFixed(1)}" x2="${left + plotW}" y2="${y.toFixed(1)}" stroke="#d62728" stroke-dasharray="4,3"/>`);
  }
  for (const s of chart.series) {
    const p = s.points.filter((q) => q.x > 0 && q.y > 0).sort((a, b) => a.x - b.x);
    if (p.length === 0) continue;
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ""} points="${p.map((q) => `${lx(q.x).toFixed(1)},${ly(q.y).toFixed(1)}`).join(" ")}"/>`);
    for (const q of p) out.push(`<circle cx="${lx(q.x).toFixed(1)}" cy="${ly(q.y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
  }
  // legend at the right of the plot
  let ly0 = top + 6;
  for (const s of chart.series) {
    out.push(`<line x1="${left + plotW + 12}" y1="${ly0}" x2="${left + plotW + 32}" y2="${ly0}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ""}/>`);
    out.push(`<text x="${left + plotW + 36}" y="${ly0 + 4}">${esc(s.name)}</text>`);
    ly0 += 16;
  }
  for (const t of chart.targets ?? []) {
    out.push(`<line x1="${left + plotW + 12}" y1="${ly0}" x2="${left + plotW + 32}" y2="${ly0}" stroke="#d62728" stroke-dasharray="4,3"/>`);
    out.push(`<text x="${left + plotW + 36}" y="${ly0 + 4}" fill="#d62728">${esc(t.label)}</text>`);
    ly0 += 16;
  }
  out.push("</svg>");
  return out.join("\n");
}

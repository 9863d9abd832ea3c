/**
 * A small, tolerant parser for the Prometheus text exposition format (version 0.0.4), as written by
 * Envoy's `/stats/prometheus` and by the embedded host's admin server.
 *
 * What it accepts: `# TYPE name type` and `# HELP name text` comments (other comments ignored),
 * samples `name{label="value",…} value [timestamp]` with or without braces, empty braces `{}`,
 * a trailing comma inside braces, escaped label values (`\\`, `\"`, `\n`), the special values
 * `NaN`, `+Inf`, `-Inf`, blank lines and CRLF line ends. A line it cannot read is recorded in
 * `errors` (with its line number) instead of throwing, so a diagnosis can report it.
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  /** Metric name as written (for histograms this includes `_bucket`, `_sum`, `_count`). */
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

export interface ParseError {
  line: number;
  text: string;
  reason: string;
}

export interface PromDocument {
  samples: Sample[];
  /** `# TYPE` declarations by family name. */
  types: Map<string, MetricType>;
  help: Map<string, string>;
  errors: ParseError[];
}

const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;
const LABEL_START = /[a-zA-Z_]/;
const LABEL_CHAR = /[a-zA-Z0-9_]/;

export function parseNumber(text: string): number | undefined {
  switch (text) {
    case "NaN":
      return NaN;
    case "+Inf":
    case "Inf":
      return Infinity;
    case "-Inf":
      return -Infinity;
  }
  if (text.length === 0) return undefined;
  // Number("") is 0 and Number("0x10") is 16; only accept decimal/float forms Prometheus writes.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

class LineReader {
  pos = 0;
  constructor(readonly s: string) {}
  peek(): string {
    return this.s[this.pos] ?? "";
  }
  eof(): boolean {
    return this.pos >= this.s.length;
  }
  skipSpaces(): void {
    while (this.s[this.pos] === " " || this.s[this.pos] === "\t") this.pos++;
  }
}

function parseSampleLine(line: string): Sample | string {
  const r = new LineReader(line);
  if (!NAME_START.test(r.peek())) return "metric name expected";
  const nameStart = r.pos;
  while (!r.eof() && NAME_CHAR.test(r.peek())) r.pos++;
  const name = line.slice(nameStart, r.pos);
  const labels: Record<string, string> = {};
  r.skipSpaces();
  if (r.peek() === "{") {
    r.pos++;
    for (;;) {
      r.skipSpaces();
      if (r.peek() === "}") {
        r.pos++;
        break;
      }
      if (!LABEL_START.test(r.peek())) return `label name expected at column ${r.pos + 1}`;
      const ls = r.pos;
      while (!r.eof() && LABEL_CHAR.test(r.peek())) r.pos++;
      const label = line.slice(ls, r.pos);
      r.skipSpaces();
      if (r.peek() !== "=") return `'=' expected after label ${label}`;
      r.pos++;
      r.skipSpaces();
      if (r.peek() !== '"') return `'"' expected for the value of label ${label}`;
      r.pos++;
      let value = "";
      let closed = false;
      while (!r.eof()) {
        const ch = line[r.pos++];
        if (ch === "\\") {
          const next = line[r.pos++];
          if (next === "n") value += "\n";
          else if (next === "\\") value += "\\";
          else if (next === '"') value += '"';
          else value += "\\" + (next ?? "");
        } else if (ch === '"') {
          closed = true;
          break;
        } else {
          value += ch;
        }
      }
      if (!closed) return `unterminated value of label ${label}`;
      if (label in labels) return `duplicate label ${label}`;
      labels[label] = value;
      r.skipSpaces();
      if (r.peek() === ",") {
        r.pos++;
        continue;
      }
      if (r.peek() === "}") {
        r.pos++;
        break;
      }
      return `',' or '}' expected after label ${label}`;
    }
  }
  r.skipSpaces();
  const rest = line.slice(r.pos).trim().split(/[ \t]+/);
  if (rest.length === 0 || rest[0] === "") return "sample value missing";
  if (rest.length > 2) return "unexpected text after the timestamp";
  const value = parseNumber(rest[0]);
  if (value === undefined) return `bad sample value '${rest[0]}'`;
  const sample: Sample = { name, labels, value };
  if (rest.length === 2) {
    const ts = parseNumber(rest[1]);
    if (ts === undefined || !Number.isFinite(ts)) return `bad timestamp '${rest[1]}'`;
    sample.timestampMs = ts;
  }
  return sample;
}

const TYPES: ReadonlySet<string> = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export function parsePrometheusText(text: string): PromDocument {
  const doc: PromDocument = { samples: [], types: new Map(), help: new Map(), errors: [] };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, "");
    const trimmed = line.trim();
    if (trimmed === "") continue;
    if (trimmed.startsWith("#")) {
      const m = /^#\s*(TYPE|HELP)\s+(\S+)(?:\s+(.*))?$/.exec(trimmed);
      if (!m) continue; // plain comment
      if (m[1] === "TYPE") {
        const t = (m[3] ?? "").trim();
        if (!TYPES.has(t)) doc.errors.push({ line: i + 1, text: line, reason: `unknown metric type '${t}'` });
        else doc.types.set(m[2], t as MetricType);
      } else {
        doc.help.set(m[2], m[3] ?? "");
      }
      continue;
    }
    const parsed = parseSampleLine(trimmed);
    if (typeof parsed === "string") doc.errors.push({ line: i + 1, text: line, reason: parsed });
    else doc.samples.push(parsed);
  }
  return doc;
}

/** A stable key for a label set, optionally leaving some labels out (e.g. `le`). */
export function labelKey(labels: Record<string, string>, omit: readonly string[] = []): string {
  return Object.keys(labels)
    .filter((k) => !omit.includes(k))
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",");
}

export function formatLabels(labels: Record<string, string>, omit: readonly string[] = []): string {
  const keys = Object.keys(labels).filter((k) => !omit.includes(k)).sort();
  if (keys.length === 0) return "";
  return `{${keys.map((k) => `${k}="${labels[k]}"`).join(",")}}`;
}

/** Query helpers over one parsed scrape. */
export class PromSnapshot {
  readonly byName = new Map<string, Sample[]>();
  constructor(readonly doc: PromDocument, readonly takenAtMs: number = Date.now()) {
    for (const s of doc.samples) {
      const list = this.byName.get(s.name);
      if (list) list.push(s);
      else this.byName.set(s.name, [s]);
    }
  }

  static parse(text: string, takenAtMs: number = Date.now()): PromSnapshot {
    return new PromSnapshot(parsePrometheusText(text), takenAtMs);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  series(name: string): Sample[] {
    return this.byName.get(name) ?? [];
  }

  /** Sum over every series of a metric; undefined when the metric is absent. */
  sum(name: string, filter?: (labels: Record<string, string>) => boolean): number | undefined {
    const list = this.byName.get(name);
    if (!list) return undefined;
    let total = 0;
    for (const s of list) if (!filter || filter(s.labels)) total += s.value;
    return total;
  }

  /** Max over the series of a metric (gauges written by several VMs). */
  max(name: string): number | undefined {
    const list = this.byName.get(name);
    if (!list || list.length === 0) return undefined;
    return Math.max(...list.map((s) => s.value));
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Histogram families: base names that have `_bucket` samples. */
  histogramFamilies(): string[] {
    const out = new Set<string>();
    for (const n of this.byName.keys()) if (n.endsWith("_bucket")) out.add(n.slice(0, -"_bucket".length));
    for (const [n, t] of this.doc.types) if (t === "histogram") out.add(n);
    return [...out].sort();
  }

  histograms(family: string): HistogramSeries[] {
    return groupHistogram(this, family);
  }
}

export interface HistogramBucket {
  le: number;
  count: number;
}

export interface HistogramSeries {
  family: string;
  labels: Record<string, string>;
  /** Finite buckets sorted by bound, then +Inf when present. */
  buckets: HistogramBucket[];
  hasInf: boolean;
  infCount?: number;
  sum?: number;
  count?: number;
  /** Problems found while grouping (bad `le` values, duplicate bounds). */
  problems: string[];
}

export function groupHistogram(snap: PromSnapshot, family: string): HistogramSeries[] {
  const groups = new Map<string, HistogramSeries>();
  const get = (labels: Record<string, string>): HistogramSeries => {
    const key = labelKey(labels, ["le"]);
    let g = groups.get(key);
    if (!g) {
      const own: Record<string, string> = {};
      for (const [k, v] of Object.entries(labels)) if (k !== "le") own[k] = v;
      g = { family, labels: own, buckets: [], hasInf: false, problems: [] };
      groups.set(key, g);
    }
    return g;
  };
  for (const s of snap.series(`${family}_bucket`)) {
    const g = get(s.labels);
    const leText = s.labels.le;
    if (leText === undefined) {
      g.problems.push("a _bucket sample has no le label");
      continue;
    }
    const le = parseNumber(leText);
    if (le === undefined || Number.isNaN(le)) {
      g.problems.push(`bad le="${leText}"`);
      continue;
    }
    if (g.buckets.some((b) => b.le === le)) {
      g.problems.push(`duplicate bucket le="${leText}"`);
      continue;
    }
    g.buckets.push({ le, count: s.value });
    if (le === Infinity) {
      g.hasInf = true;
      g.infCount = s.value;
    }
  }
  for (const s of snap.series(`${family}_sum`)) get(s.labels).sum = s.value;
  for (const s of snap.series(`${family}_count`)) get(s.labels).count = s.value;
  for (const g of groups.values()) g.buckets.sort((a, b) => a.le - b.le);
  return [...groups.values()];
}

/** Number of buckets that received samples (non-cumulative count > 0), +Inf included. */
export function nonEmptyBuckets(h: HistogramSeries): number {
  let prev = 0;
  let n = 0;
  for (const b of h.buckets) {
    if (b.count - prev > 0) n++;
    prev = b.count;
  }
  return n;
}

/**
 * Estimate a quantile from cumulative buckets by linear interpolation inside the bucket, like
 * PromQL's histogram_quantile. Returns undefined when the histogram is empty.
 */
export function histogramQuantile(q: number, buckets: readonly HistogramBucket[]): number | undefined {
  if (buckets.length === 0) return undefined;
  const total = buckets[buckets.length - 1].count;
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe; // above the last finite bound: report that bound
      const inBucket = b.count - prevCount;
      if (inBucket <= 0) return b.le;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/**
 * The bucket a quantile falls in: its lower and upper bound (upper = Infinity above the largest finite
 * bound). histogramQuantile interpolates inside it; the true value can be anywhere in [lower, upper].
 */
export function quantileBucket(q: number, buckets: readonly HistogramBucket[]): { lower: number; upper: number } | undefined {
  if (buckets.length === 0) return undefined;
  const total = buckets[buckets.length - 1].count;
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let prevLe = 0;
  for (const b of buckets) {
    if (b.count >= rank) return { lower: prevLe, upper: b.le };
    prevLe = b.le;
  }
  return { lower: prevLe, upper: Infinity };
}

/** Merge several histogram series (e.g. every route) into one cumulative bucket list. */
export function mergeHistograms(series: readonly HistogramSeries[]): HistogramBucket[] {
  const byLe = new Map<number, number>();
  for (const s of series) for (const b of s.buckets) byLe.set(b.le, (byLe.get(b.le) ?? 0) + b.count);
  return [...byLe.entries()].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

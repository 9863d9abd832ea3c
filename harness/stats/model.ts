/**
 * Read-only views of the stats the renderers (prometheus-format.ts, json-format.ts) consume.
 * Kept separate from stats-store.ts so the renderers can be tested on hand-built data.
 */
import type { HistogramStatistics } from "./circllhist.js";
import type { Tag } from "./tag-extractor.js";

export interface MetricView {
  /** Full Envoy stat name, e.g. "wasmcustom.edgewatch.route=.=api;.;requests_total". */
  readonly name: string;
  /** Name with tag captures removed (Envoy tagExtractedName), e.g. "wasmcustom.edgewatch.requests_total". */
  readonly tagExtractedName: string;
  readonly tags: readonly Tag[];
  /** Envoy's used() flag: set by any add/set (counters, gauges) or by the first merge (histograms). */
  readonly used: boolean;
}

export interface NumericView extends MetricView {
  /** uint64 value. */
  value(): bigint;
}

export interface HistogramView extends MetricView {
  readonly cumulative: HistogramStatistics;
  /** Statistics of the samples merged at the last flush. */
  readonly interval: HistogramStatistics;
  readonly cumulativeDetails: () => Array<{ lowerBound: number; width: number; count: number }>;
  readonly intervalDetails: () => Array<{ lowerBound: number; width: number; count: number }>;
}

export interface StatsSnapshot {
  readonly counters: readonly NumericView[];
  readonly gauges: readonly NumericView[];
  readonly histograms: readonly HistogramView[];
}

/** Options shared by the admin renderers (Envoy StatsParams subset). */
export interface RenderOptions {
  /** `?usedonly` */
  usedOnly?: boolean;
  /** `?filter=<regex>`, searched (not fully matched) in the full stat name. */
  filter?: RegExp;
  /** `?histogram_buckets=` for /stats and /stats?format=json; default summary. */
  histogramBuckets?: "summary" | "cumulative" | "disjoint" | "detailed";
}

/** Envoy shouldShowMetric: used-only and regex_search on the full name. */
export function shouldShow(m: MetricView, opts: RenderOptions | undefined): boolean {
  if (opts?.usedOnly && !m.used) return false;
  const f = opts?.filter;
  if (f) {
    f.lastIndex = 0;
    if (!f.test(m.name)) return false;
  }
  return true;
}

/** Plain byte-wise string order, like std::map<std::string, …> / std::string operator<. */
export function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Envoy SymbolTable::lessThan order on StatNames: token by token (tokens split on '.'), each token
 * compared byte-wise; a name that is a prefix of another sorts first.
 */
export function statNameCompare(a: string, b: string): number {
  if (a === b) return 0;
  const ta = a.split(".");
  const tb = b.split(".");
  const n = Math.min(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const c = byteCompare(ta[i], tb[i]);
    if (c !== 0) return c;
  }
  return ta.length - tb.length;
}

/**
 * GET /stats (plain text) and GET /stats?format=json bodies.
 *
 * Emulates envoy source/server/admin/stats_render.cc (StatsTextRender, StatsJsonRender), the ordering
 * of source/server/admin/stats_request.cc (text readouts, then counters and gauges interleaved and
 * sorted by full name, then histograms sorted by full name), and the histogram summaries of
 * source/common/stats/histogram_impl.cc (ParentHistogramImpl::quantileSummary / bucketSummary,
 * HistogramStatisticsImpl::supportedQuantiles).
 *
 * Names are the *full* stat names (`wasmcustom.` is not stripped here; only the Prometheus renderer
 * strips it).
 *
 * Text, default (summary) mode:
 *   wasmcustom.edgewatch.requests_seen_total: 42
 *   wasmcustom.edgewatch.route=.=api;.;route_latency_us: P0(12,10) P25(12.25,11) … P100(13,130)
 *   wasmcustom.other_latency: No recorded values
 * where each P<q>(interval,cumulative) pair is the quantile of the samples merged at the last flush and
 * of all samples (fmt `{}` number formatting, `nan` when empty).
 *
 * JSON, default mode:
 *   {"stats":[{"name":"…","value":42},…,
 *     {"histograms":{"supported_quantiles":[0,25,50,75,90,95,99,99.5,99.9,100],
 *      "computed_quantiles":[{"name":"…","values":[{"cumulative":10,"interval":12},…]}]}}]}
 * NaN quantiles are `null`. The histograms element is present only if at least one histogram is shown.
 */
import type { HistogramStatistics } from "./circllhist.js";
import { SUPPORTED_QUANTILES, disjointBuckets } from "./circllhist.js";
import type { HistogramView, NumericView, RenderOptions, StatsSnapshot } from "./model.js";
import { byteCompare, shouldShow } from "./model.js";
import { formatG, formatShortest } from "./number-format.js";

function sortedNumeric(snapshot: StatsSnapshot, opts?: RenderOptions): NumericView[] {
  const all = [...snapshot.counters, ...snapshot.gauges].filter((m) => shouldShow(m, opts));
  return all.sort((a, b) => byteCompare(a.name, b.name));
}

function sortedHistograms(snapshot: StatsSnapshot, opts?: RenderOptions): HistogramView[] {
  return snapshot.histograms.filter((h) => shouldShow(h, opts)).sort((a, b) => byteCompare(a.name, b.name));
}

/** ParentHistogramImpl::quantileSummary. */
export function quantileSummary(h: HistogramView): string {
  if (!h.used) return "No recorded values";
  return SUPPORTED_QUANTILES.map(
    (q, i) =>
      `P${formatG(100 * q)}(${formatShortest(h.interval.computedQuantiles[i])},${formatShortest(
        h.cumulative.computedQuantiles[i],
      )})`,
  ).join(" ");
}

/** ParentHistogramImpl::bucketSummary (histogram_buckets=cumulative). */
export function bucketSummary(h: HistogramView): string {
  if (!h.used) return "No recorded values";
  const b = h.interval.supportedBuckets;
  return b
    .map((bound, i) => `B${formatG(bound)}(${h.interval.computedBuckets[i]},${h.cumulative.computedBuckets[i]})`)
    .join(" ");
}

/** StatsTextRender::addDisjointBuckets (histogram_buckets=disjoint). */
export function disjointSummary(h: HistogramView): string {
  if (!h.used) return "No recorded values";
  const iv = disjointBuckets(h.interval);
  const cu = disjointBuckets(h.cumulative);
  return h.interval.supportedBuckets.map((bound, i) => `B${formatG(bound)}(${iv[i]},${cu[i]})`).join(" ");
}

function detailText(d: Array<{ lowerBound: number; width: number; count: number }>): string {
  return d.map((b) => `${formatG(b.lowerBound, 15)},${formatG(b.width, 15)}:${b.count}`).join(", ");
}

export function renderStatsText(snapshot: StatsSnapshot, opts?: RenderOptions): string {
  const out: string[] = [];
  for (const m of sortedNumeric(snapshot, opts)) out.push(`${m.name}: ${m.value().toString()}\n`);
  const mode = opts?.histogramBuckets ?? "summary";
  for (const h of sortedHistograms(snapshot, opts)) {
    if (!h.used) {
      out.push(`${h.name}: No recorded values\n`);
      continue;
    }
    switch (mode) {
      case "summary":
        out.push(`${h.name}: ${quantileSummary(h)}\n`);
        break;
      case "cumulative":
        out.push(`${h.name}: ${bucketSummary(h)}\n`);
        break;
      case "disjoint":
        out.push(`${h.name}: ${disjointSummary(h)}\n`);
        break;
      case "detailed":
        out.push(
          `${h.name}:\n  totals=${detailText(h.cumulativeDetails())}\n  intervals=${detailText(
            h.intervalDetails(),
          )}\n  summary=${quantileSummary(h)}\n`,
        );
        break;
    }
  }
  return out.join("");
}

function nullIfNaN(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

function percentiles(h: HistogramView): Array<{ cumulative: number | null; interval: number | null }> {
  return SUPPORTED_QUANTILES.map((_, i) => ({
    cumulative: nullIfNaN(h.cumulative.computedQuantiles[i]),
    interval: nullIfNaN(h.interval.computedQuantiles[i]),
  }));
}

function bucketsJson(interval: readonly number[], cumulative: readonly number[], stats: HistogramStatistics) {
  return stats.supportedBuckets.map((b, i) => ({ upper_bound: b, interval: interval[i], cumulative: cumulative[i] }));
}

/** JSON shape of /stats?format=json (returned as a plain object; the admin server stringifies it). */
export function renderStatsJson(snapshot: StatsSnapshot, opts?: RenderOptions): { stats: unknown[] } {
  const stats: unknown[] = [];
  // JSON numbers: uint64 values above 2^53 lose precision (Envoy writes the exact integer).
  for (const m of sortedNumeric(snapshot, opts)) stats.push({ name: m.name, value: Number(m.value()) });
  const hs = sortedHistograms(snapshot, opts);
  if (hs.length > 0) {
    const supported = SUPPORTED_QUANTILES.map((q) => q * 100);
    const mode = opts?.histogramBuckets ?? "summary";
    switch (mode) {
      case "summary":
        stats.push({
          histograms: {
            supported_quantiles: supported,
            computed_quantiles: hs.map((h) => ({ name: h.name, values: percentiles(h) })),
          },
        });
        break;
      case "cumulative":
        stats.push({
          histograms: hs.map((h) => ({
            name: h.name,
            buckets: bucketsJson(h.interval.computedBuckets, h.cumulative.computedBuckets, h.interval),
          })),
        });
        break;
      case "disjoint":
        stats.push({
          histograms: hs.map((h) => ({
            name: h.name,
            buckets: bucketsJson(disjointBuckets(h.interval), disjointBuckets(h.cumulative), h.interval),
          })),
        });
        break;
      case "detailed": {
        const verbose = (d: Array<{ lowerBound: number; width: number; count: number }>) =>
          d.map((b) => ({ lower_bound: b.lowerBound, width: b.width, count: b.count }));
        stats.push({
          histograms: {
            supported_percentiles: supported,
            details: hs.map((h) => ({
              name: h.name,
              totals: verbose(h.cumulativeDetails()),
              intervals: verbose(h.intervalDetails()),
              percentiles: percentiles(h),
            })),
          },
        });
        break;
      }
    }
  }
  return { stats };
}

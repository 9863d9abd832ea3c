/**
 * GET /stats/prometheus body, in the text format Envoy writes.
 *
 * Emulates envoy source/server/admin/prometheus_stats.cc (PrometheusStatsFormatter::statsAsPrometheus,
 * outputStatType, generateNumericOutput, generateHistogramOutput, formattedTags, metricName,
 * sanitizeName, sanitizeValue) as of Envoy 1.30–1.3x:
 *  - sections in this order: counters, gauges, histograms (text readouts only on request — not kept here);
 *  - inside a section, stats are grouped by tag-extracted name; groups sorted by that name (StatName
 *    order), one `# TYPE <name> <type>` line per group, no `# HELP`; inside a group, stats sorted by
 *    their full name; no blank line between groups (Envoy ≥1.2x test expectations);
 *  - names: a registered custom namespace (`wasmcustom`, registered by the Wasm filter) is stripped and
 *    *no* `envoy_` prefix is added; the rest is sanitized ([^a-zA-Z0-9_] → `_`) and the metric omitted
 *    if empty or starting with a digit. Other stats become `envoy_` + sanitized name;
 *  - labels: tag names sanitized like names, values escaped (`\` → `\\`, newline → `\n`, `"` → `\"`);
 *    counters/gauges print `name{labels} value` (empty braces without tags);
 *  - histograms: cumulative `_bucket{labels,le="b"}` per supported bucket (`le` printed with `%.32g`),
 *    `le="+Inf"` = sample count, `_sum{labels}` (`%.32g` of the binned approximation), `_count{labels}`.
 *    Only the cumulative statistics (refreshed at each stats flush) are shown.
 */
import type { HistogramView, MetricView, NumericView, RenderOptions, StatsSnapshot } from "./model.js";
import { shouldShow, statNameCompare } from "./model.js";
import { formatG } from "./number-format.js";
import type { Tag } from "./tag-extractor.js";

/** Custom stat namespaces registered by default (Envoy: the Wasm HTTP filter registers "wasmcustom"). */
export const DEFAULT_CUSTOM_NAMESPACES: readonly string[] = ["wasmcustom"];

const NON_PROM = /[^a-zA-Z0-9_]/g;

/** sanitizeName: every char outside [a-zA-Z0-9_] becomes '_'. */
export function sanitizeName(name: string): string {
  return name.replace(NON_PROM, "_");
}

/** sanitizeValue: escape backslash, newline and double quote (as prometheus/common expfmt does). */
export function escapeLabelValue(value: string): string {
  let out = "";
  for (const ch of value) {
    if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === '"') out += '\\"';
    else out += ch;
  }
  return out;
}

/** formattedTags: `name="value",…` (no braces). */
export function formatTags(tags: readonly Tag[]): string {
  return tags.map((t) => `${sanitizeName(t.name)}="${escapeLabelValue(t.value)}"`).join(",");
}

/**
 * PrometheusStatsFormatter::metricName + CustomStatNamespacesImpl::stripRegisteredPrefix.
 * Returns undefined when Envoy omits the metric.
 */
export function prometheusMetricName(
  tagExtractedName: string,
  customNamespaces: readonly string[] = DEFAULT_CUSTOM_NAMESPACES,
): string | undefined {
  const dot = tagExtractedName.indexOf(".");
  if (dot > 0 && customNamespaces.includes(tagExtractedName.slice(0, dot))) {
    const sanitized = sanitizeName(tagExtractedName.slice(dot + 1));
    if (sanitized.length === 0 || (sanitized.charCodeAt(0) >= 48 && sanitized.charCodeAt(0) <= 57)) {
      return undefined;
    }
    return sanitized;
  }
  return `envoy_${sanitizeName(tagExtractedName)}`;
}

function groupSection<T extends MetricView>(
  metrics: readonly T[],
  opts: RenderOptions | undefined,
  customNamespaces: readonly string[],
  type: string,
  emit: (m: T, promName: string, out: string[]) => void,
  out: string[],
): number {
  const groups = new Map<string, T[]>();
  for (const m of metrics) {
    if (!shouldShow(m, opts)) continue;
    const g = groups.get(m.tagExtractedName);
    if (g) g.push(m);
    else groups.set(m.tagExtractedName, [m]);
  }
  let families = 0;
  const names = [...groups.keys()].sort(statNameCompare);
  for (const extracted of names) {
    const promName = prometheusMetricName(extracted, customNamespaces);
    if (promName === undefined) continue;
    families++;
    out.push(`# TYPE ${promName} ${type}\n`);
    const group = groups.get(extracted)!;
    group.sort((a, b) => statNameCompare(a.name, b.name));
    for (const m of group) emit(m, promName, out);
  }
  return families;
}

function emitNumeric(m: NumericView, promName: string, out: string[]): void {
  out.push(`${promName}{${formatTags(m.tags)}} ${m.value().toString()}\n`);
}

function emitHistogram(h: HistogramView, promName: string, out: string[]): void {
  const tags = formatTags(h.tags);
  const histTags = h.tags.length === 0 ? "" : `${tags},`;
  const stats = h.cumulative;
  for (let i = 0; i < stats.supportedBuckets.length; i++) {
    out.push(
      `${promName}_bucket{${histTags}le="${formatG(stats.supportedBuckets[i], 32)}"} ${stats.computedBuckets[i]}\n`,
    );
  }
  out.push(`${promName}_bucket{${histTags}le="+Inf"} ${stats.sampleCount}\n`);
  out.push(`${promName}_sum{${tags}} ${formatG(stats.sampleSum, 32)}\n`);
  out.push(`${promName}_count{${tags}} ${stats.sampleCount}\n`);
}

export function renderPrometheusText(
  snapshot: StatsSnapshot,
  opts?: RenderOptions,
  customNamespaces: readonly string[] = DEFAULT_CUSTOM_NAMESPACES,
): string {
  const out: string[] = [];
  groupSection(snapshot.counters, opts, customNamespaces, "counter", emitNumeric, out);
  groupSection(snapshot.gauges, opts, customNamespaces, "gauge", emitNumeric, out);
  groupSection(snapshot.histograms, opts, customNamespaces, "histogram", emitHistogram, out);
  return out.join("");
}

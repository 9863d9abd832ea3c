import { describe, expect, it } from "vitest";
import type { StatsTag } from "../../harness/config/proxy-config.js";
import { binBound, binKey, binUpper } from "../../harness/stats/circllhist.js";
import {
  defaultStatsConfig,
  EDGEWATCH_HISTOGRAM_BUCKETS_US,
  EDGEWATCH_STAT_PREFIX,
  EDGEWATCH_TAG_NAMES,
  edgewatchStatsTags,
  tagRegex,
} from "../../harness/envoy-config/defaults.js";

/**
 * Envoy's regex tag extraction (source/common/stats/tag_extractor_impl.cc): for each specifier in
 * order, if the regex matches, the first capture group is removed from the name and the second
 * (or the first, if there is one) becomes the value. Then /stats/prometheus strips `wasmcustom.`
 * and maps every other character outside [a-zA-Z0-9_] to `_`.
 */
function extract(name: string, tags: StatsTag[]): { name: string; prom: string; tags: Record<string, string> } {
  let rest = name;
  const out: Record<string, string> = {};
  for (const t of tags) {
    const m = new RegExp(t.regex).exec(rest);
    if (!m || m[1] === undefined) continue;
    out[t.tagName] = m[2] ?? m[1];
    rest = rest.slice(0, m.index + m[0].indexOf(m[1])) + rest.slice(m.index + m[0].indexOf(m[1]) + m[1].length);
  }
  const prom = rest.replace(/^wasmcustom\./, "").replace(/[^a-zA-Z0-9_]/g, "_");
  return { name: rest, prom, tags: out };
}

describe("edgewatch stats tags", () => {
  const tags = edgewatchStatsTags();

  it.each([
    {
      stat: "wasmcustom.edgewatch.route=.=api;.;code=.=200;.;source=.=upstream;.;requests_total",
      prom: "edgewatch_requests_total",
      labels: { route: "api", code: "200", source: "upstream" },
    },
    {
      stat: "wasmcustom.edgewatch.route=.=api;.;code=.=503;.;source=.=local;.;method=.=GET;.;requests_total",
      prom: "edgewatch_requests_total",
      labels: { route: "api", code: "503", source: "local", method: "GET" },
    },
    { stat: "wasmcustom.edgewatch.rule=.=r1;.;action=.=deny;.;decisions_total", prom: "edgewatch_decisions_total", labels: { rule: "r1", action: "deny" } },
    { stat: "wasmcustom.edgewatch.reason=.=bad_cidr;.;rules_reload_failures_total", prom: "edgewatch_rules_reload_failures_total", labels: { reason: "bad_cidr" } },
    { stat: "wasmcustom.edgewatch.route=.=api;.;route_latency_us", prom: "edgewatch_route_latency_us", labels: { route: "api" } },
    { stat: "wasmcustom.edgewatch.route=.=v2.items-beta;.;stream_duration_us", prom: "edgewatch_stream_duration_us", labels: { route: "v2.items-beta" } },
    { stat: "wasmcustom.edgewatch.rules_entries", prom: "edgewatch_rules_entries", labels: {} },
  ])("$stat → $prom $labels", ({ stat, prom, labels }) => {
    const r = extract(stat, tags);
    expect(r.tags).toEqual(labels);
    expect(r.prom).toBe(prom);
    expect(r.name).toBe(`${EDGEWATCH_STAT_PREFIX}${prom.slice("edgewatch_".length)}`);
  });

  it("leave Envoy's native stats alone", () => {
    for (const stat of ["cluster.upstream.upstream_rq_200", "http.edgewatch_ingress.downstream_rq_total", "listener.0.0.0.0_10000.downstream_cx_total"]) {
      expect(extract(stat, tags).tags).toEqual({});
    }
  });

  it("are one Istio-style regex per label, in the order the filter writes labels", () => {
    expect(tags.map((t) => t.tagName)).toEqual([...EDGEWATCH_TAG_NAMES]);
    expect(tags[0]).toEqual({ tagName: "route", regex: "(route=\\.=(.*?);\\.;)" });
    expect(tagRegex("a.b")).toBe("(a\\.b=\\.=(.*?);\\.;)");
  });
});

describe("edgewatch histogram buckets", () => {
  it("are microseconds from sub-millisecond replies to the 60 s ceiling, strictly increasing and positive", () => {
    const b = EDGEWATCH_HISTOGRAM_BUCKETS_US;
    expect(b[0]).toBeLessThan(1000);
    expect(b[0]).toBeGreaterThan(0);
    expect(b[b.length - 1]).toBe(60_000_000);
    for (let i = 1; i < b.length; i++) expect(b[i]).toBeGreaterThan(b[i - 1]!);
  });

  it("are circllhist bin edges (integers, two significant digits): no value ever lands in a bucket below it", () => {
    for (const bound of EDGEWATCH_HISTOGRAM_BUCKETS_US) {
      expect(Number.isInteger(bound), `${bound}`).toBe(true);
      // the bound is the lower edge of its own bin: a sample ≥ bound sits in a bin that ends above it
      expect(binBound(binKey(bound)), `${bound} is a bin edge`).toBe(bound);
      expect(binUpper(binKey(bound)), `${bound}`).toBeGreaterThan(bound);
    }
  });

  it("count every value below a bound at that bound, except Envoy's float rounding at 500 and 500000", () => {
    // libcircllhist computes a bin's upper edge as val/10·10^exp + width: for [490,500) that is
    // 4.9·100 + 10 = 500.00000000000006 > 500, so Envoy counts 490–499 µs one bucket UP (never down).
    const upOne = EDGEWATCH_HISTOGRAM_BUCKETS_US.filter((bound) => binUpper(binKey(bound - 1)) > bound);
    expect(upOne).toEqual([500, 500_000]);
    for (const bound of upOne) expect(binUpper(binKey(bound - 1)) - bound).toBeLessThan(1e-6);
  });

  it("apply to every wasmcustom.edgewatch. stat by prefix", () => {
    expect(defaultStatsConfig().histogramBucketSettings).toEqual([{ match: { prefix: "wasmcustom.edgewatch." }, buckets: [...EDGEWATCH_HISTOGRAM_BUCKETS_US] }]);
  });
});

describe("defaultStatsConfig", () => {
  it("mirrors Envoy's defaults: 5 s flush, no flush on admin; overrides apply", () => {
    expect(defaultStatsConfig()).toMatchObject({ flushIntervalMs: 5000, flushOnAdmin: false });
    expect(defaultStatsConfig({ flushOnAdmin: true, flushIntervalMs: 1000 })).toMatchObject({ flushIntervalMs: 1000, flushOnAdmin: true });
  });

  it("returns a fresh copy each time, so one test's edits cannot leak into another", () => {
    const a = defaultStatsConfig();
    a.histogramBucketSettings[0]!.buckets.push(99999);
    a.statsTags.pop();
    const b = defaultStatsConfig();
    expect(b.histogramBucketSettings[0]!.buckets).toEqual([...EDGEWATCH_HISTOGRAM_BUCKETS_US]);
    expect(b.statsTags).toHaveLength(EDGEWATCH_TAG_NAMES.length);
    expect(Object.isFrozen(EDGEWATCH_HISTOGRAM_BUCKETS_US)).toBe(true);
  });
});

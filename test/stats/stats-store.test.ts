// StatsStore semantics and the three admin renderings, against Envoy's documented/observed output.
import { PerformanceObserver } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import type { StatsConfig } from "../../harness/config/proxy-config.js";
import { StatsStore, i64ToNumber, u64ToNumber } from "../../harness/stats/stats-store.js";
import { checkMetrics } from "./support.js";

const TAGS = ["route", "code", "source"].map((n) => ({ tagName: n, regex: `(${n}=\\.=(.*?);\\.;)` }));
const cfg = (over: Partial<StatsConfig> = {}): StatsConfig => ({
  flushIntervalMs: 5000,
  flushOnAdmin: false,
  histogramBucketSettings: [],
  statsTags: TAGS,
  ...over,
});

const REQ = (route: string, code: string, source: string) =>
  `wasmcustom.edgewatch.route=.=${route};.;code=.=${code};.;source=.=${source};.;requests_total`;

describe("counters and gauges", () => {
  it("are shared per name and visible immediately", () => {
    const s = new StatsStore(cfg());
    const a = s.counter(REQ("api", "200", "upstream"));
    const b = s.counter(REQ("api", "200", "upstream"));
    a.add(2n);
    b.add(3n);
    expect(a.value()).toBe(5n);
    expect(s.renderPrometheus()).toContain('edgewatch_requests_total{route="api",code="200",source="upstream"} 5\n');
  });

  it("behave as uint64 (gauge below zero wraps, counters past 2^53 stay exact)", () => {
    const s = new StatsStore(cfg());
    const g = s.gauge("wasmcustom.g");
    g.set(5n);
    g.add(-7n);
    expect(g.value()).toBe(2n ** 64n - 2n);
    g.set(42n);
    expect(g.value()).toBe(42n);
    const c = s.counter("wasmcustom.c_total");
    c.add(2n ** 53n - 1n);
    c.add(10n);
    expect(c.value()).toBe(2n ** 53n + 9n);
    c.add(2n ** 64n - 2n ** 53n - 9n); // wraps to 0
    expect(c.value()).toBe(0n);
  });

  it("converts 64-bit values to numbers exactly as Number() of the value modulo 2^64 (the hot path avoids Number(bigint))", () => {
    const edges = [0n, 1n, -1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 64n, 2n ** 64n + 5n];
    let x = 0x9e3779b97f4a7c15n;
    for (let i = 0; i < 2000; i++) {
      x = BigInt.asUintN(64, x * 6364136223846793005n + 1442695040888963407n);
      edges.push(x, x >> BigInt(i % 64), -BigInt.asIntN(64, x));
    }
    for (const v of edges) {
      expect(u64ToNumber(v), `u64 ${v}`).toBe(Number(BigInt.asUintN(64, v)));
      expect(i64ToNumber(v), `i64 ${v}`).toBe(Number(BigInt.asIntN(64, v)));
    }
  });

  it("keep every stat's value, used flag and 64-bit overflow apart (300 stats, more than one slab growth)", () => {
    const s = new StatsStore(cfg());
    const cs = Array.from({ length: 300 }, (_, i) => s.counter(`wasmcustom.c${i}_total`));
    const gs = Array.from({ length: 300 }, (_, i) => s.gauge(`wasmcustom.g${i}`));
    cs.forEach((c, i) => i % 3 !== 0 && c.add(BigInt(i)));
    gs.forEach((g, i) => g.set(BigInt(1000 + i)));
    cs[7]!.add(2n ** 63n); // this one alone leaves the number range
    s.addNumeric(cs[8]!.slot, 5n); // the host's by-slot path is the same value
    expect(cs.map((c) => c.value())).toEqual(cs.map((_, i) => (i === 7 ? 7n + 2n ** 63n : i === 8 ? 13n : i % 3 === 0 ? 0n : BigInt(i))));
    expect(gs.map((g) => s.numericValue(g.slot))).toEqual(gs.map((_, i) => BigInt(1000 + i)));
    expect(s.renderText({ usedOnly: true })).not.toContain("c3_total");
    s.resetCounters();
    expect(cs[7]!.value()).toBe(0n);
    expect(s.renderText({ usedOnly: true })).toContain("c7_total: 0\n"); // reset keeps used
    cs[7]!.add(1n);
    expect(cs[7]!.value()).toBe(1n);
  });

  it("prints counters and gauges without tags with empty braces", () => {
    const s = new StatsStore(cfg());
    s.counter("wasmcustom.edgewatch.ticks_total").add(7n);
    s.gauge("wasmcustom.edgewatch.heartbeat_seconds").set(1_700_000_000n);
    expect(s.renderPrometheus()).toBe(
      "# TYPE edgewatch_ticks_total counter\nedgewatch_ticks_total{} 7\n" +
        "# TYPE edgewatch_heartbeat_seconds gauge\nedgewatch_heartbeat_seconds{} 1700000000\n",
    );
  });
});

describe("histograms", () => {
  it("are visible only after a flush; the interval histogram holds the last flush's samples", () => {
    const s = new StatsStore(cfg());
    const h = s.histogram("wasmcustom.edgewatch.route=.=api;.;route_latency_us");
    h.record(12);
    h.record(30);
    let out = s.renderPrometheus();
    expect(out).toContain('edgewatch_route_latency_us_count{route="api"} 0\n');
    expect(s.renderText()).toContain("route_latency_us: No recorded values\n");
    expect(s.renderPrometheus({ usedOnly: true })).toBe("");
    s.flush();
    out = s.renderPrometheus();
    expect(out).toContain('edgewatch_route_latency_us_bucket{route="api",le="25"} 1\n');
    expect(out).toContain('edgewatch_route_latency_us_bucket{route="api",le="+Inf"} 2\n');
    expect(out).toContain('edgewatch_route_latency_us_sum{route="api"} 43\n'); // midpoints 12.5 + 30.5
    expect(out).toContain('edgewatch_route_latency_us_count{route="api"} 2\n');
    s.flush(); // nothing new: interval empty, cumulative unchanged
    expect(s.renderText()).toContain("route_latency_us: P0(nan,12) P25(nan,12.5)");
    h.record(40);
    s.flush();
    expect(s.renderText()).toMatch(/route_latency_us: P0\(40,12\) /);
    expect(s.renderPrometheus()).toContain('edgewatch_route_latency_us_count{route="api"} 3\n');
  });

  it("bin each sample into its own histogram, across many histograms and past the sample log's capacity", () => {
    const s = new StatsStore(cfg());
    const hs = Array.from({ length: 50 }, (_, i) => s.histogram(`wasmcustom.edgewatch.route=.=r${i};.;route_latency_us`));
    // 20,000 samples interleaved over 50 histograms: histogram k gets value 10·(k+1) every time.
    for (let i = 0; i < 20_000; i++) s.recordHistogram(hs[i % 50]!.slot, 10 * ((i % 50) + 1));
    hs[3]!.record(7); // the stat's own record() goes through the same log
    s.flush();
    const out = s.renderPrometheus();
    for (const k of [0, 3, 49]) {
      const n = 400 + (k === 3 ? 1 : 0);
      expect(out).toContain(`edgewatch_route_latency_us_count{route="r${k}"} ${n}\n`);
    }
    // Each histogram holds its own value only (bins [10,11) and [500,510), counted at their midpoints).
    expect(out).toContain('edgewatch_route_latency_us_bucket{route="r0",le="10"} 0\n');
    expect(out).toContain('edgewatch_route_latency_us_bucket{route="r0",le="25"} 400\n');
    expect(out).toContain('edgewatch_route_latency_us_bucket{route="r49",le="500"} 0\n');
    expect(out).toContain('edgewatch_route_latency_us_bucket{route="r49",le="1000"} 400\n');
  });

  it("prints the exact Envoy layout with %.32g bounds and sum", () => {
    const s = new StatsStore(
      cfg({ histogramBucketSettings: [{ match: { prefix: "wasmcustom.edgewatch." }, buckets: [10, 0.25, 2.5, 25] }] }),
    );
    const h = s.histogram("wasmcustom.edgewatch.route=.=api;.;route_latency_us");
    for (const v of [0.1, 2.5, 24, 25]) h.record(v);
    s.flush();
    expect(s.renderPrometheus()).toBe(
      [
        "# TYPE edgewatch_route_latency_us histogram",
        'edgewatch_route_latency_us_bucket{route="api",le="0.25"} 1',
        'edgewatch_route_latency_us_bucket{route="api",le="2.5"} 1', // 2.5 is in [2.5,2.6)
        'edgewatch_route_latency_us_bucket{route="api",le="10"} 2',
        'edgewatch_route_latency_us_bucket{route="api",le="25"} 3', // 25 is in [25,26)
        'edgewatch_route_latency_us_bucket{route="api",le="+Inf"} 4',
        // Σ midpoints 0.105 + 2.55 + 24.5 + 25.5, printed with %.32g
        'edgewatch_route_latency_us_sum{route="api"} 52.65500000000000113686837721616',
        'edgewatch_route_latency_us_count{route="api"} 4',
        "",
      ].join("\n"),
    );
  });

  it("chooses buckets by the first matching StringMatcher on the full name, else Envoy's defaults", () => {
    const s = new StatsStore(
      cfg({
        histogramBucketSettings: [
          { match: { exact: "wasmcustom.a" }, buckets: [1] },
          { match: { suffix: "_ms" }, buckets: [2] },
          { match: { safeRegex: "wasmcustom\\.b.*" }, buckets: [3] },
          { match: { prefix: "wasmcustom." }, buckets: [4] },
        ],
      }),
    );
    expect(s.bucketsFor("wasmcustom.a")).toEqual([1]);
    expect(s.bucketsFor("wasmcustom.b_ms")).toEqual([2]);
    expect(s.bucketsFor("wasmcustom.bx")).toEqual([3]);
    expect(s.bucketsFor("xwasmcustom.b")).toHaveLength(19); // safeRegex is a full match
    expect(s.bucketsFor("wasmcustom.z")).toEqual([4]);
    expect(s.bucketsFor("cluster.x.upstream_rq_time")[0]).toBe(0.5);
    expect(() => new StatsStore(cfg({ histogramBucketSettings: [{ match: { prefix: "a" }, buckets: [0] }] }))).toThrow();
  });

  it("flushes periodically with an unref'd timer", async () => {
    const s = new StatsStore(cfg({ flushIntervalMs: 20 }));
    s.histogram("wasmcustom.h").record(5);
    s.startFlushTimer();
    try {
      const t0 = Date.now();
      while (s.flushes === 0 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 5));
      expect(s.renderPrometheus()).toContain("h_count{} 1\n");
    } finally {
      s.stop();
    }
    const n = s.flushes;
    await new Promise((r) => setTimeout(r, 60));
    expect(s.flushes).toBe(n);
  });
});

describe("Prometheus text rendering", () => {
  it("renders the Istio-style example as edgewatch_requests_total{route,code,source}", () => {
    const s = new StatsStore(cfg());
    s.counter(REQ("api", "200", "upstream")).add(1n);
    expect(s.renderPrometheus()).toBe(
      '# TYPE edgewatch_requests_total counter\nedgewatch_requests_total{route="api",code="200",source="upstream"} 1\n',
    );
  });

  it("sorts families by tag-extracted name and members by full name, counters then gauges then histograms", () => {
    const s = new StatsStore(cfg());
    s.histogram("wasmcustom.edgewatch.route=.=b;.;route_latency_us");
    s.gauge("wasmcustom.edgewatch.vm_memory_bytes").set(1n);
    s.counter(REQ("web", "200", "upstream")).add(1n);
    s.counter(REQ("api", "503", "local")).add(1n);
    s.counter("wasmcustom.edgewatch.ticks_total").add(1n);
    s.counter(REQ("api", "200", "upstream")).add(1n);
    s.counter("cluster.c1.upstream_rq_total").add(1n);
    const types = s
      .renderPrometheus()
      .split("\n")
      .filter((l) => l.startsWith("# TYPE"));
    expect(types).toEqual([
      // Envoy's default extractors: cluster.c1.upstream_rq_total → cluster.upstream_rq_total{envoy_cluster_name="c1"}.
      "# TYPE envoy_cluster_upstream_rq_total counter",
      "# TYPE edgewatch_requests_total counter",
      "# TYPE edgewatch_ticks_total counter",
      "# TYPE edgewatch_vm_memory_bytes gauge",
      "# TYPE edgewatch_route_latency_us histogram",
    ]);
    const req = s
      .renderPrometheus()
      .split("\n")
      .filter((l) => l.startsWith("edgewatch_requests_total{"));
    expect(req).toEqual([
      'edgewatch_requests_total{route="api",code="200",source="upstream"} 1',
      'edgewatch_requests_total{route="api",code="503",source="local"} 1',
      'edgewatch_requests_total{route="web",code="200",source="upstream"} 1',
    ]);
  });

  it("sanitizes names, omits custom-namespace names starting with a digit, escapes label values", () => {
    const s = new StatsStore(cfg({ statsTags: [{ tagName: "ta-g", regex: "(v=\\.=([\\s\\S]*?);\\.;)" }] }));
    s.counter("wasmcustom.my-app.hits:total").add(1n);
    s.counter("wasmcustom.1abc").add(1n);
    s.counter("wasmcustom.").add(1n);
    s.counter('wasmcustom.esc.v=.=a"b\\c\nd;.;x').add(1n);
    const out = s.renderPrometheus();
    expect(out).toContain("# TYPE my_app_hits_total counter\nmy_app_hits_total{} 1\n");
    expect(out).not.toContain("1abc");
    expect(out).toContain('esc_x{ta_g="a\\"b\\\\c\\nd"} 1\n');
    expect(out.match(/# TYPE/g)).toHaveLength(2);
  });

  it("filters with ?filter (regex on the full name) and ?usedonly", () => {
    const s = new StatsStore(cfg());
    s.counter(REQ("api", "200", "upstream")).add(1n);
    s.counter("wasmcustom.edgewatch.unused_total");
    expect(s.renderPrometheus({ usedOnly: true })).not.toContain("unused_total");
    expect(s.renderPrometheus()).toContain("edgewatch_unused_total{} 0\n");
    const f = s.renderPrometheus({ filter: /route=\.=api;/ });
    expect(f).toContain("edgewatch_requests_total");
    expect(f).not.toContain("unused");
  });

  it("is accepted by `promtool check metrics` (only the expected no-HELP findings)", () => {
    const s = new StatsStore(
      cfg({ histogramBucketSettings: [{ match: { prefix: "wasmcustom.edgewatch." }, buckets: [0.25, 1, 2.5, 1000] }] }),
    );
    s.counter(REQ("api", "200", "upstream")).add(3n);
    s.counter(REQ("api", "5xx", "local")).add(1n);
    s.counter("wasmcustom.edgewatch.requests_seen_total").add(4n);
    s.gauge("wasmcustom.edgewatch.heartbeat_seconds").set(1_700_000_000n);
    s.counter('wasmcustom.edgewatch.reason=.=bad "json"\\x;.;rules_reload_failures_total').add(1n);
    const h = s.histogram("wasmcustom.edgewatch.route=.=api;.;route_latency_us");
    for (const v of [0.1, 3, 12, 1000, 99999]) h.record(v);
    s.histogram("wasmcustom.edgewatch.stream_duration_us");
    s.flush();
    const out = s.renderPrometheus();
    const r = checkMetrics(out);
    expect(r.parseOk, `${r.raw.stdout}${r.raw.stderr}\n---\n${out}`).toBe(true);
    // The metric names are fixed by the filter's contract; promlint's unit-abbreviation advice is moot.
    expect(r.problems.filter((p) => !/should not contain abbreviated units$/.test(p))).toEqual([]);
  });
});

describe("/stats text and JSON", () => {
  const store = () => {
    const s = new StatsStore(cfg());
    s.counter(REQ("api", "200", "upstream")).add(5n);
    s.gauge("wasmcustom.edgewatch.heartbeat_seconds").set(9n);
    const h = s.histogram("wasmcustom.edgewatch.route=.=api;.;route_latency_us");
    h.record(1);
    s.histogram("wasmcustom.edgewatch.idle_ms");
    return s;
  };

  it("text: full names, counters and gauges sorted together, then histograms", () => {
    const s = store();
    s.flush();
    s.flush();
    expect(s.renderText()).toBe(
      [
        "wasmcustom.edgewatch.heartbeat_seconds: 9",
        "wasmcustom.edgewatch.route=.=api;.;code=.=200;.;source=.=upstream;.;requests_total: 5",
        "wasmcustom.edgewatch.idle_ms: No recorded values",
        "wasmcustom.edgewatch.route=.=api;.;route_latency_us: P0(nan,1) P25(nan,1.025) P50(nan,1.05) P75(nan,1.075) P90(nan,1.09) P95(nan,1.095) P99(nan,1.099) P99.5(nan,1.0995) P99.9(nan,1.0999) P100(nan,1.1)",
        "",
      ].join("\n"),
    );
    expect(s.renderText({ histogramBuckets: "cumulative", filter: /latency/ })).toMatch(
      /^wasmcustom\.edgewatch\.route=\.=api;\.;route_latency_us: B0\.5\(0,0\) B1\(0,0\) B5\(0,1\) /,
    );
  });

  it("JSON: Envoy's shape with supported/computed quantiles and null for NaN", () => {
    const s = store();
    s.flush();
    s.flush();
    const j = s.renderJson() as { stats: Array<Record<string, unknown>> };
    expect(j.stats.slice(0, 2)).toEqual([
      { name: "wasmcustom.edgewatch.heartbeat_seconds", value: 9 },
      { name: "wasmcustom.edgewatch.route=.=api;.;code=.=200;.;source=.=upstream;.;requests_total", value: 5 },
    ]);
    const hist = j.stats[2] as { histograms: { supported_quantiles: number[]; computed_quantiles: unknown[] } };
    expect(hist.histograms.supported_quantiles).toEqual([0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100]);
    expect(hist.histograms.computed_quantiles).toHaveLength(2);
    expect(hist.histograms.computed_quantiles[1]).toMatchObject({
      name: "wasmcustom.edgewatch.route=.=api;.;route_latency_us",
    });
    const values = (hist.histograms.computed_quantiles[1] as { values: unknown[] }).values;
    expect(values[0]).toEqual({ cumulative: 1, interval: null });
    expect(values[9]).toEqual({ cumulative: 1.1, interval: null });
    expect(j.stats).toHaveLength(3);
    expect((s.renderJson({ filter: /heartbeat/ }) as { stats: unknown[] }).stats).toHaveLength(1);
  });
});

describe("hot path", () => {
  let s: StatsStore | undefined;
  afterEach(() => s?.stop());

  it("is O(1) and allocation-free: a million updates trigger no garbage collection", async () => {
    s = new StatsStore(cfg());
    const c = s.counter(REQ("api", "200", "upstream"));
    const g = s.gauge("wasmcustom.edgewatch.heartbeat_seconds");
    const h = s.histogram("wasmcustom.edgewatch.route=.=api;.;route_latency_us");
    const one = 1n;
    const ts = 1_700_000_000n;
    const run = (n: number) => {
      for (let i = 0; i < n; i++) {
        c.add(one);
        g.set(ts);
        h.record(i % 5000);
      }
    };
    run(100_000); // warm up (JIT, bin table growth)
    let gcs = 0;
    const obs = new PerformanceObserver((list) => {
      gcs += list.getEntries().length;
    });
    obs.observe({ entryTypes: ["gc"] });
    const t0 = process.hrtime.bigint();
    run(1_000_000);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    await new Promise((r) => setTimeout(r, 20)); // let GC entries be delivered
    obs.disconnect();
    expect(gcs).toBeLessThanOrEqual(1);
    expect(c.value()).toBe(1_100_000n);
    s.flush();
    expect(s.renderPrometheus()).toContain('edgewatch_route_latency_us_count{route="api"} 1100000\n');
    expect(ms).toBeLessThan(2000);
  });
});

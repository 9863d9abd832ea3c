/**
 * Telemetry in /stats/prometheus, on every target: the series README.md documents (names, labels,
 * types), request counts equal to the traffic sent (per route, exact code or class, our own
 * denials as source="local"), latency histograms whose buckets hold the injected latencies, bucket
 * bounds taken from the bootstrap (stats_config.histogram_bucket_settings), the route-label cap with
 * its `other` label and overflow counter, the bounded method label, and liveness signals that move.
 *
 * Histograms are read by polling until their count shows the traffic: the stacks flush stats on
 * every admin request (stats_flush_on_admin), and Envoy merges the workers' histograms after that
 * flush asynchronously. Client addresses come from X-Forwarded-For with one trusted hop.
 */
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { defaultStatsConfig, EDGEWATCH_HISTOGRAM_BUCKETS_US, EDGEWATCH_STAT_PREFIX } from "../../harness/envoy-config/defaults.js";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { describeTargets } from "../../harness/targets/describe-targets.js";
import { checkMetrics } from "../stats/support.js";
import { itLosesNothing, useStack } from "./support/hooks.js";
import { bucketCounts, documentedFamilies, familyOf, untilHistogramCount, untilMetric } from "./support/telemetry.js";

const XFF_ONE_HOP = { client_address: { source: "xff", xff_trusted_hops: 1 } };
const BLOCKED = { id: "blocked", action: "deny", cidrs: ["198.51.100.0/24"], status: 403 };
const PLUGIN = {
  ...XFF_ONE_HOP,
  telemetry: { exact_codes: [200, 404, 503], heartbeat_ms: 200 },
  // Export on (so its series exist), nothing sampled by probability.
  tracing: { trust_parent: "never", collector: { cluster: "otel", flush_ms: 200 } },
  rules: { version: 41, access: [BLOCKED], sampling: { default_rate: 0 } },
};
const ROUTES = ["lat2", "lat20", "lat200", "mixed", "methods", "liveness"].map((name) => ({ name, match: { prefix: `/${name}/` } }));

describe("telemetry", () => {
  describeTargets("series, counts and latency in /stats/prometheus", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withCollector().withRoutes([...ROUTES, { name: "default", match: { prefix: "/" } }]).withPlugin(PLUGIN));

    it("exposes the series README.md documents, with the documented labels and types, and no undocumented edgewatch_ series", async () => {
      const s = ref.stack;
      // Something in every family: an upstream answer, a denial (decisions_total).
      expect((await s.client.get("/doc/x")).status).toBe(200);
      expect((await s.client.get("/doc/x", { "x-forwarded-for": "198.51.100.9" })).status).toBe(403);
      await untilHistogramCount(s.admin, "edgewatch_stream_duration_us", { route: "default" }, 1);
      const prom = await s.admin.prometheus();
      const documented = documentedFamilies();
      expect(documented.length).toBeGreaterThan(8);
      const exposed = new Set(prom.samples.map((x) => familyOf(prom, x.name)).filter((n) => n.startsWith("edgewatch_")));
      const undocumented = [...exposed].filter((f) => !documented.some((d) => d.name.test(f)));
      expect(undocumented, "exposed but not in README.md's Telemetry section").toEqual([]);
      for (const d of documented.filter((x) => !x.wildcard)) {
        const families = [...exposed].filter((f) => d.name.test(f));
        expect(families.length, `${d.text} is documented but not exposed`).toBeGreaterThan(0);
        for (const f of families) {
          if (d.type) expect(prom.doc.types.get(f), `# TYPE of ${f}`).toBe(d.type);
          if (!d.labels) continue;
          const allowed = new Set([...d.labels.required, ...d.labels.optional]);
          for (const sample of prom.samples.filter((x) => familyOf(prom, x.name) === f)) {
            const keys = Object.keys(sample.labels).filter((k) => !(k === "le" && sample.name.endsWith("_bucket")));
            for (const k of d.labels.required) expect(keys, `${sample.name} lacks label ${k}`).toContain(k);
            for (const k of keys) expect(allowed.has(k), `${sample.name} has undocumented label ${k}`).toBe(true);
          }
        }
      }
      // Never the raw stat names: wasmcustom. stripped, tags extracted into labels.
      expect([...exposed].filter((f) => /wasmcustom|=\.=|;\.;/.test(f))).toEqual([]);
    });

    it("latency histograms: every injected latency (2, 20, 200 ms) is in a bucket at or above it, never below", async () => {
      const s = ref.stack;
      const n = 10;
      const took: Record<number, number[]> = { 2: [], 20: [], 200: [] };
      for (const ms of [2, 20, 200]) {
        await s.client.many(n, 2, () => ({ path: `/lat${ms}/x`, headers: { "x-edgewatch-delay-ms": String(ms) } }));
      }
      // The client's own timing bounds the filter's latency from above (measured separately, one at a time).
      for (const ms of [2, 20, 200]) {
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now();
          await s.client.get(`/lat${ms}/t`, { "x-edgewatch-delay-ms": String(ms) });
          took[ms]!.push(performance.now() - t0);
        }
      }
      const total = n + 3;
      for (const ms of [2, 20, 200]) await untilHistogramCount(s.admin, "edgewatch_stream_duration_us", { route: `lat${ms}` }, total);
      const prom = await s.admin.prometheus();
      const bounds = [...EDGEWATCH_HISTOGRAM_BUCKETS_US];
      for (const ms of [2, 20, 200]) {
        const route = `lat${ms}`;
        const latency = bucketCounts(prom, "edgewatch_route_latency_us", { route });
        const duration = bucketCounts(prom, "edgewatch_stream_duration_us", { route });
        expect(prom.value("edgewatch_route_latency_us_count", { route }), route).toBe(total);
        expect(latency.get("+Inf"), route).toBe(total);
        expect(duration.get("+Inf"), route).toBe(total);
        // The delay is a hard lower bound: nothing at or below the largest bound under it (µs).
        for (const le of bounds.filter((b) => b <= ms * 1000)) {
          expect(latency.get(String(le)), `${route} latency le=${le}`).toBe(0);
          expect(duration.get(String(le)), `${route} duration le=${le}`).toBe(0); // the stream outlasts the latency
        }
        // Buckets are cumulative and complete.
        const counts = [...bounds.map((b) => latency.get(String(b))!), total];
        expect(counts.every((c, i) => c !== undefined && (i === 0 || c >= counts[i - 1]!)), `${route} cumulative`).toBe(true);
        // Whenever the slowest timed request was under a bound, the timed requests are counted there
        // (5 % margin: at 500 and 500,000 Envoy counts the last bin below the bound one bucket up).
        const slowest = Math.max(...took[ms]!) * 1000;
        for (const le of bounds.filter((b) => b > slowest * 1.05)) expect(latency.get(String(le))!, `${route} le=${le}`).toBeGreaterThanOrEqual(3);
      }
    });

    it("request counts equal the traffic sent: per route, exact code or its class, denials as source=\"local\"", async () => {
      const s = ref.stack;
      const plan: Array<[status: number, count: number]> = [[200, 30], [201, 5], [404, 8], [418, 2], [500, 3], [503, 7]];
      const jobs: Array<Record<string, string>> = [];
      for (const [status, k] of plan) for (let i = 0; i < k; i++) jobs.push({ "x-edgewatch-status": String(status) });
      for (let i = 0; i < 6; i++) jobs.push({ "x-forwarded-for": `198.51.100.${i + 1}` });
      const decisions0 = await s.admin.metric("edgewatch_decisions_total", { rule: "blocked", action: "deny" });
      const answers = await s.client.many(jobs.length, 8, (i) => ({ path: `/mixed/${i}`, headers: jobs[i] }));
      expect(answers.filter((a) => a.status === 403 && a.headers["x-edgewatch-rule"] === "blocked")).toHaveLength(6);
      const prom = await untilHistogramCount(s.admin, "edgewatch_stream_duration_us", { route: "mixed" }, jobs.length);
      const got = Object.fromEntries(prom.find("edgewatch_requests_total", { route: "mixed" }).map((x) => [`${x.labels.code}|${x.labels.source}`, x.value]));
      expect(got).toEqual({
        "200|upstream": 30, "2xx|upstream": 5, "404|upstream": 8, "4xx|upstream": 2, "5xx|upstream": 3, "503|upstream": 7,
        "4xx|local": 6,
      });
      expect(prom.sum("edgewatch_decisions_total", { rule: "blocked", action: "deny" })).toBe(decisions0 + 6);
      // Upstream latency counts upstream answers only; the stream duration counts every request.
      expect(prom.value("edgewatch_route_latency_us_count", { route: "mixed" })).toBe(55);
      expect(prom.value("edgewatch_stream_duration_us_count", { route: "mixed" })).toBe(61);
    });

    it("liveness: requests_seen counts every request, ticks and the heartbeat move, VM memory is reported in whole pages", async () => {
      const s = ref.stack;
      const before = await s.admin.prometheus();
      const sent0 = s.client.counter.sent;
      const seen0 = before.sum("edgewatch_requests_seen_total");
      await s.client.many(7, 2, (i) => ({ path: `/liveness/${i}` }));
      expect((await s.admin.metric("edgewatch_requests_seen_total")) - seen0).toBe(s.client.counter.sent - sent0);
      const ticks0 = before.sum("edgewatch_ticks_total");
      const beat0 = before.value("edgewatch_heartbeat_seconds")!;
      expect(Math.abs(beat0 - Date.now() / 1000)).toBeLessThan(10);
      // heartbeat_ms 200: several ticks a second on every VM; the heartbeat has whole-second resolution.
      await untilMetric(s.admin, "edgewatch_ticks_total", {}, (v) => v > ticks0, { what: "ticks", timeoutMs: 5000 });
      await untilMetric(s.admin, "edgewatch_heartbeat_seconds", {}, (v) => v > beat0, { what: "heartbeat", timeoutMs: 5000 });
      const memory = (await s.admin.prometheus()).value("edgewatch_vm_memory_bytes")!;
      expect(memory).toBeGreaterThanOrEqual(65536);
      expect(memory % 65536).toBe(0); // Wasm linear memory grows in 64 KiB pages
    });

    it("with method_label pushed, a bounded method label: the nine standard methods by name, anything else OTHER", async () => {
      const s = ref.stack;
      // The push also adds a marker rule, so each worker shows when it runs the new configuration.
      const marker = { id: "marker-v42", action: "deny", cidrs: ["192.0.2.250/32"] };
      await s.push({ ...PLUGIN, telemetry: { ...PLUGIN.telemetry, method_label: true }, rules: { ...PLUGIN.rules, version: 42, access: [BLOCKED, marker] } });
      await s.probes.untilEach({ path: "/marker", headers: { "x-forwarded-for": "192.0.2.250" } }, (a) => a.headers["x-edgewatch-rule"] === "marker-v42", { what: "pushed configuration" });
      const methods = ["GET", "POST", "DELETE", "PURGE", "PROPFIND"];
      for (const p of s.probes.probes) for (const method of methods) expect((await p.send({ path: "/methods/x", method })).status).toBe(200);
      const series = (await s.admin.prometheus()).find("edgewatch_requests_total", { route: "methods" });
      expect(Object.fromEntries(series.map((x) => [x.labels.method, x.value]))).toEqual({ GET: s.workers, POST: s.workers, DELETE: s.workers, OTHER: 2 * s.workers });
    });

    it("passes promtool check metrics: no finding on an edgewatch_ series beyond the documented _us unit", async () => {
      const r = await request(`${ref.stack.proxy.adminUrl}/stats/prometheus`);
      const text = await r.body.text();
      expect(text).toContain("edgewatch_requests_total{");
      const check = checkMetrics(text);
      expect(check.parseOk, `${check.raw.stdout}${check.raw.stderr}`).toBe(true);
      // The `_us` unit suffix is the documented contract (README "Telemetry"), not a finding to fix.
      expect(check.problems.filter((l) => l.startsWith("edgewatch_") && !/_us metric names should not contain abbreviated units$/.test(l))).toEqual([]);
    });

    itLosesNothing(ref);
  });

  describeTargets("route label cap", (target) => {
    const CAP = 20;
    const ROUTE_COUNT = 30;
    const capRoutes = Array.from({ length: ROUTE_COUNT }, (_, i) => ({ name: `r${i}`, match: { prefix: `/r${i}/` } }));
    // One worker: the cap is per VM, so the first-seen order below decides the labels exactly.
    const ref = useStack(target, proxyOptions().withWorkers(1).withRoutes([...capRoutes, { name: "default", match: { prefix: "/" } }]).withPlugin({ telemetry: { routes_cap: CAP }, tracing: { enabled: false } }));

    it("the first routes_cap routes seen get their own label, the rest `other`, counted in edgewatch_routes_overflow_total; raw paths never", async () => {
      const s = ref.stack;
      for (let i = 0; i < ROUTE_COUNT; i++) expect((await s.client.get(`/r${i}/first`)).status).toBe(200);
      const n = 1500;
      await s.client.many(n, 8, (i) => ({ path: `/r${i % ROUTE_COUNT}/item-${i}?q=${i}` }));
      const prom = await s.admin.prometheus();
      const series = prom.find("edgewatch_requests_total");
      const labels = new Set(series.map((x) => x.labels.route!));
      expect(labels.has("other")).toBe(true);
      const named = [...labels].filter((l) => l !== "other");
      expect(named).toHaveLength(CAP);
      // The labelled r-routes are the first ones seen, in order; the only other label is "default"
      // (the probe's setup request, seen before them).
      const r = named.filter((l) => /^r\d+$/.test(l));
      expect(r.sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))).toEqual(Array.from({ length: r.length }, (_, i) => `r${i}`));
      expect(named.filter((l) => !r.includes(l))).toEqual(named.length === r.length ? [] : ["default"]);
      const perRoute = 1 + n / ROUTE_COUNT;
      const other = prom.sum("edgewatch_requests_total", { route: "other" });
      expect(other).toBe((ROUTE_COUNT - r.length) * perRoute);
      expect(prom.value("edgewatch_routes_overflow_total")).toBe(other);
      expect(r.reduce((a, l) => a + prom.sum("edgewatch_requests_total", { route: l }), 0) + other).toBe(ROUTE_COUNT + n);
      // Every series of every family stays within the cap; labels are sanitized, paths never appear.
      const routeLabels = new Set(prom.samples.filter((x) => x.name.startsWith("edgewatch_") && x.labels.route !== undefined).map((x) => x.labels.route!));
      expect(routeLabels.size).toBeLessThanOrEqual(CAP + 1);
      for (const l of routeLabels) expect(l).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
      expect(prom.samples.some((x) => Object.values(x.labels).some((v) => /item|first|\?/.test(v)))).toBe(false);
    });

    itLosesNothing(ref);
  });

  describeTargets("histogram buckets from the bootstrap", (target) => {
    // A bucket list of our own in stats_config.histogram_bucket_settings (bin edges: ≤ 2 significant digits).
    const BOUNDS_US = [1000, 30_000, 1_000_000];
    const stats = { ...defaultStatsConfig({ flushOnAdmin: true }), histogramBucketSettings: [{ match: { prefix: EDGEWATCH_STAT_PREFIX }, buckets: BOUNDS_US }] };
    const ref = useStack(target, proxyOptions().withWorkers(2).withStats(stats).withPlugin({ tracing: { enabled: false } }));

    it("the `le` bounds are exactly the bootstrap's list, and a 20 ms answer is counted from le=30000 up", async () => {
      const s = ref.stack;
      const n = 6;
      const took: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        expect((await s.client.get("/api/slow", { "x-edgewatch-delay-ms": "20" })).status).toBe(200);
        took.push(performance.now() - t0);
      }
      const prom = await untilHistogramCount(s.admin, "edgewatch_route_latency_us", { route: "api" }, n);
      for (const family of ["edgewatch_route_latency_us", "edgewatch_stream_duration_us"]) {
        const b = bucketCounts(prom, family, { route: "api" });
        expect([...b.keys()].sort(), family).toEqual([...BOUNDS_US.map(String), "+Inf"].sort());
        expect(b.get("1000"), family).toBe(0);
        expect(b.get("+Inf"), family).toBe(n);
      }
      const latency = bucketCounts(prom, "edgewatch_route_latency_us", { route: "api" });
      expect(latency.get("30000")!).toBeGreaterThanOrEqual(took.filter((t) => t < 30).length);
      expect(latency.get("1000000")!).toBeGreaterThanOrEqual(took.filter((t) => t < 1000).length);
    });

    itLosesNothing(ref);
  });
});

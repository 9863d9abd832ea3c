/**
 * The proxy serves through the filter on every target: admin readiness, requests reach the
 * upstream, the filter's series are in /stats/prometheus with Envoy's stats settings applied
 * (labels from stats_tags, buckets from the bootstrap), an ECDS push reaches new requests, and the
 * workers are told apart by Envoy's per-worker listener stats.
 */
import { describe, expect, it } from "vitest";
import { EDGEWATCH_HISTOGRAM_BUCKETS_US } from "../../harness/envoy-config/defaults.js";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { describeTargets } from "../../harness/targets/describe-targets.js";
import { itLosesNothing, useStack } from "./support/hooks.js";

describe("proxy basics", () => {
  describeTargets("the filter in the proxy", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withRoutes([{ name: "api", match: { prefix: "/api/" } }, { name: "default", match: { prefix: "/" } }]));

    it("admin /ready answers LIVE", async () => {
      const res = await fetch(`${ref.stack.proxy.adminUrl}/ready`);
      expect([res.status, (await res.text()).trim()]).toEqual([200, "LIVE"]);
    });

    it("requests pass through the filter to the upstream, path and query intact", async () => {
      const r = await ref.stack.client.get("/api/items?x=1");
      expect(r.status).toBe(200);
      expect(r.upstream?.path).toBe("/api/items?x=1");
    });

    it("each worker's connections are counted in listener.<prefix>.worker_<N>.downstream_cx_total, one probe per worker", async () => {
      const s = ref.stack;
      const perWorker = await s.admin.connectionsPerWorker(s.workers);
      expect(perWorker).toHaveLength(2);
      expect(perWorker.every((n) => n >= 1)).toBe(true);
      // Requests on a pinned probe open no new connection: the counts stay.
      await s.probes.onEach({ path: "/api/probe" });
      expect(await s.admin.connectionsPerWorker(s.workers)).toEqual(perWorker);
    });

    it("edgewatch series carry the route label in /stats/prometheus", async () => {
      for (let i = 0; i < 5; i++) expect((await ref.stack.client.get(`/api/items/${i}`)).status).toBe(200);
      const prom = await ref.stack.admin.prometheus();
      expect(prom.sum("edgewatch_requests_total", { route: "api" })).toBeGreaterThanOrEqual(5);
    });

    it("histograms use the bootstrap's buckets (stats_config), not Envoy's defaults", async () => {
      expect((await ref.stack.client.get("/api/histogram")).status).toBe(200);
      const prom = await ref.stack.admin.prometheus();
      const buckets = [...prom.names()].filter((n) => /^edgewatch_route_latency_us_bucket$/.test(n));
      expect(buckets.length).toBeGreaterThan(0);
      const les = new Set(prom.find(buckets[0]!, { route: "api" }).map((s) => s.labels.le));
      expect(les.size).toBe(EDGEWATCH_HISTOGRAM_BUCKETS_US.length + 1);
      expect(les.has("+Inf")).toBe(true);
      expect(les.has("1800000")).toBe(false); // in Envoy's default list, not in ours (µs)
    });

    it("an ECDS push of a new plugin configuration reaches new requests on every worker", async () => {
      const s = ref.stack;
      await s.push({ telemetry: { method_label: true } });
      await s.probes.onEach({ path: "/api/after-push" });
      const prom = await s.admin.prometheus();
      expect(prom.sum("edgewatch_requests_total", { route: "api", method: "GET" })).toBeGreaterThanOrEqual(s.workers);
    });

    itLosesNothing(ref);
  });
});

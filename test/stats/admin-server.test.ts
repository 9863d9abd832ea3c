// Admin endpoints over real HTTP (undici), as Envoy's admin listener answers them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "undici";
import { startAdminServer, type AdminServer } from "../../harness/admin/admin-server.js";
import { StatsStore } from "../../harness/stats/stats-store.js";

const TAGS = ["route", "code", "source"].map((n) => ({ tagName: n, regex: `(${n}=\\.=(.*?);\\.;)` }));

async function get(url: string, method = "GET") {
  const res = await request(url, { method });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

describe("admin server", () => {
  let ready = false;
  let stats: StatsStore;
  let admin: AdminServer;
  let lazyStats: StatsStore;
  let lazyAdmin: AdminServer;

  beforeAll(async () => {
    stats = new StatsStore({ flushIntervalMs: 5000, flushOnAdmin: true, histogramBucketSettings: [], statsTags: TAGS });
    stats.counter("wasmcustom.edgewatch.route=.=api;.;code=.=200;.;source=.=upstream;.;requests_total").add(3n);
    stats.counter("wasmcustom.edgewatch.requests_seen_total").add(3n);
    stats.counter("wasmcustom.edgewatch.unused_total");
    stats.histogram("wasmcustom.edgewatch.route=.=api;.;route_latency_us").record(42);
    admin = await startAdminServer({
      address: "127.0.0.1",
      port: 0,
      stats,
      isReady: () => ready,
      flushOnAdmin: true,
      extra: { "/quitquitquit": (_req, res) => res.end("OK\n"), "/hello": (_req, res) => res.end("hi") },
    });
    lazyStats = new StatsStore({ flushIntervalMs: 5000, flushOnAdmin: false, histogramBucketSettings: [], statsTags: [] });
    lazyStats.histogram("wasmcustom.h").record(1);
    lazyAdmin = await startAdminServer({ address: "127.0.0.1", port: 0, stats: lazyStats, isReady: () => true });
  });

  afterAll(async () => {
    await admin?.close();
    await lazyAdmin?.close();
  });

  it("listens on an ephemeral port", () => {
    expect(admin.port).toBeGreaterThan(0);
    expect(admin.url).toBe(`http://127.0.0.1:${admin.port}`);
  });

  it("GET /ready: 503 with the state until live, then 200 LIVE", async () => {
    ready = false;
    let r = await get(`${admin.url}/ready`);
    expect(r.status).toBe(503);
    expect(r.body).toBe("INITIALIZING\n");
    ready = true;
    r = await get(`${admin.url}/ready`);
    expect(r.status).toBe(200);
    expect(r.body).toBe("LIVE\n");
    expect(r.headers["content-type"]).toBe("text/plain; charset=UTF-8");
    expect(r.headers["cache-control"]).toBe("no-cache, max-age=0");
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("GET /stats/prometheus: Envoy text format, flushed on admin, usedonly and filter", async () => {
    const r = await get(`${admin.url}/stats/prometheus`);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("text/plain; charset=UTF-8");
    expect(r.body).toContain('edgewatch_requests_total{route="api",code="200",source="upstream"} 3\n');
    expect(r.body).toContain('edgewatch_route_latency_us_count{route="api"} 1\n'); // flushOnAdmin
    expect(r.body).toContain("edgewatch_unused_total{} 0\n");
    const used = await get(`${admin.url}/stats/prometheus?usedonly`);
    expect(used.body).not.toContain("unused_total");
    const filtered = await get(`${admin.url}/stats/prometheus?filter=${encodeURIComponent("requests_seen")}`);
    expect(filtered.body).toBe("# TYPE edgewatch_requests_seen_total counter\nedgewatch_requests_seen_total{} 3\n");
    const same = await get(`${admin.url}/stats?format=prometheus&usedonly`);
    expect(same.body).toBe(used.body);
    const bad = await get(`${admin.url}/stats/prometheus?filter=${encodeURIComponent("(")}`);
    expect(bad.status).toBe(400);
  });

  it("histograms stay invisible without flushOnAdmin until the store flushes", async () => {
    let r = await get(`${lazyAdmin.url}/stats/prometheus`);
    expect(r.body).toContain("h_count{} 0\n");
    lazyStats.flush();
    r = await get(`${lazyAdmin.url}/stats/prometheus`);
    expect(r.body).toContain("h_count{} 1\n");
  });

  it("GET /stats and /stats?format=json", async () => {
    const t = await get(`${admin.url}/stats?filter=seen`);
    expect(t.body).toBe("wasmcustom.edgewatch.requests_seen_total: 3\n");
    const j = await get(`${admin.url}/stats?format=json&usedonly`);
    expect(j.headers["content-type"]).toBe("application/json");
    const doc = JSON.parse(j.body) as { stats: Array<Record<string, unknown>> };
    expect(doc.stats).toContainEqual({ name: "wasmcustom.edgewatch.requests_seen_total", value: 3 });
    expect(doc.stats.at(-1)).toHaveProperty("histograms.supported_quantiles");
    const hb = await get(`${admin.url}/stats?histogram_buckets=cumulative&filter=latency`);
    expect(hb.body).toMatch(/route_latency_us: B0\.5\(/);
    expect((await get(`${admin.url}/stats?format=xml`)).status).toBe(400);
    expect((await get(`${admin.url}/stats?histogram_buckets=nope`)).status).toBe(400);
  });

  it("GET /server_info: minimal ServerInfo JSON", async () => {
    const r = await get(`${admin.url}/server_info`);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json");
    const info = JSON.parse(r.body);
    expect(info.state).toBe("LIVE");
    expect(info.uptime_current_epoch).toMatch(/^\d+s$/);
  });

  it("mutating endpoints need POST; /reset_counters zeroes counters", async () => {
    let r = await get(`${admin.url}/reset_counters`);
    expect(r.status).toBe(405);
    expect(r.body).toBe("Method GET not allowed, POST required.");
    expect((await get(`${admin.url}/quitquitquit`)).status).toBe(405);
    expect((await get(`${admin.url}/quitquitquit`, "POST")).body).toBe("OK\n");
    r = await get(`${admin.url}/reset_counters`, "POST");
    expect(r.status).toBe(200);
    expect(r.body).toBe("OK\n");
    const after = await get(`${admin.url}/stats/prometheus?filter=seen`);
    expect(after.body).toContain("edgewatch_requests_seen_total{} 0\n");
  });

  it("unknown paths → 404 invalid path; extra handlers are served", async () => {
    const r = await get(`${admin.url}/nope`);
    expect(r.status).toBe(404);
    expect(r.body).toMatch(/^invalid path\. admin commands are:\n/);
    expect(r.body).toContain("  /stats/prometheus\n");
    expect((await get(`${admin.url}/hello`)).body).toBe("hi");
    expect((await get(`${admin.url}/healthcheck/fail`, "POST")).status).toBe(404);
  });
});

// The filter in a real Envoy (container or local binary). Where neither can run, the block is
// skipped with one line per target saying why; EDGEWATCH_REQUIRE_TARGET=envoy turns that into a failure.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProxyConfig } from "../../harness/config/proxy-config.js";
import { defaultStatsConfig, EDGEWATCH_HISTOGRAM_BUCKETS_MS } from "../../harness/envoy-config/defaults.js";
import { readEcdsCounters } from "../../harness/targets/envoy-admin.js";
import { describeTargets } from "../../harness/targets/registry.js";
import type { StartedTarget } from "../../harness/targets/target.js";

const WASM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/edgewatch.wasm");

function configFor(upstreamPort: number): ProxyConfig {
  return {
    node: { id: "edgewatch-test", cluster: "edgewatch-test" },
    listener: { address: "127.0.0.1", port: 0 },
    admin: { address: "127.0.0.1", port: 0 },
    workers: 2,
    routes: [
      { name: "api", match: { prefix: "/api/" }, cluster: "upstream", timeoutMs: 5000 },
      { name: "default", match: { prefix: "/" }, cluster: "upstream", timeoutMs: 5000 },
    ],
    clusters: [{ name: "upstream", address: "127.0.0.1", port: upstreamPort, connectTimeoutMs: 1000 }],
    plugin: { name: "edgewatch", rootId: "edgewatch", vmId: "edgewatch", wasmPath: WASM, configuration: "{}", failOpen: false },
    // Flush on every admin request: histograms are visible right after the traffic.
    stats: defaultStatsConfig({ flushOnAdmin: true }),
    xffNumTrustedHops: 0,
  };
}

describe("Envoy target", () => {
  describeTargets(
    "edgewatch filter in Envoy",
    (target) => {
      let upstream: http.Server;
      let proxy: StartedTarget;

      beforeAll(async () => {
        upstream = http.createServer((req, res) => {
          res.writeHead(200, { "content-type": "text/plain" });
          res.end(`upstream saw ${req.method} ${req.url}`);
        });
        await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
        proxy = await target.start(configFor((upstream.address() as AddressInfo).port));
      }, 180_000);

      afterAll(async () => {
        await proxy?.stop();
        await new Promise((r) => upstream?.close(r));
      });

      it("reports LIVE on admin /ready", async () => {
        const res = await fetch(`${proxy.adminUrl}/ready`);
        expect(res.status).toBe(200);
        expect((await res.text()).trim()).toBe("LIVE");
      });

      it("proxies requests through the filter to the upstream", async () => {
        const res = await fetch(`${proxy.listenerUrl}/api/items?x=1`);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe("upstream saw GET /api/items?x=1");
      });

      it("exposes edgewatch_ series with a route label in /stats/prometheus after traffic", async () => {
        for (let i = 0; i < 5; i++) expect((await fetch(`${proxy.listenerUrl}/api/items/${i}`)).status).toBe(200);
        const body = await (await fetch(`${proxy.adminUrl}/stats/prometheus`)).text();
        expect(body).toMatch(/^edgewatch_\w+/m);
        expect(body).toMatch(/^edgewatch_requests_total\{[^}]*route="api"[^}]*\} [1-9]/m);
      });

      it("renders the filter's histograms with edgewatch's buckets (stats_config applied)", async () => {
        expect((await fetch(`${proxy.listenerUrl}/api/histogram`)).status).toBe(200);
        const body = await (await fetch(`${proxy.adminUrl}/stats/prometheus`)).text();
        const first = EDGEWATCH_HISTOGRAM_BUCKETS_MS[0]!;
        const last = EDGEWATCH_HISTOGRAM_BUCKETS_MS[EDGEWATCH_HISTOGRAM_BUCKETS_MS.length - 1]!;
        expect(body).toMatch(new RegExp(`^edgewatch_route_latency_ms_bucket\\{[^}]*route="api"[^}]*le="${first}"\\} \\d+`, "m"));
        expect(body).toMatch(new RegExp(`^edgewatch_route_latency_ms_bucket\\{[^}]*le="${last}"\\} [1-9]`, "m"));
        // Envoy's default list would include 300000; ours stops at 60 s.
        expect(body).not.toMatch(/^edgewatch_route_latency_ms_bucket\{[^}]*le="300000"\}/m);
      });

      it("applies an ECDS push of a new plugin configuration to new requests", async () => {
        const before = await readEcdsCounters(proxy.adminUrl, "edgewatch");
        await proxy.updatePluginConfiguration(JSON.stringify({ telemetry: { method_label: true } }));
        const after = await readEcdsCounters(proxy.adminUrl, "edgewatch");
        expect(after.reload).toBeGreaterThan(before.reload);
        expect(after.fail).toBe(before.fail);

        expect((await fetch(`${proxy.listenerUrl}/api/after-push`)).status).toBe(200);
        const body = await (await fetch(`${proxy.adminUrl}/stats/prometheus`)).text();
        // method_label: true is only in the pushed configuration.
        expect(body).toMatch(/^edgewatch_requests_total\{[^}]*method="GET"[^}]*\} [1-9]/m);
      });
    },
    { targets: ["envoy", "envoy-local"] },
  );
});

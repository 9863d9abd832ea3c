// Host fidelity: the embedded proxy keeps Envoy's listener stats for its one listener, including the
// per-handler (per-worker) ones the worker probes rely on, and the worker a probe is pinned to over
// admin is the worker VM that really serves its connection.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstreamServer, type UpstreamServer } from "../../harness/fixtures/upstream-server.js";
import { HostLogger } from "../../harness/host/logger.js";
import { startEmbeddedProxy, type EmbeddedProxy } from "../../harness/proxy/embedded-proxy.js";
import { AdminReader } from "../../harness/stack/admin-reader.js";
import { CountingClient } from "../../harness/stack/http-client.js";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { WorkerProbes } from "../../harness/stack/worker-probes.js";

describe("per-worker listener stats (embedded host)", () => {
  let upstream: UpstreamServer;
  let proxy: EmbeddedProxy;
  let admin: AdminReader;
  beforeAll(async () => {
    upstream = await startUpstreamServer();
    proxy = await startEmbeddedProxy(proxyOptions().withWorkers(3).toProxyConfig({ upstream: upstream.port }), { logger: new HostLogger({ stderrLevel: "off" }) });
    admin = new AdminReader(proxy.adminUrl);
  });
  afterAll(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  it("names them like Envoy: listener.<stat_prefix>.worker_<N>.downstream_cx_{total,active}, next to the listener-wide ones", async () => {
    const client = new CountingClient(proxy.listenerUrl);
    await client.get("/x");
    const names = [...(await admin.stats("^listener\\.")).keys()].sort();
    expect(names).toEqual([
      "listener.edgewatch_ingress.downstream_cx_active",
      "listener.edgewatch_ingress.downstream_cx_destroy",
      "listener.edgewatch_ingress.downstream_cx_total",
      ...[0, 1, 2].flatMap((w) => [`listener.edgewatch_ingress.worker_${w}.downstream_cx_active`, `listener.edgewatch_ingress.worker_${w}.downstream_cx_total`]),
    ]);
    await client.close();
  });

  it("/stats/prometheus renders them with Envoy's default tags: envoy_listener_worker_downstream_cx_total{envoy_worker_id, envoy_listener_address}", async () => {
    const prom = await admin.prometheus();
    // Envoy ≥ 1.24 (envoyproxy/envoy#23081): worker_ stays in the name, the id becomes envoy_worker_id.
    const perWorker = prom.find("envoy_listener_worker_downstream_cx_total", { envoy_listener_address: "edgewatch_ingress" });
    expect(perWorker.map((s) => s.labels.envoy_worker_id).sort()).toEqual(["0", "1", "2"]);
    expect(prom.value("envoy_listener_downstream_cx_total", { envoy_listener_address: "edgewatch_ingress" })).toBe(perWorker.reduce((a, s) => a + s.value, 0));
  });

  it("counts a connection once, on one worker; active drops when it closes", async () => {
    const before = await admin.connectionsPerWorker(3);
    const total = await admin.stat("listener.edgewatch_ingress.downstream_cx_total");
    const c = new CountingClient(proxy.listenerUrl);
    await c.get("/a");
    await c.get("/b");
    const after = await admin.connectionsPerWorker(3);
    const grew = after.map((n, i) => n - before[i]!);
    expect(grew.filter((d) => d === 1)).toHaveLength(1);
    expect(grew.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await admin.stat("listener.edgewatch_ingress.downstream_cx_total")).toBe(total + 1);
    const w = grew.indexOf(1);
    expect(await admin.stat(`listener.edgewatch_ingress.worker_${w}.downstream_cx_active`)).toBeGreaterThanOrEqual(1);
    const activeBefore = await admin.stat(`listener.edgewatch_ingress.worker_${w}.downstream_cx_active`);
    await c.close();
    for (let i = 0; i < 100 && (await admin.stat(`listener.edgewatch_ingress.worker_${w}.downstream_cx_active`)) === activeBefore; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await admin.stat(`listener.edgewatch_ingress.worker_${w}.downstream_cx_active`)).toBe(activeBefore - 1);
  });

  it("a probe pinned over admin to worker N is served by worker VM N", async () => {
    const client = new CountingClient(proxy.listenerUrl);
    const probes = await WorkerProbes.pin(client, admin, 3);
    try {
      for (let w = 0; w < 3; w++) {
        const streams = proxy.host.workers.map((vm) => vm.streamsCreated);
        await probes.get(w).get("/who");
        const moved = proxy.host.workers.map((vm, i) => vm.streamsCreated - streams[i]!);
        expect(moved.indexOf(1), `probe ${w}`).toBe(w);
        expect(moved.reduce((a, b) => a + b, 0)).toBe(1);
      }
    } finally {
      await probes.close();
      await client.close();
    }
  });
});

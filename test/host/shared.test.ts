// Shared data (CAS), shared queues across VMs, and wasm metrics through the admin server
// (shared test filter).
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connection, startTestProxy, waitFor, type TestProxy } from "./support/test-proxy.js";

interface SdGet {
  status: number;
  value: string | null;
  cas: number;
}

describe("shared data, queues and metrics", () => {
  let t: TestProxy;
  beforeAll(async () => {
    t = await startTestProxy("shared");
  });
  afterAll(() => t.close());

  const op = async <T>(headers: Record<string, string>, client?: ReturnType<typeof connection>): Promise<T> => {
    if (!client) return (await t.get("/api/op", headers)).json<T>();
    const r = await client.request({ path: "/api/op", method: "GET", headers });
    return (await r.body.json()) as T;
  };

  it("gets NotFound for a missing key, then sets and reads back with a cas", async () => {
    expect(await op<SdGet>({ "x-op": "sd-get", "x-key": "missing" })).toEqual({ status: 1, value: null, cas: 0 });
    expect(await op({ "x-op": "sd-set", "x-key": "k1", "x-value": "v1" })).toEqual({ status: 0 });
    const got = await op<SdGet>({ "x-op": "sd-get", "x-key": "k1" });
    expect(got.status).toBe(0);
    expect(got.value).toBe("v1");
    expect(got.cas).toBeGreaterThan(0);
  });

  it("detects a CAS conflict between VMs (one global cas counter)", async () => {
    const c0 = connection(t.proxy.listenerUrl);
    const c1 = connection(t.proxy.listenerUrl);
    try {
      await op({ "x-op": "sd-set", "x-key": "k2", "x-value": "a" }, c0);
      const seen0 = await op<SdGet>({ "x-op": "sd-get", "x-key": "k2" }, c0);
      const seen1 = await op<SdGet>({ "x-op": "sd-get", "x-key": "k2" }, c1);
      expect(seen1).toEqual(seen0);
      // Worker on c1 writes first with the cas it read: ok; the other's cas is now stale.
      expect(await op({ "x-op": "sd-set", "x-key": "k2", "x-value": "b", "x-cas": String(seen1.cas) }, c1)).toEqual({ status: 0 });
      expect(await op({ "x-op": "sd-set", "x-key": "k2", "x-value": "c", "x-cas": String(seen0.cas) }, c0)).toEqual({ status: 8 });
      const after = await op<SdGet>({ "x-op": "sd-get", "x-key": "k2" }, c0);
      expect(after.value).toBe("b");
      expect(after.cas).toBeGreaterThan(seen0.cas);
      // cas 0 is an unconditional write.
      expect(await op({ "x-op": "sd-set", "x-key": "k2", "x-value": "d", "x-cas": "0" }, c0)).toEqual({ status: 0 });
      // Same-size writes overwrite the stored copy in place, other sizes replace it: both read back.
      const d = await op<SdGet>({ "x-op": "sd-get", "x-key": "k2" }, c1);
      expect(d.value).toBe("d");
      expect(d.cas).toBeGreaterThan(after.cas);
      expect(await op({ "x-op": "sd-set", "x-key": "k2", "x-value": "eee", "x-cas": String(d.cas) }, c1)).toEqual({ status: 0 });
      expect((await op<SdGet>({ "x-op": "sd-get", "x-key": "k2" }, c0)).value).toBe("eee");
    } finally {
      await c0.close();
      await c1.close();
    }
  });

  it("delivers queue items to the last registrant (worker-1) asynchronously, from any worker", async () => {
    const reg = t.logger.find("configured root=");
    // main, worker-0, worker-1 each registered "q": same token everywhere.
    expect(new Set(reg.map((e) => e.message.split("queue=")[1])).size).toBe(1);
    const c0 = connection(t.proxy.listenerUrl);
    const c1 = connection(t.proxy.listenerUrl);
    try {
      const r0 = await op<{ resolve: number; token: number; status: number; unknown: number }>({ "x-op": "enqueue", "x-value": "from-c0" }, c0);
      expect(r0).toMatchObject({ resolve: 0, status: 0, unknown: 1 });
      await op({ "x-op": "enqueue", "x-value": "from-c1" }, c1);
      await waitFor(() => t.logger.find("data=from-c1").length > 0 && t.logger.find("data=from-c0").length > 0);
      const delivered = t.logger.find("queue_ready root=");
      expect(new Set(delivered.map((e) => e.vm))).toEqual(new Set(["worker-1"]));
      expect(delivered.map((e) => e.message.split("data=")[1]).sort()).toEqual(["from-c0", "from-c1"]);
      // Drained: a dequeue from any VM now finds the queue Empty.
      expect(await op({ "x-op": "dequeue" }, c0)).toEqual({ status: 7, data: null });
      // Unknown queue name → NotFound from resolve.
      expect(await op({ "x-op": "enqueue", "x-key": "no-such-queue", "x-value": "x" })).toMatchObject({ resolve: 1 });
    } finally {
      await c0.close();
      await c1.close();
    }
  });

  it("applies Envoy's metric rules (counter record adds, gauge record sets, histogram get/increment → BadArgument)", async () => {
    const m = await op<Record<string, unknown>>({ "x-op": "metrics" });
    expect(m).toMatchObject({ inc: 0, rec: 0, counter: 11, gset: 0, gdec: 0, gauge: 40, hrec: 0, hinc: 2, hget: 2, unknown: 1, ids: [4, 5, 6] });
    expect((await op<Record<string, number>>({ "x-op": "metrics", "x-delta": "0" })).inc).toBe(2);
    expect((await op<Record<string, number>>({ "x-op": "metrics", "x-delta": "-5" })).inc).toBe(2);
    expect(t.logger.find("badtype=2 ").length).toBeGreaterThan(0);
  });

  it("renders wasm metrics in /stats/prometheus (wasmcustom. stripped) and /stats (full name)", async () => {
    const prom = await (await request(`${t.proxy.adminUrl}/stats/prometheus`)).body.text();
    expect(prom).toMatch(/^test_requests_total\{\} \d+$/m);
    expect(prom).toMatch(/^test_gauge\{\} 40$/m);
    expect(prom).toMatch(/^test_latency_ms_count\{\} [1-9]\d*$/m);
    expect(prom).toMatch(/^envoy_wasm_edgewatch_vm_failed\{\} 0$/m);
    const text = await (await request(`${t.proxy.adminUrl}/stats`)).body.text();
    expect(text).toMatch(/^wasmcustom\.test\.requests_total: \d+$/m);
  });
});

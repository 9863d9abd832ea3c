// VM and context lifecycle (lifecycle test filter): base/canary/main/worker start sequence,
// per-stream callback order, body buffering, tick timers, reconfiguration with a new root context
// in the same VM instances, rejection at load and on reconfigure, deferred root shutdown.
import { Readable } from "node:stream";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../harness/host/errors.js";
import { connection, startTestProxy, waitFor, wasmMessages, type TestProxy } from "./support/test-proxy.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("VM start sequence", () => {
  let t: TestProxy;
  beforeAll(async () => {
    t = await startTestProxy("lifecycle", { plugin: { configuration: "hello" } });
  });
  afterAll(() => t.close());

  it("runs _start in base, canary, main and every worker; roots start only in canary, main and workers", () => {
    const starts = t.logger.entries({ component: "wasm" }).filter((e) => e.message === "wasm log: _start").map((e) => e.vm);
    expect(starts).toEqual(["base", "canary-1", "main", "worker-0", "worker-1"]);
    for (const vm of ["canary-1", "main", "worker-0", "worker-1"]) {
      expect(wasmMessages(t.logger, vm).filter((m) => m !== "_start")).toEqual([
        "on_context_create 1 0",
        "on_vm_start 1 0 vm_config=",
        "on_configure 1 5 config=hello count=1",
      ]);
    }
    expect(wasmMessages(t.logger, "base")).toEqual(["_start"]);
  });

  it("formats root-context log lines as 'wasm log <root_id> <vm_id>: …'", () => {
    expect(t.logger.find("wasm log test_root test_vm: on_configure 1 5").length).toBe(4);
  });

  it("delivers a GET as context_create → request_headers(eos) → response_headers → response_body → log → done → delete", async () => {
    const c = connection(t.proxy.listenerUrl);
    try {
      const r = await c.request({ path: "/api/x", method: "GET" });
      await r.body.text();
    } finally {
      await c.close();
    }
    await waitFor(() => t.logger.find(/on_delete 2$/).length > 0);
    const worker = t.logger.find("on_request_headers 2 ")[0].vm!;
    const seq = wasmMessages(t.logger, worker).filter((m) => / 2( |$)/.test(m) && !m.startsWith("on_configure"));
    expect(seq.map((m) => m.split(" ")[0])).toEqual([
      "on_context_create", "on_request_headers", "on_response_headers", "on_response_body", "on_log", "on_done", "on_delete",
    ]);
    expect(seq[0]).toBe("on_context_create 2 1");
    expect(seq[1]).toMatch(/^on_request_headers 2 \d+ 1$/);
    expect(seq[2]).toMatch(/^on_response_headers 2 \d+ 0$/);
    expect(seq[3]).toMatch(/^on_response_body 2 \d+ 1$/);
    // Stream-context log prefix: plugin name, root id, vm id.
    expect(t.logger.find("wasm log test-plugin test_root test_vm: on_request_headers 2").length).toBe(1);
  });

  it("passes request bodies with a cumulative size while the plugin buffers, and applies its rewrite", async () => {
    const body = Readable.from((async function* () {
      yield Buffer.from("hel");
      await sleep(60);
      yield Buffer.from("lo");
    })());
    const r = await request(t.proxy.listenerUrl + "/api/body", { method: "POST", headers: { "x-body-mode": "buffer" }, body });
    const echo = (await r.body.json()) as { body: string };
    expect(echo.body).toBe("REPLACED:hello");
    const lines = wasmMessages(t.logger).filter((m) => m.startsWith("on_request_body") || m.startsWith("request body=") || m.startsWith("set_buffer_bytes"));
    const id = lines[0].split(" ")[1];
    const bodyCalls = lines.filter((l) => l.startsWith("on_request_body"));
    // The chunk terminator may arrive in its own read: then an extra (5, eos=0) call precedes (5, eos=1).
    expect(bodyCalls[0]).toBe(`on_request_body ${id} 3 0`);
    expect(bodyCalls.at(-1)).toBe(`on_request_body ${id} 5 1`);
    expect(bodyCalls.slice(1, -1).every((l) => l === `on_request_body ${id} 5 0`)).toBe(true);
    expect(lines.slice(-2)).toEqual(["request body=hello", "set_buffer_bytes status=0"]);
  });

  it("answers 413 when a buffering plugin exceeds the 1 MiB buffer limit", async () => {
    const r = await request(t.proxy.listenerUrl + "/api/big", { method: "POST", headers: { "x-body-mode": "buffer" }, body: "x".repeat(1_200_000) });
    expect(r.statusCode).toBe(413);
    expect(await r.body.text()).toBe("Payload Too Large");
    await waitFor(() => t.proxy.liveStreams() === 0);
  });

  it("holds the body while request headers are paused (StopIteration → StopAllIterationAndWatermark)", async () => {
    const mark = wasmMessages(t.logger).length;
    const ac = new AbortController();
    const p = request(t.proxy.listenerUrl + "/api/paused", { method: "POST", headers: { "x-pause": "1", "content-type": "text/plain" }, body: "abc", signal: ac.signal });
    p.catch(() => {});
    const headersLine = () => wasmMessages(t.logger).slice(mark).find((m) => m.startsWith("on_request_headers"));
    await waitFor(() => headersLine() !== undefined);
    await sleep(50);
    const hid = headersLine()!.split(" ")[1];
    expect(headersLine()!.endsWith(" 0")).toBe(true);
    expect(wasmMessages(t.logger).slice(mark).some((m) => m.startsWith(`on_request_body ${hid} `))).toBe(false);
    ac.abort();
    await expect(p).rejects.toThrow();
    await waitFor(() => t.proxy.liveStreams() === 0);
    expect(wasmMessages(t.logger).slice(mark)).toContain(`on_delete ${hid}`);
  });
});

describe("tick timers", () => {
  let t: TestProxy;
  beforeAll(async () => {
    t = await startTestProxy("lifecycle", { plugin: { configuration: "tick=25" } });
  });
  afterAll(() => t.close());

  it("ticks every root on main and on every worker (not on the discarded canary)", async () => {
    await waitFor(() => ["main", "worker-0", "worker-1"].every((vm) => wasmMessages(t.logger, vm).filter((m) => m === "on_tick 1").length >= 3), 3000);
    expect(wasmMessages(t.logger, "canary-1").some((m) => m.startsWith("on_tick"))).toBe(false);
    const text = t.proxy.stats.renderText();
    expect(Number(/wasmcustom\.lifecycle\.ticks: (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(9);
  });

  it("stops the old root's timer once a reconfiguration retired it", async () => {
    await t.proxy.updatePluginConfiguration("no-tick");
    await waitFor(() => wasmMessages(t.logger, "worker-1").includes("on_delete 1"));
    const count = () => t.logger.find("on_tick").length;
    const before = count();
    await sleep(120);
    expect(count()).toBe(before);
  });
});

describe("reconfiguration", () => {
  let t: TestProxy;
  afterEach(async () => {
    await t?.close();
  });

  it("creates a new root in the same instances (globals survive), binds new streams to it and retires the old root after its last stream", async () => {
    t = await startTestProxy("lifecycle", { plugin: { configuration: "first" }, proxy: { workerAssignment: "connection" } });
    const c = connection(t.proxy.listenerUrl);
    // An in-flight request on one worker keeps the old root alive.
    const slow = c.request({ path: "/api/slow", method: "GET", headers: { "x-edgewatch-delay-ms": "300" } });
    await waitFor(() => wasmMessages(t.logger).some((m) => m.startsWith("on_request_headers 2 ")));
    const busy = t.logger.find("on_request_headers 2 ")[0].vm!;
    const idle = busy === "worker-0" ? "worker-1" : "worker-0";
    const reloadsBefore = Number(/config_reload: (\d+)/.exec(t.proxy.stats.renderText())?.[1] ?? 0);
    await t.proxy.updatePluginConfiguration("second");
    // Canary first.
    expect(wasmMessages(t.logger, "canary-2")).toEqual(["_start", "on_context_create 1 0", "on_vm_start 1 0 vm_config=", "on_configure 1 6 config=second count=1"]);
    // Idle worker: new root 2, configure count 2 (same instance), old root done+deleted right away.
    expect(wasmMessages(t.logger, idle).slice(-5)).toEqual([
      "on_context_create 2 0", "on_vm_start 2 0 vm_config=", "on_configure 2 6 config=second count=2", "on_done 1", "on_delete 1",
    ]);
    // Busy worker: stream 2 holds context id 2, so the new root is 3; the old root waits.
    expect(wasmMessages(t.logger, busy).slice(-3)).toEqual(["on_context_create 3 0", "on_vm_start 3 0 vm_config=", "on_configure 3 6 config=second count=2"]);
    expect(wasmMessages(t.logger, busy)).not.toContain("on_done 1");
    const r = await slow;
    expect(r.statusCode).toBe(200);
    await r.body.text();
    await waitFor(() => wasmMessages(t.logger, busy).includes("on_delete 1"));
    const tail = wasmMessages(t.logger, busy);
    expect(tail.indexOf("on_done 1")).toBeGreaterThan(tail.indexOf("on_delete 2"));
    // A new stream on the busy worker binds to the new root.
    const r2 = await c.request({ path: "/api/after", method: "GET" });
    await r2.body.text();
    await c.close();
    expect(wasmMessages(t.logger, busy)).toContain("on_context_create 4 3");
    expect(Number(/config_reload: (\d+)/.exec(t.proxy.stats.renderText())?.[1])).toBe(reloadsBefore + 1);
    expect(t.proxy.host.stats.liveRootContexts).toBe(3);
  });

  it("hands out context ids from a uint32 counter that wraps, skipping ids still in use (Envoy allocContextId)", async () => {
    t = await startTestProxy("lifecycle", { plugin: { configuration: "first" }, proxy: { workerAssignment: "connection" } });
    const c = connection(t.proxy.listenerUrl);
    const get = async () => (await c.request({ path: "/api/x", method: "GET" })).body.text();
    await get();
    const worker = t.logger.find("on_request_headers 2 ")[0].vm!;
    const vm = t.proxy.host.vms.find((v) => v.label === worker)!;
    (vm as unknown as { nextContextId: number }).nextContextId = 0xffffffff;
    for (let i = 0; i < 3; i++) await get();
    await c.close();
    await waitFor(() => wasmMessages(t.logger, worker).filter((m) => m.startsWith("on_delete")).length >= 4);
    // 2^32 − 1; after the wrap 0 (the VM's own context) and 1 (the root) are in use and skipped; the
    // first stream's 2 is free again, then 3.
    expect(wasmMessages(t.logger, worker).filter((m) => m.startsWith("on_context_create")).slice(-3)).toEqual([
      "on_context_create 4294967295 1", "on_context_create 2 1", "on_context_create 3 1",
    ]);
  });

  it("times an accepted update: the canary, then each VM's new root (main and the workers)", async () => {
    t = await startTestProxy("lifecycle", { plugin: { configuration: "first" } });
    expect(t.proxy.host.lastUpdate).toBeNull();
    await t.proxy.updatePluginConfiguration("second");
    const u = t.proxy.host.lastUpdate!;
    expect(u.canaryMs).toBeGreaterThan(0);
    expect(u.canaryPageFaults).toBeGreaterThanOrEqual(0);
    expect(u.vmMs).toHaveLength(3);
    for (const ms of u.vmMs) expect(ms).toBeGreaterThan(0);
    // A repeat (no callbacks) and a refusal leave the last accepted update's timing.
    await t.proxy.updatePluginConfiguration("second");
    await expect(t.proxy.updatePluginConfiguration("reject")).rejects.toMatchObject({ code: ErrorCodes.PLUGIN_CONFIG_REJECTED });
    expect(t.proxy.host.lastUpdate).toBe(u);
  });

  it("does nothing when the identical configuration is pushed again", async () => {
    t = await startTestProxy("lifecycle", { plugin: { configuration: "same" } });
    const n = t.logger.entries().length;
    await t.proxy.updatePluginConfiguration("same");
    expect(t.logger.entries().length).toBe(n);
  });

  it("rejects a configuration refused by the canary and keeps the old one everywhere", async () => {
    t = await startTestProxy("lifecycle", { plugin: { configuration: "good" } });
    await expect(t.proxy.updatePluginConfiguration("reject")).rejects.toMatchObject({ code: ErrorCodes.PLUGIN_CONFIG_REJECTED });
    expect(wasmMessages(t.logger, "canary-2")).toContain("on_configure 1 6 config=reject count=1");
    for (const vm of ["main", "worker-0", "worker-1"]) expect(wasmMessages(t.logger, vm).some((m) => m.includes("config=reject"))).toBe(false);
    expect(t.proxy.host.plugin.configuration).toBe("good");
    expect((await t.get("/api/still")).status).toBe(200);
    expect(t.proxy.stats.renderText()).toMatch(/extension_config_discovery\.http_filter\.test-plugin\.config_fail: 1/);
  });

  it("keeps a root whose on_done returned false until it calls proxy_done", async () => {
    t = await startTestProxy("lifecycle", { plugin: { configuration: "tick=20 defer-done" } });
    await t.proxy.updatePluginConfiguration("tick=20 next");
    await waitFor(() => wasmMessages(t.logger, "main").includes("on_delete 1"), 3000);
    const main = wasmMessages(t.logger, "main");
    const done = main.indexOf("on_done 1");
    const proxyDone = main.indexOf("proxy_done 1 status=0");
    expect(done).toBeGreaterThan(0);
    expect(proxyDone).toBeGreaterThan(done);
    expect(main.indexOf("on_delete 1")).toBeGreaterThan(proxyDone);
  });
});

describe("rejection at load through startEmbeddedProxy", () => {
  it("fails with PLUGIN_CONFIG_REJECTED when on_configure returns false", async () => {
    await expect(startTestProxy("lifecycle", { plugin: { configuration: "reject" } })).rejects.toMatchObject({ code: ErrorCodes.PLUGIN_CONFIG_REJECTED });
  });

  it("fails with PLUGIN_VM_START_REJECTED when on_vm_start returns false", async () => {
    await expect(startTestProxy("lifecycle", { plugin: { vmConfiguration: "reject-vm" } })).rejects.toMatchObject({ code: ErrorCodes.PLUGIN_VM_START_REJECTED });
  });
});

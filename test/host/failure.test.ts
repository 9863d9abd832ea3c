// Traps: the VM fails for good; fail closed → local 503 (empty body) for the trapping stream,
// in-flight streams and every later stream on that worker; fail open → streams pass without the
// filter. Logged as "Function: X failed: …" and counted in wasm.edgewatch.vm_failed.
import { afterEach, describe, expect, it } from "vitest";
import { connection, startTestProxy, waitFor, wasmMessages, type TestProxy } from "./support/test-proxy.js";

const vmFailed = (t: TestProxy) => Number(/wasm\.edgewatch\.vm_failed: (\d+)/.exec(t.proxy.stats.renderText())?.[1]);

describe("trap handling", () => {
  let t: TestProxy;
  afterEach(async () => {
    await t?.close();
  });

  it("fail closed: the trapping request and later ones on that worker get an empty 503; the VM is not reused", async () => {
    t = await startTestProxy("lifecycle", { config: (c) => ({ ...c, workers: 1 }) });
    const a = await t.get("/api/x", { "x-trap": "request-headers" });
    expect(a.status).toBe(503);
    expect(a.text).toBe("");
    const err = t.logger.find("Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable");
    expect(err).toHaveLength(1);
    expect(err[0].level).toBe("error");
    expect(err[0].message).toContain("Proxy-Wasm plugin in-VM backtrace:");
    expect(vmFailed(t)).toBe(1);
    const before = t.logger.find("on_request_headers").length;
    const b = await t.get("/api/y");
    expect(b.status).toBe(503);
    expect(b.text).toBe("");
    expect(t.logger.find("on_request_headers").length).toBe(before);
    expect(t.proxy.host.workers[0].failed).toBe(true);
    await waitFor(() => t.proxy.liveStreams() === 0);
    expect(t.proxy.host.stats.liveStreamContexts).toBe(0);
  });

  it("fail closed: an in-flight paused stream on the failed VM gets a 503", async () => {
    t = await startTestProxy("lifecycle", { config: (c) => ({ ...c, workers: 1 }) });
    const paused = t.get("/api/paused", { "x-pause": "1" });
    await waitFor(() => wasmMessages(t.logger).some((m) => m.startsWith("on_request_headers 2 ")));
    expect((await t.get("/api/trap", { "x-trap": "request-headers" })).status).toBe(503);
    const p = await paused;
    expect(p.status).toBe(503);
    expect(p.text).toBe("");
  });

  it("fail closed: a trap in on_response_headers replaces the upstream response with a 503", async () => {
    t = await startTestProxy("lifecycle", { config: (c) => ({ ...c, workers: 1 }) });
    const a = await t.get("/api/x", { "x-trap": "response-headers" });
    expect(a.status).toBe(503);
    expect(a.text).toBe("");
    expect(t.logger.find("Function: proxy_on_response_headers failed").length).toBe(1);
  });

  it("fail open: the trapping request and later ones pass through without the filter", async () => {
    t = await startTestProxy("lifecycle", { plugin: { failOpen: true }, config: (c) => ({ ...c, workers: 1 }) });
    const paused = t.get("/api/paused", { "x-pause": "1" });
    await waitFor(() => wasmMessages(t.logger).some((m) => m.startsWith("on_request_headers 2 ")));
    const a = await t.get("/api/x", { "x-trap": "request-headers" });
    expect(a.status).toBe(200);
    expect(a.json().path).toBe("/api/x");
    // The held stream resumes once the VM failed.
    expect((await paused).status).toBe(200);
    const before = t.logger.find("on_request_headers").length;
    expect((await t.get("/api/y")).status).toBe(200);
    expect(t.logger.find("on_request_headers").length).toBe(before);
    expect(vmFailed(t)).toBe(1);
  });

  it("fails only the trapping worker: other workers keep running the plugin", async () => {
    t = await startTestProxy("lifecycle");
    const c0 = connection(t.proxy.listenerUrl);
    const c1 = connection(t.proxy.listenerUrl);
    try {
      const r = await c0.request({ path: "/api/trap", method: "GET", headers: { "x-trap": "request-headers" } });
      expect(r.statusCode).toBe(503);
      await r.body.text();
      const ok = await c1.request({ path: "/api/ok", method: "GET" });
      expect(ok.statusCode).toBe(200);
      await ok.body.text();
      expect(t.proxy.host.workers.filter((w) => w.failed)).toHaveLength(1);
      expect(t.proxy.host.main.failed).toBe(false);
    } finally {
      await c0.close();
      await c1.close();
    }
  });

  it("skips failed VMs on reconfiguration and still updates the healthy ones", async () => {
    t = await startTestProxy("lifecycle", { config: (c) => ({ ...c, workers: 1 }) });
    expect((await t.get("/api/trap", { "x-trap": "request-headers" })).status).toBe(503);
    await t.proxy.updatePluginConfiguration("after-trap");
    expect(wasmMessages(t.logger, "main")).toContain("on_configure 2 10 config=after-trap count=2");
    expect(wasmMessages(t.logger, "worker-0").some((m) => m.includes("after-trap"))).toBe(false);
    expect((await t.get("/api/y")).status).toBe(503);
  });
});

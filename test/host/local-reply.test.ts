// proxy_send_local_response and proxy_close_stream (local-reply test filter).
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestProxy, waitFor, wasmMessages, type TestProxy } from "./support/test-proxy.js";

describe("local replies", () => {
  let t: TestProxy;
  beforeAll(async () => {
    t = await startTestProxy("local-reply");
  });
  afterAll(() => t.close());

  it("sends the reply after the callback (which returned Continue) and runs it through the plugin's on_response_headers", async () => {
    const before = t.upstream.requests;
    const a = await t.get("/api/deny", { "x-local-status": "403", "x-local-details": "denied by\ttest", "x-local-body": "nope" });
    expect(a.status).toBe(403);
    expect(a.text).toBe("nope");
    expect(a.headers["content-type"]).toBe("text/plain");
    expect(a.headers["content-length"]).toBe("4");
    expect(a.headers["x-local"]).toBe("1");
    // Header names are lower-cased.
    expect(a.headers["x-upper"]).toBe("v");
    // The plugin sees its own local reply (headers then body).
    expect(a.headers["x-saw-response-headers"]).toBe("403/0");
    expect(a.headers.server).toBe("envoy");
    expect(t.upstream.requests).toBe(before);
    await waitFor(() => wasmMessages(t.logger).includes("on_response_body size=4 eos=1"));
  });

  it("keeps a plugin-provided content-type when there is a body", async () => {
    const a = await t.get("/api/json", { "x-local-status": "200", "x-local-body": "{}", "x-local-type": "application/json" });
    expect(a.headers["content-type"]).toBe("application/json");
    expect(a.text).toBe("{}");
  });

  it("drops content-type and content-length for an empty body, even ones the plugin passed", async () => {
    const a = await t.get("/api/empty", { "x-local-status": "401", "x-local-type": "application/json" });
    expect(a.status).toBe(401);
    expect(a.text).toBe("");
    expect(a.headers["content-type"]).toBeUndefined();
    expect(a.headers["x-saw-response-headers"]).toBe("401/1");
    await waitFor(() => wasmMessages(t.logger).includes("on_response_headers status=401 content-length=none"));
  });

  it("replies directly (bypassing the filter) when sent from on_response_headers before headers went out", async () => {
    const marker = wasmMessages(t.logger).length;
    const a = await t.get("/api/late", { "x-local-in-response": "418" });
    expect(a.status).toBe(418);
    expect(a.text).toBe("replaced");
    expect(a.headers["x-saw-response-headers"]).toBeUndefined();
    await waitFor(() => t.proxy.liveStreams() === 0);
    const seen = wasmMessages(t.logger).slice(marker).filter((m) => m.startsWith("on_response_headers"));
    expect(seen).toEqual(["on_response_headers status=200 content-length=" + seen[0].split("content-length=")[1]]);
  });

  it("proxy_close_stream resets the stream (the client sees a reset, not a status)", async () => {
    await expect(request(t.proxy.listenerUrl + "/api/close", { headers: { "x-close": "request" } })).rejects.toThrow();
    await waitFor(() => t.proxy.liveStreams() === 0);
    expect(t.proxy.host.stats.liveStreamContexts).toBe(0);
  });
});

// The router side of the embedded proxy: Envoy's local replies for route timeout, refused
// connections and unknown clusters go through the plugin's encoder callbacks; response trailers.
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestProxy, waitFor, wasmMessages, type TestProxy } from "./support/test-proxy.js";

describe("router", () => {
  let t: TestProxy;
  beforeAll(async () => {
    t = await startTestProxy("local-reply", {
      config: (c) => ({ ...c, routes: [{ name: "short", match: { prefix: "/short" }, cluster: "upstream", timeoutMs: 150 }, ...c.routes] }),
    });
  });
  afterAll(() => t.close());

  it("answers 504 'upstream request timeout' when the route timeout expires (the plugin sees it)", async () => {
    const start = Date.now();
    const a = await t.get("/short", { "x-edgewatch-delay-ms": "1000" });
    expect(Date.now() - start).toBeLessThan(900);
    expect(a.status).toBe(504);
    expect(a.text).toBe("upstream request timeout");
    expect(a.headers["content-type"]).toBe("text/plain");
    expect(a.headers["x-saw-response-headers"]).toBe("504/0");
  });

  it("answers 503 with Envoy's reset text when the cluster refuses connections", async () => {
    const a = await t.get("/dead");
    expect(a.status).toBe(503);
    expect(a.text).toMatch(/^upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure/);
    expect(a.headers["x-saw-response-headers"]).toBe("503/0");
  });

  it("answers an empty 503 for a route whose cluster does not exist", async () => {
    const a = await t.get("/nowhere");
    expect(a.status).toBe(503);
    expect(a.text).toBe("");
  });

  it("passes upstream status codes and adds x-envoy-upstream-service-time and server: envoy", async () => {
    const a = await t.get("/api/teapot", { "x-edgewatch-status": "418" });
    expect(a.status).toBe(418);
    expect(a.headers["x-envoy-upstream-service-time"]).toMatch(/^\d+$/);
    expect(a.headers.server).toBe("envoy");
    expect(a.headers["x-saw-response-headers"]).toBe("418/0");
  });

  it("streams request bodies upstream and keeps the count of live streams at zero afterwards", async () => {
    const r = await request(t.proxy.listenerUrl + "/api/post", { method: "POST", body: "x".repeat(200_000) });
    const echo = (await r.body.json()) as { body: string };
    expect(echo.body.length).toBe(200_000);
    await waitFor(() => t.proxy.liveStreams() === 0);
    expect(t.proxy.host.stats.liveStreamContexts).toBe(0);
  });
});

describe("response trailers", () => {
  let t: TestProxy;
  beforeAll(async () => {
    t = await startTestProxy("lifecycle");
  });
  afterAll(() => t.close());

  it("delivers upstream trailers to on_response_trailers and to the client", async () => {
    const r = await request(t.proxy.listenerUrl + "/api/tr", { headers: { "x-edgewatch-trailers": "x-checksum=abc" } });
    await r.body.text();
    expect(r.trailers["x-checksum"]).toBe("abc");
    await waitFor(() => wasmMessages(t.logger).some((m) => /^on_response_trailers \d+ 1$/.test(m)));
  });
});

// proxy_http_call: the request pauses, the response comes back to the root context, the plugin
// switches to the stream with proxy_set_effective_context and resumes it (callout test filter).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connection, startTestProxy, waitFor, wasmMessages, type TestProxy } from "./support/test-proxy.js";

describe("proxy_http_call", () => {
  let t: TestProxy;
  beforeAll(async () => {
    t = await startTestProxy("callout");
  });
  afterAll(() => t.close());

  it("round-trips through the cluster and resumes the paused request with proxy_continue_stream", async () => {
    const a = await t.get("/api/c", { "x-callout": "1" });
    expect(a.status).toBe(200);
    const h = a.json().headers;
    expect(h["x-callout-status"]).toBe("200");
    const [nh, bodySize, nt] = h["x-callout-counts"].split("/").map(Number);
    expect(nh).toBeGreaterThan(2);
    expect(bodySize).toBeGreaterThan(0);
    expect(nt).toBe(0);
    expect(h["x-callout-body"]).toMatch(/^\{"upstream":"upstream","method":"POST","path":"\/callout"/);
    expect(h["x-callout-get-status"]).toBe("0/");
    // What the cluster saw: :authority as Host, the body with its content-length, no XFF.
    const callout = t.upstream.received.find((r) => r.path === "/callout")!;
    expect(callout.method).toBe("POST");
    expect(callout.headers.host).toBe("callout.local");
    expect(callout.headers["x-from-wasm"]).toBe("1");
    expect(callout.headers["content-length"]).toBe("4");
    expect(callout.body).toBe("ping");
    expect(callout.headers["x-forwarded-for"]).toBeUndefined();
    await waitFor(() => wasmMessages(t.logger).some((m) => m.startsWith("http_call_response root=1 ")));
  });

  it("numbers tokens 4, 8, 12… per VM", async () => {
    const c = connection(t.proxy.listenerUrl);
    try {
      const tokens: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await c.request({ path: "/api/t", method: "GET", headers: { "x-callout": "1" } });
        const body = (await r.body.json()) as { headers: Record<string, string> };
        tokens.push(Number(body.headers["x-callout-token"]));
      }
      expect(tokens[0] % 4).toBe(0);
      expect(tokens[1] - tokens[0]).toBe(4);
      expect(tokens[2] - tokens[1]).toBe(4);
    } finally {
      await c.close();
    }
  });

  it("turns a timeout into Envoy's 504 'upstream request timeout' response", async () => {
    const start = Date.now();
    const a = await t.get("/api/timeout", { "x-callout": "1", "x-call-path": "/slow?delay_ms=1500", "x-call-timeout": "100" });
    expect(Date.now() - start).toBeLessThan(1400);
    const h = a.json().headers;
    expect(h["x-callout-status"]).toBe("504");
    expect(h["x-callout-body"]).toBe("upstream request timeout");
    expect(h["x-callout-counts"]).toBe("3/24/0");
  });

  it("answers 503 (a response, not a failure) when the cluster refuses connections", async () => {
    const h = (await t.get("/api/dead", { "x-callout": "1", "x-call-cluster": "dead" })).json().headers;
    expect(h["x-callout-status"]).toBe("503");
    expect(h["x-callout-body"]).toMatch(/^upstream connect error or disconnect\/reset before headers/);
  });

  it("reports a reset after the response started as (0,0,0) with proxy_get_status = (11, reset)", async () => {
    const h = (await t.get("/api/reset", { "x-callout": "1", "x-call-path": "/r?reset=after" })).json().headers;
    expect(h["x-callout-status"]).toBe("none");
    expect(h["x-callout-counts"]).toBe("0/0/0");
    expect(h["x-callout-get-status"]).toBe("11/reset");
  });

  it("rejects an unknown cluster and missing :path/:method/:authority with BadArgument", async () => {
    const cases: Array<Record<string, string>> = [{ "x-call-cluster": "nope" }, { "x-call-omit": "path" }, { "x-call-omit": "method" }, { "x-call-omit": "authority" }];
    for (const headers of cases) {
      const a = await t.get("/api/bad", { "x-callout": "1", ...headers });
      expect(a.status).toBe(500);
      expect(a.text).toBe("http_call status=2");
    }
  });

  it("rejects a negative timeout with BadArgument", async () => {
    const a = await t.get("/api/bad", { "x-callout": "1", "x-call-timeout": "-1" });
    expect(a.text).toBe("http_call status=2");
  });

  it("can answer the paused request with a local reply from on_http_call_response", async () => {
    const a = await t.get("/api/deny", { "x-callout": "1", "x-call-deny": "1" });
    expect(a.status).toBe(403);
    expect(a.text).toBe("denied after callout");
  });

  it("leaves no stream context or pending callout behind", async () => {
    await waitFor(() => t.proxy.liveStreams() === 0);
    expect(t.proxy.host.stats.liveStreamContexts).toBe(0);
    for (const vm of t.proxy.host.vms) for (const r of vm.roots) expect(r.httpCalls.size).toBe(0);
  });
});

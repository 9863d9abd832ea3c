// Header maps through the embedded proxy: pseudo headers, lower-casing, mutations reaching the
// upstream, maps released after Continue, read-only maps in on_log, HCM header mutations.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestProxy, waitFor, wasmMessages, type TestProxy } from "./support/test-proxy.js";

describe("header maps (headers test filter)", () => {
  let t: TestProxy;
  beforeAll(async () => {
    t = await startTestProxy("headers");
  });
  afterAll(() => t.close());

  it("exposes request headers with :authority, :path, :method, :scheme first and forwards the plugin's edits", async () => {
    const a = await t.get("/api/items?q=1", { "x-remove-me": "1", "X-Mixed-Case": "mc", "user-agent": "ua", accept: "*/*" });
    expect(a.status).toBe(200);
    const dump = String(a.headers["x-wasm-req-dump"]).split("|").map((kv) => kv.slice(0, kv.indexOf("=")));
    expect(dump.slice(0, 4)).toEqual([":authority", ":path", ":method", ":scheme"]);
    expect(dump).toContain("x-mixed-case");
    expect(dump).toContain("x-request-id");
    const echo = a.json();
    const h = echo.headers;
    expect(h["x-wasm-path"]).toBe("/api/items?q=1");
    expect(h["x-wasm-method"]).toBe("GET");
    expect(h["x-wasm-authority"]).toBe(new URL(t.proxy.listenerUrl).host);
    expect(h["x-wasm-scheme"]).toBe("http");
    // num_headers equals the pair count; a GET without body ends the stream at the headers.
    const [pairs, n, eos] = h["x-wasm-count"].split("/");
    expect(pairs).toBe(n);
    expect(eos).toBe("1");
    expect(h["x-wasm-missing-status"]).toBe("1");
    expect(h["x-wasm-badtype-status"]).toBe("2");
    expect(h["x-wasm-mixed"]).toBe("mc");
    // get_header_map_size is Envoy's byteSize(): the sum of key and value lengths.
    const [size, sum] = h["x-wasm-size"].split("/");
    expect(size).toBe(sum);
    expect(h["user-agent"]).toBe("wasm-agent");
    expect(h["x-remove-me"]).toBeUndefined();
    expect(h["x-upper-added"]).toBe("lowered");
    // Pseudo headers are not sent upstream; :authority became Host.
    expect(echo.rawHeaders.some((k) => k.startsWith(":"))).toBe(false);
    expect(h.host).toBe(new URL(t.proxy.listenerUrl).host);
  });

  it("get_header_map_value returns only the first line of a repeated header; get_header_map_pairs has every line (Envoy context.cc)", async () => {
    const a = await t.get("/api/dup", { "x-dup": ["first", "second"] as unknown as string });
    expect(a.json().headers["x-wasm-dup-first"]).toBe("first");
    const dump = String(a.headers["x-wasm-req-dump"]).split("|");
    expect(dump.filter((kv) => kv.startsWith("x-dup="))).toEqual(["x-dup=first", "x-dup=second"]);
  });

  it("reports the serialized pairs size of get_header_map_pairs", async () => {
    const a = await t.get("/api/size");
    const dump = String(a.headers["x-wasm-req-dump"]).split("|").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]);
    const expected = 4 + dump.reduce((n, [k, v]) => n + 8 + k.length + 1 + v.length + 1, 0);
    expect(Number(a.json().headers["x-wasm-pairs-size"])).toBe(expected);
  });

  it("releases the request map after Continue: get → BadArgument, pairs → (0,0), add → BadArgument", async () => {
    const a = await t.get("/api/after");
    expect(a.headers["x-req-get-after-continue"]).toBe("2");
    expect(a.headers["x-req-pairs-after-continue"]).toBe("0/0");
    expect(a.headers["x-req-add-after-continue"]).toBe("2");
    expect(a.headers["x-resp-status-seen"]).toBe("200");
    expect(String(a.headers["x-resp-count"]).split("/")[1]).toBe("0");
    expect(a.json().headers["x-late"]).toBeUndefined();
  });

  it("lets on_log read the final maps but not modify them", async () => {
    await t.get("/api/logged");
    await waitFor(() => wasmMessages(t.logger).some((m) => m.startsWith("on_log path=/api/logged")));
    const line = wasmMessages(t.logger).find((m) => m.startsWith("on_log path=/api/logged"));
    expect(line).toBe("on_log path=/api/logged/0 status=200/0 add=2 trailers=1 size=2");
  });

  it("re-evaluates the route after a request header edit (ABI 0.2.1 clears the route cache)", async () => {
    const a = await t.get("/nowhere", { "x-set-path": "/exact" });
    expect(a.status).toBe(200);
    expect(a.json().path).toBe("/exact");
    const b = await t.get("/nowhere");
    expect(b.status).toBe(503);
  });

  it("replaces the whole map with proxy_set_header_map_pairs", async () => {
    const a = await t.get("/api/wipe", { "x-wipe": "good", "x-client": "1" });
    expect(a.status).toBe(200);
    const echo = a.json();
    expect(echo.path).toBe("/wiped");
    expect(echo.headers.host).toBe("wiped.local");
    expect(echo.headers["x-only"]).toBe("1");
    expect(echo.headers["x-client"]).toBeUndefined();
  });

  it("leaves no stream context behind", async () => {
    await waitFor(() => t.proxy.liveStreams() === 0);
    expect(t.proxy.host.stats.liveStreamContexts).toBe(0);
  });
});

describe("HCM request header mutations", () => {
  let t: TestProxy;
  let trusted: TestProxy;
  beforeAll(async () => {
    t = await startTestProxy("headers");
    trusted = await startTestProxy("headers", { config: (c) => ({ ...c, xffNumTrustedHops: 1 }) });
  });
  afterAll(async () => {
    await t.close();
    await trusted.close();
  });

  it("loopback client without XFF: internal, node address appended to XFF, x-request-id generated", async () => {
    const h = (await t.get("/api/x")).json().headers;
    expect(h["x-forwarded-for"]).toBe("10.9.9.9");
    expect(h["x-forwarded-proto"]).toBe("http");
    expect(h["x-envoy-internal"]).toBe("true");
    expect(h["x-envoy-external-address"]).toBeUndefined();
    expect(h["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("keeps a client x-request-id on internal requests", async () => {
    const h = (await t.get("/api/x", { "x-request-id": "client-rid" })).json().headers;
    expect(h["x-request-id"]).toBe("client-rid");
  });

  it("client XFF with no trusted hops: edge request, external address = peer, request id replaced", async () => {
    const h = (await t.get("/api/x", { "x-forwarded-for": "203.0.113.7", "x-request-id": "client-rid" })).json().headers;
    expect(h["x-forwarded-for"]).toBe("203.0.113.7,10.9.9.9");
    expect(h["x-envoy-external-address"]).toBe("127.0.0.1");
    expect(h["x-envoy-internal"]).toBeUndefined();
    expect(h["x-request-id"]).not.toBe("client-rid");
  });

  it("one trusted hop: the client address comes from XFF", async () => {
    const h = (await trusted.get("/api/x", { "x-forwarded-for": "198.51.100.1, 203.0.113.7" })).json().headers;
    expect(h["x-envoy-external-address"]).toBe("203.0.113.7");
    expect(h["x-forwarded-for"]).toBe("198.51.100.1, 203.0.113.7,10.9.9.9");
  });

  it("strips hop-by-hop and x-envoy control headers from external requests", async () => {
    const h = (await t.get("/api/x", { "x-forwarded-for": "203.0.113.7", "x-envoy-retry-on": "5xx", "proxy-connection": "keep-alive" })).json().headers;
    expect(h["x-envoy-retry-on"]).toBeUndefined();
    expect(h["proxy-connection"]).toBeUndefined();
    expect(h["x-envoy-expected-rq-timeout-ms"]).toBe("3000");
  });

  it("answers 404 route_not_found when no route matches (after the filter saw the headers)", async () => {
    const t2 = await startTestProxy("headers", { config: (c) => ({ ...c, routes: c.routes.filter((r) => r.name === "api") }) });
    try {
      const a = await t2.get("/other");
      expect(a.status).toBe(404);
      expect(a.headers["x-resp-status-seen"]).toBe("404");
      expect(a.text).toBe("");
    } finally {
      await t2.close();
    }
  });
});

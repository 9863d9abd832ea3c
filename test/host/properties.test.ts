// Property values and their Envoy encodings, per phase (props test filter).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePairs } from "../../harness/host/pairs.js";
import { NodeType } from "../../harness/host/node-proto.js";
import { startTestProxy, waitFor, wasmMessages, type TestProxy } from "./support/test-proxy.js";

interface Prop {
  status: number;
  bytes: Buffer;
}

function parseDump(text: string, sep: string): Record<string, Prop> {
  const out: Record<string, Prop> = {};
  for (const line of text.split(sep)) {
    const l = line.trim();
    if (!l) continue;
    const [path, status, hex] = l.split(" ");
    out[path] = { status: Number(status), bytes: Buffer.from(hex ?? "", "hex") };
  }
  return out;
}

const s = (p: Prop) => p.bytes.toString("utf8");
const i64 = (p: Prop) => p.bytes.readBigInt64LE(0);
const u64 = (p: Prop) => p.bytes.readBigUInt64LE(0);

describe("properties (props test filter)", () => {
  let t: TestProxy;
  beforeAll(async () => {
    t = await startTestProxy("props");
  });
  afterAll(() => t.close());

  async function props(paths: string[], headers: Record<string, string> = {}, path = "/api/p?x=1&y=2"): Promise<Record<string, Prop>> {
    const a = await t.get(path, { "x-props": paths.join(","), ...headers });
    expect(a.status).toBe(200);
    return parseDump(a.text, "\n");
  }

  it("resolves request.* from the request headers as raw strings", async () => {
    const p = await props(
      ["request/path", "request/url_path", "request/host", "request/scheme", "request/method", "request/query", "request/id", "request/useragent", "request/referer", "request/protocol"],
      { "x-request-id": "rid-1", "user-agent": "ua/1", referer: "http://ref/" },
    );
    expect(s(p["request/path"])).toBe("/api/p?x=1&y=2");
    expect(s(p["request/url_path"])).toBe("/api/p");
    expect(s(p["request/host"])).toBe(new URL(t.proxy.listenerUrl).host);
    expect(s(p["request/scheme"])).toBe("http");
    expect(s(p["request/method"])).toBe("GET");
    expect(s(p["request/query"])).toBe("x=1&y=2");
    expect(s(p["request/id"])).toBe("rid-1");
    expect(s(p["request/useragent"])).toBe("ua/1");
    expect(s(p["request/referer"])).toBe("http://ref/");
    expect(s(p["request/protocol"])).toBe("HTTP/1.1");
  });

  it("encodes request.time as int64 ns and request.headers as a pairs map (repeated values joined with ',')", async () => {
    const before = BigInt(Date.now() - 1000) * 1_000_000n;
    const p = await props(["request/time", "request/headers", "request/headers/x-multi", "request/duration", "request/size"], { "x-multi": "a" });
    expect(p["request/time"].bytes.length).toBe(8);
    const ns = i64(p["request/time"]);
    expect(ns > before && ns < BigInt(Date.now() + 1000) * 1_000_000n).toBe(true);
    const map = new Map(parsePairs(p["request/headers"].bytes));
    expect(map.get(":method")).toBe("GET");
    expect(map.get("x-multi")).toBe("a");
    expect(s(p["request/headers/x-multi"])).toBe("a");
    // Only known once the request completed.
    expect(p["request/duration"].status).toBe(1);
    expect(i64(p["request/size"])).toBe(0n);
  });

  it("resolves source/destination as ip:port strings and int64 ports, connection ids as uint64", async () => {
    const p = await props(["source/address", "source/port", "destination/address", "destination/port", "connection/id", "connection_id", "connection/mtls"]);
    const port = Number(new URL(t.proxy.listenerUrl).port);
    expect(s(p["source/address"])).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(Number(i64(p["source/port"]))).toBe(Number(s(p["source/address"]).split(":")[1]));
    expect(s(p["destination/address"])).toBe(`127.0.0.1:${port}`);
    expect(Number(i64(p["destination/port"]))).toBe(port);
    expect(u64(p["connection/id"])).toBe(u64(p["connection_id"]));
    expect(p["connection/mtls"].bytes.toString("hex")).toBe("00");
  });

  it("resolves xds.* (route, cluster, protobuf node) and plugin_* names", async () => {
    const p = await props(["xds/route_name", "xds/cluster_name", "xds/virtual_host_name", "xds/node", "xds/node/id", "xds/node/cluster", "plugin_name", "plugin_root_id", "plugin_vm_id", "node/id", "route_name"]);
    expect(s(p["xds/route_name"])).toBe("api");
    expect(s(p["xds/cluster_name"])).toBe("upstream");
    expect(s(p["xds/virtual_host_name"])).toBe("edgewatch");
    const node = NodeType.toObject(NodeType.decode(p["xds/node"].bytes)) as { id: string; cluster: string; userAgentName: string };
    expect(node).toMatchObject({ id: "edgewatch-test-node", cluster: "edgewatch-test-cluster", userAgentName: "envoy" });
    expect(s(p["xds/node/id"])).toBe("edgewatch-test-node");
    expect(s(p["xds/node/cluster"])).toBe("edgewatch-test-cluster");
    expect(s(p["plugin_name"])).toBe("test-plugin");
    expect(s(p["plugin_root_id"])).toBe("test_root");
    expect(s(p["plugin_vm_id"])).toBe("test_vm");
    // Legacy top-level names still resolve in the 1.30 profile.
    expect(s(p["node/id"])).toBe("edgewatch-test-node");
    expect(s(p["route_name"])).toBe("api");
  });

  it("does not split dotted names; unknown/unavailable values are NotFound; whole wrappers fail to serialize", async () => {
    const p = await props(["request.path", "nope", "response/code", "upstream/address", "request", "xds/node/no_such_field"]);
    expect(p["request.path"].status).toBe(1);
    expect(p["nope"].status).toBe(1);
    expect(p["response/code"].status).toBe(1);
    expect(p["upstream/address"].status).toBe(1);
    expect(p["request"].status).toBe(3);
    expect(p["xds/node/no_such_field"].status).toBe(1);
  });

  it("reads back proxy_set_property values as filter state (wasm.<name>)", async () => {
    const p = await props(["my_prop", "filter_state/wasm.my_prop"], { "x-set-prop": "my_prop=hello" });
    expect(s(p["my_prop"])).toBe("hello");
    expect(s(p["filter_state/wasm.my_prop"])).toBe("hello");
  });

  it("response phase: response.code/code_details available, request.* released after Continue", async () => {
    const a = await t.get("/api/r", { "x-resp-props": "response/code,response/code_details,request/path,upstream/address,response/headers/content-type" });
    expect(a.status).toBe(200);
    const p = parseDump(String(a.headers["x-props-dump"]), ";");
    expect(i64(p["response/code"])).toBe(200n);
    expect(s(p["response/code_details"])).toBe("via_upstream");
    expect(p["request/path"].status).toBe(1);
    expect(s(p["upstream/address"])).toBe(`127.0.0.1:${t.upstream.port}`);
    expect(s(p["response/headers/content-type"])).toBe("application/json");
  });

  it("on_log: request.* readable again, request.duration and local-reply details (whitespace → _) available", async () => {
    await t.get("/api/logprops", { "x-props": "plugin_name", "x-log-props": "request/path,request/duration,response/code,response/code_details" });
    await waitFor(() => wasmMessages(t.logger).some((m) => m.startsWith("log props:") && m.includes("request/path 0 ")));
    const line = wasmMessages(t.logger).filter((m) => m.startsWith("log props:")).at(-1)!;
    const p = parseDump(line.slice("log props: ".length), ";");
    expect(s(p["request/path"])).toBe("/api/logprops");
    expect(p["request/duration"].status).toBe(0);
    expect(i64(p["request/duration"]) > 0n).toBe(true);
    expect(i64(p["response/code"])).toBe(200n);
    expect(s(p["response/code_details"])).toBe("props_dump");
  });

  it("root context: plugin_* and xds.node resolve, stream attributes are NotFound, set_property NotFound", async () => {
    const line = wasmMessages(t.logger, "main").find((m) => m.startsWith("root props:"))!;
    const p = parseDump(line.slice("root props: ".length), ";");
    expect(s(p["plugin_name"])).toBe("test-plugin");
    expect(s(p["plugin_root_id"])).toBe("test_root");
    expect(s(p["plugin_vm_id"])).toBe("test_vm");
    expect(s(p["xds/node/id"])).toBe("edgewatch-test-node");
    expect(p["request/path"].status).toBe(1);
    expect(p["source/address"].status).toBe(1);
    expect(wasmMessages(t.logger, "main")).toContain("root set_property status=1");
  });
});

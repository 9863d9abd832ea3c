// Pure pieces of the host: pair serialization, header map semantics, property encodings,
// HCM address helpers and the route table.
import { describe, expect, it } from "vitest";
import { WasmResult } from "../../harness/host/abi/status.js";
import { HeaderMap } from "../../harness/host/header-map.js";
import { PAIRS_MAX_COUNT, parsePairs, serializePairList, serializePairs } from "../../harness/host/pairs.js";
import { serializeValue, mapOf, str, int64 } from "../../harness/host/property-encoding.js";
import { isInternalIp, lastAddressFromXff, normalizeIp, buildRequestHeaders } from "../../harness/proxy/request-headers.js";
import { RouteTable } from "../../harness/proxy/route-table.js";
import { readModuleInfo } from "../../harness/host/wasm-binary.js";
import { wallClockWords } from "../../harness/host/imports/time.js";
import { buildModule } from "./support/wasm-builder.js";

describe("pairs serialization (cpp-host pairs_util.cc)", () => {
  it("serializes the reference example to 29 bytes with 4-byte sizes and NULs", () => {
    const b = serializePairList([["a", "1"], ["b", "22"]]);
    expect(b.toString("hex")).toBe("02000000" + "01000000" + "01000000" + "01000000" + "02000000" + "610031006200323200");
    expect(b.length).toBe(29);
    expect(parsePairs(b)).toEqual([["a", "1"], ["b", "22"]]);
  });

  it("round-trips empty values and byte strings", () => {
    const pairs: Array<[string, string]> = [["k", ""], ["", "v"], ["x-bin", "\u00ff\u0001"]];
    expect(parsePairs(serializePairList(pairs))).toEqual(pairs);
  });

  it("writes short and long byte strings alike (a JS loop up to 24 bytes, one native write beyond)", () => {
    const long = "v".repeat(47) + "\u00e9" + "x".repeat(200);
    const pairs: Array<[string, string]> = [["k".repeat(48), "\u00ff"], ["k".repeat(49), long], ["x-ctl", "a\u0001\u007f"], ["\u00e8".repeat(24), "\u00e9".repeat(25)]];
    const b = serializePairList(pairs);
    const ref = Buffer.concat([
      Buffer.from([4, 0, 0, 0]),
      ...pairs.map(([k, v]) => { const h = Buffer.alloc(8); h.writeUInt32LE(k.length, 0); h.writeUInt32LE(v.length, 4); return h; }),
      ...pairs.flatMap(([k, v]) => [Buffer.from(k, "latin1"), Buffer.from([0]), Buffer.from(v, "latin1"), Buffer.from([0])]),
    ]);
    expect(b.equals(ref)).toBe(true);
    expect(parsePairs(b)).toEqual(pairs);
  });

  it("treats malformed buffers as empty (missing NUL, trailing bytes, short)", () => {
    const good = serializePairList([["a", "1"]]);
    const noNul = Buffer.from(good);
    noNul[noNul.length - 1] = 0x41;
    expect(parsePairs(noNul)).toEqual([]);
    expect(parsePairs(Buffer.concat([good, Buffer.from([0])]))).toEqual([]);
    expect(parsePairs(good.subarray(0, good.length - 1))).toEqual([]);
    expect(parsePairs(Buffer.from([1, 0]))).toEqual([]);
  });

  it("treats over-limit buffers as empty (> 1024 pairs or > 1 MiB)", () => {
    const many = Array.from({ length: PAIRS_MAX_COUNT + 1 }, (_, i) => [`k${i}`, "v"] as [string, string]);
    expect(parsePairs(serializePairList(many))).toEqual([]);
    expect(parsePairs(serializePairList(many.slice(0, PAIRS_MAX_COUNT)))).toHaveLength(PAIRS_MAX_COUNT);
    const big = serializePairs(["k"], ["x".repeat(1024 * 1024)]);
    expect(parsePairs(big)).toEqual([]);
  });
});

describe("HeaderMap (Envoy HeaderMapImpl semantics)", () => {
  it("keeps pseudo headers before regular ones", () => {
    const h = new HeaderMap("request");
    h.append("accept", "*/*");
    h.append(":authority", "a");
    h.append(":path", "/");
    h.append("x", "1");
    h.addCopy(":method", "GET");
    expect(h.keys).toEqual([":authority", ":path", ":method", "accept", "x"]);
  });

  it("comma-appends a second addCopy of an inline header and duplicates others", () => {
    const h = new HeaderMap("request");
    h.addCopy("x-forwarded-for", "1.1.1.1");
    h.addCopy("x-forwarded-for", "2.2.2.2");
    h.addCopy("x-custom", "a");
    h.addCopy("x-custom", "b");
    expect(h.get("x-forwarded-for")).toBe("1.1.1.1,2.2.2.2");
    expect(h.entries().filter(([k]) => k === "x-custom")).toEqual([["x-custom", "a"], ["x-custom", "b"]]);
    expect(h.getAll("x-custom")).toBe("a,b");
  });

  it("setCopy replaces every value (entry moves to the end); byteSize sums keys and values", () => {
    const h = HeaderMap.fromPairs("request", [["a", "1"], ["b", "2"], ["a", "3"]]);
    h.setCopy("a", "x");
    expect(h.entries()).toEqual([["b", "2"], ["a", "x"]]);
    expect(h.byteSize()).toBe(4);
  });
});

describe("property value encoding (Envoy serializeValue)", () => {
  it("encodes strings raw, int64 as 8 bytes LE, bool as 1 byte", () => {
    expect(Buffer.from(serializeValue(str("héllo")).bytes!).toString("utf8")).toBe("héllo");
    expect(Buffer.from(serializeValue(int64(-2)).bytes!).toString("hex")).toBe("feffffffffffffff");
    expect(Buffer.from(serializeValue({ t: "bool", v: true }).bytes!).toString("hex")).toBe("01");
    expect(Buffer.from(serializeValue({ t: "uint", v: 258n }).bytes!).toString("hex")).toBe("0201000000000000");
    expect(Buffer.from(serializeValue({ t: "double", v: 1.5 }).bytes!).readDoubleLE(0)).toBe(1.5);
  });

  it("encodes maps as pairs of serialized values and lists with empty values", () => {
    const m = serializeValue(mapOf([["a", str("1")], ["n", int64(1)]]));
    expect(parsePairs(m.bytes!)).toEqual([["a", "1"], ["n", "\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0000"]]);
    const l = serializeValue({ t: "list", items: [str("x"), str("y")] });
    expect(parsePairs(l.bytes!)).toEqual([["x", ""], ["y", ""]]);
  });

  it("fails to serialize a map that cannot list its keys", () => {
    expect(serializeValue({ t: "map", get: () => undefined, keys: () => null }).status).toBe(WasmResult.SerializationFailure);
  });
});

describe("HCM address handling (conn_manager_utility.cc)", () => {
  const opts = { xffNumTrustedHops: 0, localAddress: "10.0.0.5", preserveExternalRequestId: false };

  it("picks the trusted client address from XFF by trusted hop count", () => {
    expect(lastAddressFromXff("1.1.1.1, 2.2.2.2", 0)).toBe("2.2.2.2");
    expect(lastAddressFromXff("1.1.1.1, 2.2.2.2", 1)).toBe("1.1.1.1");
    expect(lastAddressFromXff("1.1.1.1", 1)).toBeUndefined();
    expect(lastAddressFromXff("bogus", 0)).toBeUndefined();
  });

  it("classifies internal addresses like Envoy's legacy default", () => {
    for (const ip of ["10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1", "::1", "fd12::1"]) expect(isInternalIp(ip)).toBe(true);
    for (const ip of ["172.32.0.1", "8.8.8.8", "203.0.113.7", "2001:db8::1"]) expect(isInternalIp(ip)).toBe(false);
    expect(normalizeIp("::ffff:127.0.0.1")).toBe("127.0.0.1");
  });

  it("loopback peer, no XFF: internal request, node address appended, request id kept", () => {
    const r = buildRequestHeaders("GET", "/p", ["Host", "h", "X-Request-Id", "rid", "Connection", "keep-alive"], "127.0.0.1", opts);
    expect(r.internal).toBe(true);
    expect(r.headers.get("x-forwarded-for")).toBe("10.0.0.5");
    expect(r.headers.get("x-envoy-internal")).toBe("true");
    expect(r.headers.has("x-envoy-external-address")).toBe(false);
    expect(r.headers.get("x-request-id")).toBe("rid");
    expect(r.headers.has("connection")).toBe(false);
    expect(r.headers.keys.slice(0, 4)).toEqual([":authority", ":path", ":method", ":scheme"]);
  });

  it("external peer: edge request gets x-envoy-external-address and a fresh request id", () => {
    const r = buildRequestHeaders("GET", "/p", ["host", "h", "x-request-id", "rid", "x-envoy-retry-on", "5xx"], "198.51.100.4", opts);
    expect(r.internal).toBe(false);
    expect(r.headers.get("x-envoy-external-address")).toBe("198.51.100.4");
    expect(r.headers.get("x-forwarded-for")).toBe("198.51.100.4");
    expect(r.headers.get("x-request-id")).not.toBe("rid");
    expect(r.headers.has("x-envoy-retry-on")).toBe(false);
  });

  it("one trusted hop: the last XFF entry is the client, the peer is appended", () => {
    const r = buildRequestHeaders("GET", "/", ["host", "h", "x-forwarded-for", "203.0.113.7"], "198.51.100.4", { ...opts, xffNumTrustedHops: 1 });
    expect(r.clientAddress).toBe("203.0.113.7");
    expect(r.headers.get("x-forwarded-for")).toBe("203.0.113.7,198.51.100.4");
    expect(r.headers.get("x-envoy-external-address")).toBe("203.0.113.7");
  });
});

describe("route table", () => {
  it("matches exact paths without the query string, prefixes in order", () => {
    const t = new RouteTable([
      { name: "exact", match: { path: "/a" }, cluster: "c" },
      { name: "api", match: { prefix: "/api" }, cluster: "c" },
      { name: "all", match: { prefix: "/" }, cluster: "c" },
    ]);
    expect(t.match("/a?x=1")?.name).toBe("exact");
    expect(t.match("/ab")?.name).toBe("all");
    expect(t.match("/api/x")?.name).toBe("api");
  });
});

describe("wasm binary reader", () => {
  it("reports imports and exports with signatures", () => {
    const info = readModuleInfo(buildModule({
      imports: [{ module: "env", name: "proxy_log", params: ["i32", "i32", "i32"], results: ["i32"] }],
      exports: [{ name: "f", params: ["i32", "i64"], results: [] }],
    }));
    expect(info.imports).toEqual([{ module: "env", name: "proxy_log", kind: "function", sig: { params: ["i32", "i32", "i32"], results: ["i32"] } }]);
    expect(info.exports.find((e) => e.name === "f")?.sig).toEqual({ params: ["i32", "i64"], results: [] });
  });
});

describe("wall clock for proxy_get_current_time_nanoseconds (split into u32 words, no BigInt per read)", () => {
  const u64 = (w: { lo: number; hi: number }) => (BigInt(w.hi) << 32n) | BigInt(w.lo);
  const at = (sec: number, ns: number) => {
    const w = { lo: -1, hi: -1 };
    wallClockWords(sec, ns, w);
    return w;
  };

  it("equals offset + s·10^9 + ns modulo 2^64, exactly, across the hrtime range", () => {
    const offset = u64(at(0, 0));
    const secs = [0, 1, 65535, 65536, 65537, 4294, 4295, 1_000_000, 2 ** 31, 2 ** 32 - 1];
    let x = 7;
    for (let i = 0; i < 500; i++) secs.push((x = (Math.imul(x, 1103515245) + 12345) >>> 0));
    for (const sec of secs) {
      for (const ns of [0, 1, 999_999_999, sec % 1_000_000_000]) {
        const w = at(sec, ns);
        expect(Number.isInteger(w.lo) && w.lo >= 0 && w.lo < 2 ** 32 && w.hi >= 0 && w.hi < 2 ** 32, `${sec}s ${ns}ns`).toBe(true);
        expect(u64(w), `${sec}s ${ns}ns`).toBe(BigInt.asUintN(64, offset + BigInt(sec) * 1_000_000_000n + BigInt(ns)));
      }
    }
  });

  it("reads the wall clock (Date.now() in ns, within 50 ms)", () => {
    const [sec, ns] = process.hrtime();
    const now = u64(at(sec, ns));
    expect(Number(now / 1_000_000n - BigInt(Date.now()))).toBeGreaterThan(-50);
    expect(Number(now / 1_000_000n - BigInt(Date.now()))).toBeLessThan(50);
  });
});

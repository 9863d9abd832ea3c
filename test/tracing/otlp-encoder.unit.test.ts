/**
 * Span store (bounded FIFO of binary records) and the OTLP/HTTP JSON encoder, compiled to wasm;
 * the encoded batches are decoded with the official OTLP protobuf schema.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadAsEntry, type AsModule } from "./support/as-module.js";
import { decodeExportJson } from "../../harness/fixtures/otlp-schema.js";

let m: AsModule;
let x: Record<string, any>;

beforeAll(async () => {
  m = await loadAsEntry("assembly/tracing/__test__/entry.ts");
  x = m.exports;
}, 120_000);

interface SpanIn {
  traceHi: bigint; traceLo: bigint; spanId: bigint; parentId: bigint; start: bigint; end: bigint;
  status: number; flags: number; reason: number; method: number; local: boolean; decision: number;
  route: string; client: string; rule: string; tracestate: string;
}

function push(s: SpanIn): boolean {
  const strs = Buffer.from(s.route + s.client + s.rule + s.tracestate, "utf8");
  m.writeInput(strs);
  return x.spanPush(
    s.traceHi, s.traceLo, s.spanId, s.parentId, s.start, s.end, s.status, s.flags, s.reason, s.method,
    s.local ? 1 : 0, s.decision, Buffer.byteLength(s.route), Buffer.byteLength(s.client),
    Buffer.byteLength(s.rule), Buffer.byteLength(s.tracestate),
  ) !== 0;
}

function encode(n: number, service = "edgewatch"): string {
  const len = x.encode(n, m.writeInput(Buffer.from(service, "utf8")));
  return Buffer.from(m.readBytes(Number(x.writerPtr()), len)).toString("utf8");
}

const base: SpanIn = {
  traceHi: 0x4bf92f3577b34da6n, traceLo: 0xa3ce929d0e0e4736n, spanId: 0x00f067aa0ba902b7n, parentId: 0x1122334455667788n,
  start: 1_700_000_000_123_456_789n, end: 1_700_000_000_223_456_789n, status: 200, flags: 3, reason: 2, method: 0,
  local: false, decision: 0, route: "api", client: "203.0.113.7", rule: "", tracestate: "ot=th:8,rojo=1",
};

describe("OTLP JSON encoder", () => {
  it("encodes server spans the official schema accepts, with every field", () => {
    x.storeInit(16, 1024);
    push(base);
    push({ ...base, spanId: 0xabcdefn, parentId: 0n, status: 503, flags: 2, reason: 3, method: 9, local: true,
      decision: 4, route: "r\"q\\x\u0001", client: "", rule: "deny-1", tracestate: "" });
    const body = encode(2, "edge \"svc\"");
    const { spans, message } = decodeExportJson(body);
    expect(message.resourceSpans).toHaveLength(1);
    expect(spans).toHaveLength(2);
    const [a, b] = spans;
    expect(a).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", parentSpanId: "1122334455667788",
      traceState: "ot=th:8,rojo=1", flags: 0x303, name: "GET api", kind: 2, statusCode: 0,
      serviceName: 'edge "svc"', scopeName: "edgewatch",
      startTimeUnixNano: 1_700_000_000_123_456_789n, endTimeUnixNano: 1_700_000_000_223_456_789n,
    });
    expect(a.attributes).toEqual({
      "http.request.method": "GET", "http.route": "api", "http.response.status_code": 200,
      "client.address": "203.0.113.7", "edgewatch.rule.decision": "allow",
      "edgewatch.response.source": "upstream", "edgewatch.sampling.reason": "probability",
    });
    expect(b).toMatchObject({ spanId: "0000000000abcdef", parentSpanId: "", flags: 0x102, name: "HTTP r\"q\\x\u0001",
      statusCode: 2, traceState: "" });
    expect(b.attributes).toMatchObject({
      "http.request.method": "_OTHER", "http.response.status_code": 503, "edgewatch.rule.decision": "cold_start_deny",
      "edgewatch.rule.id": "deny-1", "edgewatch.response.source": "local", "edgewatch.sampling.reason": "error",
    });
    expect(b.attributes["client.address"]).toBeUndefined();
  });

  it("the strict decoder rejects what the schema does not define", () => {
    x.storeInit(4, 1024);
    push(base);
    const body = encode(1);
    expect(() => decodeExportJson(body.replace('"kind":2', '"kind":2,"bogusField":1'))).toThrow(/not a field/);
    expect(() => decodeExportJson(body.replace('"traceId":"4bf9', '"traceId":"4BF9'))).toThrow(/hex id/);
    expect(() => decodeExportJson(body.replace('"kind":2', '"kind":"server"'))).toThrow();
  });
});

describe("span store", () => {
  it("drops the oldest record when full and keeps FIFO order across compaction and growth", () => {
    x.storeInit(4, 1024);
    const dropped: boolean[] = [];
    for (let i = 0; i < 10; i++) dropped.push(push({ ...base, spanId: BigInt(i + 1), rule: "x".repeat(i * 40) }));
    expect(dropped).toEqual([false, false, false, false, true, true, true, true, true, true]);
    expect(x.storeCount()).toBe(4);
    const { spans } = decodeExportJson(encode(4));
    expect(spans.map((s) => Number(BigInt("0x" + s.spanId)))).toEqual([7, 8, 9, 10]);
    x.storeDrop(2);
    for (let i = 10; i < 200; i++) push({ ...base, spanId: BigInt(i + 1), tracestate: "k=" + "v".repeat(i % 200 + 1) });
    expect(x.storeCount()).toBe(4);
    const { spans: s2 } = decodeExportJson(encode(4));
    expect(s2.map((s) => Number(BigInt("0x" + s.spanId)))).toEqual([197, 198, 199, 200]);
    expect(s2[3].traceState).toBe("k=" + "v".repeat(200));
    expect(x.storeArena()).toBeLessThan(16384);
  });
});

/**
 * Pure trace-context modules compiled to wasm (assembly/tracing/__test__/entry.ts):
 * traceparent / tracestate parsing by the W3C Trace Context rules, the OpenTelemetry `ot=th:`
 * threshold encoding and the consistent keep decision.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadAsEntry, type AsModule } from "./support/as-module.js";
import { INVALID_TRACEPARENTS, INVALID_TRACESTATES, VALID_TRACEPARENT } from "../conformance/support/trace-corpus.js";

let m: AsModule;
let x: Record<string, any>;

beforeAll(async () => {
  m = await loadAsEntry("assembly/tracing/__test__/entry.ts");
  x = m.exports;
}, 120_000);

function parseTp(s: string): boolean {
  return x.tpParse(m.writeInput(s)) !== 0;
}
function parseTs(s: string): boolean {
  return x.tsParse(m.writeInput(s)) !== 0;
}
const hex = (v: bigint, n: number) => v.toString(16).padStart(n, "0");

describe("traceparent", () => {
  it("parses a valid version-00 header", () => {
    expect(parseTp(VALID_TRACEPARENT)).toBe(true);
    expect(hex(BigInt.asUintN(64, x.tpTraceHi()), 16) + hex(BigInt.asUintN(64, x.tpTraceLo()), 16)).toBe(
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
    expect(hex(BigInt.asUintN(64, x.tpParent()), 16)).toBe("00f067aa0ba902b7");
    expect(x.tpFlags()).toBe(1);
  });

  it("accepts surrounding whitespace and a future version with extra fields", () => {
    expect(parseTp(` \t${VALID_TRACEPARENT}\t `)).toBe(true);
    expect(parseTp("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like")).toBe(true);
    expect(x.tpVersion()).toBe(0xcc);
    expect(parseTp("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09")).toBe(true);
    expect(x.tpFlags()).toBe(9);
  });

  it.each(INVALID_TRACEPARENTS)("rejects %j", (value) => {
    expect(parseTp(value)).toBe(false);
  });

  it("formats version 00 with only the sampled and random flags", () => {
    x.tpFormat(0x0102030405060708n, 0x090a0b0c0d0e0f10n, 0xaabbccddeeff0011n, 0xff);
    expect(m.readOutput(55)).toBe("00-0102030405060708090a0b0c0d0e0f10-aabbccddeeff0011-03");
  });
});

describe("tracestate", () => {
  it("parses members, OWS and empty members", () => {
    expect(parseTs("congo=t61rcWkgMzE, rojo=00f067aa0ba902b7 ,, ot=th:8;rv:0123456789abcd")).toBe(true);
    expect(x.tsCount()).toBe(3);
    expect(x.tsOtIndex()).toBe(2);
    expect(x.tsOtValid()).toBe(1);
    expect(BigInt.asUintN(64, x.tsTh())).toBe(0x80000000000000n);
    expect(BigInt.asUintN(64, x.tsRv())).toBe(0x0123456789abcdn);
  });

  it("accepts multi-tenant keys, 32 members and 256-char values", () => {
    expect(parseTs("t0@sys=1,9tenant@a-b*/=x")).toBe(true);
    expect(parseTs(Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(","))).toBe(true);
    expect(parseTs(`a=${"x".repeat(256)}`)).toBe(true);
    expect(parseTs(`a= leading-space-is-a-chr`)).toBe(true);
  });

  it.each(INVALID_TRACESTATES)("rejects %j", (value) => {
    expect(parseTs(value)).toBe(false);
  });

  it("rewrites ot=th: first, keeps rv and other sub-keys, leaves others in order", () => {
    parseTs("rojo=1,ot=rv:0123456789abcd;th:8;foo:bar,congo=2");
    const t = BigInt.asUintN(64, x.threshold(0.25));
    const n = x.tsBuild(1, t);
    expect(m.readOutput(n)).toBe("ot=th:c;rv:0123456789abcd;foo:bar,rojo=1,congo=2");
    // same threshold already present → unchanged, no header write needed
    parseTs("ot=th:c,rojo=1");
    expect(x.tsBuild(1, t)).toBe(-1);
    // remove th when the propagated context is not sampled
    parseTs("rojo=1,ot=th:c;rv:0123456789abcd");
    const r = x.tsBuild(2, 0n);
    expect(m.readOutput(r)).toBe("ot=rv:0123456789abcd,rojo=1");
    parseTs("rojo=1,ot=th:c");
    const r2 = x.tsBuild(2, 0n);
    expect(m.readOutput(r2)).toBe("rojo=1");
    parseTs("rojo=1");
    expect(x.tsBuild(2, 0n)).toBe(-1);
    expect(x.tsBuild(0, 0n)).toBe(-1);
  });

  it("erases a th that does not parse, in every mode", () => {
    for (const bad of ["th:", "th:123456789abcdef", "th:XY"]) {
      // not sampled: removed even though it never parsed
      parseTs(`ot=${bad};rv:00f067aa0ba902,rojo=1`);
      expect(m.readOutput(x.tsBuild(2, 0n)), bad).toBe("ot=rv:00f067aa0ba902,rojo=1");
      parseTs(`ot=${bad},rojo=1`);
      expect(m.readOutput(x.tsBuild(2, 0n)), bad).toBe("rojo=1");
      // parent kept as is: the rest of ot stays, the invalid th goes
      parseTs(`rojo=1,ot=${bad};rv:00f067aa0ba902`);
      expect(m.readOutput(x.tsBuild(0, 0n)), bad).toBe("ot=rv:00f067aa0ba902,rojo=1");
      // sampled by probability: replaced by ours
      parseTs(`ot=${bad},rojo=1`);
      expect(m.readOutput(x.tsBuild(1, 0n)), bad).toBe("ot=th:0,rojo=1");
    }
    // a valid th under Keep: nothing to rewrite
    parseTs("ot=th:8,rojo=1");
    expect(x.tsBuild(0, 0n)).toBe(-1);
  });

  it("drops an ot member that breaks OpenTelemetry's grammar", () => {
    parseTs("ot=th:zz;;bad,rojo=1");
    expect(x.tsOtValid()).toBe(0);
    const n = x.tsBuild(1, 0n);
    expect(m.readOutput(n)).toBe("ot=th:0,rojo=1");
  });

  it("keeps the output within 512 characters, dropping long members first", () => {
    const long = `big=${"x".repeat(200)}`;
    const members = ["a=1", long, ...Array.from({ length: 20 }, (_, i) => `m${i}=${"y".repeat(20)}`), "z=9"];
    expect(parseTs(members.join(","))).toBe(true);
    const n = x.tsBuild(1, 0n);
    const out = m.readOutput(n);
    expect(out.length).toBeLessThanOrEqual(512);
    expect(out.startsWith("ot=th:0,a=1,m0=")).toBe(true);
    expect(out).not.toContain("big=");
    expect(out.endsWith("z=9")).toBe(true);
    // without a long member, members are dropped from the end
    const many = Array.from({ length: 32 }, (_, i) => `k${String(i).padStart(2, "0")}=${"v".repeat(20)}`);
    parseTs(many.join(","));
    const out2 = m.readOutput(x.tsBuild(1, 0n));
    expect(out2.length).toBeLessThanOrEqual(512);
    expect(out2.startsWith("ot=th:0,k00=")).toBe(true);
    expect(out2).not.toContain("k31=");
  });

  it("starts a fresh tracestate only when sampled by probability", () => {
    expect(x.tsFresh(0, 0n)).toBe(0);
    const t = BigInt.asUintN(64, x.threshold(0.1));
    const n = x.tsFresh(1, t);
    expect(m.readOutput(n)).toBe("ot=th:e666");
  });
});

describe("consistent probability sampling", () => {
  it("encodes thresholds like OpenTelemetry (T = (1-p)·2^56, trailing zeros dropped)", () => {
    const th = (p: number) => m.readOutput(x.thWrite(BigInt.asUintN(64, x.threshold(p))));
    expect(th(1)).toBe("0");
    expect(th(0.5)).toBe("8");
    expect(th(0.25)).toBe("c");
    expect(th(0.1)).toBe("e666");
    expect(th(0.01)).toBe("fd70a");
    expect(th(1 / 3)).toBe("aaab");
    expect(BigInt.asUintN(64, x.threshold(0))).toBe(1n << 56n);
  });

  it("parses th values of 1..14 digits", () => {
    expect(BigInt.asUintN(64, x.thParse(m.writeInput("8")))).toBe(0x80000000000000n);
    expect(BigInt.asUintN(64, x.thParse(m.writeInput("fd70a")))).toBe(0xfd70a000000000n);
    expect(BigInt.asUintN(64, x.thParse(m.writeInput("")))).toBe(2n ** 64n - 1n);
    expect(BigInt.asUintN(64, x.thParse(m.writeInput("0123456789abcde")))).toBe(2n ** 64n - 1n);
    expect(BigInt.asUintN(64, x.thParse(m.writeInput("F")))).toBe(2n ** 64n - 1n);
  });

  it("keeps iff the trace id's right 56 bits reach the threshold", () => {
    const t = BigInt.asUintN(64, x.threshold(0.5));
    expect(x.keep(0xff7fffffffffffffn, t)).toBe(0); // R = 0x7fffffffffffff < 0x80000000000000
    expect(x.keep(0x0080000000000000n, t)).toBe(1); // R = 0x80000000000000
  });

  it("keeps a fraction p of random trace ids (within 4 sigma)", () => {
    const n = 200_000;
    for (const p of [0.01, 0.1, 0.5, 0.9]) {
      const kept = x.keepCount(0x9e3779b97f4a7c15n, n, p);
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(kept - n * p)).toBeLessThan(4 * sigma);
    }
  });
});

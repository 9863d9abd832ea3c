/**
 * The filter's tracer (build/edgewatch.wasm) driven call by call through a minimal host
 * (harness/driver/filter-driver.ts), for what HTTP cannot carry or a proxy cannot show exactly:
 * header values no client can send (control bytes, outer whitespace, non-ASCII) and random bytes of
 * any length never trap and always give a valid traceparent, and consistency across rates (a lower
 * rate keeps a subset of a higher one). Propagation, the corpus of invalid headers, trust_parent,
 * `ot=rv`, sampling rates, tail keeps and the OTLP export are checked through a proxy in the
 * conformance suite (test/conformance/trace-*.test.ts).
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { FilterDriver } from "../../harness/driver/filter-driver.js";
import { REPO_ROOT } from "./support/as-module.js";
import { INVALID_TRACEPARENTS, INVALID_TRACESTATES, VALID_TRACEPARENT } from "../conformance/support/trace-corpus.js";
import { decodeExportJson } from "../../harness/fixtures/otlp-schema.js";

const WASM = resolve(REPO_ROOT, "build/edgewatch.wasm");
const TP_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function driver(opts: { rate?: number; routes?: Record<string, number>; trust?: string; trusted?: string[];
  collector?: Record<string, unknown>; keep5xx?: boolean; slowMs?: number; enabled?: boolean } = {}): FilterDriver {
  const config = {
    tracing: {
      enabled: opts.enabled ?? true,
      trust_parent: opts.trust ?? "always",
      ...(opts.trusted ? { trusted_cidrs: opts.trusted } : {}),
      collector: { cluster: "otel", batch_max: 64, buffer_max: 1000, flush_ms: 100, ...(opts.collector ?? {}) },
    },
    rules: {
      version: 1,
      access: [{ id: "blocked", action: "deny", cidrs: ["198.51.100.0/24"] }],
      sampling: {
        default_rate: opts.rate ?? 1, routes: opts.routes ?? {},
        always_keep_5xx: opts.keep5xx ?? true, slow_threshold_ms: opts.slowMs ?? 0,
      },
    },
  };
  const d = new FilterDriver({ wasmPath: WASM, configuration: JSON.stringify(config) });
  d.keepSamples = false;
  return d;
}

const req = (extra: Array<[string, string]> = []): Array<[string, string]> => [
  [":method", "GET"], [":path", "/p"], [":authority", "edge.test"], ...extra,
];
const header = (h: Array<[string, string]>, k: string) => h.find(([n]) => n === k)?.[1];
/** Sampled bit of the traceparent the filter forwarded. */
const sampledOut = (h: Array<[string, string]>) => (parseInt(header(h, "traceparent")!.slice(-2), 16) & 1) === 1;
const randomTraceId = () => randomBytes(16).toString("hex");
const randomSpanId = () => {
  let s = randomBytes(8).toString("hex");
  while (s === "0000000000000000") s = randomBytes(8).toString("hex");
  return s;
};

/** Header values an HTTP client cannot send as they are (the conformance suite sends the others). */
const unsendable = (v: string) => /[\u0000-\u001f\u007f-\uffff]/.test(v) || v.trim() !== v;

describe("header bytes HTTP cannot carry", () => {
  it("invalid traceparents with control, non-ASCII or surrounding bytes start a new trace and drop tracestate", () => {
    const d = driver({ rate: 1 });
    const cases = INVALID_TRACEPARENTS.filter(unsendable);
    expect(cases.length).toBeGreaterThan(0);
    for (const bad of cases) {
      const out = d.request({ headers: req([["traceparent", bad], ["tracestate", "rojo=1"]]), routeName: "api" });
      const m = TP_RE.exec(header(out, "traceparent")!);
      expect(m, JSON.stringify(bad)).not.toBeNull();
      expect(m![1]).not.toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      expect(header(out, "tracestate")).toBe("ot=th:0"); // only our own member
    }
    for (const bad of INVALID_TRACESTATES.filter(unsendable)) {
      const out = d.request({ headers: req([["traceparent", VALID_TRACEPARENT], ["tracestate", bad]]), routeName: "api" });
      expect(TP_RE.exec(header(out, "traceparent")!)![1]).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      expect(header(out, "tracestate"), JSON.stringify(bad)).toBeUndefined(); // parent-sampled: nothing of ours to add
    }
  });

  it("random bytes of any length in traceparent and tracestate never trap and always give a valid traceparent", () => {
    const d = driver({ rate: 1 });
    for (let i = 0; i < 2000; i++) {
      const len = i % 120;
      const s = Array.from(randomBytes(len), (b) => String.fromCharCode(i % 2 ? b : 0x20 + (b % 95))).join("");
      const out = d.request({ headers: req([["traceparent", s], ["tracestate", s]]), routeName: "api" });
      expect(TP_RE.test(header(out, "traceparent")!)).toBe(true);
    }
    expect(d.logs.filter((l) => /abort|failed/.test(l))).toEqual([]);
  });
});

describe("consistency across rates", () => {
  it("a lower rate keeps a subset of what a higher rate keeps", () => {
    const d10 = driver({ rate: 0.1, trust: "never" });
    const d50 = driver({ rate: 0.5, trust: "never" });
    let kept10 = 0;
    for (let i = 0; i < 2000; i++) {
      const tp = `00-${randomTraceId()}-${randomSpanId()}-01`;
      const s10 = sampledOut(d10.request({ headers: req([["traceparent", tp]]), routeName: "x" }));
      const s50 = sampledOut(d50.request({ headers: req([["traceparent", tp]]), routeName: "x" }));
      if (s10) {
        kept10++;
        expect(s50).toBe(true);
      }
    }
    expect(kept10).toBeGreaterThan(100);
  });
});

describe("the span records the tracestate the request went upstream with", () => {
  // Head-sampled spans keep a copy made when the header was written (no read-back host call at
  // on_log); spans kept only at the tail, or lists over 256 bytes, read the request header back.
  const long = Array.from({ length: 20 }, (_, i) => `vendor${i}=${"v".repeat(12)}`).join(",");
  const cases: Array<{ what: string; d: () => FilterDriver; headers: Array<[string, string]>; status?: number }> = [
    { what: "forwarded unchanged (trusted sampled parent)", d: () => driver({ trust: "always" }), headers: [["traceparent", VALID_TRACEPARENT], ["tracestate", "rojo=1,congo=2"]] },
    { what: "rewritten with ot=th (probability)", d: () => driver({ trust: "never", rate: 1 }), headers: [["traceparent", VALID_TRACEPARENT], ["tracestate", "rojo=1"]] },
    { what: "joined from two header lines", d: () => driver({ trust: "always" }), headers: [["traceparent", VALID_TRACEPARENT], ["tracestate", "rojo=1"], ["tracestate", "congo=2"]] },
    { what: "longer than 256 bytes (read back)", d: () => driver({ trust: "always" }), headers: [["traceparent", VALID_TRACEPARENT], ["tracestate", long]] },
    { what: "kept at the tail only (5xx, read back)", d: () => driver({ trust: "never", rate: 0 }), headers: [["traceparent", VALID_TRACEPARENT], ["tracestate", "rojo=1"]], status: 503 },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const d = c.d();
      const out = d.request({ headers: req(c.headers), routeName: "api", status: c.status });
      d.advance(200);
      d.tick();
      expect(d.httpCalls.length, "one export").toBe(1);
      const spans = decodeExportJson(d.httpCalls[0].body).spans;
      expect(spans).toHaveLength(1);
      const sent = out.filter(([k]) => k === "tracestate").map(([, v]) => v);
      expect(sent.length).toBeLessThanOrEqual(1);
      expect(spans[0].traceState).toBe(sent[0] ?? "");
      expect(spans[0].traceState.length).toBeGreaterThan(0);
    });
  }
});

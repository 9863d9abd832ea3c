/**
 * Bug (issue #12.4): two `traceparent` header lines were read as one. The filter asked Envoy's
 * get_header_map_value, which returns only the FIRST line (context.cc getHeaderMapValue: `entry[0]`),
 * continued that trace, and replaced the header: the second line was silently dropped. Per W3C
 * Trace Context a request carrying two traceparent lines has one combined, invalid traceparent
 * (RFC 9110 field combination), so it must start a new trace (and ignore tracestate).
 * Fix: every request header the filter needs comes from ONE get_header_map_pairs read per request
 * (assembly/host/request-headers.ts), which sees every line; the common traced path now makes fewer
 * header/property host calls than before, not more.
 *
 * Through the REAL embedded host at call level (harness/fuzz/host-driver.ts), whose
 * get_header_map_value returns the first line as Envoy's does (test/host/headers.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { FuzzHost } from "./support.js";
import { FilterDriver } from "../../harness/driver/filter-driver.js";
import { REPO_ROOT } from "../tracing/support/as-module.js";

const TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736";
const TP_011 = `00-${TRACE_A}-00f067aa0ba90011-01`;
const TP_012 = `00-${TRACE_A}-00f067aa0ba90012-01`;
const TP_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

let h: FuzzHost;
beforeAll(async () => {
  h = await FuzzHost.start({ configuration: JSON.stringify({ tracing: { trust_parent: "always" }, rules: { version: 1, access: [], sampling: { default_rate: 0 } } }) });
});
afterAll(async () => { await h?.close(); });

const req = (lines: Array<[string, string]>) =>
  h.request({ rawAppend: true, headers: [[":method", "GET"], [":path", "/t"], [":authority", "a"], ...lines] });

describe("issue-12: several traceparent header lines", () => {
  it("control: one traceparent line continues its trace (sampled parent trusted)", () => {
    const o = req([["traceparent", TP_011], ["tracestate", "rojo=00f067aa0ba902b7"]]);
    const out = o.forwarded!.getAll("traceparent")!;
    const m = TP_RE.exec(out)!;
    expect(m[1]).toBe(TRACE_A);
    expect(m[3]).toBe("01");
    expect(o.forwarded!.getAll("tracestate")).toBe("rojo=00f067aa0ba902b7");
  });

  it("two lines are one invalid traceparent: a new trace starts, tracestate is dropped, one line goes upstream", () => {
    const o = req([["traceparent", TP_011], ["traceparent", TP_012], ["tracestate", "rojo=00f067aa0ba902b7"]]);
    const lines = o.forwarded!.entries().filter(([k]) => k === "traceparent").map(([, v]) => v);
    expect(lines).toHaveLength(1);
    const m = TP_RE.exec(lines[0])!;
    expect(m, lines[0]).not.toBeNull();
    expect(m[1], "a new trace id").not.toBe(TRACE_A);
    expect(m[3], "sampling decided here (rate 0), not by the invalid parent's sampled flag").toBe("02");
    expect(o.forwarded!.getAll("tracestate"), "no vendor state for a restarted trace").toBeUndefined();
  });

  it("the same two lines with identical values are still two lines: a new trace", () => {
    const o = req([["traceparent", TP_011], ["traceparent", TP_011]]);
    expect(TP_RE.exec(o.forwarded!.getAll("traceparent")!)![1]).not.toBe(TRACE_A);
  });
});

describe("issue-12: request headers are read once per request", () => {
  it("a traced request with traceparent and tracestate reads headers and properties in at most 3 host calls", () => {
    const d = new FilterDriver({
      wasmPath: resolve(REPO_ROOT, "build/edgewatch.wasm"), countCalls: true,
      configuration: JSON.stringify({ client_address: { source: "xff", xff_trusted_hops: 1 }, tracing: { trust_parent: "never" }, rules: { version: 1, access: [], sampling: { default_rate: 0 } } }),
    });
    const headers: Array<[string, string]> = [[":method", "GET"], [":path", "/a"], [":authority", "e"], ["x-forwarded-for", "192.0.2.7, 10.0.0.1"], ["traceparent", TP_011], ["tracestate", "rojo=1"]];
    for (let i = 0; i < 50; i++) d.request({ headers, routeName: "api" }); // warm-up: metric ids defined
    d.callCounts.clear();
    const n = 100;
    for (let i = 0; i < n; i++) d.request({ headers, routeName: "api" });
    const reads = ["env.proxy_get_header_map_value", "env.proxy_get_header_map_pairs", "env.proxy_get_property"]
      .reduce((a, k) => a + (d.callCounts.get(k) ?? 0), 0) / n;
    // request headers (one pairs read), xds.route_name, :status of the response
    expect(reads, JSON.stringify(Object.fromEntries(d.callCounts))).toBe(3);
    expect(d.callCounts.get("env.proxy_get_header_map_pairs")! / n).toBe(1);
  });
});

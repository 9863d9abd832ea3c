/**
 * Bug: only the FIRST tracestate header line is read. W3C Trace Context: multiple tracestate
 * headers form one list ("combined as a single header"). With two lines:
 *   - a rewrite (the proxy samples and writes ot=th:) replaces the header with a list built from
 *     line 1 only: the members of line 2 are silently dropped;
 *   - an invalid member (or a key duplicated across lines) in line 2 is never seen: the invalid
 *     combined list is forwarded upstream instead of being discarded.
 * Where: assembly/tracing/tracer.ts begin(): getHeaderBytes(RequestHeaders, "tracestate") (Envoy
 * get_header_map_value returns the first value).
 * Fix: read every tracestate entry (proxy_get_header_map_pairs, as access.ts does for
 * X-Forwarded-For) and parse them joined with ","; write back one combined line.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FuzzHost } from "./support.js";
import { parseTracestateRef } from "../../harness/fuzz/reference/w3c.js";

const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

let sampled: FuzzHost;
let unsampled: FuzzHost;
beforeAll(async () => {
  const cfg = (rate: number) => JSON.stringify({ tracing: { trust_parent: "never" }, rules: { version: 1, access: [], sampling: { default_rate: rate } } });
  sampled = await FuzzHost.start({ configuration: cfg(1) });
  unsampled = await FuzzHost.start({ configuration: cfg(0) });
});
afterAll(async () => { await sampled?.close(); await unsampled?.close(); });

const req = (h: FuzzHost, lines: string[]) =>
  h.request({ rawAppend: true, headers: [[":method", "GET"], [":path", "/t"], [":authority", "a"], ["traceparent", TP], ...lines.map((l) => ["tracestate", l] as [string, string])] });

describe("issue-8: tracestate split over several header lines", () => {
  it("control: one line keeps every member when the proxy rewrites it", () => {
    const o = req(sampled, ["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]);
    const out = o.forwarded!.getAll("tracestate")!;
    expect(out).toContain("rojo=00f067aa0ba902b7");
    expect(out).toContain("congo=t61rcWkgMzE");
  });

  it("a rewrite keeps the members of the second line", () => {
    const o = req(sampled, ["rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE"]);
    const out = o.forwarded!.getAll("tracestate")!;
    expect(out).toMatch(/(^|,)ot=th:0(,|$)/);
    expect(out, "member of the second tracestate line").toContain("congo=t61rcWkgMzE");
  });

  it("an invalid member in the second line invalidates the list: it is not forwarded", () => {
    const o = req(unsampled, ["rojo=00f067aa0ba902b7", "Bad Key=1"]);
    const out = o.forwarded!.getAll("tracestate");
    expect(out === undefined || parseTracestateRef(out) !== null, `forwarded ${JSON.stringify(out)}`).toBe(true);
  });
});

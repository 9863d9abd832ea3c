/**
 * Bug: an `ot` tracestate member whose th sub-key does not parse (empty "th:", more than 14 hex
 * digits) is forwarded unchanged on a context the proxy did NOT sample. The tracer documents
 * "when the propagated context is not sampled any th is removed" (a th on an unsampled context is
 * inconsistent: downstream consistent samplers would read a threshold that was not applied).
 * Where: assembly/tracing/tracestate.ts buildTracestate(): in ThMode.Remove, `changed` is
 * ts.hasTh, and hasTh is false for an unparsable th, so the member is forwarded as is.
 * Fix: track "a th sub-key is present" separately from "th parsed" and drop any th when removing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FuzzHost } from "./support.js";

let h: FuzzHost;
beforeAll(async () => {
  h = await FuzzHost.start({ configuration: JSON.stringify({ tracing: { trust_parent: "never" }, rules: { version: 1, access: [], sampling: { default_rate: 0 } } }) });
});
afterAll(async () => { await h?.close(); });

const send = (ts: string) => h.request({ headers: [[":method", "GET"], [":path", "/t"], [":authority", "a"],
  ["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"], ["tracestate", ts]] });

describe("issue-8: unparsable th kept on an unsampled context", () => {
  it("control: a valid th is removed when not sampled", () => {
    const out = send("ot=th:8,rojo=1").forwarded!.get("tracestate") ?? "";
    expect(out).not.toMatch(/th:/);
  });

  for (const ts of ["ot=th:,rojo=1", "ot=th:123456789abcdef,rojo=1", "ot=th:;rv:00f067aa0ba902,rojo=1"]) {
    it(`"${ts}" → no th forwarded`, () => {
      const o = send(ts);
      expect(h.trapped()).toBe(false);
      expect((parseInt(o.forwarded!.get("traceparent")!.slice(53), 16) & 1)).toBe(0);
      expect(o.forwarded!.get("tracestate") ?? "").not.toMatch(/(^|[=;])th:/);
    });
  }
});

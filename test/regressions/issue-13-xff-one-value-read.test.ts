/**
 * Issue 13 (request path): the client address from X-Forwarded-For cost a read of EVERY request
 * header (get_header_map_pairs: the host serializes them all, the VM copies and scans them) on each
 * request, because the header was read as a list over lines. In Envoy it is one entry whatever
 * arrives (an inline header: HeaderMapImpl appends each further line after a ','), so one
 * get_header_map_value returns the whole list. With tracing on, the pairs the tracer reads anyway
 * serve the XFF walk too (no second call). Through the embedded host this took 6-7 µs off a cold
 * request (bench/request-path.ts --host --cold --compare, both cases below).
 *
 * Driven at call level: the filter's host calls are counted by import.
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { FilterDriver } from "../../harness/driver/filter-driver.js";
import { REPO_ROOT } from "../tracing/support/as-module.js";

const WASM = resolve(REPO_ROOT, "build/edgewatch.wasm");
const ACCESS = [{ id: "deny-net", cidrs: ["203.0.113.0/24"] }];

function driver(tracing: boolean): FilterDriver {
  const d = new FilterDriver({
    wasmPath: WASM,
    countCalls: true,
    configuration: JSON.stringify({
      client_address: { source: "xff", xff_trusted_hops: 1 },
      tracing: tracing ? { enabled: true, collector: { cluster: "otel" } } : { enabled: false },
      rules: { version: 1, access: ACCESS, sampling: { default_rate: 0 } },
    }),
  });
  d.keepSamples = false;
  d.keepCalls = false;
  d.autoAnswer = 200;
  return d;
}

/** Was one request from `xff` (the proxy's own hop last) denied, and its header reads by import. */
function request(d: FilterDriver, xff: string): { denied: boolean; value: number; pairs: number } {
  d.callCounts.clear();
  const replies = d.localReplies;
  d.request({ headers: [[":method", "GET"], [":path", "/x"], [":authority", "edge"], ["x-forwarded-for", xff]] });
  const n = (k: string) => d.callCounts.get(`env.${k}`) ?? 0;
  return { denied: d.localReplies > replies, value: n("proxy_get_header_map_value"), pairs: n("proxy_get_header_map_pairs") };
}

describe("X-Forwarded-For costs one header value read, not every request header", () => {
  it("tracing off: one get_header_map_value per request, no pairs; the trusted hop is still skipped", () => {
    const d = driver(false);
    const denied = request(d, "203.0.113.9, 10.0.0.1");
    expect(denied.denied).toBe(true);
    const allowed = request(d, "203.0.113.9, 198.51.100.1, 10.0.0.1");
    expect(allowed.denied).toBe(false);
    // on_request_headers reads x-forwarded-for; on_response_headers reads :status (response map).
    expect(denied.pairs).toBe(0);
    expect(allowed.pairs).toBe(0);
    expect(denied.value).toBe(2);
  });

  it("tracing on: the request pairs the tracer reads serve the XFF walk, one read in all", () => {
    const d = driver(true);
    const denied = request(d, "203.0.113.9, 10.0.0.1");
    expect(denied.denied).toBe(true);
    expect(denied.pairs).toBe(1);
    expect(denied.value).toBe(1); // :status of the response only
  });
});

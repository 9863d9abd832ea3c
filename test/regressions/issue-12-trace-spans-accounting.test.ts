/**
 * Bug (issue #12.3): kept spans vanished from the export accounting. With tracing on and no
 * collector configured, edgewatch_trace_spans_kept_total reached 70 while exported, dropped and
 * buffered stayed 0: on_log counted the span as kept and returned because the exporter was off.
 * Fix: every kept span ends in exactly one of exported / dropped{reason} / buffered, the drop reasons
 * being buffer_full, rejected (collector refused the batch), shutdown (root context gone) and
 * no_collector; so kept = exported + dropped + buffered in every configuration.
 *
 * Driven through the real filter at call level (harness/driver/filter-driver.ts: http_calls
 * recorded and answered by the test, deterministic clock). Each configuration checks the invariant
 * from the metrics alone, the way a dashboard would.
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { FilterDriver } from "../../harness/driver/filter-driver.js";
import { REPO_ROOT } from "../tracing/support/as-module.js";

const WASM = resolve(REPO_ROOT, "build/edgewatch.wasm");
const GET: Array<[string, string]> = [[":method", "GET"], [":path", "/api/x"], [":authority", "edge"]];

function driver(tracing: Record<string, unknown>, sampling: Record<string, unknown>): FilterDriver {
  const d = new FilterDriver({
    wasmPath: WASM,
    configuration: JSON.stringify({ tracing, rules: { version: 1, access: [], sampling } }),
  });
  d.fixedClockNs = 1_800_000_000_000_000_000n;
  return d;
}

/** kept / exported / dropped by reason / buffered, summed from the metrics the filter defined. */
function accounting(d: FilterDriver) {
  const kept: Record<string, number> = {};
  const dropped: Record<string, number> = {};
  for (const [name, v] of d.snapshot()) {
    // (an unlabelled dropped counter, as older builds had, counts too: only the sums are compared)
    const m = /^edgewatch\.(?:reason=\.=(\w+);\.;)?trace_spans_(kept|dropped)_total$/.exec(name);
    if (!m) continue;
    const into = m[2] === "kept" ? kept : dropped;
    const reason = m[1] ?? "unlabelled";
    into[reason] = (into[reason] ?? 0) + Number(v);
  }
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const exported = Number(d.metric("edgewatch.trace_spans_exported_total") ?? 0n);
  const buffered = Number(d.metric("edgewatch.trace_spans_buffered") ?? 0n);
  return { kept: sum(kept), keptBy: kept, exported, dropped: sum(dropped), droppedBy: dropped, buffered };
}

function expectBalanced(d: FilterDriver, keptAtLeast: number) {
  const a = accounting(d);
  expect(a.kept, JSON.stringify(a)).toBeGreaterThanOrEqual(keptAtLeast);
  expect(a.exported + a.dropped + a.buffered, `kept = exported + dropped + buffered: ${JSON.stringify(a)}`).toBe(a.kept);
  return a;
}

/** 60 ordinary requests, 5 answered 503, 5 slow ones (250 ms). */
function traffic(d: FilterDriver): void {
  for (let i = 0; i < 60; i++) d.request({ headers: GET, routeName: "api" });
  for (let i = 0; i < 5; i++) d.request({ headers: GET, routeName: "api", status: 503 });
  for (let i = 0; i < 5; i++) d.request({ headers: GET, routeName: "api", latencyMs: 250 });
}

function answerPending(d: FilterDriver, status: number, seen: Set<number>): void {
  for (const c of d.httpCalls) if (!seen.has(c.token)) { seen.add(c.token); d.answerHttpCall(c.token, status); }
}

describe("issue-12: every kept span is exported, dropped (by reason) or buffered", () => {
  it("tracing on, no collector: the kept spans are counted as dropped, reason no_collector", () => {
    const d = driver({ trust_parent: "never" }, { default_rate: 1 });
    traffic(d);
    const a = expectBalanced(d, 70);
    expect(a.droppedBy.no_collector).toBe(70);
    expect(d.httpCalls).toHaveLength(0);
  });

  it("tail sampling only (5xx and slow), no collector", () => {
    const d = driver({ trust_parent: "never" }, { default_rate: 0, always_keep_5xx: true, slow_threshold_ms: 200 });
    traffic(d);
    const a = expectBalanced(d, 10);
    expect(a.kept).toBe(10);
  });

  it("a healthy collector: everything exported, nothing left buffered", () => {
    const d = driver({ collector: { cluster: "otel", batch_max: 16, flush_ms: 100 } }, { default_rate: 1 });
    const seen = new Set<number>();
    traffic(d);
    for (let i = 0; i < 20; i++) { answerPending(d, 200, seen); d.advance(200); d.tick(); }
    const a = expectBalanced(d, 70);
    expect(a.exported).toBe(70);
    expect(a.buffered).toBe(0);
  });

  it("a collector that is down: the buffer overflows (buffer_full) and the rest stays buffered", () => {
    const d = driver({ collector: { cluster: "otel", batch_max: 10, buffer_max: 25, flush_ms: 100, backoff_base_ms: 100, backoff_max_ms: 400 } }, { default_rate: 1 });
    const seen = new Set<number>();
    for (let step = 0; step < 7; step++) {
      for (let i = 0; i < 10; i++) d.request({ headers: GET, routeName: "api" });
      answerPending(d, step % 2 ? 503 : 0, seen);
      d.advance(150);
      d.tick();
      expectBalanced(d, 0); // at every moment, not only at the end
    }
    const a = expectBalanced(d, 70);
    expect(a.droppedBy.buffer_full).toBeGreaterThan(0);
    expect(a.buffered).toBeGreaterThan(0);
  });

  it("a collector that refuses the data (400): the batch is dropped, reason rejected", () => {
    const d = driver({ collector: { cluster: "otel", batch_max: 10, flush_ms: 100 } }, { default_rate: 1 });
    const seen = new Set<number>();
    for (let i = 0; i < 30; i++) d.request({ headers: GET, routeName: "api" });
    answerPending(d, 400, seen);
    const a = expectBalanced(d, 30);
    expect(a.droppedBy.rejected).toBeGreaterThan(0);
  });

  it("the root context goes away with spans buffered: dropped, reason shutdown", () => {
    const d = driver({ collector: { cluster: "otel", batch_max: 1000, flush_ms: 60_000 } }, { default_rate: 1 });
    for (let i = 0; i < 40; i++) d.request({ headers: GET, routeName: "api" });
    expect(accounting(d).buffered).toBe(40);
    d.exports.proxy_on_done(d.rootId);
    d.exports.proxy_on_delete(d.rootId);
    const a = expectBalanced(d, 40);
    expect(a.droppedBy.shutdown).toBe(40);
    expect(a.buffered).toBe(0);
  });
});

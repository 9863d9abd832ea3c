/**
 * Issue #8 — injected faults through the embedded proxy with the real fixtures (loopback HTTP).
 * For every fault: the proxy keeps serving (allowed requests 200, denied ones 403 per the rules in
 * force), the fault is counted in /stats/prometheus, and the proxy recovers by itself once the fault
 * ends (a rules publish is enforced; spans arrive at the collector). No VM fails, no stream context
 * leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "undici";
import { startEdgeStack, waitUntil, type EdgeStack } from "../../harness/fuzz/edge-stack.js";

const DENIED = "198.51.100.7";
const ALLOWED = "192.0.2.10";
const OTHER = "203.0.113.9";

const RULES_SERVICE = {
  cluster: "rules", authority: "rules", long_poll_ms: 1000, timeout_ms: 1500,
  tick_ms: 20, lease_ms: 400, backoff_base_ms: 20, backoff_max_ms: 200,
};
const COLLECTOR = {
  cluster: "otel", authority: "otel", batch_max: 20, flush_ms: 50, timeout_ms: 300,
  backoff_base_ms: 20, backoff_max_ms: 200, buffer_max: 2000,
};
const PLUGIN = {
  max_rules_bytes: 1024 * 1024,
  client_address: { source: "xff", xff_trusted_hops: 1 },
  telemetry: { heartbeat_ms: 100 },
  rules_service: RULES_SERVICE,
  tracing: { trust_parent: "never", collector: COLLECTOR },
};

const doc = (deny: string) => ({ access: [{ id: "deny-net", cidrs: [deny] }], sampling: { default_rate: 1, always_keep_5xx: true } });

let s: EdgeStack;
let client: Client;

async function status(xff: string, path = "/x"): Promise<number> {
  return (await s.get(path, { "x-forwarded-for": xff }, client)).status;
}

/** The proxy serves: allowed → 200 and denied → 403 under the rules denying `deniedNet`'s probe. */
async function serving(denied: string, allowed: string, n = 20): Promise<void> {
  for (let i = 0; i < n; i++) {
    expect(await status(allowed)).toBe(200);
    expect(await status(denied)).toBe(403);
  }
}

async function enforced(denied: string, allowed: string, timeoutMs = 5000): Promise<void> {
  await waitUntil(async () => (await status(denied)) === 403 && (await status(allowed)) === 200, timeoutMs, `rules denying ${denied} enforced`);
}

function noLeaksNoTraps(): void {
  const st = s.proxy.host.stats;
  expect(st.vms.every((v) => !v.failed)).toBe(true);
  expect(s.proxy.stats.counter("wasm.edgewatch.vm_failed").value()).toBe(0n);
  expect(st.liveStreamContexts).toBe(0);
}

const failures = (reason: string) => s.metric("edgewatch_rules_reload_failures_total", { reason });

beforeAll(async () => {
  s = await startEdgeStack({ workers: 2, plugin: PLUGIN, rulesService: { slowMs: 2500, hugeBytes: 10 * 1024 * 1024 } });
  client = new Client(s.url, { pipelining: 1 });
  s.rules.publish(doc("198.51.100.0/24"));
  await enforced(DENIED, ALLOWED);
}, 30_000);

afterAll(async () => {
  await client?.close().catch(() => {});
  await s?.close();
});

describe("rules service faults", () => {
  it("down: fetch failures counted, last rules kept, a publish after recovery is enforced", async () => {
    const f0 = await failures("fetch");
    s.rules.setFault("down");
    await waitUntil(async () => (await failures("fetch")) >= f0 + 3, 5000, "fetch failures counted");
    await serving(DENIED, ALLOWED);
    s.rules.setFault(null);
    s.rules.publish(doc("203.0.113.0/24"));
    await enforced(OTHER, DENIED);
    s.rules.publish(doc("198.51.100.0/24"));
    await enforced(DENIED, ALLOWED);
    noLeaksNoTraps();
  }, 20_000);

  it("slow (answers after the http_call timeout): timeouts counted as fetch failures, recovery", async () => {
    const f0 = await failures("fetch");
    s.rules.setFault("slow"); // 2.5 s > timeout_ms 1.5 s
    await waitUntil(async () => (await failures("fetch")) > f0, 6000, "a timed-out fetch counted");
    await serving(DENIED, ALLOWED);
    s.rules.setFault(null);
    s.rules.publish(doc("203.0.113.0/24"));
    await enforced(OTHER, DENIED, 8000);
    s.rules.publish(doc("198.51.100.0/24"));
    await enforced(DENIED, ALLOWED);
    noLeaksNoTraps();
  }, 30_000);

  it("garbage (200 with malformed JSON): rejected with reason json, last rules kept, recovery", async () => {
    const j0 = await failures("json");
    s.rules.setFault("garbage");
    await waitUntil(async () => (await failures("json")) > j0, 5000, "a rejected document counted (json)");
    await serving(DENIED, ALLOWED);
    s.rules.setFault(null);
    s.rules.publish(doc("203.0.113.0/24"));
    await enforced(OTHER, DENIED);
    s.rules.publish(doc("198.51.100.0/24"));
    await enforced(DENIED, ALLOWED);
    noLeaksNoTraps();
    // (How often a broken service is re-polled: test/regressions/issue-8-rules-reject-hot-loop.test.ts.)
  }, 20_000);

  it("10 MB answer (over max_rules_bytes): rejected with reason size, last rules kept, recovery", async () => {
    const z0 = await failures("size");
    s.rules.setFault("huge");
    await waitUntil(async () => (await failures("size")) > z0, 10_000, "a rejected 10 MB document counted (size)");
    await serving(DENIED, ALLOWED);
    s.rules.setFault(null);
    s.rules.publish(doc("203.0.113.0/24"));
    await enforced(OTHER, DENIED);
    s.rules.publish(doc("198.51.100.0/24"));
    await enforced(DENIED, ALLOWED);
    noLeaksNoTraps();
  }, 30_000);
});

describe("collector faults", () => {
  async function exportsRecover(): Promise<void> {
    s.collector.setFault(null);
    s.collector.reset();
    const n = 10;
    for (let i = 0; i < n; i++) expect(await status(ALLOWED, `/recovered-${i}`)).toBe(200);
    await waitUntil(() => s.collector.spans().length >= n, 10_000, "spans after the collector came back");
  }

  it("down: export failures counted, requests unaffected, spans arrive after it comes back", async () => {
    const e0 = await s.metric("edgewatch_trace_export_failures_total");
    s.collector.setFault("down");
    for (let i = 0; i < 20; i++) expect(await status(ALLOWED, `/down-${i}`)).toBe(200);
    await waitUntil(async () => (await s.metric("edgewatch_trace_export_failures_total")) > e0, 5000, "export failures counted");
    await serving(DENIED, ALLOWED, 5);
    await exportsRecover();
    noLeaksNoTraps();
  }, 30_000);

  it("slow (beyond the export timeout): counted as failures, spans arrive after recovery", async () => {
    const e0 = await s.metric("edgewatch_trace_export_failures_total");
    s.collector.setFault("slow", { slowMs: 1500 });
    for (let i = 0; i < 20; i++) expect(await status(ALLOWED, `/slow-${i}`)).toBe(200);
    await waitUntil(async () => (await s.metric("edgewatch_trace_export_failures_total")) > e0, 5000, "timed-out exports counted");
    await serving(DENIED, ALLOWED, 5);
    await exportsRecover();
    noLeaksNoTraps();
  }, 30_000);
});

describe("upstream resets mid-response", () => {
  it("the client sees the reset, every request is still counted, no context leaks, serving continues", async () => {
    const seen0 = await s.metric("edgewatch_requests_seen_total");
    const reset0 = await s.metric("edgewatch_requests_total", { route: "reset" });
    const n = 20;
    let aborted = 0;
    for (let i = 0; i < n; i++) {
      const r = await s.get("/reset", { "x-forwarded-for": ALLOWED });
      if (r.status === 0 || r.error !== undefined) aborted++;
    }
    expect(aborted).toBe(n);
    await serving(DENIED, ALLOWED, 5);
    await waitUntil(() => s.proxy.host.stats.liveStreamContexts === 0, 3000, "stream contexts released");
    expect(await s.metric("edgewatch_requests_seen_total")).toBe(seen0 + n + 10);
    expect(await s.metric("edgewatch_requests_total", { route: "reset" })).toBe(reset0 + n);
    // Reset before any response header: Envoy's 503 local reply, counted with its code.
    const r503 = await s.get("/x", { "x-forwarded-for": ALLOWED, "x-edgewatch-reset": "before" });
    expect(r503.status).toBe(503);
    s.resetter.resetting = false;
    expect((await s.get("/reset", { "x-forwarded-for": ALLOWED })).status).toBe(200);
    s.resetter.resetting = true;
    noLeaksNoTraps();
  }, 20_000);
});

describe("http_call timeouts (a cluster that accepts and never answers)", () => {
  it("rules fetch and span export time out, are counted, and recover when pointed back", async () => {
    const f0 = await failures("fetch");
    const e0 = await s.metric("edgewatch_trace_export_failures_total");
    const blackholed = {
      ...PLUGIN,
      rules_service: { ...RULES_SERVICE, cluster: "blackhole", long_poll_ms: 100, timeout_ms: 200 },
      tracing: { trust_parent: "never", collector: { ...COLLECTOR, cluster: "blackhole", timeout_ms: 100 } },
    };
    await s.proxy.updatePluginConfiguration(JSON.stringify(blackholed));
    for (let i = 0; i < 10; i++) expect(await status(ALLOWED, `/bh-${i}`)).toBe(200);
    await waitUntil(async () => (await failures("fetch")) >= f0 + 2 && (await s.metric("edgewatch_trace_export_failures_total")) >= e0 + 2, 8000, "timeouts counted");
    await serving(DENIED, ALLOWED, 5);
    expect(s.blackhole.connections).toBeGreaterThan(0);
    await s.proxy.updatePluginConfiguration(JSON.stringify(PLUGIN));
    s.rules.publish(doc("203.0.113.0/24"));
    await enforced(OTHER, DENIED, 8000);
    s.rules.publish(doc("198.51.100.0/24"));
    await enforced(DENIED, ALLOWED);
    s.collector.reset();
    for (let i = 0; i < 5; i++) expect(await status(ALLOWED, `/back-${i}`)).toBe(200);
    await waitUntil(() => s.collector.spans().length >= 5, 10_000, "spans after pointing the collector back");
    noLeaksNoTraps();
  }, 40_000);
});

/**
 * Issue #8 — a subset of the rule-document fuzzing through the REAL proxy path: the embedded proxy
 * on loopback, documents pushed with updatePluginConfiguration (ECDS path) and published by the
 * rules-service fixture (long-poll pull, verbatim bytes), while a background client keeps sending
 * requests. Properties:
 *   - every request answers 200 or a local reply naming a rule (x-edgewatch-rule): zero failures not
 *     caused by a rule during the reloads;
 *   - invalid documents are rejected (rules_reload_failures_total in /stats/prometheus moves) and the
 *     probes answer as before; valid ones are enforced on every worker;
 *   - at the end: requests_seen_total and Σ requests_total equal the requests sent, no VM failed,
 *     no stream context left.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { Client } from "undici";
import { arbRulesDoc, mutateDoc, type DocMutation } from "../../harness/fuzz/arbitraries.js";
import { setMember, removeMember, type J } from "../../harness/fuzz/json-ast.js";
import { evaluateRef, validateRulesDocument, type RefRules } from "../../harness/fuzz/reference/schema.js";
import { parseClientAddressRef } from "../../harness/fuzz/reference/net.js";
import { wholeSpaceRejectedRef } from "../../harness/fuzz/reference/blast-radius.js";
import { startEdgeStack, waitUntil, type EdgeStack } from "../../harness/fuzz/edge-stack.js";

const SEED = Number(process.env.EDGEWATCH_FUZZ_SEED ?? 20260801);
const MAX_RULES_BYTES = 256 * 1024;
const KINDS: DocMutation[] = [
  "valid", "valid", "valid", "valid", "valid", "valid", "valid", "restyle", "restyle", "restyle", "unknown-field", "wrong-type", "out-of-range", "nan-token", "duplicate-key",
  "bad-cidr", "missing-required", "bad-rule-id", "deep-nesting", "truncated", "byte-flip", "invalid-utf8", "oversize", "empty",
];
const PROBES = ["192.0.2.1", "198.51.100.7", "10.1.2.3", "203.0.113.9", "172.16.0.1", "100.64.0.1", "2001:db8::1", "2001:db8:bad::7"];

const PLUGIN = (pull: boolean) => ({
  max_rules_bytes: MAX_RULES_BYTES,
  client_address: { source: "xff", xff_trusted_hops: 1 },
  tracing: { enabled: false },
  ...(pull ? { rules_service: { cluster: "rules", long_poll_ms: 2000, timeout_ms: 3000, tick_ms: 20, lease_ms: 400, backoff_base_ms: 20, backoff_max_ms: 100 } } : {}),
});

let s: EdgeStack;
let probeClients: Client[] = [];
const traffic = { sent: 0, ok: 0, denied: 0, failures: [] as string[], stop: false, done: Promise.resolve() };

function startTraffic(): void {
  traffic.stop = false;
  const c = new Client(s.url, { pipelining: 1 });
  traffic.done = (async () => {
    let i = 0;
    while (!traffic.stop) {
      const ip = PROBES[i++ % PROBES.length];
      traffic.sent++;
      try {
        const r = await c.request({ path: `/bg/${i}`, method: "GET", headers: { "x-forwarded-for": ip } });
        await r.body.text();
        if (r.statusCode === 200 && r.headers["x-edgewatch-rule"] === undefined) traffic.ok++;
        else if (r.headers["x-edgewatch-rule"] !== undefined) traffic.denied++;
        else traffic.failures.push(`${ip}: ${r.statusCode} without a rule`);
      } catch (err) {
        traffic.failures.push(`${ip}: ${(err as Error).message}`);
      }
    }
    await c.close();
  })();
}

/** One answer per probe address per worker connection: "status/rule". */
async function probe(): Promise<string[]> {
  const out: string[] = [];
  for (const c of probeClients) {
    for (const ip of PROBES) {
      const r = await c.request({ path: "/probe", method: "GET", headers: { "x-forwarded-for": ip, "x-tenant": "acme", "user-agent": "curl/8.0" } });
      await r.body.text();
      out.push(`${ip}:${r.statusCode}/${r.headers["x-edgewatch-rule"] ?? "-"}`);
    }
  }
  return out;
}

function expected(rules: RefRules): string[] {
  const headers = new Map<string, string>([[":path", "/probe"], ["x-tenant", "acme"], ["user-agent", "curl/8.0"]]);
  const one = PROBES.map((ip) => {
    const d = evaluateRef(rules, { client: parseClientAddressRef(ip), header: (n) => headers.get(n), path: "/probe" });
    return `${ip}:${d.denied ? d.status : 200}/${d.denied ? d.ruleId : "-"}`;
  });
  return probeClients.flatMap(() => one);
}

const failureTotal = async () => {
  const samples = await s.prometheus();
  return samples.filter((x) => x.name === "edgewatch_rules_reload_failures_total" && x.labels.reason !== "fetch").reduce((a, x) => a + x.value, 0);
};

async function pinProbeClients(workers: number): Promise<void> {
  // One keep-alive connection per worker (the proxy assigns connections round-robin).
  const spare: Client[] = [];
  probeClients = new Array(workers);
  for (let attempt = 0; probeClients.filter(Boolean).length < workers && attempt < workers * 4; attempt++) {
    const c = new Client(s.url, { pipelining: 1, keepAliveTimeout: 600_000, keepAliveMaxTimeout: 600_000 });
    const before = s.proxy.host.workers.map((w) => w.streamsCreated);
    await (await c.request({ path: "/pin", method: "GET" })).body.text();
    const w = s.proxy.host.workers.findIndex((vm, i) => vm.streamsCreated > before[i]);
    if (w >= 0 && probeClients[w] === undefined) probeClients[w] = c;
    else spare.push(c);
  }
  for (const c of spare) await c.close();
}

/**
 * Apply one document and check the outcome. `known`: version in force for pull (a valid document
 * must be newer; an equal one is ignored like a 304), null for push.
 */
async function check(bytes: Buffer, apply: () => Promise<boolean | null>, label: string, known: number | null = null): Promise<{ accepted: boolean; version?: number }> {
  const ref = validateRulesDocument(bytes, MAX_RULES_BYTES);
  const before = await probe();
  const f0 = await failureTotal();
  const applied = await apply();
  const newer = known === null || (ref.valid && ref.value!.version > known);
  if (ref.valid && known !== null && ref.value!.version === known) {
    await new Promise((r) => setTimeout(r, 200));
    expect(await probe(), `${label}: same version re-served, nothing changes`).toEqual(before);
    return { accepted: false };
  }
  // The blast-radius guard rejects a valid document that denies a whole address family (8 probe
  // addresses stay below min_clients, so the sampled fraction is never judged here).
  const guard = ref.valid ? wholeSpaceRejectedRef(ref.value!) : null;
  if (ref.valid && newer && applied !== false && guard === null) {
    const want = expected(ref.value!);
    let got: string[] = [];
    await waitUntil(async () => { got = await probe(); return got.join() === want.join(); }, 5000, `${label}: valid document enforced on every worker`)
      .catch((e) => { throw new Error(`${(e as Error).message}\n got  ${got.join(" ")}\n want ${want.join(" ")}\n doc ${bytes.toString("utf8").slice(0, 600)}`); });
    return { accepted: true, version: ref.value!.version };
  }
  await waitUntil(async () => (await failureTotal()) > f0, 5000, `${label}: rejection counted`)
    .catch((e) => { throw new Error(`${(e as Error).message}; reference: ${guard ?? JSON.stringify(ref.errors.slice(0, 2))}; doc ${bytes.toString("utf8").slice(0, 400)}`); });
  expect(await probe(), `${label}: last good rules kept`).toEqual(before);
  return { accepted: false };
}

function docCases(seed: number, n: number): Array<{ doc: J; kind: DocMutation; seed: number }> {
  return fc.sample(fc.tuple(arbRulesDoc(4), fc.constantFrom(...KINDS), fc.integer()), { seed, numRuns: n }).map(([doc, kind, sd]) => ({ doc, kind, seed: sd }));
}

describe("fuzzed rule documents through the embedded proxy under traffic", () => {
  beforeAll(async () => {
    s = await startEdgeStack({ workers: 2, plugin: { ...PLUGIN(false), rules: { version: 1, access: [{ id: "seed", cidrs: ["198.51.100.0/24"] }] } } });
    await pinProbeClients(2);
    startTraffic();
  }, 30_000);

  afterAll(async () => {
    traffic.stop = true;
    await traffic.done;
    for (const c of probeClients) await c?.close().catch(() => {});
    await s?.close();
  });

  it("push (updatePluginConfiguration): 20 documents", async () => {
    let accepted = 0;
    for (const [i, c] of docCases(SEED, 20).entries()) {
      const m = mutateDoc(c.doc, c.kind === "invalid-utf8" ? "byte-flip" : c.kind, c.seed, { binary: false, maxRulesBytes: MAX_RULES_BYTES });
      const text = m.bytes.toString("utf8");
      const cfg = JSON.stringify(PLUGIN(false)).slice(0, -1) + `,"rules":${text}}`;
      const r = await check(Buffer.from(text), async () => {
        try { await s.proxy.updatePluginConfiguration(cfg); return true; } catch { return false; }
      }, `push #${i} (${m.mutation})`);
      if (r.accepted) accepted++;
    }
    expect(accepted).toBeGreaterThan(3);
  }, 90_000);

  it("pull (rules service, verbatim bytes): 20 documents", async () => {
    await s.proxy.updatePluginConfiguration(JSON.stringify(PLUGIN(true)));
    s.rules.publish({ access: [{ id: "seed", cidrs: ["198.51.100.0/24"] }] });
    await waitUntil(async () => (await probe()).includes("198.51.100.7:403/seed"), 5000, "first pulled document");
    let accepted = 0;
    let known = s.rules.version;
    for (const [i, c] of docCases(SEED + 1, 20).entries()) {
      const doc = structuredClone(c.doc) as J;
      removeMember(doc, "version");
      setMember(doc, "version", known + 1 + (i % 3));
      // The fixture serves strings (UTF-8): invalid bytes are covered at call level (fuzz.test.ts).
      const m = mutateDoc(doc, c.kind === "invalid-utf8" ? "byte-delete" : c.kind, c.seed, { binary: false, maxRulesBytes: MAX_RULES_BYTES });
      const text = m.bytes.toString("utf8");
      const r = await check(Buffer.from(text, "utf8"), async () => { s.rules.publish(text); return null; }, `pull #${i} (${m.mutation})`, known);
      if (r.accepted) { accepted++; known = r.version!; }
    }
    expect(accepted).toBeGreaterThan(3);
  }, 120_000);

  it("no request failed for any reason but a rule; counters equal the requests sent; nothing leaked", async () => {
    traffic.stop = true;
    await traffic.done;
    expect(traffic.failures).toEqual([]);
    expect(traffic.sent).toBeGreaterThan(100);
    await waitUntil(() => s.proxy.host.stats.liveStreamContexts === 0, 3000, "streams finished");
    const samples = await s.prometheus();
    const seen = samples.find((x) => x.name === "edgewatch_requests_seen_total")?.value ?? -1;
    const total = samples.filter((x) => x.name === "edgewatch_requests_total").reduce((a, x) => a + x.value, 0);
    // Everything that reached the proxy: background traffic, probes, worker pinning.
    const rq = s.proxy.stats.counter("http.edgewatch_ingress.downstream_rq_total").value();
    expect(BigInt(seen)).toBe(rq);
    expect(BigInt(total)).toBe(rq);
    expect(s.proxy.host.stats.vms.every((v) => !v.failed)).toBe(true);
  }, 30_000);
});

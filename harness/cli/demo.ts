/**
 * `edgewatch demo` (what `npm start` runs after the build): the filter end to end on the embedded
 * host, with real HTTP on loopback.
 *
 *   1. start the upstream echo fixture, the rules service (fixture + publish endpoint), an OTLP
 *      collector, and the embedded proxy (2 worker VMs) with the filter;
 *   2. drive traffic over four routes with mixed latencies and statuses;
 *   3. publish rules that deny one client CIDR (clients identified by X-Forwarded-For with one
 *      trusted hop), measure the time until every worker VM enforces them, drive more traffic and
 *      show the 403s carrying x-edgewatch-rule;
 *   4. publish an invalid document and show the filter rejecting it with its reason while the
 *      previous rules keep holding;
 *   5. print the results: requests, status distribution, p50/p99 from the proxy's own histogram,
 *      reload latency, a sample of /stats/prometheus.
 *
 * Every step checks what it shows; any surprise ends the demo with exit 1 and says what went wrong.
 */
import { request as httpRequest } from "node:http";
import { statSync } from "node:fs";
import type { ProxyConfig } from "../config/proxy-config.js";
import { defaultStatsConfig } from "../envoy-config/defaults.js";
import { HostLogger } from "../host/logger.js";
import { CANARY_REJECTED, logView } from "./log-view.js";
import { startUpstreamServer, type UpstreamServer } from "../fixtures/upstream-server.js";
import { withRules } from "./config-file.js";
import { AdminReader } from "../stack/admin-reader.js";
import { CountingClient } from "../stack/http-client.js";
import { NotOnEveryWorkerError, WorkerProbes } from "../stack/worker-probes.js";
import { checkWasm } from "./env.js";
import { CliError, EXIT } from "./exit-codes.js";
import { quantile, runLoad, type LoadResult, type RequestSpec } from "./load.js";
import { PromSnapshot, histogramQuantile, mergeHistograms, quantileBucket } from "./prom-text.js";
import { Progress } from "./progress.js";
import { lastRejection, startProxy, type RunningProxy } from "./proxy-runtime.js";
import { pushRules } from "./rules-push.js";
import { startRulesServer, type RulesServer } from "./rules-server.js";

export interface DemoOptions {
  wasm: string;
  requests: number;
  concurrency: number;
  workers: number;
  mode: "pull" | "push";
  keepRunning: boolean;
  maxSeconds: number;
}

const BAD_NET = "203.0.113.0/24";
const WATCH_NET = "198.51.100.0/24";
const RULE_DENY = "deny-bad-client";
const RULE_WATCH = "watch-docs-net";

const rulesV1 = {
  version: 1,
  mode: "deny",
  access: [{ id: RULE_WATCH, action: "log", cidrs: [WATCH_NET] }],
  sampling: { default_rate: 0.2, always_keep_5xx: true, slow_threshold_ms: 40 },
};
const rulesV2 = {
  ...rulesV1,
  version: 2,
  access: [{ id: RULE_DENY, action: "deny", cidrs: [BAD_NET] }, ...rulesV1.access],
};
/** Invalid: a /33 prefix. */
const rulesV3Invalid = `{"version": 3, "mode": "deny", "access": [{"id": "${RULE_DENY}", "action": "deny", "cidrs": ["203.0.113.0/33"]}]}`;

/** Deterministic pseudo-random numbers (so every run sends the same traffic). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

interface Planned extends RequestSpec {
  route: string;
  expect: number;
  bad: boolean;
}

/** The traffic mix: api (fast, some errors), static, slow (20–60 ms), health. */
function plan(n: number, seed: number, badShare: number): Planned[] {
  const rnd = lcg(seed);
  const out: Planned[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const bad = rnd() < badShare;
    const client = bad ? `203.0.113.${1 + Math.floor(rnd() * 250)}` : rnd() < 0.1 ? `198.51.100.${1 + Math.floor(rnd() * 250)}` : `192.0.2.${1 + Math.floor(rnd() * 250)}`;
    const headers: Record<string, string> = { "x-forwarded-for": client };
    let path: string;
    let route: string;
    let status = 200;
    if (r < 0.55) {
      route = "api";
      path = `/api/items/${Math.floor(rnd() * 1000)}`;
      headers["x-edgewatch-delay-ms"] = String(Math.floor(rnd() * 5));
      const e = rnd();
      if (e < 0.03) status = 404;
      else if (e < 0.045) status = 500;
      else if (e < 0.06) status = 503;
    } else if (r < 0.8) {
      route = "static";
      path = `/static/asset-${Math.floor(rnd() * 50)}.css`;
    } else if (r < 0.92) {
      route = "slow";
      path = "/slow/report";
      headers["x-edgewatch-delay-ms"] = String(20 + Math.floor(rnd() * 40));
    } else {
      route = "health";
      path = "/healthz";
    }
    if (status !== 200) headers["x-edgewatch-status"] = String(status);
    out.push({ path, headers, route, expect: bad ? 403 : status, bad });
  }
  return out;
}

function fail(message: string): never {
  throw new CliError(`demo failed: ${message}`, EXIT.CHECK_FAILED);
}

async function scrape(adminUrl: string): Promise<{ text: string; snap: PromSnapshot }> {
  const res = await fetch(`${adminUrl}/stats/prometheus`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  if (res.status !== 200) fail(`admin /stats/prometheus answered ${res.status}`);
  return { text, snap: PromSnapshot.parse(text) };
}

/** One request on a fresh connection (the proxy assigns each new connection to the next worker). */
function probe(listenerUrl: string, xff: string): Promise<{ status: number; rule?: string }> {
  const u = new URL(listenerUrl);
  return new Promise((res, rej) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: "/api/probe", agent: false, headers: { "x-forwarded-for": xff, connection: "close" }, timeout: 5000 },
      (r) => {
        r.resume();
        r.on("end", () => res({ status: r.statusCode ?? 0, rule: r.headers["x-edgewatch-rule"] as string | undefined }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("probe timed out")));
    req.on("error", rej);
    req.end();
  });
}

/** What the reload step measured: publish → each worker's first answer enforcing the new rules. */
interface EnforceTiming {
  /** The slowest worker's first enforcing answer, ms after publishing began. */
  ms: number;
  perWorker: number[];
  /** When the publish call itself returned (the push applied / the rules service accepted the document). */
  publishMs: number;
}

/**
 * Publish → enforced on every worker, the way bench:reload measures it: one keep-alive probe pinned
 * to each worker (harness/stack/worker-probes.ts: admin says which worker accepted the connection),
 * every probe sending from the denied network from the moment publishing begins; a worker's time is
 * its first answer naming the new rule, the reload's is the slowest worker's.
 */
async function timeToEnforce(probes: WorkerProbes, publish: () => Promise<void>, timeoutMs: number): Promise<EnforceTiming> {
  const t0 = performance.now();
  let publishMs = Number.NaN;
  let publishError: unknown = null;
  const published = publish().then(
    () => { publishMs = performance.now() - t0; },
    (e: unknown) => { publishError = e; },
  );
  let perWorker: number[];
  try {
    perWorker = await probes.firstAcceptedEach(
      (_w, n) => ({ path: "/api/probe", headers: { "x-forwarded-for": `203.0.113.${10 + (n % 200)}` } }),
      (a) => a.status === 403 && a.headers["x-edgewatch-rule"] === RULE_DENY,
      { t0, gapMs: 1, timeoutMs, what: `answer under rule ${RULE_DENY} after publishing`, abort: () => publishError },
    );
  } catch (e) {
    if (e instanceof NotOnEveryWorkerError) return fail(e.message);
    throw e;
  }
  await published;
  if (publishError !== null) throw publishError;
  return { ms: Math.max(...perWorker), perWorker, publishMs };
}

function checkPhase(name: string, planned: Planned[], res: LoadResult & { mismatches: string[] }): void {
  if (res.errors > 0) fail(`${name}: ${res.errors} request(s) failed: ${res.errorSamples.join("; ")}`);
  if (res.completed !== planned.length) fail(`${name}: ${res.completed}/${planned.length} requests completed (time bound hit?)`);
  if (res.mismatches.length > 0) fail(`${name}: ${res.mismatches.length} unexpected response(s), e.g. ${res.mismatches.slice(0, 3).join("; ")}`);
}

async function drive(origin: string, planned: Planned[], concurrency: number, maxMs: number, progress: Progress, label: string) {
  const mismatches: string[] = [];
  const res = await runLoad({
    origin,
    concurrency,
    maxRequests: planned.length,
    maxDurationMs: maxMs,
    request: (i) => planned[i],
    watchHeaders: ["x-edgewatch-rule"],
    onProgress: (done, total) => progress.update(label, done, total),
  });
  // Per-request expectations: re-check by status counts (runLoad does not keep per-request results).
  const expected: Record<string, number> = {};
  for (const p of planned) expected[p.expect] = (expected[p.expect] ?? 0) + 1;
  for (const [code, n] of Object.entries(expected)) {
    const got = res.statuses[code] ?? 0;
    if (got !== n) mismatches.push(`${got} × ${code}, expected ${n}`);
  }
  for (const code of Object.keys(res.statuses)) if (!(code in expected)) mismatches.push(`${res.statuses[code]} × ${code}, expected none`);
  return { ...res, mismatches };
}

function fmtStatuses(s: Record<string, number>): string {
  return Object.entries(s)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([k, v]) => `${k}: ${v}`)
    .join("  ");
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const out = (s = "") => process.stdout.write(`${s}\n`);
  const deadline = Date.now() + opts.maxSeconds * 1000;
  const remaining = () => Math.max(1000, deadline - Date.now());
  await checkWasm(opts.wasm);
  const progress = new Progress("demo");
  let upstream: UpstreamServer | undefined;
  let rules: RulesServer | undefined;
  let collector: { url: string; port: number; spans(): unknown[]; close(): Promise<void> } | undefined;
  let proxy: RunningProxy | undefined;
  let probes: WorkerProbes | undefined;
  let probeClient: CountingClient | undefined;
  try {
    upstream = await startUpstreamServer();
    const pull = opts.mode === "pull";
    if (pull) {
      rules = await startRulesServer({ port: 0, publishPort: 0 });
      // Published the way version 2 is below (`rules push`'s HTTP endpoint). This also spares the
      // timed reload Node's one-time loading of its fetch code (~10 ms on its first POST).
      await pushRules(rules.publishUrl, JSON.stringify(rulesV1), 5000);
    }
    try {
      const { startOtlpCollector } = await import("../fixtures/otlp-collector.js");
      collector = await startOtlpCollector();
    } catch {
      collector = undefined; // tracing export is shown only when the collector fixture exists
    }

    const plugin: Record<string, unknown> = {
      client_address: { source: "xff", xff_trusted_hops: 1 },
      telemetry: { heartbeat_ms: 500 },
      tracing: collector
        ? { enabled: true, service_name: "edgewatch-demo", collector: { cluster: "otel", authority: "collector", path: "/v1/traces", flush_ms: 200 } }
        : { enabled: false },
    };
    if (pull) plugin.rules_service = { cluster: "rules", authority: "rules", path: rules!.rulesPath, long_poll_ms: 10_000, timeout_ms: 12_000, cold_start: "allow" };
    else plugin.rules = rulesV1;

    const config: ProxyConfig = {
      node: { id: "edgewatch-demo", cluster: "edgewatch" },
      listener: { address: "127.0.0.1", port: 0 },
      admin: { address: "127.0.0.1", port: 0 },
      workers: opts.workers,
      routes: [
        { name: "api", match: { prefix: "/api/" }, cluster: "app" },
        { name: "static", match: { prefix: "/static/" }, cluster: "app" },
        { name: "slow", match: { prefix: "/slow/" }, cluster: "app" },
        { name: "health", match: { path: "/healthz" }, cluster: "app" },
      ],
      clusters: [
        { name: "app", address: "127.0.0.1", port: upstream.port },
        ...(rules ? [{ name: "rules", address: "127.0.0.1", port: rules.rulesPort }] : []),
        ...(collector ? [{ name: "otel", address: "127.0.0.1", port: collector.port }] : []),
      ],
      plugin: { name: "edgewatch", rootId: "edgewatch", vmId: "edgewatch", wasmPath: opts.wasm, configuration: JSON.stringify(plugin), failOpen: false },
      stats: defaultStatsConfig({ flushOnAdmin: true }),
      xffNumTrustedHops: 1,
    };
    // Proxy log lines at error are shown (the CLI way, log-view.ts), except the one Envoy writes for the
    // rejection step 3 provokes on purpose, which the demo explains in its own words.
    let expectRejection = false;
    const logger = new HostLogger({
      level: "info",
      stderrLevel: "off",
      sink: logView({ level: "error", handle: (e) => expectRejection && e.component === "wasm" && CANARY_REJECTED.test(e.message) }),
    });
    proxy = await startProxy(config, { logger });

    out("edgewatch demo");
    out(`  filter         ${opts.wasm} (${(statSync(opts.wasm).size / 1024).toFixed(0)} KiB), ${opts.workers} worker VMs`);
    out(`  proxy          listener ${proxy.listenerUrl}   admin ${proxy.adminUrl}`);
    out(`  upstream       ${upstream.url} (echo fixture: per-request delay and status)`);
    if (rules) out(`  rules service  ${rules.rulesUrl} (long-poll), publish ${rules.publishUrl}/publish`);
    else out("  rules          pushed in the plugin configuration (ECDS-style update)");
    if (collector) out(`  collector      ${collector.url} (OTLP/HTTP)`);
    out();

    // Wait until the first rules are in force (pull: fetched by the filter).
    if (pull) {
      const t0 = Date.now();
      for (;;) {
        const { snap } = await scrape(proxy.adminUrl);
        if ((snap.max("edgewatch_rules_version") ?? 0) >= 1) break;
        if (Date.now() - t0 > 10_000) fail("the filter did not fetch rules version 1 from the rules service within 10 s");
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    // --- 1: traffic ------------------------------------------------------------------------------
    const n1 = Math.max(1, Math.round(opts.requests * 0.6));
    const n2 = Math.max(1, opts.requests - n1);
    const phase1 = plan(n1, 1, 0);
    out(`[1/4] traffic: ${n1} requests over 4 routes (api, static, slow, health), concurrency ${opts.concurrency}, rules version 1 (log-only rule for ${WATCH_NET})`);
    const r1 = await drive(proxy.listenerUrl, phase1, opts.concurrency, remaining(), progress, "phase 1");
    progress.done();
    checkPhase("phase 1", phase1, r1);
    out(`      ${r1.completed} responses in ${(r1.durationMs / 1000).toFixed(2)} s (${r1.rps.toFixed(0)} rps): ${fmtStatuses(r1.statuses)}`);

    // --- 2: reload denying one client network ----------------------------------------------------
    out(`[2/4] reload: rules version 2 denies ${BAD_NET} (rule ${RULE_DENY}); ${pull ? "published to the rules service" : "pushed as a new plugin configuration"}`);
    const p = proxy;
    // Pinned now, while no other client connects (pinning reads admin's per-worker connection counts),
    // with one /healthz request per connection (counted under the health route like any other).
    probeClient = new CountingClient(proxy.listenerUrl);
    probes = await WorkerProbes.pin(probeClient, new AdminReader(proxy.adminUrl), opts.workers, { setupPath: "/healthz" });
    const reload = await timeToEnforce(
      probes,
      async () => {
        if (pull) await pushRules(rules!.publishUrl, JSON.stringify(rulesV2), 5000);
        else await p.updatePluginConfiguration(JSON.stringify({ ...plugin, rules: rulesV2 }));
      },
      10_000,
    );
    await probes.close();
    const workersText = reload.perWorker.map((w, i) => `worker ${i} ${w.toFixed(1)} ms`).join(", ");
    const callText = pull ? `the publish request returned after ${reload.publishMs.toFixed(1)} ms` : `the push (canary VM, then every VM's new root) returned after ${reload.publishMs.toFixed(1)} ms`;
    out(`      enforced on every worker ${reload.ms.toFixed(1)} ms after ${pull ? "publishing" : "the push"} (${workersText}: each pinned probe's first enforcing answer; ${callText})`);
    const phase2 = plan(n2, 2, 0.1);
    const r2 = await drive(proxy.listenerUrl, phase2, opts.concurrency, remaining(), progress, "phase 2");
    progress.done();
    checkPhase("phase 2", phase2, r2);
    const denied = r2.headerValues[`x-edgewatch-rule=${RULE_DENY}`] ?? 0;
    const badPlanned = phase2.filter((x) => x.bad).length;
    if (denied !== badPlanned) fail(`${badPlanned} requests came from ${BAD_NET} but ${denied} responses carried x-edgewatch-rule: ${RULE_DENY}`);
    out(`      ${n2} more requests, ${badPlanned} from ${BAD_NET}: ${denied} × 403 with x-edgewatch-rule: ${RULE_DENY}; everyone else served (${fmtStatuses(r2.statuses)})`);

    // --- 3: an invalid document ---------------------------------------------------------------------
    out("[3/4] invalid rules version 3 (a /33 prefix)");
    const since = Date.now();
    const CONFIG_FAIL = "envoy_extension_config_discovery_http_filter_edgewatch_config_fail";
    const beforeSnap = (await scrape(proxy.adminUrl)).snap;
    const before = beforeSnap.sum("edgewatch_rules_reload_failures_total") ?? 0;
    const configFailBefore = beforeSnap.sum(CONFIG_FAIL) ?? 0;
    let rejection: { reason?: string; message: string } | undefined;
    if (pull) {
      await pushRules(rules!.publishUrl, rulesV3Invalid, 5000, { verbatim: true });
      const t0 = Date.now();
      for (;;) {
        rejection = lastRejection(proxy.logger, since);
        const failures = (await scrape(proxy.adminUrl)).snap.sum("edgewatch_rules_reload_failures_total") ?? 0;
        if (rejection && failures > before) break;
        if (Date.now() - t0 > 10_000) fail("the invalid document was not reported as rejected within 10 s");
        await new Promise((r) => setTimeout(r, 25));
      }
    } else {
      expectRejection = true;
      try {
        await proxy.updatePluginConfiguration(withRules(plugin, rulesV3Invalid));
        fail("the filter accepted an invalid rules document");
      } catch (err) {
        if (err instanceof CliError) throw err;
        rejection = lastRejection(proxy.logger, since) ?? { message: (err as Error).message };
      } finally {
        expectRejection = false;
      }
    }
    const { snap: afterSnap } = await scrape(proxy.adminUrl);
    const version = afterSnap.max("edgewatch_rules_version");
    if (version !== 2) fail(`rules version is ${version} after the invalid document, expected 2`);
    const holdBad = await probe(proxy.listenerUrl, "203.0.113.77");
    const holdGood = await probe(proxy.listenerUrl, "192.0.2.77");
    if (holdBad.status !== 403 || holdGood.status !== 200) fail(`after the rejection: ${BAD_NET} got ${holdBad.status}, 192.0.2.77 got ${holdGood.status}`);
    out(`      rejected by the filter: [${rejection?.reason ?? "?"}] ${rejection?.message}`);
    if (!pull) {
      const configFail = afterSnap.sum(CONFIG_FAIL) ?? 0;
      if (configFail !== configFailBefore + 1) fail(`${CONFIG_FAIL} went from ${configFailBefore} to ${configFail}, expected +1`);
      // Envoy logs a canary rejection at error level ("Wasm VM failed …"): expected here, nothing failed.
      out("      the canary VM refused it (Envoy logs that as \"Wasm VM failed … unable to configure\" at error level;");
      out("      the canary is discarded, no serving VM failed) and ECDS counted config_fail");
    }
    out(`      rules version still 2: 203.0.113.77 → ${holdBad.status} (${holdBad.rule}), 192.0.2.77 → ${holdGood.status}`);

    // --- 4: results ----------------------------------------------------------------------------------
    const { text, snap } = await scrape(proxy.adminUrl);
    // The filter records whole microseconds; printed in ms.
    const lat = snap.histograms("edgewatch_route_latency_us");
    const merged = mergeHistograms(lat);
    const usToMs = (v: number | undefined) => (v === undefined ? undefined : v / 1000);
    const p50 = usToMs(histogramQuantile(0.5, merged));
    const p99 = usToMs(histogramQuantile(0.99, merged));
    const counted = snap.sum("edgewatch_requests_total") ?? 0;
    const totalClient = r1.completed + r2.completed;
    const statuses: Record<string, number> = {};
    for (const r of [r1, r2]) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    const clientLat = Float64Array.from([...r1.latenciesUs, ...r2.latenciesUs]).sort();
    out("[4/4] results");
    out(`      requests        ${totalClient} sent by the demo (+ reload probes); the proxy counted ${counted} (edgewatch_requests_total)`);
    out(`      status          ${fmtStatuses(statuses)}`);
    // A histogram quantile is interpolated inside the bucket that holds it (as Prometheus'
    // histogram_quantile does): show that bucket, so a proxy p99 above the client's exact p99 does not
    // read as a contradiction — the true value lies anywhere in the bucket.
    const inBucket = (q: number, buckets: Parameters<typeof quantileBucket>[1]) => {
      const b = quantileBucket(q, buckets);
      if (!b) return "";
      const f = (us: number) => (us === Infinity ? "+Inf" : String(Number((us / 1000).toFixed(3))));
      return ` (bucket ${f(b.lower)}–${f(b.upper)} ms)`;
    };
    if (p50 !== undefined && p99 !== undefined) {
      out(`      latency         p50 ${p50.toFixed(2)} ms${inBucket(0.5, merged)}, p99 ${p99.toFixed(2)} ms${inBucket(0.99, merged)}`);
      out("                      proxy histogram edgewatch_route_latency_us, all routes: request headers → response headers,");
      out("                      interpolated inside the bucket that holds the quantile (the true value is anywhere in it)");
    } else {
      fail("edgewatch_route_latency_us has no samples in /stats/prometheus");
    }
    for (const h of lat.sort((a, b) => (a.labels.route ?? "").localeCompare(b.labels.route ?? ""))) {
      const q50 = usToMs(histogramQuantile(0.5, h.buckets));
      const q99 = usToMs(histogramQuantile(0.99, h.buckets));
      if (q50 === undefined) continue;
      out(`        route ${(h.labels.route ?? "?").padEnd(8)} n=${String(h.count ?? 0).padStart(5)}  p50 ${q50.toFixed(2)} ms${inBucket(0.5, h.buckets)}  p99 ${q99!.toFixed(2)} ms${inBucket(0.99, h.buckets)}`);
    }
    out(`      client view     p50 ${ms(quantile(clientLat, 0.5))}, p99 ${ms(quantile(clientLat, 0.99))} (exact, end to end, measured by the demo)`);
    out(`      reload latency  ${reload.ms.toFixed(1)} ms (publish → every worker VM enforcing)`);
    const decisions = snap.series("edgewatch_decisions_total").map((s) => `${s.labels.rule}/${s.labels.action}=${s.value}`);
    if (decisions.length) out(`      decisions       ${decisions.join("  ")}`);
    const spans = snap.sum("edgewatch_trace_spans_exported_total");
    if (collector && spans !== undefined) out(`      traces          ${spans} spans exported, ${collector.spans().length} received by the collector`);
    out("      /stats/prometheus (sample):");
    const sample = text
      .split("\n")
      .filter((l) => l.startsWith("edgewatch_") && !/_bucket\{/.test(l))
      .slice(0, 24);
    for (const l of sample) out(`        ${l}`);
    const bucketLines = text.split("\n").filter((l) => l.startsWith('edgewatch_route_latency_us_bucket{route="api"'));
    for (const l of bucketLines.slice(0, 6)) out(`        ${l}`);
    if (bucketLines.length > 6) out("        …");
    out();
    out("demo OK");

    if (opts.keepRunning) {
      out(`still serving: listener ${proxy.listenerUrl}, admin ${proxy.adminUrl}${rules ? `, publish ${rules.publishUrl}/publish` : ""} — Ctrl-C to stop`);
      await new Promise<void>((r) => {
        process.once("SIGINT", () => r());
        process.once("SIGTERM", () => r());
      });
    }
    return EXIT.OK;
  } finally {
    progress.done();
    await probes?.close().catch(() => undefined);
    await probeClient?.close().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    await rules?.close().catch(() => undefined);
    await collector?.close().catch(() => undefined);
    await upstream?.close().catch(() => undefined);
  }
}

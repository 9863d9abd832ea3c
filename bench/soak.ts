/**
 * Soak (issue #8): N requests (default 1,000,000) through the embedded proxy with the product
 * filter while the rules service publishes a new rule document every second (pull, long-poll),
 * spans are exported to the collector fixture and the heartbeat ticks. Checks:
 *   - wasm linear memory of every VM is flat after warm-up: growth < 1 MiB after the first 10 %;
 *   - no leaked contexts: live stream contexts back to 0, root contexts = 1 per VM (+ any draining);
 *   - the filter's counters equal the requests sent: edgewatch_requests_seen_total and
 *     Σ edgewatch_requests_total (from /stats/prometheus);
 *   - no request failed for a reason other than a rule (answers are 200, or 403 from the deny rule);
 *   - no VM failed; the last published rules version is in force.
 * Writes bench/results/soak.json and bench/results/soak.md, prints the summary; exit code 1 on a
 * failed check or when the time bound (--max-minutes) stops it early.
 *
 *   npx tsx bench/soak.ts [--requests 1000000] [--concurrency 32] [--workers 2] [--reload-ms 1000]
 *                         [--max-minutes 40] [--sample-ms 1000] [--seed 1] [--help]
 * A progress line every 10 s; the load client process exits when this process goes away.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { startEdgeStack, waitUntil, type EdgeStack } from "../harness/fuzz/edge-stack.js";
import { Prng } from "../harness/fuzz/prng.js";
import { exitWithParent, forkChild } from "../harness/process/child-lifetime.js";
import { RunRecord } from "../harness/bench/results.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const USAGE = `usage: npx tsx bench/soak.ts [options]

N requests through the embedded proxy with the product filter while the rules service publishes a new
document every --reload-ms; checks memory stays flat, no context leaks, counters equal the requests
sent, no VM failed. Writes bench/results/soak.{json,md}. The default run (1,000,000 requests) takes
about 3–4 minutes on 2 cores (184 s at fca0cd2).

options:
  --requests N      requests to send (default 1000000)
  --concurrency N   connections of the load client (default 32)
  --workers N       worker VMs (default 2)
  --reload-ms N     publish a new rules document every N ms (default 1000)
  --max-minutes N   time bound; stopping on it fails the run (default 40)
  --sample-ms N     memory / rate sample period (default 1000)
  --seed N          PRNG seed of the rule documents (default 1)
  -h, --help        this text

exit codes: 0 pass, 1 a failed check or stopped by --max-minutes, 2 bad usage or a failed child`;

const NUMERIC = ["requests", "concurrency", "workers", "reload-ms", "max-minutes", "sample-ms", "seed"] as const;
let parsed: { values: Record<string, string | boolean | undefined> };
try {
  parsed = parseArgs({
    args: process.argv.slice(2),
    options: { ...Object.fromEntries(NUMERIC.map((n) => [n, { type: "string" as const }])), role: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
} catch (err) {
  process.stderr.write(`soak: ${(err as Error).message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (parsed.values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

function arg(name: (typeof NUMERIC)[number], def: number): number {
  const raw = parsed.values[name];
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`soak: --${name}: expected a number, got ${String(raw)}\n`);
    process.exit(2);
  }
  return v;
}

const REQUESTS = arg("requests", 1_000_000);
const CONCURRENCY = arg("concurrency", 32);
const WORKERS = arg("workers", 2);
const RELOAD_MS = arg("reload-ms", 1000);
const MAX_MINUTES = arg("max-minutes", 40);
const SAMPLE_MS = arg("sample-ms", 1000);
const SEED = arg("seed", 1);
const MIB = 1024 * 1024;
const OUT_JSON = resolve(ROOT, "bench/results/soak.json");
const OUT_MD = resolve(ROOT, "bench/results/soak.md");

interface Sample {
  t: number;
  requests: number;
  rps: number;
  vms: Record<string, number>;
  liveStreams: number;
  roots: number;
  rssMiB: number;
  rulesVersion: number;
}

function ruleDocument(version: number, r: Prng): object {
  // The deny rule the load relies on, plus a varying bulk of CIDRs so reloads allocate.
  const n = r.int(100, 3000);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`${r.int(11, 99)}.${r.int(0, 255)}.${r.int(0, 255)}.0/${r.pick([16, 20, 24, 28, 32])}`);
  return {
    version,
    access: [
      { id: "soak-deny", action: "deny", cidrs: ["198.51.100.0/24", "2001:db8:bad::/48"] },
      { id: `bulk-${version % 7}`, action: r.pick(["deny", "log"]), cidrs_text: lines.join("\n") },
      ...(version % 3 === 0 ? [{ id: "cond", cidrs: ["203.0.113.0/24"], header: { name: "x-tenant", equals: "blocked" } }] : []),
    ],
    sampling: { default_rate: 0.01, always_keep_5xx: true },
  };
}

async function main(): Promise<void> {
  // Provenance (commit, wasm sha256, machine, load, foreign CPU): the throughput and memory figures
  // are the machine's as much as the code's.
  const run = new RunRecord("soak", { quick: false });
  const t0 = performance.now();
  const wallT0 = Date.now();
  const deadline = t0 + MAX_MINUTES * 60_000;
  const rand = new Prng(SEED);
  const s: EdgeStack = await startEdgeStack({
    workers: WORKERS,
    logCapacity: 2000,
    plugin: {
      client_address: { source: "xff", xff_trusted_hops: 1 },
      telemetry: { heartbeat_ms: 1000 },
      rules_service: { cluster: "rules", long_poll_ms: 5000, timeout_ms: 6000, tick_ms: 50, lease_ms: 1000, backoff_base_ms: 20, backoff_max_ms: 500 },
      tracing: { trust_parent: "never", collector: { cluster: "otel", batch_max: 256, flush_ms: 1000, buffer_max: 8192 } },
    },
  });
  const vmsOf = () => s.proxy.host.vms;
  const memOf = () => Object.fromEntries(vmsOf().map((v) => [v.label, v.mem.size]));

  // First rules, enforced before the load starts.
  let published = s.rules.publish(ruleDocument(1, rand));
  await waitUntil(async () => (await s.metric("edgewatch_rules_version")) >= 1, 10_000, "first rules");

  // The load runs in a child process (its own CPU share and event loop), reporting over IPC.
  let sent = 0, ok = 0, denied = 0;
  let failures: Record<string, number> = {};
  let failureExamples: string[] = [];
  const samples: Sample[] = [];
  let stopped: "done" | "time" = "done";

  const reloads = setInterval(() => {
    published = s.rules.publish(ruleDocument(s.rules.version + 1, rand));
  }, RELOAD_MS);

  // Fetcher (lease holder) changes: the VM that pulls and parses documents holds the larger working set.
  const leaderEvents: Array<{ t: number; vm: string }> = [];
  const seenLeader = new Set<string>();
  const scanLeaders = () => {
    for (const e of s.proxy.logger.find(/is now the rules fetcher/)) {
      const key = `${e.time}|${e.vm}`;
      if (seenLeader.has(key)) continue;
      seenLeader.add(key);
      leaderEvents.push({ t: Math.round(e.time - wallT0), vm: e.vm ?? "?" });
    }
  };
  let lastSampleT = performance.now(), lastSampleN = 0;
  const sample = () => {
    scanLeaders();
    const now = performance.now();
    const st = s.proxy.host.stats;
    samples.push({
      t: Math.round(now - t0),
      requests: sent,
      rps: Math.round((sent - lastSampleN) / Math.max(1e-3, (now - lastSampleT) / 1000)),
      vms: memOf(),
      liveStreams: st.liveStreamContexts,
      roots: st.liveRootContexts,
      rssMiB: Math.round(process.memoryUsage().rss / MIB),
      rulesVersion: Number(s.proxy.stats.gauge("wasmcustom.edgewatch.rules_version").value()),
    });
    lastSampleT = now;
    lastSampleN = sent;
  };
  sample();
  const sampler = setInterval(sample, SAMPLE_MS);
  const progress = setInterval(() => {
    const el = (performance.now() - t0) / 1000;
    const rate = sent / Math.max(el, 1e-3);
    const left = rate > 0 ? Math.round((REQUESTS - sent) / rate) : 0;
    const m = memOf();
    process.stdout.write(`[soak] ${sent}/${REQUESTS} requests (${Math.floor((sent * 100) / REQUESTS)}%), ${el.toFixed(0)} s, ${Math.round(rate)} req/s, ~${left} s left, rules v${published}, mem ${Object.entries(m).map(([k, v]) => `${k}=${(v / MIB).toFixed(2)}MiB`).join(" ")}\n`);
  }, 10_000);

  const child = forkChild(fileURLToPath(import.meta.url), ["--role", "client"], { execArgv: ["--import", "tsx"] });
  process.stdout.write(`[soak] load client started (pid ${child.pid}), ${REQUESTS} requests, concurrency ${CONCURRENCY}\n`);
  await new Promise<void>((resolveDone, reject) => {
    child.on("message", (m: ClientReport) => {
      sent = m.sent; ok = m.ok; denied = m.denied; failures = m.failures; failureExamples = m.failureExamples;
      if (m.stoppedBy) stopped = m.stoppedBy;
      if (m.final) resolveDone();
    });
    child.on("exit", (code) => { if (code !== 0) reject(new Error(`load client exited with ${code}`)); else resolveDone(); });
    child.send({ url: s.url, requests: REQUESTS, concurrency: CONCURRENCY, deadline: Date.now() + (deadline - performance.now()) });
  });
  child.disconnect();
  const loadMs = performance.now() - t0;
  clearInterval(reloads);
  clearInterval(progress);
  sample();
  clearInterval(sampler);

  // Settle: streams finished, the last published version fetched everywhere.
  const lastVersion = s.rules.version;
  await waitUntil(() => s.proxy.host.stats.liveStreamContexts === 0, 10_000, "stream contexts released").catch(() => {});
  await waitUntil(async () => (await s.metric("edgewatch_rules_version")) === lastVersion, 10_000, "last rules version in force").catch(() => {});
  const st = s.proxy.host.stats;
  const prom = await s.prometheus();
  const seen = prom.find((x) => x.name === "edgewatch_requests_seen_total")?.value ?? -1;
  const total = prom.filter((x) => x.name === "edgewatch_requests_total").reduce((a, x) => a + x.value, 0);
  const reloadsCounted = prom.find((x) => x.name === "edgewatch_rules_reload_total")?.value ?? -1;
  const reloadFailures = prom.filter((x) => x.name === "edgewatch_rules_reload_failures_total").reduce((a, x) => a + x.value, 0);
  const versionGauge = prom.find((x) => x.name === "edgewatch_rules_version")?.value ?? -1;
  const spansExported = prom.find((x) => x.name === "edgewatch_trace_spans_exported_total")?.value ?? 0;
  // By reason since issue #12.3: sum every reason.
  const spansDropped = prom.filter((x) => x.name === "edgewatch_trace_spans_dropped_total").reduce((a, x) => a + x.value, 0);
  const vmFailed = Number(s.proxy.stats.counter("wasm.edgewatch.vm_failed").value());
  const draining = s.proxy.host.vms.reduce((n, v) => n + [...v.roots].filter((r) => r.state !== "active").length, 0);

  // Memory: per VM, at the end of warm-up (first sample at ≥ 10 % of the requests) and at the end.
  const warm = samples.find((x) => x.requests >= REQUESTS * 0.1) ?? samples[samples.length - 1];
  const first = samples[0];
  const last = samples[samples.length - 1];
  // Memory growth after warm-up per VM, also split by fetcher role: a VM that takes the fetcher lease
  // grows to the fetcher's working set once; growth while its role stays the same would be a leak.
  leaderEvents.sort((a, b) => a.t - b.t);
  const roleAt = (vm: string, t: number) => {
    let leader = "";
    for (const e of leaderEvents) if (e.t <= t) leader = e.vm;
    return leader === vm ? "fetcher" : "worker";
  };
  const memory = Object.keys(last.vms).map((label) => {
    const after = samples.filter((x) => x.t >= warm.t);
    let growthSameRole = 0;
    let segStart = after[0];
    for (let i = 1; i < after.length; i++) {
      if (roleAt(label, after[i].t) !== roleAt(label, after[i - 1].t)) segStart = after[i];
      growthSameRole = Math.max(growthSameRole, (after[i].vms[label] ?? 0) - (segStart.vms[label] ?? 0));
    }
    return {
      vm: label,
      startMiB: +(first.vms[label] / MIB).toFixed(3),
      afterWarmupMiB: +(warm.vms[label] / MIB).toFixed(3),
      endMiB: +(last.vms[label] / MIB).toFixed(3),
      growthAfterWarmupKiB: Math.round((last.vms[label] - warm.vms[label]) / 1024),
      growthSameRoleKiB: Math.round(growthSameRole / 1024),
      fetcherTakeovers: leaderEvents.filter((e) => e.vm === label).length,
      maxMiB: +(Math.max(...samples.map((x) => x.vms[label] ?? 0)) / MIB).toFixed(3),
    };
  });
  // Working set of the fetcher VM(s) measured at the end of warm-up.
  const fetcherWorkingSetMiB = Math.max(...memory.filter((m) => leaderEvents.some((e) => e.vm === m.vm && e.t <= warm.t)).map((m) => m.afterWarmupMiB), 0);
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  const checks = {
    completed: stopped === "done" && sent === REQUESTS,
    // < 1 MiB growth after warm-up on every VM; a VM that took the fetcher lease after warm-up may
    // grow once up to the working set the first fetcher had (its growth while in one role stays < 1 MiB).
    memoryFlat: memory.every((m) => m.growthAfterWarmupKiB * 1024 < MIB ||
      (m.fetcherTakeovers > 0 && m.growthSameRoleKiB * 1024 < MIB && m.endMiB <= fetcherWorkingSetMiB)),
    noStreamLeak: st.liveStreamContexts === 0,
    rootsPerVm: st.liveRootContexts === s.proxy.host.vms.length + draining,
    requestsSeenEqualsSent: seen === sent,
    requestsTotalEqualsSent: total === sent,
    noFailures: failed === 0,
    noVmFailed: vmFailed === 0 && st.vms.every((v) => !v.failed),
    lastRulesInForce: versionGauge === lastVersion,
  };
  const result = {
    date: new Date().toISOString(),
    params: { requests: REQUESTS, concurrency: CONCURRENCY, workers: WORKERS, reloadMs: RELOAD_MS, maxMinutes: MAX_MINUTES, seed: SEED },
    stoppedBy: stopped,
    sent, ok, denied, failed, failures, failureExamples,
    durationS: +(loadMs / 1000).toFixed(1),
    throughputRps: Math.round(sent / (loadMs / 1000)),
    rules: { published: lastVersion, reloadsCounted, reloadFailures, versionGauge },
    spans: { exported: spansExported, dropped: spansDropped, collectorReceived: s.collector.spans().length },
    counters: { requestsSeen: seen, requestsTotal: total },
    contexts: { liveStreamContexts: st.liveStreamContexts, liveRootContexts: st.liveRootContexts, vms: s.proxy.host.vms.length, draining },
    vmFailed,
    memory,
    fetcherChanges: leaderEvents,
    checks,
    pass: Object.values(checks).every(Boolean),
    samples,
    provenance: run.finish(),
  };
  await s.close();

  mkdirSync(dirname(OUT_JSON), { recursive: true });
  writeFileSync(OUT_JSON, JSON.stringify(result, null, 2) + "\n");
  const md = [
    `# Soak — ${result.date}`,
    "",
    `${sent.toLocaleString("en-US")} requests (${ok.toLocaleString("en-US")} allowed, ${denied.toLocaleString("en-US")} denied by rule, ${failed} failed) in ${result.durationS} s ` +
      `(${result.throughputRps} req/s, concurrency ${CONCURRENCY}, ${WORKERS} workers), rules reloaded every ${RELOAD_MS} ms: ` +
      `${lastVersion} versions published, ${reloadsCounted} counted, ${reloadFailures} failures, version ${versionGauge} in force.`,
    "",
    "| VM | start MiB | after warm-up (10 %) MiB | end MiB | growth after warm-up | growth, same role | became fetcher |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...memory.map((m) => `| ${m.vm} | ${m.startMiB} | ${m.afterWarmupMiB} | ${m.endMiB} | ${m.growthAfterWarmupKiB} KiB | ${m.growthSameRoleKiB} KiB | ${m.fetcherTakeovers}× |`),
    "",
    `Fetcher (rules lease) changes: ${leaderEvents.map((e) => `${e.vm} at ${(e.t / 1000).toFixed(1)} s`).join(", ") || "none"}.`,
    "",
    `Contexts after the run: ${st.liveStreamContexts} stream contexts, ${st.liveRootContexts} root contexts for ${s.proxy.host.vms.length} VMs (${draining} draining).`,
    `Counters: requests_seen_total ${seen}, Σ requests_total ${total}, sent ${sent}. Spans exported ${spansExported}, dropped ${spansDropped}. VM failures ${vmFailed}.`,
    "",
    "| check | result |",
    "|---|---|",
    ...Object.entries(checks).map(([k, v]) => `| ${k} | ${v ? "pass" : "FAIL"} |`),
    "",
  ].join("\n");
  writeFileSync(OUT_MD, md);
  process.stdout.write(md + "\n");
  if (!result.pass) process.exitCode = 1;
}

interface ClientReport {
  sent: number; ok: number; denied: number; failures: Record<string, number>; failureExamples: string[];
  stoppedBy?: "done" | "time"; final?: boolean;
}

/** The load generator (child process): allowed (192.0.2.x) and denied (198.51.100.x, every 10th) clients. */
async function runClient(): Promise<void> {
  exitWithParent();
  const job = await new Promise<{ url: string; requests: number; concurrency: number; deadline: number }>((r) => process.once("message", r as never));
  const pool = new Pool(job.url, { connections: job.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const rep: ClientReport = { sent: 0, ok: 0, denied: 0, failures: {}, failureExamples: [] };
  const fail = (k: string, i: number, ip: string) => {
    rep.failures[k] = (rep.failures[k] ?? 0) + 1;
    if (rep.failureExamples.length < 10) rep.failureExamples.push(`#${i} ${ip}: ${k}`);
  };
  const tick = setInterval(() => process.send!(rep), 500);
  let next = 0;
  let stoppedBy: "done" | "time" = "done";
  const loop = async () => {
    for (;;) {
      if (Date.now() > job.deadline) { stoppedBy = "time"; return; }
      const i = next++;
      if (i >= job.requests) return;
      const deny = i % 10 === 3;
      const ip = deny ? `198.51.100.${i % 250}` : `192.0.2.${i % 250}`;
      rep.sent++;
      try {
        const r = await pool.request({ path: `/soak/${i % 64}`, method: "GET", headers: { "x-forwarded-for": ip, "x-tenant": i % 5 === 0 ? "blocked" : "acme" } });
        await r.body.dump();
        const rule = r.headers["x-edgewatch-rule"];
        if (r.statusCode === 200 && rule === undefined && !deny) rep.ok++;
        else if (r.statusCode === 403 && rule === "soak-deny" && deny) rep.denied++;
        else fail(`${r.statusCode}/${rule ?? "-"}/${deny ? "deny" : "allow"}`, i, ip);
      } catch (err) {
        fail(`error:${(err as Error).message}`, i, ip);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  clearInterval(tick);
  await pool.close();
  process.send!({ ...rep, stoppedBy, final: true }, () => process.exit(0));
}

const role = (parsed.values.role as string | undefined) ?? "soak";
(role === "client" ? runClient() : main()).catch((err) => {
  process.stderr.write(`soak (${role}): ${(err as Error).stack ?? err}\n`);
  process.exit(2);
});

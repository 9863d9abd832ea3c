/**
 * Per-request overhead of the filter on the embedded host: the same traffic through the proxy
 * without the filter (`noFilter`) and with it, in ONE run, rounds interleaved (A B B A …) so drift
 * and noise hit both sides alike.
 *
 * Processes (2 cores: keep the proxy the bottleneck and the measurements apart):
 *   - this coordinator: drives the load (wrk when installed, else an undici pool), collects results;
 *   - one child per proxy (`--role proxy`): the embedded proxy without the filter, and one with it;
 *     each reports its own CPU time, RSS, wasm linear memory and — with timing switched on — the
 *     time spent in guest calls;
 *   - one child for the upstream echo fixture (`--role upstream`), which also takes the OTLP span
 *     exports when tracing is on (answers 200 to any POST).
 *
 * Per case (filter none|edgewatch × shape; 100 routes; shapes: CIDRs × workers × tracing rate,
 * default 0 CIDRs no tracing, 10,000 CIDRs tracing at 1 %, 10,000 CIDRs tracing every request, on 1
 * and 2 workers; --quick: the 2-worker shapes of the first two). Method (METHOD below, recorded in
 * the results file): warm-up, saturation pairs (wrk), then one uncounted fixed-rate round per side and
 * fixed-rate pairs (open-loop undici at 40 % of the filter side's saturation throughput), each pair
 * interleaved (A B, then B A):
 *   rate_rps, fixed_requests, fixed_p50_us, fixed_p99_us, fixed_skipped   the fixed-rate rounds
 *   cpu_us_per_request   proxy process CPU time (user+sys) / requests over the fixed-rate rounds
 *   added_cpu_us_per_request   THE HEADLINE: median over pairs of (on − off) CPU per request at the
 *                        fixed rate; added_cpu_us_min/_max and _ci95_low/_high (95 % bootstrap
 *                        interval of the median) show how repeatable it is; pairs = how many
 *   added_cpu_share      the same pairs as (on − off) / off (median, 95 % interval): a share of the
 *                        proxy's own CPU, which drifts less with the machine's speed than µs do
 *   requests, rps, p50_us, p99_us   saturation rounds (wrk at a fixed connection count)
 *   ratio, ratio_min, ratio_max     saturation throughput with / without (all rounds; range over pairs)
 *   saturation_cpu_us_per_request, saturation_added_cpu_us_per_request   CPU per request at saturation
 *   c1_p50_us, c1_p99_us latency one request at a time (undici, one connection), both sides
 *                        interleaved: the filter's added latency without queueing
 *   host_calls_per_request   hostcalls the filter made per request (a count; in Envoy each crosses
 *                        the VM boundary), from a separate round of sequential requests
 *   guest_calls_per_request  calls into the filter per request (same round)
 *   wasm_us_per_request  time inside guest calls per request (host functions included), same round:
 *                        every outermost guest call wrapped with performance.now(), the timer's own
 *                        cost calibrated and subtracted
 *   profile_wasm_code_us_per_request / profile_host_functions_us_per_request
 *                        a labelled BREAKDOWN of wasm_us_per_request: the V8 sampling profiler
 *                        (100 µs) in yet another round splits guest time into the filter's own wasm
 *                        code and the host functions it calls (JS here, C++ in Envoy)
 * Memory (section `memory`): RSS, V8 heap and wasm linear memory (sum and largest VM) of each proxy
 * process after N requests through it: the filter's proxy of the LAST shape is driven to 1,000,000
 * 500,000 requests in full mode (what the rounds sent in --quick); the no-filter proxy is sampled after its rounds.
 *
 * CLI: tsx bench/overhead.ts --help lists the options → overhead.json in bench/results (bench/results/quick with --quick) and a table on stdout.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { median, pairStats } from "../harness/bench/pair-stats.js";
import { COMMON_OPTIONS, checkUsage } from "../harness/bench/usage.js";
import { SlowPhaseRetry, caseProbeFields, probeCpu, type CaseProbes, type CpuProbe } from "../harness/bench/cpu-probe.js";
import { exitWithParent } from "../harness/process/child-lifetime.js";
import { IpcChild, serveRequests } from "../harness/process/ipc-child.js";

const HERE = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(HERE), "..");
const WASM = process.env.EDGEWATCH_WASM ? resolve(process.env.EDGEWATCH_WASM) : join(ROOT, "build/edgewatch.wasm");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

// ==================================================================================================
// Child: one embedded proxy
// ==================================================================================================

interface ProxyStartMsg {
  cmd: "start";
  config: import("../harness/config/proxy-config.js").ProxyConfig;
  noFilter: boolean;
}
type ProxyMsg = ProxyStartMsg | { cmd: "timing"; on: boolean; profile?: boolean; hook?: boolean } | { cmd: "sample" } | { cmd: "stop" };

/** What the V8 sampling profiler saw inside guest calls during the timed round. */
export interface GuestProfile {
  /** Sampled time with a wasm frame at the top of the stack (the filter's own code). */
  wasmSelfUs: number;
  /** Sampled time inside guest calls spent in host functions (JS) called by the guest. */
  hostUs: number;
  /** Sampled time inside guest calls in total. */
  underCallUs: number;
}

function isWasmFrame(cf: { url: string; functionName: string }): boolean {
  return cf.url.startsWith("wasm://") || /^(\$|wasm-function\[)/.test(cf.functionName);
}

/** Split sampled time under the host's guest-call wrapper into wasm self time and host-function time. */
export function splitGuestProfile(profile: {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}): GuestProfile {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const underCall = new Map<number, boolean>();
  const isUnder = (id: number): boolean => {
    const known = underCall.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id)!;
    const p = parent.get(id);
    const r = (n.callFrame.functionName === "call" && n.callFrame.url.endsWith("/host/vm.ts")) || (p !== undefined && isUnder(p));
    underCall.set(id, r);
    return r;
  };
  const out: GuestProfile = { wasmSelfUs: 0, hostUs: 0, underCallUs: 0 };
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    // timeDeltas[i] is the time since the previous sample: attribute the next delta to this sample.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (!isUnder(id)) continue;
    out.underCallUs += dt;
    const leaf = byId.get(id)!.callFrame;
    if (isWasmFrame(leaf)) {
      out.wasmSelfUs += dt;
      continue;
    }
    // A JS frame: a host function if some wasm frame is below it (between it and vm.call).
    let x = parent.get(id);
    while (x !== undefined) {
      const cf = byId.get(x)!.callFrame;
      if (isWasmFrame(cf)) {
        out.hostUs += dt;
        break;
      }
      if (cf.functionName === "call" && cf.url.endsWith("/host/vm.ts")) break;
      x = parent.get(x);
    }
  }
  return out;
}

export interface ProxySample {
  cpuUs: number;
  rss: number;
  heapUsed: number;
  streams: number;
  guestNs: number;
  guestCalls: number;
  hostCalls: number;
  wasmBytes: number[];
  timerPairNs: number;
}

async function proxyChild(): Promise<void> {
  exitWithParent();
  const { startEmbeddedProxy } = await import("../harness/proxy/embedded-proxy.js");
  const { HostLogger } = await import("../harness/host/logger.js");
  type Proxy = Awaited<ReturnType<typeof startEmbeddedProxy>>;
  let proxy: Proxy | undefined;
  let noFilter = true;
  const timing = { on: false, hook: true, ns: 0, calls: 0 };
  // Calibrate the cost of the two performance.now() reads the hook adds per guest call.
  let timerPairNs = 0;
  {
    const n = 200_000;
    let sink = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const a = performance.now();
      sink += performance.now() - a;
    }
    timerPairNs = ((performance.now() - t0) * 1e6) / n;
    if (sink < 0) console.log(sink);
  }
  const { Session } = await import("node:inspector");
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object) =>
    new Promise<T>((res, rej) => session.post(method, params ?? {}, (err, r) => (err ? rej(err) : res(r as T))));
  let profiling = false;
  /** Per VM: install / remove the guest-call timing wrapper (only while timing.on). */
  const hooks: Array<{ install(): void; remove(): void }> = [];
  serveRequests(async (raw) => {
    const m = raw as ProxyMsg;
    if (m.cmd === "start") {
      noFilter = m.noFilter;
      const logger = new HostLogger({ level: "warn", stderrLevel: "error" });
      proxy = await startEmbeddedProxy(m.config, { noFilter: m.noFilter, logger });
      if (!noFilter) {
        // The timing hook wraps vm.call only while a timed round runs: a wrapped call sends every
        // guest call through the host's generic (slower) path, which must not inflate the CPU rounds.
        for (const vm of proxy.host.vms) {
          type CallFn = typeof vm.call;
          const orig: CallFn = vm.call;
          const wrapped: CallFn = function (this: typeof vm, name, fn, ctx, a, b, c, d, e) {
            if (!timing.on || this.callDepth !== 0) return orig.call(this, name, fn, ctx, a, b, c, d, e);
            if (!timing.hook) {
              timing.calls++;
              return orig.call(this, name, fn, ctx, a, b, c, d, e);
            }
            const t0 = performance.now();
            const r = orig.call(this, name, fn, ctx, a, b, c, d, e);
            timing.ns += (performance.now() - t0) * 1e6;
            timing.calls++;
            return r;
          };
          hooks.push({ install: () => { vm.call = wrapped; }, remove: () => { vm.call = orig; } });
        }
      }
      return { listenerUrl: proxy.listenerUrl, adminUrl: proxy.adminUrl };
    }
    if (m.cmd === "timing") {
      let profile: GuestProfile | undefined;
      if (m.on) {
        timing.ns = 0;
        timing.calls = 0;
        timing.hook = m.hook !== false;
        if (m.profile) {
          await post("Profiler.enable");
          await post("Profiler.setSamplingInterval", { interval: 100 });
          await post("Profiler.start");
          profiling = true;
        }
      } else if (profiling) {
        const r = await post<{ profile: Parameters<typeof splitGuestProfile>[0] }>("Profiler.stop");
        profiling = false;
        profile = splitGuestProfile(r.profile);
      }
      timing.on = m.on;
      for (const h of hooks) (m.on ? h.install : h.remove)();
      return { profile };
    }
    if (m.cmd === "sample") {
      const cpu = process.cpuUsage();
      const mem = process.memoryUsage();
      const vms = noFilter || !proxy ? [] : proxy.host.vms;
      const sample: ProxySample = {
        cpuUs: cpu.user + cpu.system,
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        streams: noFilter || !proxy ? 0 : proxy.host.stats.streamsCreated,
        guestNs: timing.ns,
        guestCalls: timing.calls,
        hostCalls: vms.reduce((a, v) => a + v.hostCalls, 0),
        wasmBytes: vms.map((v) => (v.instance.exports.memory as WebAssembly.Memory).buffer.byteLength),
        timerPairNs,
      };
      return { sample };
    }
    if (m.cmd === "stop") {
      await proxy?.close();
      setTimeout(() => process.exit(0), 20); // after the answer is on its way
      return {};
    }
    throw new Error(`unknown command ${(m as { cmd?: string }).cmd}`);
  });
}

async function upstreamChild(): Promise<void> {
  exitWithParent();
  const { startUpstreamServer } = await import("../harness/fixtures/upstream-server.js");
  const up = await startUpstreamServer({ keep: 1 });
  serveRequests(
    async (m) => {
      if (m.cmd !== "stop") throw new Error(`unknown command ${m.cmd}`);
      await up.close();
      setTimeout(() => process.exit(0), 20);
      return {};
    },
    { port: up.port, url: up.url },
  );
}

// ==================================================================================================
// Coordinator
// ==================================================================================================

/** This script in another role (`--role proxy|upstream`), forked; dies with this process (exitWithParent in the role). */
function spawnRole(role: string, name: string): Promise<IpcChild> {
  return IpcChild.start(HERE, ["--role", role], { name, execArgv: ["--import", "tsx"] });
}

interface Shape {
  cidrs: number;
  workers: number;
  routes: number;
  /** Head-sampling rate with tracing on; null = tracing off. */
  rate: number | null;
}

/** A case's attempt that met a slow phase: its probes and what it read. */
export interface SlowAttempt extends CaseProbes {
  added_cpu_us_per_request: number;
  ratio: number;
}

export interface OverheadCase {
  target: string;
  /** harness/bench/cpu-probe.ts run just before the case and just after its measured rounds (caseProbeFields): CPU ms per CPU (null when it failed). */
  cpu_probe_ms?: number[] | null;
  cpu_probe_after_ms?: number[] | null;
  /** The same probes' price of a cold memory load, ns per CPU (most of the filter's added µs are such loads). */
  mem_probe_ns?: number[] | null;
  mem_probe_after_ns?: number[] | null;
  /**
   * Embedded: how many times the case was measured (1 + slow_attempts.length). An attempt whose
   * probes said the machine ran in a slow phase (the report's "slow phase" criterion, against every
   * probe reading of the run so far) was discarded and the case measured again once a probe was
   * steady, at most --retry-slow times; each discarded attempt keeps its probes and headline figures.
   */
  attempts?: number;
  slow_attempts?: SlowAttempt[];
  filter: "none" | "edgewatch";
  cidrs: number;
  workers: number;
  routes: number;
  /** "off", or the head-sampling rate ("0.01", "1"). */
  tracing: string;
  sample_rate: number;
  /** wrk connections of the saturation rounds. */
  concurrency: number;
  /** Saturation rounds (wrk): requests, throughput and latency under that load. */
  requests: number;
  rps: number;
  p50_us: number;
  p99_us: number;
  /** Fixed-rate rounds (open loop, same rate both sides): the rate, requests and latency at it. */
  rate_rps: number;
  fixed_requests: number;
  fixed_p50_us: number;
  fixed_p99_us: number;
  /** Due requests the open loop could not send (the proxy fell behind: the rate was not sub-saturation). */
  fixed_skipped: number;
  /** Latency with one request at a time (no queueing): the filter's added latency shows directly. */
  c1_p50_us: number;
  c1_p99_us: number;
  /** Proxy process CPU / requests over the fixed-rate rounds. */
  cpu_us_per_request: number;
  /** THE HEADLINE: median over pairs of (fixed-rate round with the filter − the one without), CPU µs per request (0 for none). */
  added_cpu_us_per_request: number;
  /** Spread of those pairwise differences: min, max and a 95 % bootstrap interval of the median. */
  added_cpu_us_min: number;
  added_cpu_us_max: number;
  added_cpu_us_ci95_low: number;
  added_cpu_us_ci95_high: number;
  /** (on − off) / off per pair, median and 95 % interval: the added CPU as a share of the proxy's own, steadier than µs when the machine's speed drifts. */
  added_cpu_share: number;
  added_cpu_share_ci95_low: number;
  added_cpu_share_ci95_high: number;
  /** Fixed-rate pairs behind the figures above. */
  pairs: number;
  /** The same difference at saturation (wrk rounds), median over pairs: batching under saturation moves it. */
  saturation_cpu_us_per_request: number;
  saturation_added_cpu_us_per_request: number;
  /** Hostcalls the filter made per request (a count; null where the host cannot count them: Envoy). */
  host_calls_per_request: number | null;
  guest_calls_per_request: number | null;
  wasm_us_per_request: number | null;
  /** Breakdown of wasm_us_per_request by the V8 sampling profiler (separate round): the filter's own wasm code. */
  profile_wasm_code_us_per_request: number | null;
  /** Breakdown: the host functions the filter calls (JS in this host, C++ in Envoy). */
  profile_host_functions_us_per_request: number | null;
  /** Saturation throughput with / without the filter (all saturation rounds), and its range over pairs. */
  ratio: number;
  ratio_min: number;
  ratio_max: number;
  /** Saturation rounds per side. */
  rounds: number;
}

export interface MemoryRow {
  target: string;
  filter: "none" | "edgewatch";
  cidrs: number;
  workers: number;
  routes: number;
  tracing: string;
  requests: number;
  rss_bytes: number;
  heap_used_bytes: number;
  wasm_memory_bytes: number;
  wasm_memory_per_vm_bytes: number;
}

/** 10,000 distinct prefixes (mixed /16–/32) inside 100.64.0.0/10; bench clients come from 198.18.0.0/15. */
export function benchCidrs(n: number): string[] {
  const out: string[] = [];
  const lens = [24, 24, 24, 28, 32, 22, 20, 16];
  const seen = new Set<string>();
  for (let i = 0; out.length < n; i++) {
    const len = lens[i % lens.length];
    const a = 64 + ((i >> 10) & 63);
    const b = (i * 7) & 255;
    const c = (i * 13) & 255;
    const d = (i * 29) & 255;
    const raw = (((100 << 24) | (a << 16) | (b << 8) | c) >>> 0) * 256 + d;
    const ip = len === 32 ? raw : Math.floor(raw / 2 ** (32 - len)) * 2 ** (32 - len);
    const ipText = [24, 16, 8, 0].map((s) => Math.floor(ip / 2 ** s) & 255).join(".");
    const cidr = `${ipText}/${len}`;
    if (seen.has(cidr)) continue;
    seen.add(cidr);
    out.push(cidr);
    if (i > n * 50) throw new Error("cannot generate enough distinct CIDRs");
  }
  return out;
}

/** The filter's plugin configuration for a shape (collector cluster "otel", as harness/stack names it). */
function pluginConfiguration(shape: Shape): string {
  const plugin = {
    client_address: { source: "xff", xff_trusted_hops: 1 },
    telemetry: { routes_cap: Math.max(128, shape.routes + 8) },
    tracing: shape.rate !== null
      ? { enabled: true, service_name: "edgewatch-bench", collector: { cluster: "otel", authority: "collector", path: "/v1/traces" } }
      : { enabled: false },
    rules: {
      version: 1,
      mode: "deny",
      access: shape.cidrs > 0 ? [{ id: "bench-deny", action: "deny", cidrs_text: benchCidrs(shape.cidrs).join("\n") }] : [],
      sampling: { default_rate: shape.rate ?? 0 },
    },
  };
  return JSON.stringify(plugin);
}

function proxyConfig(shape: Shape, upstreamPort: number): import("../harness/config/proxy-config.js").ProxyConfig {
  const routes = Array.from({ length: shape.routes }, (_, i) => ({ name: `r${i}`, match: { prefix: `/r${i}/` }, cluster: "app" }));
  return {
    node: { id: "edgewatch-bench", cluster: "edgewatch" },
    listener: { address: "127.0.0.1", port: 0 },
    admin: { address: "127.0.0.1", port: 0 },
    workers: shape.workers,
    routes,
    clusters: [
      { name: "app", address: "127.0.0.1", port: upstreamPort },
      { name: "otel", address: "127.0.0.1", port: upstreamPort },
    ],
    plugin: { name: "edgewatch", rootId: "edgewatch", vmId: "edgewatch", wasmPath: WASM, configuration: pluginConfiguration(shape), failOpen: false },
    stats: { flushIntervalMs: 5000, flushOnAdmin: false, histogramBucketSettings: [], statsTags: [] },
    xffNumTrustedHops: 1,
  };
}

interface RoundResult {
  requests: number;
  seconds: number;
  p50_us: number;
  p99_us: number;
  errors: number;
}

/** One side of a case: a listener and a reading of the proxy process's CPU time (µs). */
interface Side {
  name: "none" | "edgewatch";
  url: string;
  cpuUs: () => Promise<number>;
}

/** What the interleaved rounds of one case measured, per side (index 0 none, 1 edgewatch). */
interface Measured {
  rate: number;
  sat: RoundResult[][];
  satCpuPerReq: number[][];
  satCpuUs: number[];
  fixed: Array<Array<{ requests: number; seconds: number; p50_us: number; p99_us: number; skipped: number }>>;
  fixedCpuPerReq: number[][];
  fixedCpuUs: number[];
}

const METHOD =
  "Headline: CPU per request at a FIXED sub-saturation rate. An open-loop undici generator in the coordinator (wrk2-style; wrk2 is not " +
  "packaged and wrk has no rate control) sends the same rate to both proxies (default 40 % of the filter side's saturation throughput, " +
  "measured first in the same case; one uncounted fixed-rate round per side precedes the pairs); CPU per request = the proxy process's CPU time (user+sys; the workers are VMs in that process) / " +
  "requests of the round. Pairs are many and short (by default 24 × 0.5 s; round_seconds and pairs below) so that a pair's two rounds run at the same machine speed; the share (on − off) / off per pair is reported beside the µs. At saturation the slower side batches more reads per event-loop turn, which understates its per-request cost " +
  "and made the figure move between runs; at a fixed rate both sides do the same work at the same pace. Rounds alternate filter off / on " +
  "(A B B A …); added CPU = median over pairs of (on − off), with min, max and a 95 % bootstrap interval of that median. Second figure: " +
  "saturation throughput with / without the filter (wrk, fixed connections), its range over pairs, and the CPU difference at saturation. " +
  "Host calls, guest time and the profiler split come from separate sequential rounds (the profiler round labelled as a breakdown). " +
  "Embedded on ≥ 2 cores: the proxy under measurement runs alone on CPU 1, everything else on CPU 0 (cpu_pinning).";

async function main(): Promise<number> {
  const { RunRecord, benchArgs, ensureBenchTuning, writeResultFile } = await import("../harness/bench/results.js");
  ensureBenchTuning(); // forked proxies and the upstream inherit it
  const args = benchArgs();
  const quick = args.quick;
  const run = new RunRecord("overhead", { quick, target: args.target, wasmPath: WASM });
  const connections = Number(arg("--connections") ?? 16);
  // Embedded: each proxy under measurement gets CPU 1 to itself; this coordinator (the fixed-rate
  // generator), wrk and the upstream (children inherit the mask) share CPU 0. Unpinned, the
  // no-filter side's CPU per request moved 112–185 µs between cases of one run (12/2026), more than
  // the difference being measured.
  const { canPin, pinProcess } = await import("../harness/process/cpu-affinity.js");
  const pinned = args.target === "embedded" && !process.argv.includes("--no-pin") && canPin(2);
  if (pinned) pinProcess(process.pid, "0");
  const cpuPinning = pinned ? "proxy under measurement on CPU 1; coordinator (fixed-rate generator), wrk and upstream on CPU 0 (taskset)" : null;
  const { wrkAvailable, runWrk, wrkRoutesScript, runLoad, runOpenLoop, quantile } = await import("../harness/cli/load.js");
  const { Progress } = await import("../harness/cli/progress.js");
  const { textTable } = await import("../harness/bench/report.js");
  const loadKind = arg("--load") ?? ((await wrkAvailable()) ? "wrk" : "undici");
  const loadGenerator = `fixed rate: open-loop undici (≤ 64 in flight); saturation: ${loadKind === "wrk" ? `wrk (1 thread, ${connections} connections)` : `undici pool (${connections} connections)`}`;
  // Fixed-rate rounds: many short pairs. The CPU speed of this VM drifts with the hypervisor (the
  // no-filter side moved 94 → 197 µs/request between two runs an hour apart), so the pair's two
  // rounds should be close in time: 24 pairs of 0.5 s gave 95 % intervals of 13.2…22.1 and
  // 11.5…16.5 µs where 6 pairs of 2 s (same seconds) gave 25.5…75.9 (12/2026, 0 CIDRs, 2 workers).
  // Short rounds are fine since the engine compiles the filter up front (no tier-up, wasm-engine.ts).
  // Saturation rounds stay 2 s: shorter ones under-report the filter side (wrk start-up): measured.
  // Full run ≤ 8 minutes on 2 cores.
  const roundS = Number(arg("--round-seconds") ?? 0.5);
  const pairs = Number(arg("--pairs") ?? (quick ? 12 : 24));
  const satRoundS = Number(arg("--saturation-seconds") ?? 2);
  const satPairs = Number(arg("--saturation-pairs") ?? (quick ? 1 : 2));
  const fixedRate = arg("--rate") === undefined ? null : Number(arg("--rate"));
  const rateShare = Number(arg("--rate-share") ?? 0.4);
  const warmupS = Number(arg("--warmup-seconds") ?? 2);
  const memoryTarget = Number(arg("--memory-requests") ?? (quick ? 0 : 500_000));
  const maxSeconds = Number(arg("--max-seconds") ?? (quick ? 180 : 1800));
  const deadline = Date.now() + maxSeconds * 1000;
  // Embedded cases measured in a slow phase of the machine are measured again (cpu-probe.ts SlowPhaseRetry).
  const retry = new SlowPhaseRetry(Number(arg("--retry-slow") ?? (quick ? 0 : 2)));
  const routes = 100;
  // --shapes CIDRs:workers:rate, rate "off" or a sampling rate (issue 13's cases: no CIDRs and no
  // tracing; 10k CIDRs tracing 1 %; 10k CIDRs tracing every request). --quick: the 2-worker shapes
  // of the first two.
  const shapes: Shape[] = (arg("--shapes") ?? (quick ? "0:2:off,10000:2:0.01" : "0:1:off,0:2:off,10000:1:0.01,10000:2:0.01,10000:1:1,10000:2:1")).split(",").map((t) => {
    const [c, w, r] = t.split(":");
    const rate = r === undefined || r === "off" ? null : Number(r);
    if (!Number.isFinite(Number(c)) || !Number.isFinite(Number(w)) || (rate !== null && !(rate >= 0 && rate <= 1))) throw new Error(`--shapes: bad shape ${t} (CIDRs:workers:rate|off)`);
    return { cidrs: Number(c), workers: Number(w), routes, rate };
  });
  const progress = new Progress("overhead", { intervalMs: 5000 });
  const script = wrkRoutesScript({ routes });
  const timedRequests = Number(arg("--timed-requests") ?? (quick ? 2000 : 4000));
  const { Client } = await import("undici");

  /** `n` requests one after another on one connection (bounded by 60 s); sorted latencies in µs. */
  const sequential = async (listenerUrl: string, n: number): Promise<number[]> => {
    const client = new Client(listenerUrl);
    const until = Date.now() + 60_000;
    const lat: number[] = [];
    try {
      for (let i = 0; i < n && Date.now() < until; i++) {
        const t0 = performance.now();
        const r = await client.request({ path: `/r${i % routes}/item`, method: "GET", headers: { "x-forwarded-for": `198.18.${(i >> 8) & 255}.${1 + (i % 254)}` } });
        await r.body.dump();
        lat.push((performance.now() - t0) * 1000);
        if (r.statusCode !== 200) throw new Error(`timed round: HTTP ${r.statusCode}`);
      }
    } finally {
      await client.close();
    }
    return lat.sort((a, b) => a - b);
  };

  /** One bounded load round against a listener. */
  const round = async (listenerUrl: string, seconds: number): Promise<RoundResult> => {
    if (loadKind === "wrk") {
      const r = await runWrk({ url: listenerUrl, connections, threads: 1, durationS: seconds, script, timeoutS: 5 });
      return { requests: r.requests, seconds: r.durationS, p50_us: r.p50_us, p99_us: r.p99_us, errors: r.non2xx + r.socketErrors };
    }
    let n = 0;
    const r = await runLoad({
      origin: listenerUrl,
      concurrency: connections,
      maxRequests: 2_000_000,
      maxDurationMs: seconds * 1000,
      request: () => {
        n++;
        return { path: `/r${n % routes}/item`, headers: { "x-forwarded-for": `198.18.${(n >> 8) & 255}.${1 + (n % 254)}` } };
      },
    });
    return {
      requests: r.completed,
      seconds: r.durationMs / 1000,
      p50_us: quantile(r.latenciesUs, 0.5),
      p99_us: quantile(r.latenciesUs, 0.99),
      errors: r.errors + Object.entries(r.statuses).filter(([k]) => k !== "200").reduce((a, [, v]) => a + v, 0),
    };
  };

  /** One fixed-rate open-loop round. */
  const fixedRound = async (listenerUrl: string, rate: number, seconds: number) => {
    const r = await runOpenLoop({
      origin: listenerUrl,
      rate,
      durationS: seconds,
      maxInFlight: 64,
      request: (n) => ({ path: `/r${n % routes}/item`, headers: { "x-forwarded-for": `198.18.${(n >> 8) & 255}.${1 + (n % 254)}` } }),
    });
    return { requests: r.completed, seconds: r.seconds, p50_us: quantile(r.latenciesUs, 0.5), p99_us: quantile(r.latenciesUs, 0.99), skipped: r.skipped, errors: r.errors };
  };

  /** Warm-up, saturation pairs, then fixed-rate pairs, each pair interleaved (A B, then B A). */
  const measure = async (sides: Side[], tag: string): Promise<Measured> => {
    const m: Measured = { rate: 0, sat: [[], []], satCpuPerReq: [[], []], satCpuUs: [0, 0], fixed: [[], []], fixedCpuPerReq: [[], []], fixedCpuUs: [0, 0] };
    // Warm-up (JIT and wasm tier-up, connection pools), not counted.
    for (const sd of sides) await round(sd.url, warmupS);
    for (let k = 0; k < satPairs; k++) {
      for (const i of k % 2 === 0 ? [0, 1] : [1, 0]) {
        progress.update(`${tag}: saturation round ${k + 1}/${satPairs} ${sides[i].name}`);
        const c0 = await sides[i].cpuUs();
        const r = await round(sides[i].url, satRoundS);
        const cpu = (await sides[i].cpuUs()) - c0;
        if (r.errors > 0) throw new Error(`${sides[i].name}: ${r.errors} failed or non-2xx responses in a round (${tag})`);
        m.sat[i].push(r);
        m.satCpuUs[i] += cpu;
        m.satCpuPerReq[i].push(cpu / r.requests);
      }
    }
    const satRps = m.sat[1].reduce((a, r) => a + r.requests, 0) / m.sat[1].reduce((a, r) => a + r.seconds, 0);
    m.rate = fixedRate ?? Math.max(100, Math.floor((satRps * rateShare) / 100) * 100);
    // One fixed-rate round per side first, not counted: the first such round after the saturation rounds
    // cost both sides 10–40 % more CPU per request than the later ones (pools re-growing, heap resizing).
    for (const i of [0, 1]) {
      progress.update(`${tag}: fixed-rate warm-up ${sides[i].name} (${m.rate} rps)`);
      await fixedRound(sides[i].url, m.rate, Math.max(2, roundS));
    }
    for (let k = 0; k < pairs; k++) {
      for (const i of k % 2 === 0 ? [0, 1] : [1, 0]) {
        progress.update(`${tag}: fixed-rate round ${k + 1}/${pairs} ${sides[i].name} (${m.rate} rps)`);
        const c0 = await sides[i].cpuUs();
        const r = await fixedRound(sides[i].url, m.rate, roundS);
        const cpu = (await sides[i].cpuUs()) - c0;
        if (r.errors > 0) throw new Error(`${sides[i].name}: ${r.errors} failed or non-200 responses in a fixed-rate round (${tag})`);
        m.fixed[i].push(r);
        m.fixedCpuUs[i] += cpu;
        m.fixedCpuPerReq[i].push(cpu / r.requests);
      }
    }
    return m;
  };

  /**
   * The headline of a measured case, read by caseRows and by a discarded attempt: the fixed-rate
   * pairs' added CPU (on − off, µs per request) and each side's saturation throughput (i: 0 none, 1 edgewatch).
   */
  const headline = (m: Measured) => ({
    added: pairStats(m.fixedCpuPerReq[1].map((v, k) => v - m.fixedCpuPerReq[0][k])),
    rps: (i: number) => m.sat[i].reduce((a, r) => a + r.requests, 0) / m.sat[i].reduce((a, r) => a + r.seconds, 0),
  });
  /** A discarded attempt's headline figures, rounded as caseRows rounds them. */
  const attemptFigures = (m: Measured): { added_cpu_us_per_request: number; ratio: number } => {
    const { added, rps } = headline(m);
    return { added_cpu_us_per_request: Number(added.median.toFixed(1)), ratio: Number((rps(1) / rps(0)).toFixed(3)) };
  };

  /** The two case rows (none, edgewatch) of a measured case; the call counts and guest times come from the caller. */
  const caseRows = (
    m: Measured,
    base: Omit<OverheadCase, "filter" | "requests" | "rps" | "p50_us" | "p99_us" | "rate_rps" | "fixed_requests" | "fixed_p50_us" | "fixed_p99_us" | "fixed_skipped" | "cpu_us_per_request" | "added_cpu_us_per_request" | "added_cpu_us_min" | "added_cpu_us_max" | "added_cpu_us_ci95_low" | "added_cpu_us_ci95_high" | "added_cpu_share" | "added_cpu_share_ci95_low" | "added_cpu_share_ci95_high" | "pairs" | "saturation_cpu_us_per_request" | "saturation_added_cpu_us_per_request" | "c1_p50_us" | "c1_p99_us" | "ratio" | "ratio_min" | "ratio_max" | "rounds" | "host_calls_per_request" | "guest_calls_per_request" | "wasm_us_per_request" | "profile_wasm_code_us_per_request" | "profile_host_functions_us_per_request">,
    c1: { none: number[]; edgewatch: number[] },
    calls: { host: number | null; guest: number | null; wasm: number | null; wasmCode: number | null; hostFns: number | null },
  ): OverheadCase[] => {
    const r1 = (x: number) => Number(x.toFixed(1));
    const r2 = (x: number | null) => (x === null ? null : Number(x.toFixed(2)));
    const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((a, x) => a + f(x), 0);
    const { added, rps } = headline(m);
    // The same pairs relative to the no-filter round: the machine's speed drifts (the proxy's own
    // CPU per request moved 2× between runs), and a share moves much less with it than µs do.
    const share = pairStats(m.fixedCpuPerReq[1].map((v, k) => (v - m.fixedCpuPerReq[0][k]) / m.fixedCpuPerReq[0][k]));
    const satAdded = median(m.satCpuPerReq[1].map((v, k) => v - m.satCpuPerReq[0][k]));
    const ratios = m.sat[1].map((r, k) => r.requests / r.seconds / (m.sat[0][k].requests / m.sat[0][k].seconds));
    return (["none", "edgewatch"] as const).map((filter, i) => {
      const on = i === 1;
      const fixedRequests = sum(m.fixed[i], (r) => r.requests);
      const satRequests = sum(m.sat[i], (r) => r.requests);
      return {
        ...base,
        filter,
        requests: satRequests,
        rps: Math.round(rps(i)),
        p50_us: Math.round(median(m.sat[i].map((r) => r.p50_us))),
        p99_us: Math.round(median(m.sat[i].map((r) => r.p99_us))),
        rate_rps: m.rate,
        fixed_requests: fixedRequests,
        fixed_p50_us: Math.round(median(m.fixed[i].map((r) => r.p50_us))),
        fixed_p99_us: Math.round(median(m.fixed[i].map((r) => r.p99_us))),
        fixed_skipped: sum(m.fixed[i], (r) => r.skipped),
        c1_p50_us: Math.round(quantile(c1[filter].sort((a, b) => a - b), 0.5)),
        c1_p99_us: Math.round(quantile(c1[filter], 0.99)),
        cpu_us_per_request: r1(m.fixedCpuUs[i] / fixedRequests),
        added_cpu_us_per_request: on ? r1(added.median) : 0,
        added_cpu_us_min: on ? r1(added.min) : 0,
        added_cpu_us_max: on ? r1(added.max) : 0,
        added_cpu_us_ci95_low: on ? r1(added.ci95_low) : 0,
        added_cpu_us_ci95_high: on ? r1(added.ci95_high) : 0,
        added_cpu_share: on ? Number(share.median.toFixed(3)) : 0,
        added_cpu_share_ci95_low: on ? Number(share.ci95_low.toFixed(3)) : 0,
        added_cpu_share_ci95_high: on ? Number(share.ci95_high.toFixed(3)) : 0,
        pairs: added.n,
        saturation_cpu_us_per_request: r1(m.satCpuUs[i] / satRequests),
        saturation_added_cpu_us_per_request: on ? r1(satAdded) : 0,
        host_calls_per_request: on ? r2(calls.host) : calls.host === null ? null : 0,
        guest_calls_per_request: on ? r2(calls.guest) : calls.guest === null ? null : 0,
        wasm_us_per_request: on ? r2(calls.wasm) : calls.wasm === null ? null : 0,
        profile_wasm_code_us_per_request: on ? r2(calls.wasmCode) : calls.wasmCode === null ? null : 0,
        profile_host_functions_us_per_request: on ? r2(calls.hostFns) : calls.hostFns === null ? null : 0,
        ratio: Number((rps(i) / rps(0)).toFixed(3)),
        ratio_min: Number((on ? Math.min(...ratios) : 1).toFixed(3)),
        ratio_max: Number((on ? Math.max(...ratios) : 1).toFixed(3)),
        rounds: m.sat[i].length,
      };
    });
  };

  if (args.target !== "embedded") {
    // Envoy targets: one Envoy with two listeners, the edgewatch one and a filter-less twin with
    // the same routes (ProxyConfig.baselineListener); rounds alternate between them; CPU per
    // request from the Envoy process (container stats / /proc), so the difference is the filter's
    // cost in the same process, same run. Host and guest call counts are not observable there.
    const { getTarget } = await import("../harness/targets/registry.js");
    const { proxyOptions } = await import("../harness/stack/proxy-options.js");
    const { startStack } = await import("../harness/stack/stack.js");
    const target = getTarget(args.target as import("../harness/targets/target.js").TargetName);
    const avail = await target.availability();
    if (!avail.available) {
      process.stderr.write(`overhead bench: target '${args.target}' is not available: ${avail.reason}\n`);
      return 3;
    }
    const cases: OverheadCase[] = [];
    try {
      for (const [si, shape] of shapes.entries()) {
        const probe = probeCpu(); // the machine's speed just before the case
        if (Date.now() > deadline) throw new Error(`time bound (${maxSeconds}s) reached before case ${si + 1}/${shapes.length}`);
        const label = `${shape.cidrs} CIDRs, ${shape.workers} worker(s), tracing ${shape.rate ?? "off"}`;
        progress.update(`case ${si + 1}/${shapes.length} (${label}): starting ${args.target}`);
        const plugin = pluginConfiguration(shape);
        let opts = proxyOptions()
          .withWorkers(shape.workers)
          .withXffTrustedHops(1)
          .withRoutes(Array.from({ length: shape.routes }, (_, i) => ({ name: `r${i}`, match: { prefix: `/r${i}/` } })))
          .withPlugin(plugin)
          .withBaselineListener();
        if (shape.rate !== null) opts = opts.withCollector();
        const stack = await startStack(target, opts, { noProbes: true });
        try {
          if (!stack.proxy.baselineUrl || !stack.proxy.cpuUsageUs) throw new Error(`target ${args.target} has no baseline listener or CPU reading`);
          if (si === 0) {
            try {
              const info = (await (await fetch(`${stack.proxy.adminUrl}/server_info`)).json()) as { version?: string };
              run.setEnvoyVersion(info.version ?? null);
            } catch {
              /* left null */
            }
          }
          const cpuUs = stack.proxy.cpuUsageUs;
          const sides: Side[] = [
            { name: "none", url: stack.proxy.baselineUrl, cpuUs },
            { name: "edgewatch", url: stack.proxy.listenerUrl, cpuUs },
          ];
          const m = await measure(sides, `case ${si + 1}/${shapes.length} (${label})`);
          const probeAfter = probeCpu();
          const c1 = { none: [] as number[], edgewatch: [] as number[] };
          for (let h = 0; h < 2; h++) {
            c1.none.push(...(await sequential(sides[0].url, Math.ceil(timedRequests / 2))));
            c1.edgewatch.push(...(await sequential(sides[1].url, Math.ceil(timedRequests / 2))));
          }
          cases.push(
            ...caseRows(
              m,
              { target: args.target, ...caseProbeFields(probe, probeAfter), cidrs: shape.cidrs, workers: shape.workers, routes: shape.routes, tracing: shape.rate === null ? "off" : String(shape.rate), sample_rate: shape.rate ?? 0, concurrency: connections },
              c1,
              { host: null, guest: null, wasm: null, wasmCode: null, hostFns: null },
            ),
          );
        } finally {
          await stack.close();
        }
      }
    } finally {
      progress.done();
    }
    const result = { bench: "overhead", quick, provenance: run.finish(), method: METHOD, load_generator: loadGenerator, round_seconds: roundS, pairs, saturation_round_seconds: satRoundS, saturation_pairs: satPairs, cases };
    const out = writeResultFile(args.outDir, "overhead.json", result);
    process.stdout.write(`${textTable(cases as unknown as Record<string, unknown>[], ["target", "filter", "cidrs", "workers", "tracing", "rate_rps", "cpu_us_per_request", "added_cpu_us_per_request", "added_cpu_us_min", "added_cpu_us_max", "rps", "ratio", "ratio_min", "ratio_max", "c1_p50_us"])}\nwrote ${out}\n`);
    return 0;
  }

  const upstream = await spawnRole("upstream", "upstream");
  const upstreamPort = upstream.first.port as number;
  const cases: OverheadCase[] = [];
  const memory: MemoryRow[] = [];
  const children: IpcChild[] = [upstream];
  try {
    for (const [si, shape] of shapes.entries()) {
      let probe = retry.seen(probeCpu()); // the machine's speed just before the case (pinned: CPU 1 runs the proxies)
      const label = `${shape.cidrs} CIDRs, ${shape.workers} worker(s), tracing ${shape.rate ?? "off"}`;
      const cfg = proxyConfig(shape, upstreamPort);
      const slowAttempts: SlowAttempt[] = [];
      let none: IpcChild, ew: IpcChild, sides: Side[], m: Measured, probeAfter: CpuProbe | null, urlNone: string, urlEw: string;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`time bound (${maxSeconds}s) reached before case ${si + 1}/${shapes.length}`);
        progress.update(`case ${si + 1}/${shapes.length} (${label}): starting proxies${slowAttempts.length ? ` (attempt ${slowAttempts.length + 1}: the last met a slow phase)` : ""}`);
        [none, ew] = await Promise.all([spawnRole("proxy", "proxy(none)"), spawnRole("proxy", "proxy(edgewatch)")]);
        children.push(none, ew);
        if (pinned) for (const c of [none, ew]) pinProcess(c.proc.pid!, "1");
        urlNone = (await none.ask({ cmd: "start", config: cfg, noFilter: true })).listenerUrl as string;
        urlEw = (await ew.ask({ cmd: "start", config: cfg, noFilter: false }, 120_000)).listenerUrl as string;
        const cpuOf = (c: IpcChild) => async () => ((await c.ask({ cmd: "sample" })).sample as ProxySample).cpuUs;
        sides = [
          { name: "none", url: urlNone, cpuUs: cpuOf(none) },
          { name: "edgewatch", url: urlEw, cpuUs: cpuOf(ew) },
        ];
        m = await measure(sides, `case ${si + 1}/${shapes.length} (${label})`);
        probeAfter = probeCpu();
        // Measured in a slow phase of the machine (by the probes alone): keep what it read, measure again.
        if (!retry.slow(probe, probeAfter) || slowAttempts.length >= retry.retries || Date.now() > deadline) break;
        slowAttempts.push({ ...caseProbeFields(probe, probeAfter), ...attemptFigures(m) });
        await none.stop();
        await ew.stop();
        progress.update(`case ${si + 1}/${shapes.length} (${label}): slow phase, waiting for a steady probe`);
        probe = await retry.steadyProbe();
      }
      // Timed round: guest time per request, one request at a time (no queueing, so little
      // preemption inside guest calls); the hook is off during the throughput rounds.
      progress.update(`case ${si + 1}/${shapes.length} (${label}): timed round`);
      await sequential(urlEw, Math.min(500, timedRequests));
      await sequential(urlNone, Math.min(500, timedRequests));
      // Unloaded latency (one request at a time), both sides, interleaved halves.
      const c1 = { none: [] as number[], edgewatch: [] as number[] };
      for (let h = 0; h < 2; h++) {
        c1.none.push(...(await sequential(urlNone, Math.ceil(timedRequests / 2))));
        c1.edgewatch.push(...(await sequential(urlEw, Math.ceil(timedRequests / 2))));
      }
      // Round A: guest time (hook on, no profiler) and call counts per request.
      await ew.ask({ cmd: "timing", on: true, profile: false, hook: true });
      const t0 = (await ew.ask({ cmd: "sample" })).sample as ProxySample;
      await sequential(urlEw, timedRequests);
      await ew.ask({ cmd: "timing", on: false });
      const t1 = (await ew.ask({ cmd: "sample" })).sample as ProxySample;
      const streams = t1.streams - t0.streams;
      const guestNs = Math.max(0, t1.guestNs - t1.guestCalls * t1.timerPairNs);
      const wasmUs = streams > 0 ? guestNs / 1000 / streams : NaN;
      const callsPerReq = streams > 0 ? t1.guestCalls / streams : NaN;
      const hostCallsPerReq = streams > 0 ? (t1.hostCalls - t0.hostCalls) / streams : NaN;
      // Round B (breakdown only): the sampling profiler splits guest time into the filter's own
      // wasm code and the host functions it calls; its shares are applied to round A's time.
      await ew.ask({ cmd: "timing", on: true, profile: true, hook: false });
      await sequential(urlEw, timedRequests);
      const prof = (await ew.ask({ cmd: "timing", on: false })).profile as GuestProfile;
      const selfShare = prof.underCallUs > 0 ? prof.wasmSelfUs / prof.underCallUs : NaN;
      const hostShare = prof.underCallUs > 0 ? prof.hostUs / prof.underCallUs : NaN;

      cases.push(
        ...caseRows(
          m,
          { target: "embedded", ...caseProbeFields(probe, probeAfter), attempts: slowAttempts.length + 1, slow_attempts: slowAttempts, cidrs: shape.cidrs, workers: shape.workers, routes: shape.routes, tracing: shape.rate === null ? "off" : String(shape.rate), sample_rate: shape.rate ?? 0, concurrency: connections },
          c1,
          { host: hostCallsPerReq, guest: callsPerReq, wasm: wasmUs, wasmCode: wasmUs * selfShare, hostFns: wasmUs * hostShare },
        ),
      );
      // Memory after N requests through each proxy.
      for (const [i, s] of sides.entries()) {
        const child = i === 0 ? none : ew;
        let sample = (await child.ask({ cmd: "sample" })).sample as ProxySample;
        let sent = m.sat[i].reduce((a, r) => a + r.requests, 0) + m.fixed[i].reduce((a, r) => a + r.requests, 0) + (s.name === "edgewatch" ? 2 * streams : 0);
        // Only the filter side of the last shape soaks to the target: the no-filter proxy's memory is the baseline.
        const soak = s.name === "edgewatch" && si === shapes.length - 1;
        while (soak && memoryTarget > 0 && sent < memoryTarget && Date.now() < deadline) {
          progress.update(`case ${si + 1}/${shapes.length} (${label}): memory soak ${s.name}`, sent, memoryTarget);
          sent += (await round(s.url, 10)).requests;
        }
        sample = (await child.ask({ cmd: "sample" })).sample as ProxySample;
        memory.push({
          target: "embedded",
          filter: s.name,
          cidrs: shape.cidrs,
          workers: shape.workers,
          routes: shape.routes,
          tracing: shape.rate === null ? "off" : String(shape.rate),
          requests: sent,
          rss_bytes: sample.rss,
          heap_used_bytes: sample.heapUsed,
          wasm_memory_bytes: sample.wasmBytes.reduce((a, b) => a + b, 0),
          wasm_memory_per_vm_bytes: sample.wasmBytes.length ? Math.max(...sample.wasmBytes) : 0,
        });
      }
      await none.stop();
      await ew.stop();
    }
  } finally {
    progress.done();
    for (const c of children) await c.stop().catch(() => undefined);
  }

  const result = {
    bench: "overhead",
    generated_at: new Date().toISOString(),
    quick,
    provenance: run.finish(),
    method: METHOD,
    load_generator: loadGenerator,
    cpu_pinning: cpuPinning,
    round_seconds: roundS,
    pairs,
    saturation_round_seconds: satRoundS,
    saturation_pairs: satPairs,
    cases,
    memory,
  };
  const out = writeResultFile(args.outDir, "overhead.json", result);
  const prov = result.provenance;
  process.stdout.write(`\noverhead (${result.load_generator}; ${pairs} fixed-rate pairs × ${roundS}s, ${satPairs} saturation pairs × ${satRoundS}s; ${prov.noisy ? `NOISY: ${prov.noisy_reason}` : `foreign CPU ${prov.foreign_cpu ? `${Math.round(prov.foreign_cpu.mean_cores * 1000) / 10} % of a core` : "not measured"}`})\n`);
  process.stdout.write(`${textTable(cases as unknown as Record<string, unknown>[], ["filter", "cidrs", "workers", "tracing", "rate_rps", "fixed_skipped", "cpu_us_per_request", "added_cpu_us_per_request", "added_cpu_us_min", "added_cpu_us_max", "added_cpu_us_ci95_low", "added_cpu_us_ci95_high", "added_cpu_share", "rps", "ratio", "ratio_min", "ratio_max", "saturation_added_cpu_us_per_request", "c1_p50_us", "host_calls_per_request", "wasm_us_per_request", "profile_wasm_code_us_per_request", "profile_host_functions_us_per_request"])}\n\n`);
  process.stdout.write(`${textTable(memory as unknown as Record<string, unknown>[])}\n`);
  process.stdout.write(`wrote ${out}\n`);
  return 0;
}

const USAGE = `usage: npx tsx bench/overhead.ts [options]

Per-request cost of the filter: the same traffic through the embedded proxy without and with the
filter in one run, rounds interleaved. → overhead.json in the results directory.

options:
  --target T              embedded | envoy | envoy-local (default embedded; EDGEWATCH_TARGET)
  --shapes LIST           CIDRs:workers:rate|off,… (default 0:1:off,0:2:off,10000:1:0.01,10000:2:0.01,10000:1:1,10000:2:1;
                          --quick 0:2:off,10000:2:0.01)
  --rate N                fixed request rate of the headline rounds, both sides (default: --rate-share of
                          the filter side's saturation throughput, measured first in the same case)
  --rate-share F          (default 0.4)
  --pairs N               interleaved on/off fixed-rate pairs per case (default 24; --quick 12)
  --round-seconds S       seconds per fixed-rate round (default 0.5)
  --saturation-pairs N    interleaved on/off saturation pairs per case (default 2; --quick 1)
  --saturation-seconds S  seconds per saturation round (default 2)
  --warmup-seconds S      seconds of the uncounted warm-up round per side (default 2)
  --connections N         wrk / undici connections of the saturation rounds (default 16)
  --load wrk|undici       saturation load generator (default wrk when installed)
  --timed-requests N      requests of the sequential timed and profiled rounds (default 4000; --quick 2000)
  --memory-requests N     requests through the last filter proxy before its memory is sampled (default 500000; --quick 0)
  --max-seconds S         time bound of the whole run (default 1800; --quick 180)
  --retry-slow N          embedded: measure a case again when the CPU/memory probes around it say the
                          machine ran in a slow phase, after waiting up to 60 s for a steady probe; at
                          most N more attempts (default 2; --quick 0); the discarded ones stay in the file
  --no-pin                embedded: do not pin the proxies to CPU 1 and the load side to CPU 0 (taskset)
${COMMON_OPTIONS}`;

const role = arg("--role");
if (role === "proxy") {
  void proxyChild();
} else if (role === "upstream") {
  void upstreamChild();
} else if (process.argv[1] && resolve(process.argv[1]) === HERE) {
  checkUsage(USAGE);
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`overhead: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}

/**
 * The filter's request path at call level (issue #13 part 3): host calls per request, by import, and
 * a fixed request loop for instruction counting (callgrind) or CPU-time ratios between two builds.
 *
 * Cases mirror bench/overhead.ts (X-Forwarded-For with 1 trusted hop, 100 named routes, a browser-like
 * request with 8 headers):
 *   plain       0 CIDRs, tracing off
 *   cidrs10k    10,000 deny CIDRs (no match), tracing off
 *   trace1pct   10,000 deny CIDRs, tracing at 1 % with a collector
 *   traceAll    10,000 deny CIDRs, tracing every request with a collector (export calls answered 200)
 *   parent      like trace1pct with an incoming traceparent + tracestate
 * Host calls are counted on the call-level driver (harness/driver/filter-driver.ts); the filter makes the
 * same calls whatever host answers them (in Envoy each one crosses the VM boundary).
 *
 * CLI:
 *   tsx bench/request-path.ts [--quick]             every case: host calls per request (by import), the
 *                                                   filter's wasm ns/request (call-level driver, sampling
 *                                                   profiler) and the CPU the filter adds per request
 *                                                   through the embedded host (call level, no sockets),
 *                                                   hot and with the caches flushed before each stream,
 *                                                   and the same two figures for a filter whose stream
 *                                                   callbacks return at once (test/filters/stream-floor.ts:
 *                                                   what this host's dispatch costs any filter);
 *                                                   → request-path.json in bench/results (bench/results/quick
 *                                                   with --quick) with provenance, and a table
 *   tsx bench/request-path.ts --calls               host calls per request only (table, seconds)
 *   tsx bench/request-path.ts --loop N --case C     N requests of case C after 2,000 warm-up ones and
 *                                                   print the CPU µs per request (for callgrind:
 *     valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out node --import tsx bench/request-path.ts --loop 20000 --case plain)
 *   tsx bench/request-path.ts --wasm --loop N --case C [--compare OTHER.wasm]
 *                                                   the filter's own wasm time per request (V8 sampling
 *                                                   profiler: wasm share × CPU), without the driver's JS
 *   tsx bench/request-path.ts --host --case C [--compare OTHER.wasm]
 *                                                   through the REAL embedded host at call level
 *                                                   (harness/fuzz/host-driver.ts: PluginHost, HttpStream,
 *                                                   no sockets): CPU µs per request with the filter minus
 *                                                   the same stream without it, interleaved rounds; with
 *                                                   --compare, the same for a second build in the same run
 *   tsx bench/request-path.ts --host --cold --case C [--blocks N] [--compare OTHER.wasm]
 *                                                   the same with the caches flushed before each stream,
 *                                                   every variant (none, the build, the other build)
 *                                                   alternating stream by stream: a robust A/B of two
 *                                                   builds' cold cost whatever the machine's drift
 *   tsx bench/request-path.ts --host --cold --phases --case C [--blocks N] [--compare OTHER.wasm]
 *                                                   the same split by callback step, the caches flushed
 *                                                   before each step: where the cold cost goes
 *   tsx bench/request-path.ts --host-loop N --case C [--off] [--warmup W]
 *                                                   N streams of case C through the REAL embedded host (as
 *                                                   --host) after W (2,000) warm-up ones, with the filter (or
 *                                                   without it: --off); for instruction counts per request,
 *                                                   the loop (synchronous: no timers inside) is marked by
 *                                                   getgroups() calls (callgrind dump part 3 is the loop):
 *     valgrind --tool=callgrind --dump-before=getgroups --callgrind-out-file=/tmp/cg.out node --import tsx bench/request-path.ts --host-loop 5000 --case plain)
 *   EDGEWATCH_WASM=path selects the build (compare two builds in one run with --compare OTHER.wasm;
 *   --compare build/test-filters/stream-floor.wasm sets the build beside the host's dispatch floor).
 *
 * Caution with callgrind here: V8 patches its generated code (jump tables, wrappers), and valgrind
 * without --smc-check=all keeps running stale translations. The --host-loop command above counted
 * 176k instructions per request with the filter and 9.4k without (12/2026), 121k and 57k with
 * --smc-check=all, and printed 1,894 vs 76 µs/request, where natively the filter adds ~3 µs: under
 * valgrind this JIT-heavy path does not run as it does natively. Compare two builds with it at most
 * (same distortion on both sides), never read its counts as the native cost.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FilterDriver } from "../harness/driver/filter-driver.js";
import { RunRecord, benchArgs, writeResultFile } from "../harness/bench/results.js";
import { median } from "../harness/bench/pair-stats.js";
import { COMMON_OPTIONS, checkUsage } from "../harness/bench/usage.js";
import { profileSplit } from "../harness/driver/wasm-profile.js";
import { FuzzHost, COLLECTOR_CLUSTER } from "../harness/fuzz/host-driver.js";
import { HeaderMap } from "../harness/host/header-map.js";
import { HttpStream, type StreamSink } from "../harness/host/http-stream.js";
import type { WasmVm } from "../harness/host/vm.js";
import { buildTestFilters, testFilterPath } from "../harness/build/test-filters.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WASM = process.env.EDGEWATCH_WASM ? resolve(process.env.EDGEWATCH_WASM) : join(ROOT, "build/edgewatch.wasm");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** 10,000 distinct /24s inside 100.64.0.0/10; clients come from 192.0.2.0/24 (no match). */
function cidrs(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`100.${64 + ((i >> 8) & 63)}.${i & 255}.0/24`);
  return out;
}

export interface Case {
  name: string;
  cidrs: number;
  /** Head-sampling rate; null = tracing off. */
  rate: number | null;
  parent: boolean;
}

export const CASES: Case[] = [
  { name: "plain", cidrs: 0, rate: null, parent: false },
  { name: "cidrs10k", cidrs: 10_000, rate: null, parent: false },
  { name: "trace1pct", cidrs: 10_000, rate: 0.01, parent: false },
  { name: "traceAll", cidrs: 10_000, rate: 1, parent: false },
  { name: "parent", cidrs: 10_000, rate: 0.01, parent: true },
];

function configuration(c: Case, collector = "otel"): string {
  return JSON.stringify({
    client_address: { source: "xff", xff_trusted_hops: 1 },
    telemetry: { routes_cap: 128 },
    tracing: c.rate === null
      ? { enabled: false }
      : { enabled: true, trust_parent: "never", collector: { cluster: collector, authority: "collector", path: "/v1/traces", batch_max: 64 } },
    rules: {
      version: 1,
      mode: "deny",
      access: c.cidrs > 0 ? [{ id: "bench-deny", action: "deny", cidrs_text: cidrs(c.cidrs).join("\n") }] : [],
      sampling: { default_rate: c.rate ?? 0 },
    },
  });
}

function headersFor(i: number, c: Case): Array<[string, string]> {
  const h: Array<[string, string]> = [
    [":method", "GET"], [":path", `/r${i % 100}/items/${i}`], [":authority", "edge.example"], [":scheme", "https"],
    ["user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"], ["accept", "text/html,application/json"],
    ["accept-encoding", "gzip, br"], ["x-forwarded-for", `192.0.2.${i & 255}, 10.0.0.1`],
  ];
  if (c.parent) {
    h.push(["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]);
    h.push(["tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]);
  }
  return h;
}

function driverFor(c: Case, countCalls: boolean, wasm = WASM): FilterDriver {
  const d = new FilterDriver({ wasmPath: wasm, configuration: configuration(c), countCalls });
  d.keepSamples = false;
  d.keepCalls = false;
  d.autoAnswer = 200;
  return d;
}

function drive(d: FilterDriver, c: Case, from: number, n: number): void {
  for (let i = from; i < from + n; i++) d.request({ headers: headersFor(i, c), routeName: `r${i % 100}` });
}

/** Host calls per request by import, over `n` requests after a warm-up (metric ids defined, pools filled). */
export function hostCallsPerRequest(c: Case, n = 2000, wasm = WASM): { total: number; byImport: Record<string, number> } {
  const d = driverFor(c, true, wasm);
  drive(d, c, 0, 500);
  d.callCounts.clear();
  drive(d, c, 500, n);
  const byImport: Record<string, number> = {};
  let total = 0;
  for (const [k, v] of [...d.callCounts].sort()) {
    byImport[k.replace(/^env\./, "")] = Number((v / n).toFixed(3));
    total += v;
  }
  return { total: Number((total / n).toFixed(3)), byImport };
}

function cpuUsPerRequest(c: Case, n: number, wasm: string): number {
  const d = driverFor(c, false, wasm);
  drive(d, c, 0, 2000);
  const t0 = process.cpuUsage();
  drive(d, c, 2000, n);
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}

// ---------------------------------------------------------------- through the embedded host

/** A sink that routes at once and keeps nothing (the "router" answers 200). */
class NullSink implements StreamSink {
  routed = false;
  routeHeaders(): void { this.routed = true; }
  routeData(): void {}
  routeTrailers(): void {}
  sendHeaders(): void {}
  sendData(): void {}
  sendTrailers(): void {}
  reset(): void {}
  abortUpstream(): void {}
  clearRouteCache(): void {}
}

/** The worker VM streams attach to (looked up once per host: the lookup is not part of a request). */
const workers = new WeakMap<FuzzHost, WasmVm>();
function workerOf(h: FuzzHost): WasmVm {
  let vm = workers.get(h);
  if (vm === undefined) {
    vm = h.host.vms.find((v) => v.label.includes("worker")) ?? h.host.vms[h.host.vms.length - 1];
    workers.set(h, vm);
  }
  return vm;
}

/**
 * One stream through the host: decode headers, upstream 200, complete; with or without the filter.
 * With `phases`: the caches are flushed before each of the three steps and each step's wall ms is
 * added to phases[0..2] (request headers with the context's creation, response headers, on_log to
 * on_delete).
 */
function hostStream(h: FuzzHost | null, c: Case, i: number, phases?: number[]): void {
  let t = 0;
  const mark = (k: number) => {
    if (!phases) return;
    if (k > 0) phases[k - 1]! += performance.now() - t;
    if (k < 3) { flushCaches(); t = performance.now(); }
  };
  mark(0);
  const vm = h === null ? null : workerOf(h);
  const stream = new HttpStream();
  const sink = new NullSink();
  stream.sink = sink;
  stream.info.downstreamRemote = { ip: "192.0.2.1", port: 40000 };
  stream.info.downstreamLocal = { ip: "127.0.0.1", port: 10000 };
  stream.info.routeName = `r${i % 100}`;
  if (vm !== null) stream.attachFilter(vm, false);
  const headers = new HeaderMap("request");
  for (const [k, v] of headersFor(i, c)) headers.addCopy(k, v);
  stream.decodeHeaders(headers, true);
  mark(1);
  if (sink.routed && !stream.localReplySent) {
    const resp = new HeaderMap("response");
    resp.append(":status", "200");
    resp.append("content-length", "0");
    stream.upstreamHeaders(resp, true);
  }
  mark(2);
  stream.complete();
  mark(3);
}

function cpuRound(h: FuzzHost | null, c: Case, n: number): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) hostStream(h, c, i);
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}

/**
 * 16 MiB written one byte per 64-byte line: evicts the caches (and most TLB entries) the way Node's
 * own HTTP work between two requests does on the embedded proxy, where the filter's added cost per
 * request is mostly cold loads (harness/bench/cpu-probe.ts prices one: `mem_ns`).
 */
let flushBuffer: Uint8Array | null = null;
function flushCaches(): void {
  const f = (flushBuffer ??= new Uint8Array(16 << 20)); // only the cold modes need it
  for (let j = 0; j < f.length; j += 64) f[j]++;
}

/**
 * Cold streams: the caches flushed before each stream, streams without and with the filter
 * alternating one by one (a drift of the machine hits both sides alike; the order rotates), wall µs per stream around
 * the stream alone. Taken in blocks of COLD_BLOCK streams a side: per block and side the mean without
 * the slowest 2 % (timer interrupts, the filter's tick); the figures are the medians over blocks
 * (the machine's memory speed moves within a run: a slow phase moves some blocks, not the median),
 * with the range of the per-block difference.
 */
const COLD_BLOCK = 500;

/**
 * Per variant (null = the stream without the filter) and block: the trimmed mean wall µs of a cold
 * stream, or with `phases` the mean µs of each of hostStream's three callback steps (the caches
 * flushed before each step instead of once per stream; untrimmed).
 */
async function coldBlocks(variants: Array<FuzzHost | null>, c: Case, blocks: number, phases = false): Promise<number[][][]> {
  const trimmed = (x: number[]) => {
    const s = [...x].sort((p, q) => p - q).slice(0, Math.ceil(x.length * 0.98));
    return (s.reduce((p, q) => p + q, 0) / s.length) * 1000;
  };
  const v = variants.length;
  const out: number[][][] = variants.map(() => []);
  let stream = 0;
  for (let b = 0; b < blocks; b++) {
    const t: number[][] = variants.map(() => []);
    const sums = variants.map(() => [0, 0, 0]);
    for (let i = 0; i < v * COLD_BLOCK; i++) {
      // Each variant takes each position of the cycle in turn: whatever runs second after a flush
      // finds some of what the first touched still cached (shared host code, the module's code).
      const cycle = Math.floor(i / v);
      const k = (i + cycle) % v;
      if (phases) hostStream(variants[k]!, c, stream, sums[k]);
      else {
        flushCaches();
        const a = performance.now();
        hostStream(variants[k]!, c, stream);
        t[k]!.push(performance.now() - a);
      }
      if (i % v === v - 1) stream++;
      if ((i & 255) === 255) await new Promise((res) => setImmediate(res)); // let span exports complete
    }
    out.forEach((o, k) => o.push(phases ? sums[k]!.map((ms) => (ms / COLD_BLOCK) * 1000) : [trimmed(t[k]!)]));
  }
  return out;
}

/** Median and range over blocks of a[b] − base[b]. */
function blockDiff(a: number[], base: number[]): { med: number; min: number; max: number } {
  const d = a.map((x, b) => x - base[b]!);
  return { med: median(d), min: Math.min(...d), max: Math.max(...d) };
}

/** Column `p` of coldBlocks' per-block figures. */
const column = (blocks: number[][], p = 0) => blocks.map((x) => x[p]!);

/**
 * Cold streams without a filter, with the floor filter and with the build, interleaved: the build's
 * added µs and the floor's (what this host charges any filter per stream), medians over blocks.
 */
async function coldStreams(h: FuzzHost, floor: FuzzHost, c: Case, blocks: number): Promise<{ off: number; on: number; added: number; addedMin: number; addedMax: number; floor: number; floorMin: number; floorMax: number }> {
  const [off, fl, on] = (await coldBlocks([null, floor, h], c, blocks)).map((x) => column(x));
  const d = blockDiff(on!, off!);
  const f = blockDiff(fl!, off!);
  return { off: median(off!), on: median(on!), added: d.med, addedMin: d.min, addedMax: d.max, floor: f.med, floorMin: f.min, floorMax: f.max };
}

/**
 * The floor filter (test/filters/stream-floor.ts: every stream callback returns at once, no host
 * call): built on demand; through the same host it measures what the embedded host's dispatch costs
 * any filter (context creation, six proxy_on_* calls, status conversion), which Envoy's C++ host
 * does natively.
 */
async function floorFilter(): Promise<string> {
  await buildTestFilters({ only: ["stream-floor"], quiet: true });
  return testFilterPath("stream-floor");
}

/** The cold modes' variants: the stream without the filter, then this build (and the --compare build), warmed up. */
async function coldVariants(c: Case, other: string | undefined): Promise<{ builds: string[]; hosts: FuzzHost[] }> {
  const builds = [WASM, ...(other ? [resolve(other)] : [])];
  const hosts: FuzzHost[] = [];
  for (const w of builds) hosts.push(await FuzzHost.start({ configuration: configuration(c, COLLECTOR_CLUSTER), wasmPath: w, logCapacity: 100 }));
  for (const h of [null, ...hosts]) cpuRound(h, c, 2000); // warm-up (JIT, metric ids, pools)
  return { builds, hosts };
}

/** --host --cold: the cold figure of one or two builds, every variant interleaved stream by stream. */
async function coldHostMode(c: Case, blocks: number, other: string | undefined): Promise<void> {
  const { builds, hosts } = await coldVariants(c, other);
  const [off, ...on] = (await coldBlocks([null, ...hosts], c, blocks)).map((x) => column(x));
  process.stdout.write(`${c.name}, caches flushed before each stream: without the filter ${median(off!).toFixed(2)} µs/stream\n`);
  const r = (x: { med: number; min: number; max: number }) => `${x.med.toFixed(2)} µs (blocks ${x.min.toFixed(1)}…${x.max.toFixed(1)})`;
  builds.forEach((w, k) => process.stdout.write(`  ${w}: added ${r(blockDiff(on[k]!, off!))}\n`));
  if (builds.length === 2) process.stdout.write(`  second − first: ${r(blockDiff(on[1]!, on[0]!))} (${blocks} blocks of ${COLD_BLOCK} streams a variant)\n`);
  for (const h of hosts) await h.close();
}

/**
 * --host --cold --phases: where a cold stream's added cost goes, the caches flushed before each
 * callback step instead of once per stream (so the three parts add up to more than the stream figure).
 * Without / with the filter (/ the --compare build) alternating stream by stream, means per block of
 * COLD_BLOCK streams a variant, medians over blocks.
 */
async function coldPhasesMode(c: Case, blocks: number, other: string | undefined): Promise<void> {
  const { builds, hosts } = await coldVariants(c, other);
  const [off, ...on] = await coldBlocks([null, ...hosts], c, blocks, true);
  const names = ["request headers (+ context creation)", "response headers", "on_log … on_delete"];
  process.stdout.write(`${c.name}, caches flushed before each callback step; added µs (median over ${blocks} blocks of ${COLD_BLOCK} streams, range):\n`);
  builds.forEach((w, bi) => {
    const parts = names.map((nm, p) => {
      const d = blockDiff(column(on[bi]!, p), column(off!, p));
      return `${nm} ${d.med.toFixed(2)} (${d.min.toFixed(1)}…${d.max.toFixed(1)})`;
    });
    process.stdout.write(`  ${w}: ${parts.join(" · ")}\n`);
  });
  for (const h of hosts) await h.close();
}

async function hostMode(c: Case, n: number, other: string | undefined): Promise<void> {
  const builds = [WASM, ...(other ? [resolve(other)] : [])];
  const hosts: FuzzHost[] = [];
  for (const w of builds) hosts.push(await FuzzHost.start({ configuration: configuration(c, COLLECTOR_CLUSTER), wasmPath: w, logCapacity: 100 }));
  for (const h of [null, ...hosts]) cpuRound(h, c, 2000); // warm-up (JIT, metric ids, pools)
  const off: number[] = [];
  const on: number[][] = builds.map(() => []);
  for (let r = 0; r < 7; r++) {
    off.push(cpuRound(null, c, n));
    hosts.forEach((h, k) => on[k].push(cpuRound(h, c, n)));
    await new Promise((res) => setImmediate(res)); // let span exports complete
  }
  const base = median(off);
  process.stdout.write(`${c.name}: host without filter ${base.toFixed(2)} µs/req CPU\n`);
  builds.forEach((w, k) => {
    process.stdout.write(`  ${w}: with filter ${median(on[k]).toFixed(2)} µs/req, added ${(median(on[k]) - base).toFixed(2)} µs/req (medians of 7 interleaved rounds of ${n})\n`);
  });
  for (const h of hosts) await h.close();
}

/** Wasm code and JS↔wasm transition time per request (ns), from the sampling profiler. */
async function wasmNsPerRequest(c: Case, n: number, wasm: string): Promise<{ wasm: number; transition: number }> {
  const d = driverFor(c, false, wasm);
  drive(d, c, 0, 2000);
  const p = await profileSplit(() => drive(d, c, 2000, n), 50);
  return { wasm: (p.wasmFraction * p.cpuNs) / n, transition: (p.transitionFraction * p.cpuNs) / n };
}

async function main(): Promise<void> {
  const loop = arg("--loop");
  if (process.argv.includes("--wasm")) {
    const name = arg("--case") ?? "plain";
    const c = CASES.find((x) => x.name === name);
    if (!c) throw new Error(`unknown --case ${name}`);
    const builds = [WASM, ...(arg("--compare") ? [resolve(arg("--compare")!)] : [])];
    const res: Array<Array<{ wasm: number; transition: number }>> = builds.map(() => []);
    for (let r = 0; r < 5; r++) for (let k = 0; k < builds.length; k++) res[k].push(await wasmNsPerRequest(c, Number(loop ?? 20000), builds[k]));
    builds.forEach((w, k) => process.stdout.write(`${name}: ${w} wasm ${median(res[k].map((x) => x.wasm)).toFixed(0)} ns/req, JS↔wasm transitions ${median(res[k].map((x) => x.transition)).toFixed(0)} ns/req (medians of 5 interleaved rounds)\n`));
    return;
  }
  const hostLoop = arg("--host-loop");
  if (hostLoop !== undefined) {
    const name = arg("--case") ?? "plain";
    const c = CASES.find((x) => x.name === name);
    if (!c) throw new Error(`unknown --case ${name}`);
    const h = process.argv.includes("--off") ? null : await FuzzHost.start({ configuration: configuration(c, COLLECTOR_CLUSTER), wasmPath: WASM, logCapacity: 100 });
    const warmup = Number(arg("--warmup") ?? 2000);
    for (let w = 0; w < warmup; w += 500) {
      cpuRound(h, c, 500);
      await new Promise((res) => setImmediate(res)); // let span exports complete
    }
    const n = Number(hostLoop);
    // getgroups(2) marks the measured loop for `valgrind --tool=callgrind --dump-before=getgroups`
    // (process.getgroups calls it twice): dump part 3 holds the loop's instructions alone. The loop
    // is one synchronous run, so no timer (the filter's tick, stats flush) lands inside it.
    process.getgroups?.();
    const us = cpuRound(h, c, n);
    process.getgroups?.();
    process.stdout.write(`${name}: ${h === null ? "without" : "with"} filter ${us.toFixed(2)} µs/req CPU over ${n} streams\n`);
    if (h !== null) await h.close();
    return;
  }
  if (process.argv.includes("--host")) {
    const name = arg("--case") ?? "plain";
    const c = CASES.find((x) => x.name === name);
    if (!c) throw new Error(`unknown --case ${name}`);
    if (process.argv.includes("--cold") && process.argv.includes("--phases")) await coldPhasesMode(c, Number(arg("--blocks") ?? 9), arg("--compare"));
    else if (process.argv.includes("--cold")) await coldHostMode(c, Number(arg("--blocks") ?? 9), arg("--compare"));
    else await hostMode(c, Number(loop ?? 5000), arg("--compare"));
    return;
  }
  if (loop !== undefined) {
    const name = arg("--case") ?? "plain";
    const c = CASES.find((x) => x.name === name);
    if (!c) throw new Error(`unknown --case ${name} (${CASES.map((x) => x.name).join(", ")})`);
    const other = arg("--compare");
    if (other) {
      // Interleaved rounds of both builds in one process: a CPU-time ratio that load drifts hit alike.
      const a: number[] = [];
      const b: number[] = [];
      for (let r = 0; r < 5; r++) {
        a.push(cpuUsPerRequest(c, Number(loop), WASM));
        b.push(cpuUsPerRequest(c, Number(loop), resolve(other)));
      }
      process.stdout.write(`${name}: ${WASM} ${median(a).toFixed(3)} µs/req, ${other} ${median(b).toFixed(3)} µs/req (CPU, medians of 5 interleaved rounds; ratio ${(median(a) / median(b)).toFixed(3)})\n`);
      return;
    }
    process.stdout.write(`${name}: ${cpuUsPerRequest(c, Number(loop), WASM).toFixed(3)} µs/req CPU (call-level driver)\n`);
    return;
  }
  if (process.argv.includes("--calls")) {
    for (const c of CASES) {
      const r = hostCallsPerRequest(c);
      process.stdout.write(`${c.name.padEnd(10)} ${String(r.total).padStart(6)} host calls/request  ${Object.entries(r.byImport).map(([k, v]) => `${k}=${v}`).join(" ")}\n`);
    }
    return;
  }
  await report();
}

/** The full run: every case, one results file with provenance. */
async function report(): Promise<void> {
  const args = benchArgs();
  const run = new RunRecord("request-path", { quick: args.quick, target: "embedded", wasmPath: WASM });
  const n = args.quick ? 5000 : 20000;
  const rounds = args.quick ? 3 : 7;
  const rows = [];
  const floorWasm = await floorFilter();
  for (const c of CASES) {
    const calls = hostCallsPerRequest(c);
    const wasm: number[] = [];
    const trans: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const w = await wasmNsPerRequest(c, n, WASM);
      wasm.push(w.wasm);
      trans.push(w.transition);
    }
    const h = await FuzzHost.start({ configuration: configuration(c, COLLECTOR_CLUSTER), wasmPath: WASM, logCapacity: 100 });
    const f = await FuzzHost.start({ configuration: configuration(c, COLLECTOR_CLUSTER), wasmPath: floorWasm, logCapacity: 100 });
    for (let w = 0; w < 3; w++) { cpuRound(null, c, 3000); cpuRound(f, c, 3000); cpuRound(h, c, 3000); } // JIT of host and filters
    await new Promise((res) => setImmediate(res));
    const off: number[] = [];
    const fl: number[] = [];
    const on: number[] = [];
    for (let r = 0; r < rounds; r++) {
      off.push(cpuRound(null, c, n / 2));
      fl.push(cpuRound(f, c, n / 2));
      on.push(cpuRound(h, c, n / 2));
      await new Promise((res) => setImmediate(res));
    }
    const cold = await coldStreams(h, f, c, args.quick ? 3 : 9);
    await h.close();
    await f.close();
    rows.push({
      case: c.name, cidrs: c.cidrs, sample_rate: c.rate, incoming_traceparent: c.parent,
      host_calls_per_request: calls.total, host_calls_by_import: calls.byImport,
      wasm_ns_per_request: Math.round(median(wasm)), transition_ns_per_request: Math.round(median(trans)),
      host_cpu_us_without_filter: Number(median(off).toFixed(2)), host_cpu_us_with_filter: Number(median(on).toFixed(2)),
      host_added_cpu_us_per_request: Number((median(on) - median(off)).toFixed(2)),
      host_cold_us_without_filter: Number(cold.off.toFixed(2)), host_cold_us_with_filter: Number(cold.on.toFixed(2)),
      host_added_cold_us_per_request: Number(cold.added.toFixed(2)),
      host_added_cold_us_min: Number(cold.addedMin.toFixed(2)), host_added_cold_us_max: Number(cold.addedMax.toFixed(2)),
      floor_added_cpu_us_per_request: Number((median(fl) - median(off)).toFixed(2)),
      floor_added_cold_us_per_request: Number(cold.floor.toFixed(2)),
      floor_added_cold_us_min: Number(cold.floorMin.toFixed(2)), floor_added_cold_us_max: Number(cold.floorMax.toFixed(2)),
    });
    process.stdout.write(`${c.name.padEnd(10)} host calls ${String(calls.total).padStart(6)}  wasm ${String(Math.round(median(wasm))).padStart(5)} ns  through the host +${(median(on) - median(off)).toFixed(2)} µs CPU, cold +${cold.added.toFixed(2)} µs (blocks ${cold.addedMin.toFixed(1)}…${cold.addedMax.toFixed(1)}); floor filter +${(median(fl) - median(off)).toFixed(2)} µs CPU, cold +${cold.floor.toFixed(2)} µs\n`);
  }
  const out = writeResultFile(args.outDir, "request-path.json", {
    bench: "request-path",
    method: "call level: host calls counted per import on harness/driver/filter-driver.ts; wasm time = V8 sampling-profiler wasm share × process CPU; " +
      "added CPU = the same stream through the real embedded host (harness/fuzz/host-driver.ts, no sockets) with the filter minus without it, interleaved rounds, medians; " +
      "cold = the same streams with 16 MiB written (one byte per 64-byte line) before each one, without and with the filter alternating stream by stream, wall µs per stream " +
      "(per block of 500 streams a side the mean without the slowest 2 %; medians over the blocks, with the range of the per-block difference): " +
      "the filter's cost when Node's own work between two requests has evicted its code and data, as on the socket-level proxy (bench:overhead); provenance cpu_probe_before.mem_ns prices one cold load; " +
      "floor_* = the same two figures for test/filters/stream-floor.ts, a filter whose stream callbacks return at once (no host call), interleaved with the others: what this host's dispatch charges any filter",
    requests_per_round: n, rounds, cold_blocks: args.quick ? 3 : 9, cold_streams_per_block: COLD_BLOCK,
    cases: rows,
    provenance: run.finish(),
  });
  process.stdout.write(`wrote ${out}\n`);
}

const USAGE = `usage: npx tsx bench/request-path.ts [options]

The filter's request path at call level: host calls per request by import, the filter's wasm time per
request and the CPU it adds through the embedded host (no sockets). → request-path.json.

modes (default: every case, all three figures):
  --calls                         host calls per request only (table)
  --loop N --case C               N requests of case C after 2,000 warm-up ones, CPU µs per request
                                  (run it under valgrind --tool=callgrind to count instructions)
  --wasm --loop N --case C        the filter's own wasm time per request (V8 sampling profiler)
  --host --case C [--loop N]      CPU µs per request through the real embedded host, filter − none
  --host --cold --case C [--blocks N]
                                  the same with the caches flushed before each stream (16 MiB written),
                                  without / with the filter (/ the --compare build) alternating stream
                                  by stream: medians over N blocks of 500 streams a variant
  --host --cold --phases --case C [--blocks N]
                                  the same split by callback step (request headers with the context's
                                  creation, response headers, on_log to on_delete), the caches flushed
                                  before each step
  --host-loop N --case C [--off] [--warmup W]
                                  N streams through the real embedded host after W (2,000) warm-up
                                  ones, with the filter (without it: --off); for callgrind (getgroups
                                  calls mark the loop)
  --compare OTHER.wasm            with --loop/--wasm/--host: a second build in the same run
cases: plain, cidrs10k, trace1pct, traceAll, parent
${COMMON_OPTIONS}`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  checkUsage(USAGE);
  main().then(() => process.exit(0), (err) => { process.stderr.write(`request-path: ${(err as Error).stack ?? err}\n`); process.exit(1); });
}

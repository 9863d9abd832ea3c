/**
 * Telemetry cost per request, in the product filter (build/edgewatch.wasm), at 1 and 1,000 routes.
 *
 * Method: the filter runs under the call-level driver (harness/driver/filter-driver.ts): one VM, every
 * stream driven on_request_headers → on_response_headers → on_log → on_done → on_delete with
 * cheap JS stubs for the host calls. Two figures per request: *_wasm_ns, the time spent in wasm
 * code (V8 sampling CPU profiler: share of samples in wasm frames × process CPU time), and
 * *_cpu_ns, the process CPU time per request (filter + JS stubs + driver). CPU time, not wall time,
 * so that other processes on a shared machine do not inflate the figures. Telemetry's
 * share is the difference between the same traffic with telemetry on and off (`telemetry.enabled`),
 * tracing off, 10,000 CIDRs in the access rules (no match). The configurations run in turn in each
 * round; telemetry's share is the median over rounds of the round's own on − off difference, with a
 * 95 % bootstrap interval of that median (one round is not enough: a difference of ~100 ns between two
 * profiler-split figures of ~700 ns moved 2–4× between runs of 7 rounds taking the medians first).
 *
 * CLI: tsx bench/telemetry.ts [--quick] [--out DIR] → telemetry.json in bench/results (bench/results/quick with
 * --quick) + a table on stdout.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RunRecord, benchArgs, ensureBenchTuning, writeResultFile } from "../harness/bench/results.js";
import { COMMON_OPTIONS, checkUsage } from "../harness/bench/usage.js";
import { roundDifference } from "../harness/bench/pair-stats.js";

checkUsage(`usage: npx tsx bench/telemetry.ts [options]

Telemetry cost per request in the product filter (call-level driver, host calls stubbed), 1 and 1,000
routes, telemetry on − off in alternating rounds. → telemetry.json in the results directory.

options:
${COMMON_OPTIONS}`);
ensureBenchTuning();
import { FilterDriver } from "../harness/driver/filter-driver.js";
import { profileSplit } from "../harness/driver/wasm-profile.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WASM = join(ROOT, "build/edgewatch.wasm");
const ARGS = benchArgs();
const QUICK = ARGS.quick;
const RUN = new RunRecord("telemetry", { quick: QUICK, target: ARGS.target });
const REQUESTS = QUICK ? 20_000 : 100_000;
const ROUNDS = QUICK ? 3 : 15;
const CIDRS = 10_000;

/** 10,000 distinct /24s inside 100.64.0.0/10 (clients come from 192.0.2.0/24: no match). */
function cidrs(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`100.${64 + ((i >> 8) & 63)}.${i & 255}.0/24`);
  return out;
}

interface Variant {
  name: string;
  routes: number;
  telemetry: boolean;
  methodLabel: boolean;
}

const VARIANTS: Variant[] = [
  { name: "off", routes: 1, telemetry: false, methodLabel: false },
  { name: "on", routes: 1, telemetry: true, methodLabel: false },
  { name: "off", routes: 1000, telemetry: false, methodLabel: false },
  { name: "on", routes: 1000, telemetry: true, methodLabel: false },
  { name: "on+method", routes: 1000, telemetry: true, methodLabel: true },
];

function makeDriver(v: Variant, ruleCidrs: string[]): FilterDriver {
  const config = {
    telemetry: { enabled: v.telemetry, routes_cap: Math.max(100, v.routes), method_label: v.methodLabel },
    tracing: { enabled: false },
    rules: { version: 1, access: [{ id: "bench-deny", action: "deny", cidrs: ruleCidrs }], sampling: { default_rate: 0 } },
  };
  const d = new FilterDriver({ wasmPath: WASM, configuration: JSON.stringify(config) });
  d.keepSamples = false;
  return d;
}

const STATUSES = [200, 200, 200, 200, 200, 200, 404, 304, 500, 503];
const HEADERS: Array<[string, string]> = [
  [":method", "GET"], [":path", "/api/v1/items/42"], [":authority", "edge.example"], [":scheme", "https"],
  ["user-agent", "bench/1.0"], ["accept", "*/*"],
];

interface Measure { cpuNs: number; wasmNs: number; transitionNs: number; hostCalls: number }

/** One round: process CPU per request (filter + JS stubs + driver), then the same traffic under the CPU profiler. */
async function run(d: FilterDriver, v: Variant, n: number, routeNames: string[]): Promise<Measure> {
  const traffic = () => {
    for (let i = 0; i < n; i++) {
      d.request({ headers: HEADERS, routeName: routeNames[i % v.routes], status: STATUSES[i % STATUSES.length] });
    }
  };
  const calls0 = d.hostCalls;
  const c0 = process.cpuUsage();
  traffic();
  const c1 = process.cpuUsage(c0);
  const cpuNs = ((c1.user + c1.system) * 1000) / n; // process CPU per request (filter + JS host + driver)
  const hostCalls = (d.hostCalls - calls0) / n;
  const p = await profileSplit(traffic);
  return { cpuNs, wasmNs: (p.cpuNs * p.wasmFraction) / n, transitionNs: (p.cpuNs * p.transitionFraction) / n, hostCalls };
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const ruleCidrs = cidrs(CIDRS);
  const routeNames = Array.from({ length: 1000 }, (_, i) => `route-${i}`);
  const drivers = VARIANTS.map((v) => makeDriver(v, ruleCidrs));
  // Warm-up: JIT tiers, metric definitions for every route, code/status combinations.
  for (let i = 0; i < VARIANTS.length; i++) {
    await run(drivers[i], VARIANTS[i], Math.max(20_000, VARIANTS[i].routes * STATUSES.length * 2), routeNames);
  }
  const rounds: Measure[][] = VARIANTS.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < VARIANTS.length; i++) rounds[i].push(await run(drivers[i], VARIANTS[i], REQUESTS, routeNames));
  }
  const med = (i: number, k: keyof Measure) => median(rounds[i].map((m) => m[k]));
  /** Variant i − variant base, round by round (ns): median and 95 % interval. */
  const paired = (i: number, base: number, k: keyof Measure) => roundDifference(rounds[i].map((m) => m[k]), rounds[base]!.map((m) => m[k]));
  const idx = (name: string, routes: number) => VARIANTS.findIndex((v) => v.name === name && v.routes === routes);
  const cases = [1, 1000].flatMap((routes) => {
    const off = idx("off", routes);
    const rows = [];
    for (const name of ["on", "on+method"]) {
      const i = idx(name, routes);
      if (i < 0) continue;
      const wasm = paired(i, off, "wasmNs"), cpu = paired(i, off, "cpuNs");
      rows.push({
        case: `telemetry ${name}`,
        routes,
        telemetry_wasm_ns: wasm.median,
        telemetry_wasm_ns_ci95: wasm.ci95,
        telemetry_cpu_ns: cpu.median,
        telemetry_cpu_ns_ci95: cpu.ci95,
        request_wasm_ns: Math.round(med(i, "wasmNs")),
        request_cpu_ns: Math.round(med(i, "cpuNs")),
        baseline_wasm_ns: Math.round(med(off, "wasmNs")),
        baseline_cpu_ns: Math.round(med(off, "cpuNs")),
        transition_ns: Math.round(med(i, "transitionNs")),
        host_calls_per_request: Number(med(i, "hostCalls").toFixed(2)),
        telemetry_host_calls: Number((med(i, "hostCalls") - med(off, "hostCalls")).toFixed(2)),
        memory_bytes: drivers[i].memoryBytes(),
      });
    }
    return rows;
  });
  const result = {
    bench: "telemetry",
    method:
      "call-level driver (harness/driver/filter-driver.ts), product wasm with JS host-call stubs. *_wasm_ns: time in wasm code " +
      "only (V8 sampling profiler, 50 us: share of samples in wasm frames x process CPU time); *_cpu_ns: process CPU time " +
      "per request (filter + JS stubs + driver). telemetry_* = on - off (telemetry.enabled), " +
      "tracing off, 10,000 deny CIDRs (no match); the variants run in turn in each round: request_* and baseline_* are medians " +
      "over rounds, telemetry_* the median over rounds of the round's own on - off difference with a 95 % bootstrap interval of it (*_ci95)",
    quick: QUICK,
    provenance: RUN.finish(),
    requests_per_round: REQUESTS,
    rounds: ROUNDS,
    cases,
  };
  const out = writeResultFile(ARGS.outDir, "telemetry.json", result);
  console.log("telemetry cost per request (median over rounds of the round's on − off, 95 % interval; wasm = wasm code only, cpu = process CPU incl. JS host stubs)");
  console.table(cases.map((c) => ({
    case: c.case, routes: c.routes, "telemetry wasm ns": c.telemetry_wasm_ns, "(95 %)": `${c.telemetry_wasm_ns_ci95[0]}…${c.telemetry_wasm_ns_ci95[1]}`, "telemetry cpu ns": c.telemetry_cpu_ns,
    "request wasm ns": c.request_wasm_ns, "request cpu ns": c.request_cpu_ns, "host calls/req": c.host_calls_per_request,
    "+host calls": c.telemetry_host_calls,
  })));
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

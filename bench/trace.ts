/**
 * Trace path cost per request (parse + decide + propagate) and OTLP export throughput, in the
 * product filter (build/edgewatch.wasm), plus the measured head-sampling statistics.
 *
 * Method: the call-level driver (harness/driver/filter-driver.ts) runs the filter with JS host-call
 * stubs. *_wasm_ns is the time in wasm code only (V8 sampling profiler: share of samples in wasm
 * frames × process CPU time); *_cpu_ns is the process CPU time per request, stubs and driver
 * included. CPU time, not wall time: other processes on a shared machine do not inflate them. The trace path's cost is
 * the difference with the same traffic and `tracing.enabled: false` (telemetry on in both), taken round by round
 * (the variants run in turn in each round): the median of those differences and its 95 % bootstrap interval.
 * Export: every request kept (rate 1), batches of 256 acknowledged at once; its cost per span is the
 * difference with the same traffic without a collector cluster (decided, not exported).
 *
 * CLI: tsx bench/trace.ts [--quick] [--out DIR] → trace.json in bench/results (bench/results/quick with --quick)
 * + tables on stdout.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { RunRecord, benchArgs, ensureBenchTuning, writeResultFile } from "../harness/bench/results.js";
import { COMMON_OPTIONS, checkUsage } from "../harness/bench/usage.js";
import { roundDifference } from "../harness/bench/pair-stats.js";

checkUsage(`usage: npx tsx bench/trace.ts [options]

Trace path cost per request (parse + decide + propagate), OTLP export cost per span and the measured
head-sampling rates (call-level driver, host calls stubbed). → trace.json in the results directory.

options:
${COMMON_OPTIONS}`);
ensureBenchTuning();
import { FilterDriver } from "../harness/driver/filter-driver.js";
import { profileSplit } from "../harness/driver/wasm-profile.js";
import { loadAsEntry } from "../test/tracing/support/as-module.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WASM = join(ROOT, "build/edgewatch.wasm");
const ARGS = benchArgs();
const QUICK = ARGS.quick;
const RUN = new RunRecord("trace", { quick: QUICK, target: ARGS.target });
const REQUESTS = QUICK ? 20_000 : 100_000;
const ROUNDS = QUICK ? 3 : 15;

type Headers = Array<[string, string]>;

interface Variant {
  name: string;
  description: string;
  tracing: boolean;
  rate: number;
  trust: "always" | "never";
  collector: boolean;
  headers: (i: number) => Headers;
}

const BASE: Headers = [[":method", "GET"], [":path", "/api/v1/items/42"], [":authority", "edge.example"], [":scheme", "https"]];
const TRACE_IDS = Array.from({ length: 4096 }, () => randomBytes(16).toString("hex"));
const SPAN_IDS = Array.from({ length: 4096 }, () => randomBytes(8).toString("hex"));
const withTp = (i: number, flags: string, ts?: string): Headers => [
  ...BASE, ["traceparent", `00-${TRACE_IDS[i & 4095]}-${SPAN_IDS[i & 4095]}-${flags}`], ...(ts ? [["tracestate", ts] as [string, string]] : []),
];

const VARIANTS: Variant[] = [
  { name: "off", description: "tracing disabled", tracing: false, rate: 0.01, trust: "always", collector: true, headers: () => BASE },
  { name: "new trace", description: "no traceparent: new ids, decide at 1 %, propagate", tracing: true, rate: 0.01, trust: "always", collector: true, headers: () => BASE },
  { name: "parent", description: "valid traceparent, trusted parent flag (00), propagate", tracing: true, rate: 0.01, trust: "always", collector: true, headers: (i) => withTp(i, "00") },
  { name: "continue+tracestate", description: "valid traceparent + 3-member tracestate, untrusted: decide at 1 %, rewrite ot", tracing: true, rate: 0.01, trust: "never", collector: true, headers: (i) => withTp(i, "01", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,ot=th:fd70a") },
  { name: "invalid", description: "malformed traceparent: restart the trace, drop tracestate", tracing: true, rate: 0.01, trust: "always", collector: true, headers: () => [...BASE, ["traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"], ["tracestate", "rojo=1"]] },
  { name: "keep all, no export", description: "rate 1, no collector cluster", tracing: true, rate: 1, trust: "always", collector: false, headers: () => BASE },
  { name: "keep all, export", description: "rate 1, OTLP export (batch 256, acknowledged at once)", tracing: true, rate: 1, trust: "always", collector: true, headers: () => BASE },
];

function makeDriver(v: Variant): FilterDriver {
  const config = {
    telemetry: { routes_cap: 100 },
    tracing: {
      enabled: v.tracing, trust_parent: v.trust,
      collector: v.collector ? { cluster: "otel", batch_max: 256, buffer_max: 8192, flush_ms: 1000 } : { cluster: "" },
    },
    rules: { version: 1, access: [{ id: "bench-deny", action: "deny", cidrs: ["100.64.0.0/10"] }], sampling: { default_rate: v.rate, always_keep_5xx: true } },
  };
  const d = new FilterDriver({ wasmPath: WASM, configuration: JSON.stringify(config) });
  d.keepSamples = false;
  d.autoAnswer = 200;
  d.keepCalls = false;
  return d;
}

interface Measure { cpuNs: number; wasmNs: number; hostCalls: number }

async function run(d: FilterDriver, v: Variant, n: number): Promise<Measure> {
  const traffic = () => {
    for (let i = 0; i < n; i++) d.request({ headers: v.headers(i), routeName: "api" });
  };
  const calls0 = d.hostCalls;
  const c0 = process.cpuUsage();
  traffic();
  const c1 = process.cpuUsage(c0);
  const cpuNs = ((c1.user + c1.system) * 1000) / n; // process CPU per request (filter + JS host + driver)
  const hostCalls = (d.hostCalls - calls0) / n;
  const p = await profileSplit(traffic);
  return { cpuNs, wasmNs: (p.cpuNs * p.wasmFraction) / n, hostCalls };
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

/** Head-sampling statistics: kept fraction of 20,000 new traces per rate, in σ from the rate. */
function samplingStats(): Array<Record<string, number>> {
  const out: Array<Record<string, number>> = [];
  for (const rate of [0.01, 0.1, 0.2, 0.25, 0.5]) {
    const d = makeDriver({ ...VARIANTS[1], rate, collector: false });
    const n = 20_000;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const h = d.request({ headers: BASE, routeName: "api" });
      const tp = h.find(([k]) => k === "traceparent")![1];
      if (parseInt(tp.slice(-2), 16) & 1) kept++;
    }
    const sigma = Math.sqrt(n * rate * (1 - rate));
    out.push({ rate, requests: n, kept, kept_fraction: kept / n, deviation_sigma: Number(((kept - n * rate) / sigma).toFixed(2)) });
  }
  return out;
}

/**
 * Pure wasm loops over the trace modules (assembly/tracing/__test__/entry.ts): the cost of each
 * step without any host call, ns per operation (median of 5 runs).
 */
async function microBenches(): Promise<Array<Record<string, string | number>>> {
  const m = await loadAsEntry("assembly/tracing/__test__/entry.ts");
  const x = m.exports;
  const n = QUICK ? 200_000 : 1_000_000;
  const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) * 1000; };
  const time = (f: () => void): number => {
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = cpu();
      f();
      runs.push((cpu() - t0) / n);
    }
    return median(runs);
  };
  const out: Array<Record<string, string | number>> = [];
  const tpLen = m.writeInput("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  out.push({ case: "parse traceparent (55 chars)", ns_per_op: Number(time(() => x.benchTraceparent(tpLen, n)).toFixed(1)) });
  out.push({ case: "format traceparent", ns_per_op: Number(time(() => x.benchFormat(n)).toFixed(1)) });
  const tsLen = m.writeInput("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,ot=th:fd70a;rv:0123456789abcd");
  out.push({ case: "parse + rebuild tracestate (3 members, ot th/rv)", ns_per_op: Number(time(() => x.benchTracestate(tsLen, n, 0xe6660000000000n)).toFixed(1)) });
  out.push({ case: "decide (threshold for rate + R >= T)", ns_per_op: Number(time(() => x.benchDecide(n, 0.1)).toFixed(1)) });
  // encode: 256 spans per batch
  x.storeInit(256, 65536);
  const strs = Buffer.from("api" + "203.0.113.7" + "" + "ot=th:e666,rojo=1");
  for (let i = 0; i < 256; i++) {
    m.writeInput(strs);
    x.spanPush(BigInt(i) + 0x4bf92f3577b34da6n, 0xa3ce929d0e0e4736n, BigInt(i + 1), 0x1122334455667788n,
      1_700_000_000_000_000_000n + BigInt(i), 1_700_000_000_020_000_000n + BigInt(i), 200, 3, 2, 0, 0, 0, 3, 11, 0, 17);
  }
  const batches = Math.max(20, Math.floor(n / 2000));
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = cpu();
    x.benchEncode(256, batches);
    runs.push((cpu() - t0) / (batches * 256));
  }
  out.push({ case: "OTLP JSON encode (per span, batches of 256)", ns_per_op: Number(median(runs).toFixed(1)) });
  return out;
}

async function main(): Promise<void> {
  const drivers = VARIANTS.map(makeDriver);
  for (let i = 0; i < VARIANTS.length; i++) await run(drivers[i], VARIANTS[i], 20_000); // warm-up
  const rounds: Measure[][] = VARIANTS.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < VARIANTS.length; i++) rounds[i].push(await run(drivers[i], VARIANTS[i], REQUESTS));
  }
  const med = (i: number, k: keyof Measure) => median(rounds[i].map((m) => m[k]));
  /** Variant i − variant base, round by round (ns): median and 95 % interval. */
  const paired = (i: number, base: number, k: keyof Measure) => roundDifference(rounds[i].map((m) => m[k]), rounds[base]!.map((m) => m[k]));
  const off = 0;
  const cases = VARIANTS.slice(1, 5).map((v, j) => {
    const i = j + 1;
    const wasm = paired(i, off, "wasmNs"), cpu = paired(i, off, "cpuNs");
    return {
      case: v.name,
      description: v.description,
      trace_wasm_ns: wasm.median,
      trace_wasm_ns_ci95: wasm.ci95,
      trace_cpu_ns: cpu.median,
      trace_cpu_ns_ci95: cpu.ci95,
      request_wasm_ns: Math.round(med(i, "wasmNs")),
      request_cpu_ns: Math.round(med(i, "cpuNs")),
      trace_host_calls: Number((med(i, "hostCalls") - med(off, "hostCalls")).toFixed(2)),
    };
  });
  const noExport = VARIANTS.findIndex((v) => v.name === "keep all, no export");
  const exp = VARIANTS.findIndex((v) => v.name === "keep all, export");
  const dExp = drivers[exp];
  const spanWasm = paired(exp, noExport, "wasmNs");
  const spanCpu = paired(exp, noExport, "cpuNs");
  const spanWasmNs = spanWasm.median;
  const spanGuestNs = spanCpu.median;
  const exported = Number(dExp.metric("edgewatch.trace_spans_exported_total") ?? 0n);
  const exportCase = {
    case: "OTLP export",
    batch_spans: 256,
    export_wasm_ns_per_span: spanWasmNs,
    export_wasm_ns_per_span_ci95: spanWasm.ci95,
    export_cpu_ns_per_span: spanGuestNs,
    export_cpu_ns_per_span_ci95: spanCpu.ci95,
    export_spans_per_second: Math.round(1e9 / Math.max(1, spanWasmNs)),
    export_bytes_per_span: Math.round(dExp.httpCallBytes / Math.max(1, exported)),
    spans_exported: exported,
    spans_dropped: [...dExp.snapshot()].filter(([n]) => n.endsWith(";.;trace_spans_dropped_total")).reduce((a, [, v]) => a + Number(v), 0),
  };
  const sampling = samplingStats();
  const micro = await microBenches();
  const result = {
    bench: "trace",
    method:
      "call-level driver (harness/driver/filter-driver.ts), product wasm with JS host-call stubs. *_wasm_ns: wasm code only " +
      "(V8 sampling profiler, 50 us, x process CPU time); *_cpu_ns: process CPU per request incl. JS stubs and driver. " +
      "trace_* = variant - tracing off; wasm_micro: pure wasm loops timed by process CPU; " +
      "export_* per span = (rate 1 with export) - (rate 1 without collector); the variants run in turn in each round, and each " +
      "difference is the median over rounds of the round's own difference, with a 95 % bootstrap interval of that median (*_ci95)",
    quick: QUICK,
    provenance: RUN.finish(),
    requests_per_round: REQUESTS,
    rounds: ROUNDS,
    cases,
    export: [exportCase],
    sampling,
    wasm_micro: micro,
  };
  const out = writeResultFile(ARGS.outDir, "trace.json", result);
  console.log("trace path per request: parse + decide + propagate (median over rounds of the round's difference, 95 % interval)");
  console.table(cases.map((c) => ({
    case: c.case, "trace wasm ns": c.trace_wasm_ns, "(95 %)": `${c.trace_wasm_ns_ci95[0]}…${c.trace_wasm_ns_ci95[1]}`, "trace cpu ns": c.trace_cpu_ns,
    "request wasm ns": c.request_wasm_ns, "+host calls": c.trace_host_calls,
  })));
  console.log("OTLP/HTTP JSON export");
  console.table([{
    "wasm ns/span": exportCase.export_wasm_ns_per_span, "cpu ns/span": exportCase.export_cpu_ns_per_span,
    "spans/s (wasm)": exportCase.export_spans_per_second, "bytes/span": exportCase.export_bytes_per_span,
    exported: exportCase.spans_exported, dropped: exportCase.spans_dropped,
  }]);
  console.log("pure wasm steps (no host calls)");
  console.table(micro);
  console.log("head sampling of 20,000 new traces");
  console.table(sampling);
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * Trace path cost per request (parse + decide + propagate) and OTLP export throughput, in the
 * product filter (build/edgewatch.wasm), plus the measured head-sampling statistics.
 *
 * Method: the call-level driver (bench/support/filter-driver.ts) runs the filter with JS host-call
 * stubs. *_wasm_ns is the time in wasm code only (V8 sampling profiler, self samples in wasm frames
 * × wall time); *_guest_ns is the host-timed guest calls, stubs included. The trace path's cost is
 * the difference with the same traffic and `tracing.enabled: false` (telemetry on in both).
 * Export: every request kept (rate 1), batches of 256 acknowledged at once; its cost per span is the
 * difference with the same traffic without a collector cluster (decided, not exported).
 *
 * CLI: tsx bench/trace.ts [--quick] → bench/results/trace.json + tables on stdout.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { FilterDriver } from "./support/filter-driver.js";
import { profileSplit } from "./support/wasm-profile.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WASM = join(ROOT, "build/edgewatch.wasm");
const QUICK = process.argv.includes("--quick") || process.env.EDGEWATCH_BENCH_QUICK === "1";
const REQUESTS = QUICK ? 20_000 : 100_000;
const ROUNDS = QUICK ? 3 : 7;

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

interface Measure { guestNs: number; wasmNs: number; hostCalls: number }

async function run(d: FilterDriver, v: Variant, n: number): Promise<Measure> {
  const traffic = () => {
    for (let i = 0; i < n; i++) d.request({ headers: v.headers(i), routeName: "api" });
  };
  const calls0 = d.hostCalls;
  d.timeGuest = true;
  const g0 = d.guestNs;
  traffic();
  const guestNs = (d.guestNs - g0) / n;
  const hostCalls = (d.hostCalls - calls0) / n;
  d.timeGuest = false;
  const p = await profileSplit(traffic);
  return { guestNs, wasmNs: (p.wallNs * p.wasmFraction) / n, hostCalls };
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

/** Head-sampling statistics: kept fraction of 20,000 new traces per rate, in σ from the rate. */
function samplingStats(): Array<Record<string, number>> {
  const out: Array<Record<string, number>> = [];
  for (const rate of [0.01, 0.1, 0.25, 0.5]) {
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

async function main(): Promise<void> {
  const drivers = VARIANTS.map(makeDriver);
  for (let i = 0; i < VARIANTS.length; i++) await run(drivers[i], VARIANTS[i], 20_000); // warm-up
  const rounds: Measure[][] = VARIANTS.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < VARIANTS.length; i++) rounds[i].push(await run(drivers[i], VARIANTS[i], REQUESTS));
  }
  const med = (i: number, k: keyof Measure) => median(rounds[i].map((m) => m[k]));
  const off = 0;
  const cases = VARIANTS.slice(1, 5).map((v, j) => {
    const i = j + 1;
    return {
      case: v.name,
      description: v.description,
      trace_wasm_ns: Math.round(med(i, "wasmNs") - med(off, "wasmNs")),
      trace_guest_ns: Math.round(med(i, "guestNs") - med(off, "guestNs")),
      request_wasm_ns: Math.round(med(i, "wasmNs")),
      request_guest_ns: Math.round(med(i, "guestNs")),
      trace_host_calls: Number((med(i, "hostCalls") - med(off, "hostCalls")).toFixed(2)),
    };
  });
  const noExport = VARIANTS.findIndex((v) => v.name === "keep all, no export");
  const exp = VARIANTS.findIndex((v) => v.name === "keep all, export");
  const dExp = drivers[exp];
  const spanWasmNs = med(exp, "wasmNs") - med(noExport, "wasmNs");
  const spanGuestNs = med(exp, "guestNs") - med(noExport, "guestNs");
  const exported = Number(dExp.metric("edgewatch.trace_spans_exported_total") ?? 0n);
  const exportCase = {
    case: "OTLP export",
    batch_spans: 256,
    export_wasm_ns_per_span: Math.round(spanWasmNs),
    export_guest_ns_per_span: Math.round(spanGuestNs),
    export_spans_per_second: Math.round(1e9 / Math.max(1, spanWasmNs)),
    export_bytes_per_span: Math.round(dExp.httpCallBytes / Math.max(1, exported)),
    spans_exported: exported,
    spans_dropped: Number(dExp.metric("edgewatch.trace_spans_dropped_total") ?? 0n),
  };
  const sampling = samplingStats();
  const result = {
    bench: "trace",
    method:
      "call-level driver (bench/support/filter-driver.ts), product wasm with JS host-call stubs. *_wasm_ns: wasm code only " +
      "(V8 sampling profiler, 50 us); *_guest_ns: host-timed guest calls incl. JS stubs. trace_* = variant - tracing off; " +
      "export_* per span = (rate 1 with export) - (rate 1 without collector); medians of alternating rounds",
    quick: QUICK,
    requests_per_round: REQUESTS,
    rounds: ROUNDS,
    node: process.version,
    started_at: new Date().toISOString(),
    cases,
    export: [exportCase],
    sampling,
  };
  const out = join(ROOT, "bench/results/trace.json");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
  console.log("trace path per request: parse + decide + propagate (median of rounds)");
  console.table(cases.map((c) => ({
    case: c.case, "trace wasm ns": c.trace_wasm_ns, "trace guest ns": c.trace_guest_ns,
    "request wasm ns": c.request_wasm_ns, "+host calls": c.trace_host_calls,
  })));
  console.log("OTLP/HTTP JSON export");
  console.table([{
    "wasm ns/span": exportCase.export_wasm_ns_per_span, "guest ns/span": exportCase.export_guest_ns_per_span,
    "spans/s (wasm)": exportCase.export_spans_per_second, "bytes/span": exportCase.export_bytes_per_span,
    exported: exportCase.spans_exported, dropped: exportCase.spans_dropped,
  }]);
  console.log("head sampling of 20,000 new traces");
  console.table(sampling);
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

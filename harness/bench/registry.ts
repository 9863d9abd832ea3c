/**
 * The bench modules `edgewatch bench` runs: one script each under bench/, run as a child process by
 * harness/bench/runner.ts. Dependencies run one way: bench/ scripts import harness/, never the
 * reverse (the runner starts a script by its path; it does not import it).
 */

export interface BenchModule {
  name: string;
  /** Script path relative to the repository root. */
  script: string;
  description: string;
  /** Result files it writes into the results directory. */
  outputs: string[];
  /** Targets it can run against. */
  targets: string[];
  /** Time bound for the child process. */
  timeoutMs: { quick: number; full: number };
}

export const BENCHES: BenchModule[] = [
  {
    name: "overhead",
    script: "bench/overhead.ts",
    description: "per-request cost: the same traffic without and with the filter in one interleaved run (CPU µs/request added at a fixed sub-saturation rate, median and spread over pairs; saturation throughput ratio; host calls per request; p50/p99), memory after N requests",
    outputs: ["overhead.json"],
    targets: ["embedded", "envoy", "envoy-local"],
    timeoutMs: { quick: 180_000, full: 4 * 3_600_000 },
  },
  {
    name: "reload",
    script: "bench/reload.ts",
    description: "rule reload latency, publish → enforced on every worker (push and pull), and the parse/load cost inside wasm",
    outputs: ["reload.json", "reload-micro.json"],
    targets: ["embedded", "envoy", "envoy-local"],
    timeoutMs: { quick: 240_000, full: 3 * 3_600_000 },
  },
  {
    name: "telemetry",
    script: "bench/telemetry.ts",
    description: "telemetry cost per request (call-level driver: the filter with stubbed host calls)",
    outputs: ["telemetry.json"],
    targets: ["embedded"],
    timeoutMs: { quick: 120_000, full: 3_600_000 },
  },
  {
    name: "signature",
    script: "bench/signature.ts",
    description: "safety rails of rule delivery: Ed25519 verification (SHA-512 + curve) and the blast-radius guard against the parse + index of the same document, 10k and 100k CIDRs (CPU time, interleaved rounds)",
    outputs: ["signature.json"],
    targets: ["embedded"],
    timeoutMs: { quick: 180_000, full: 900_000 },
  },
  {
    name: "trace",
    script: "bench/trace.ts",
    description: "trace path cost per request, OTLP export cost and the sampling rate kept (call-level driver)",
    outputs: ["trace.json"],
    targets: ["embedded"],
    timeoutMs: { quick: 120_000, full: 3_600_000 },
  },
];

export function selectBenches(only?: string[]): BenchModule[] {
  if (!only || only.length === 0) return BENCHES;
  const unknown = only.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0) {
    throw new Error(`unknown bench(es): ${unknown.join(", ")} (known: ${BENCHES.map((b) => b.name).join(", ")})`);
  }
  return BENCHES.filter((b) => only.includes(b.name));
}

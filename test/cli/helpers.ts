// Helpers for CLI tests: run the real executable (node harness/cli/bin.mjs …) as a user would, and
// serve crafted Prometheus text from a tiny admin server.
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = resolve(ROOT, "harness/cli/bin.mjs");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run `edgewatch <args>` with a hard time bound (killed past it). */
export function runEdgewatch(args: string[], opts: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const started = Date.now();
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.on("error", rej);
    child.on("close", (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export interface FakeAdmin {
  url: string;
  /** Number of /stats/prometheus requests served so far. */
  scrapes(): number;
  close(): Promise<void>;
}

/**
 * An admin server whose /stats/prometheus body is computed per scrape (scrape index from 0), so a
 * test can make counters advance or stall. /ready answers `ready` (default 200 LIVE).
 */
export async function startFakeAdmin(
  body: (scrape: number) => string,
  opts: { status?: number; ready?: { status: number; body: string } } = {},
): Promise<FakeAdmin> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/stats/prometheus") {
      const text = body(n++);
      res.writeHead(opts.status ?? 200, { "content-type": "text/plain; charset=UTF-8" });
      res.end(text);
    } else if (path === "/ready") {
      const r = opts.ready ?? { status: 200, body: "LIVE\n" };
      res.writeHead(r.status, { "content-type": "text/plain" });
      res.end(r.body);
    } else {
      res.writeHead(404);
      res.end("invalid path\n");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    scrapes: () => n,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface Scenario {
  /** Requests seen per scrape step. */
  rps?: number;
  ticksAdvance?: boolean;
  /** Histogram style. */
  buckets?: "complete" | "no-inf" | "not-cumulative" | "count-mismatch" | "one-bucket";
  /** Age of the last successful rules check (edgewatch_rules_last_check_seconds). */
  rulesAgeS?: number;
  /** Age of the last rules change (edgewatch_rules_last_change_seconds); defaults to rulesAgeS. */
  rulesChangedAgeS?: number;
  reloadFailuresAdvance?: boolean;
  traceFailuresAdvance?: boolean;
  withEdgewatch?: boolean;
}

// µs, like the shipped buckets (the filter records whole microseconds).
const BOUNDS = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000];

/** Envoy-shaped /stats/prometheus text for the edgewatch filter at scrape `i`. */
export function edgewatchText(i: number, s: Scenario = {}): string {
  const rps = s.rps ?? 50;
  const seen = 1000 + i * rps;
  const lines: string[] = [];
  lines.push("# TYPE envoy_http_downstream_rq_total counter");
  lines.push(`envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="ingress_http"} ${seen}`);
  if (s.withEdgewatch === false) return `${lines.join("\n")}\n`;
  const ticks = s.ticksAdvance === false ? 500 : 500 + i * 3;
  const now = Date.now() / 1000;
  lines.push("# TYPE edgewatch_requests_seen_total counter", `edgewatch_requests_seen_total{} ${seen}`);
  lines.push(
    "# TYPE edgewatch_requests_total counter",
    `edgewatch_requests_total{route="api",code="200",source="upstream"} ${Math.floor(seen * 0.9)}`,
    `edgewatch_requests_total{route="api",code="503",source="upstream"} ${seen - Math.floor(seen * 0.9)}`,
  );
  lines.push("# TYPE edgewatch_ticks_total counter", `edgewatch_ticks_total{} ${ticks}`);
  lines.push("# TYPE edgewatch_rules_reload_total counter", `edgewatch_rules_reload_total{} 4`);
  lines.push(
    "# TYPE edgewatch_rules_reload_failures_total counter",
    `edgewatch_rules_reload_failures_total{reason="bad_cidr"} ${s.reloadFailuresAdvance ? 1 + i : 1}`,
  );
  lines.push(
    "# TYPE edgewatch_trace_spans_exported_total counter",
    `edgewatch_trace_spans_exported_total{} ${100 + i * 10}`,
    "# TYPE edgewatch_trace_spans_dropped_total counter",
    `edgewatch_trace_spans_dropped_total{reason="buffer_full"} 0`,
    `edgewatch_trace_spans_dropped_total{reason="rejected"} 0`,
    `edgewatch_trace_spans_dropped_total{reason="shutdown"} 0`,
    "# TYPE edgewatch_trace_export_failures_total counter",
    `edgewatch_trace_export_failures_total{} ${s.traceFailuresAdvance ? i : 0}`,
    "# TYPE edgewatch_routes_overflow_total counter",
    `edgewatch_routes_overflow_total{} 0`,
  );
  lines.push("# TYPE edgewatch_heartbeat_seconds gauge", `edgewatch_heartbeat_seconds{} ${Math.floor(now)}`);
  lines.push("# TYPE edgewatch_rules_version gauge", `edgewatch_rules_version{} 7`);
  lines.push("# TYPE edgewatch_rules_last_check_seconds gauge", `edgewatch_rules_last_check_seconds{} ${Math.floor(now - (s.rulesAgeS ?? 5))}`);
  lines.push("# TYPE edgewatch_rules_last_change_seconds gauge", `edgewatch_rules_last_change_seconds{} ${Math.floor(now - (s.rulesChangedAgeS ?? s.rulesAgeS ?? 5))}`);
  lines.push("# TYPE edgewatch_vm_memory_bytes gauge", `edgewatch_vm_memory_bytes{} 1179648`);
  // A cumulative histogram over BOUNDS for `count` samples.
  const count = seen;
  const style = s.buckets ?? "complete";
  lines.push("# TYPE edgewatch_route_latency_us histogram");
  let cum = 0;
  const per = [0, 0.05, 0.3, 0.3, 0.2, 0.1, 0.05, 0, 0, 0, 0, 0, 0];
  BOUNDS.forEach((b, k) => {
    if (style === "one-bucket") cum = k >= 3 ? count : 0;
    else cum = k === BOUNDS.length - 1 ? count : Math.min(count, cum + Math.round(count * per[k]));
    let v = cum;
    if (style === "not-cumulative" && k === 5) v = Math.max(0, cum - 200);
    lines.push(`edgewatch_route_latency_us_bucket{route="api",le="${b}"} ${v}`);
  });
  if (style !== "no-inf") lines.push(`edgewatch_route_latency_us_bucket{route="api",le="+Inf"} ${count}`);
  lines.push(`edgewatch_route_latency_us_sum{route="api"} ${count * 9500}`);
  lines.push(`edgewatch_route_latency_us_count{route="api"} ${style === "count-mismatch" ? count + 3 : count}`);
  return `${lines.join("\n")}\n`;
}

/** Parse doctor output lines into {check: verdict}. */
export function verdicts(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const m = /^(PASS|WARN|FAIL)\s{2}(.+?)\s{2}/.exec(line);
    if (m) out[m[2].trim()] = m[1];
  }
  return out;
}

/** A loopback port with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

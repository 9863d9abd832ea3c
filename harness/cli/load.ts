/**
 * Load generation for the demo and the benches, always bounded in request count AND time.
 *
 *  - `runLoad`: undici Pool at a fixed concurrency, per-request latency recorded (µs), status
 *    distribution, response headers of interest sampled. Runs in this process.
 *  - `runWrk`: the `wrk` binary (Debian package) at a fixed connection count, with a Lua script that
 *    cycles paths and sets headers; parsed from wrk's --latency output. Much cheaper per request than
 *    a Node client, so the proxy — not the client — is the bottleneck.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { spawnChild } from "../process/child-lifetime.js";

export interface RequestSpec {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  /** Origin, e.g. http://127.0.0.1:10000 */
  origin: string;
  /** Request i (0-based) → what to send. */
  request: (i: number) => RequestSpec;
  concurrency: number;
  maxRequests: number;
  maxDurationMs: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Called about every 250 ms. */
  onProgress?: (done: number, total: number) => void;
  /** Response header names whose values are counted (e.g. x-edgewatch-rule). */
  watchHeaders?: string[];
}

export interface LoadResult {
  sent: number;
  completed: number;
  errors: number;
  errorSamples: string[];
  statuses: Record<string, number>;
  /** Counts of `<header>=<value>` for the watched headers. */
  headerValues: Record<string, number>;
  durationMs: number;
  rps: number;
  /** Sorted latencies in µs of completed requests. */
  latenciesUs: Float64Array;
  stoppedBy: "count" | "time";
}

export function quantile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx];
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(opts.origin, {
    connections: opts.concurrency,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    headersTimeout: opts.timeoutMs ?? 10_000,
    bodyTimeout: opts.timeoutMs ?? 10_000,
  });
  const started = performance.now();
  const deadline = started + opts.maxDurationMs;
  const lat = new Float64Array(opts.maxRequests);
  let next = 0;
  let completed = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const statuses: Record<string, number> = {};
  const headerValues: Record<string, number> = {};
  let stoppedBy: LoadResult["stoppedBy"] = "count";
  const progress = opts.onProgress
    ? setInterval(() => opts.onProgress!(completed + errors, opts.maxRequests), 250)
    : undefined;

  const worker = async () => {
    for (;;) {
      if (next >= opts.maxRequests) return;
      if (performance.now() >= deadline) {
        stoppedBy = "time";
        return;
      }
      const i = next++;
      const spec = opts.request(i);
      const t0 = performance.now();
      try {
        const res = await pool.request({
          path: spec.path,
          method: (spec.method ?? "GET") as "GET",
          headers: spec.headers,
          body: spec.body,
        });
        await res.body.dump();
        const t1 = performance.now();
        lat[completed++] = (t1 - t0) * 1000;
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        for (const h of opts.watchHeaders ?? []) {
          const v = res.headers[h];
          if (v !== undefined) {
            const key = `${h}=${Array.isArray(v) ? v.join(",") : v}`;
            headerValues[key] = (headerValues[key] ?? 0) + 1;
          }
        }
      } catch (err) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(String((err as Error)?.message ?? err));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    if (progress) clearInterval(progress);
    await pool.close().catch(() => undefined);
  }
  const durationMs = performance.now() - started;
  const latenciesUs = lat.slice(0, completed).sort();
  return {
    sent: next,
    completed,
    errors,
    errorSamples,
    statuses,
    headerValues,
    durationMs,
    rps: (completed * 1000) / durationMs,
    latenciesUs,
    stoppedBy,
  };
}

// --- wrk ----------------------------------------------------------------------------------------

export interface OpenLoopOptions {
  origin: string;
  /** Requests per second to start, whatever the answers do (open loop). */
  rate: number;
  durationS: number;
  /** Requests in flight at most; a due request past it is skipped and counted (the target fell behind). */
  maxInFlight: number;
  request: (i: number) => RequestSpec;
}

export interface OpenLoopResult {
  sent: number;
  completed: number;
  /** Failed requests and answers other than 200. */
  errors: number;
  /** Due requests not sent because maxInFlight were outstanding. */
  skipped: number;
  seconds: number;
  /** Sorted latencies in µs. */
  latenciesUs: Float64Array;
}

/**
 * Open-loop load at a fixed rate (wrk2-style, in-process): request i is due at i / rate seconds; a
 * 1 ms ticker sends what is due. Below the target's saturation both sides of a comparison then
 * serve the same requests at the same pace, so CPU per request compares like with like. Bounded by
 * durationS (plus the answers still in flight, 10 s timeout each).
 */
export async function runOpenLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const pool = new Pool(opts.origin, { connections: opts.maxInFlight, pipelining: 1, keepAliveTimeout: 10_000, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const lat = new Float64Array(Math.ceil(opts.rate * opts.durationS) + 16);
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let skipped = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const t0 = performance.now();
  const end = t0 + opts.durationS * 1000;
  try {
    for (let now = t0; now < end; now = performance.now()) {
      const due = Math.min(lat.length, Math.floor(((now - t0) / 1000) * opts.rate)) - sent - skipped;
      for (let k = 0; k < due; k++) {
        if (inFlight >= opts.maxInFlight) {
          skipped++;
          continue;
        }
        const spec = opts.request(sent++);
        const start = performance.now();
        inFlight++;
        const p = pool
          .request({ path: spec.path, method: (spec.method ?? "GET") as "GET", headers: spec.headers, body: spec.body })
          .then(async (res) => {
            await res.body.dump();
            if (res.statusCode !== 200) errors++;
            else lat[completed++] = (performance.now() - start) * 1000;
          })
          .catch(() => {
            errors++;
          })
          .finally(() => {
            inFlight--;
            pending.delete(p);
          });
        pending.add(p);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all([...pending]);
  } finally {
    await pool.close().catch(() => undefined);
  }
  return { sent, completed, errors, skipped, seconds: (performance.now() - t0) / 1000, latenciesUs: lat.slice(0, completed).sort() };
}

export interface WrkOptions {
  url: string;
  connections: number;
  threads?: number;
  durationS: number;
  /** Lua script text (written to a temp file). */
  script?: string;
  timeoutS?: number;
}

export interface WrkResult {
  requests: number;
  durationS: number;
  rps: number;
  p50_us: number;
  p75_us: number;
  p90_us: number;
  p99_us: number;
  non2xx: number;
  socketErrors: number;
  raw: string;
}

let wrkChecked: Promise<boolean> | undefined;

export function wrkAvailable(): Promise<boolean> {
  wrkChecked ??= new Promise((res) => {
    execFile("wrk", ["--version"], { timeout: 5000 }, (err, stdout, stderr) => {
      // wrk --version prints its banner and exits 1.
      res(/^wrk /m.test(`${stdout}${stderr}`) || !err);
    });
  });
  return wrkChecked;
}

function toUs(value: string, unit: string): number {
  const v = Number(value);
  switch (unit) {
    case "us":
      return v;
    case "ms":
      return v * 1000;
    case "s":
      return v * 1_000_000;
    case "m":
      return v * 60_000_000;
    case "h":
      return v * 3_600_000_000;
    default:
      return NaN;
  }
}

export function parseWrkOutput(raw: string): WrkResult {
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, "m").exec(raw);
    return m ? toUs(m[1], m[2]) : NaN;
  };
  const req = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)/m.exec(raw);
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(raw);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(raw);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  if (!req || !rps) throw new Error(`unexpected wrk output:\n${raw}`);
  return {
    requests: Number(req[1]),
    durationS: toUs(req[2], req[3]) / 1e6,
    rps: Number(rps[1]),
    p50_us: pct("50"),
    p75_us: pct("75"),
    p90_us: pct("90"),
    p99_us: pct("99"),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    raw,
  };
}

let scriptSerial = 0;

export function runWrk(opts: WrkOptions): Promise<WrkResult> {
  const args = [
    `-t${opts.threads ?? 1}`,
    `-c${opts.connections}`,
    `-d${Math.max(1, Math.round(opts.durationS))}s`,
    `--timeout`,
    `${opts.timeoutS ?? 5}s`,
    "--latency",
  ];
  if (opts.script) {
    const file = join(tmpdir(), `edgewatch-wrk-${process.pid}-${++scriptSerial}.lua`);
    writeFileSync(file, opts.script);
    args.push("-s", file);
  }
  args.push(opts.url);
  return new Promise((res, rej) => {
    // Dies with this process, even when it is killed with SIGKILL (setpriv --pdeathsig).
    const child = spawnChild("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    // Hard bound: wrk's own duration plus a margin.
    const timer = setTimeout(() => child.kill("SIGKILL"), (opts.durationS + (opts.timeoutS ?? 5) + 10) * 1000);
    child.on("error", (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      try {
        res(parseWrkOutput(out));
      } catch (e) {
        rej(new Error(`wrk exited ${code}: ${(e as Error).message}`));
      }
    });
  });
}

/** Lua for wrk: cycle `routes` path prefixes and give each request a client address in XFF. */
export function wrkRoutesScript(opts: { routes: number; pathOf?: string; xffBase?: string }): string {
  return `-- generated by edgewatch: cycle ${opts.routes} routes, XFF client addresses from ${opts.xffBase ?? "198.18.0.0/15"}
local i = 0
local routes = ${opts.routes}
local paths = {}
for r = 0, routes - 1 do paths[r] = "/r" .. r .. "/item" end
math.randomseed(12345)
request = function()
  i = i + 1
  local ip = "198." .. (18 + (i % 2)) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format("GET", paths[i % routes], { ["x-forwarded-for"] = ip })
end
`;
}

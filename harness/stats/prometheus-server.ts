/**
 * Test helper: a real Prometheus server (Debian package `prometheus`, /usr/bin/prometheus) scraping
 * one or more admin endpoints, queried over its HTTP API with undici.
 *
 *   const prom = await startPrometheus({ targets: [admin.url] });
 *   await prom.waitForQuery('edgewatch_requests_seen_total', (r) => r.length > 0);
 *   const v = await prom.query('histogram_quantile(0.99, rate(x_bucket[1m]))');
 *   await prom.close();
 *
 * Each instance gets its own temp dir (config + TSDB), a free loopback port and a child process that
 * is killed on close(). Scrapes use `metrics_path: /stats/prometheus`, interval 1 s, job "edgewatch"
 * (the alert rules in envoy/prometheus/ expect jobs matching `edgewatch.*`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";
export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? "/usr/bin/promtool";

const MISSING_HINT =
  "install the Debian package (`apt-get install -y prometheus`, which provides /usr/bin/prometheus and " +
  "/usr/bin/promtool) or run .ci/run, which installs it";

/** Throws a clear error when a Prometheus binary is missing (tests must fail, not skip). */
export function requireBinary(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} not found: ${MISSING_HINT}`);
  return path;
}

export interface PromSample {
  metric: Record<string, string>;
  /** [unix seconds, value as string] as Prometheus returns it. */
  value: [number, string];
}

export interface PrometheusOptions {
  /** Base URLs of admin servers to scrape, e.g. "http://127.0.0.1:9901". */
  targets: string[];
  metricsPath?: string;
  scrapeIntervalSeconds?: number;
  jobName?: string;
  /** Extra rule files to load (absolute paths). */
  ruleFiles?: string[];
  evaluationIntervalSeconds?: number;
  startTimeoutMs?: number;
}

export interface PrometheusServer {
  readonly url: string;
  readonly port: number;
  /** Instant query; returns the vector result (scalar results are wrapped as one sample). */
  query(promql: string, time?: number): Promise<PromSample[]>;
  /** Poll `query` until `predicate` holds (default 20 s); returns the last result. */
  waitForQuery(
    promql: string,
    predicate: (r: PromSample[]) => boolean,
    opts?: { timeoutMs?: number; intervalMs?: number },
  ): Promise<PromSample[]>;
  /** Wait until every target has been scraped successfully at least once. */
  waitForTargetsUp(timeoutMs?: number): Promise<void>;
  /** Raw GET on the Prometheus HTTP API, e.g. "/api/v1/rules". */
  api<T = unknown>(pathAndQuery: string): Promise<T>;
  /** Process output so far (for debugging failed tests). */
  logs(): string;
  close(): Promise<void>;
}

export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function renderConfig(o: Required<Pick<PrometheusOptions, "targets" | "metricsPath" | "scrapeIntervalSeconds" | "jobName" | "evaluationIntervalSeconds">> & { ruleFiles: string[] }): string {
  const targets = o.targets.map((t) => new URL(t).host);
  return [
    "global:",
    `  scrape_interval: ${Math.round(o.scrapeIntervalSeconds * 1000)}ms`,
    `  scrape_timeout: ${Math.round(o.scrapeIntervalSeconds * 800)}ms`,
    `  evaluation_interval: ${Math.round(o.evaluationIntervalSeconds * 1000)}ms`,
    ...(o.ruleFiles.length ? ["rule_files:", ...o.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)] : []),
    "scrape_configs:",
    `  - job_name: ${JSON.stringify(o.jobName)}`,
    `    metrics_path: ${JSON.stringify(o.metricsPath)}`,
    "    static_configs:",
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`,
    "",
  ].join("\n");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await request(url, { method: "GET", headersTimeout: 5000, bodyTimeout: 5000 });
  const text = await res.body.text();
  return { status: res.statusCode, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  requireBinary(PROMETHEUS_BIN);
  const dir = await mkdtemp(join(tmpdir(), "edgewatch-prom-"));
  const cfgPath = join(dir, "prometheus.yml");
  await writeFile(
    cfgPath,
    renderConfig({
      targets: opts.targets,
      metricsPath: opts.metricsPath ?? "/stats/prometheus",
      scrapeIntervalSeconds: opts.scrapeIntervalSeconds ?? 1,
      jobName: opts.jobName ?? "edgewatch",
      evaluationIntervalSeconds: opts.evaluationIntervalSeconds ?? 1,
      ruleFiles: opts.ruleFiles ?? [],
    }),
  );

  let output = "";
  let child: ChildProcess | undefined;
  let port = 0;
  // The free port can be taken between probing and binding: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    child = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${cfgPath}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout!.on("data", (d) => (output += d.toString()));
    child.stderr!.on("data", (d) => (output += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
    let ready = false;
    let exited = false;
    child.once("exit", () => (exited = true));
    while (Date.now() < deadline && !exited) {
      try {
        const res = await request(`${url}/-/ready`, { headersTimeout: 1000, bodyTimeout: 1000 });
        await res.body.text();
        if (res.statusCode === 200) {
          ready = true;
          break;
        }
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    if (ready) break;
    child.kill("SIGKILL");
    if (!/address already in use/i.test(output) || attempt === 2) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`prometheus did not become ready on port ${port}:\n${output}`);
    }
  }

  const url = `http://127.0.0.1:${port}`;
  const proc = child!;
  // Never leave a Prometheus behind if the test process exits without calling close().
  const killOnExit = () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const { status, body } = await getJson<{ status: string; data: T; error?: string }>(`${url}${pathAndQuery}`);
    if (status !== 200 || body.status !== "success") {
      throw new Error(`prometheus ${pathAndQuery}: HTTP ${status} ${body?.error ?? JSON.stringify(body)}`);
    }
    return body.data;
  };

  const query = async (promql: string, time?: number): Promise<PromSample[]> => {
    const q = new URLSearchParams({ query: promql });
    if (time !== undefined) q.set("time", String(time));
    const data = await api<{ resultType: string; result: unknown }>(`/api/v1/query?${q}`);
    if (data.resultType === "vector") return data.result as PromSample[];
    if (data.resultType === "scalar") return [{ metric: {}, value: data.result as [number, string] }];
    throw new Error(`unsupported result type ${data.resultType} for ${promql}`);
  };

  return {
    url,
    port,
    query,
    api,
    logs: () => output,
    async waitForQuery(promql, predicate, o = {}) {
      const deadline = Date.now() + (o.timeoutMs ?? 20_000);
      let last: PromSample[] = [];
      for (;;) {
        last = await query(promql);
        if (predicate(last)) return last;
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting on ${promql}; last result ${JSON.stringify(last)}\n${output}`);
        }
        await sleep(o.intervalMs ?? 250);
      }
    },
    async waitForTargetsUp(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const data = await api<{ activeTargets: Array<{ health: string; lastError: string }> }>("/api/v1/targets");
        const t = data.activeTargets;
        if (t.length > 0 && t.every((x) => x.health === "up")) return;
        if (Date.now() > deadline) throw new Error(`targets not up: ${JSON.stringify(t)}`);
        await sleep(200);
      }
    },
    async close() {
      process.off("exit", killOnExit);
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<void>((r) => proc.once("exit", () => r()));
        proc.kill("SIGTERM");
        const timeout = sleep(5000).then(() => "timeout");
        if ((await Promise.race([exited.then(() => "ok"), timeout])) === "timeout") {
          proc.kill("SIGKILL");
          await exited;
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

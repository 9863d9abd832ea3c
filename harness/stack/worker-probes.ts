/**
 * One keep-alive probe connection pinned to each worker, established over admin on every target.
 *
 * How a connection's worker is known (no client can choose one):
 *   - Envoy counts each accepted connection once, on the worker that accepted it, in its per-handler
 *     listener stat `listener.<stat_prefix>.worker_<N>.downstream_cx_total`, and a connection stays
 *     on that worker for its life (Envoy threading model; configuration/listeners/stats.rst
 *     "Per-handler Listener Stats"). The embedded host keeps the same stats.
 *   - So: read the per-worker counts, open one new connection and complete a request on it, read
 *     the counts again. Exactly one worker grew, by exactly one → that worker accepted it. Anything
 *     else (two workers grew, or one by two) means another client connected meanwhile: the
 *     connection is discarded and the step retried. Connections are opened one at a time until each
 *     of the `--concurrency` workers has one.
 *
 * This is certainty, not probability: assuming only that nothing else connects to the listener
 * while a probe is identified (checked, and retried when it did). The number of attempts needed is
 * random on Envoy (the kernel spreads connections over the workers' sockets), bounded here.
 *
 * A pinned probe then sees the proxy's current plugin configuration on its worker: each new stream
 * gets the filter config current on that worker (Envoy builds the HTTP filter chain per stream, and an
 * ECDS provider hands out the thread's latest config), so a request on probe N shows whether worker
 * N enforces a push. If the proxy closes a probe's connection (idle timeout), the probe notices
 * (undici reconnected) and is pinned again before it is used.
 */
import type { AdminReader } from "./admin-reader.js";
import type { Answer, Connection, CountingClient, Headers, RequestSpec } from "./http-client.js";

export class WorkerPinningError extends Error {
  readonly code = "EDGEWATCH_WORKER_PINNING";
  constructor(message: string) {
    super(message);
    this.name = "WorkerPinningError";
  }
}

/** A condition polled on every pinned worker did not hold on some of them in time. */
export class NotOnEveryWorkerError extends Error {
  readonly code = "EDGEWATCH_NOT_ON_EVERY_WORKER";
  constructor(message: string) {
    super(message);
    this.name = "NotOnEveryWorkerError";
  }
}

/** Path of the request that identifies a probe's worker (any route works; the upstream answers it). */
export const PROBE_SETUP_PATH = "/edgewatch-probe-setup";

export interface PinOptions {
  /** Listener stat prefix (default: the stacks' listener, edgewatch_ingress). */
  listenerStatPrefix?: string;
  /** Connections tried before giving up (default 25 per worker). */
  maxAttempts?: number;
  /** Path of the identifying request (default PROBE_SETUP_PATH; e.g. a health route the proxy serves). */
  setupPath?: string;
}

export class WorkerProbe {
  constructor(
    readonly worker: number,
    private conn: Connection,
    private readonly probes: WorkerProbes,
  ) {}

  /** The connection, re-pinned first if the proxy closed the original one. */
  async connection(): Promise<Connection> {
    if (this.conn.connects > 1) {
      await this.conn.close();
      this.conn = await this.probes.pinOne(this.worker);
    }
    return this.conn;
  }

  async send(spec: RequestSpec): Promise<Answer> {
    return (await this.connection()).send(spec);
  }

  /** The undici Client of the pinned connection as it is now (for callers that drive undici directly). */
  get undiciClient(): Connection["client"] {
    return this.conn.client;
  }

  get(path: string, headers: Headers = {}): Promise<Answer> {
    return this.send({ path, headers });
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}

export class WorkerProbes {
  readonly probes: WorkerProbe[] = [];
  /** Connections opened to identify workers (for the report: how many tries pinning took). */
  attempts = 0;

  private constructor(
    private readonly client: CountingClient,
    private readonly admin: AdminReader,
    readonly workers: number,
    private readonly opts: PinOptions,
  ) {}

  /** Pin one probe per worker (workers = Envoy --concurrency = the embedded host's worker VMs). */
  static async pin(client: CountingClient, admin: AdminReader, workers: number, opts: PinOptions = {}): Promise<WorkerProbes> {
    const wp = new WorkerProbes(client, admin, workers, opts);
    const found = new Map<number, Connection>();
    const spare: Connection[] = [];
    const max = opts.maxAttempts ?? 25 * workers;
    try {
      while (found.size < workers) {
        if (wp.attempts >= max) {
          throw new WorkerPinningError(`pinned ${found.size} of ${workers} workers after ${wp.attempts} connections (workers seen: ${[...found.keys()].join(", ") || "none"})`);
        }
        const { worker, conn } = await wp.identify();
        if (worker !== undefined && !found.has(worker)) found.set(worker, conn);
        else spare.push(conn);
      }
    } catch (e) {
      await Promise.all([...found.values()].map((c) => c.close()));
      throw e;
    } finally {
      await Promise.all(spare.map((c) => c.close()));
    }
    for (let w = 0; w < workers; w++) wp.probes.push(new WorkerProbe(w, found.get(w)!, wp));
    return wp;
  }

  /** Open one connection and find its worker (undefined: ambiguous, someone else connected meanwhile). */
  private async identify(): Promise<{ worker: number | undefined; conn: Connection }> {
    this.attempts++;
    const prefix = this.opts.listenerStatPrefix;
    const before = await this.admin.connectionsPerWorker(this.workers, prefix);
    const conn = this.client.connection();
    await conn.get(this.opts.setupPath ?? PROBE_SETUP_PATH);
    const after = await this.admin.connectionsPerWorker(this.workers, prefix);
    const grew = after.map((n, i) => n - before[i]!);
    const moved = grew.flatMap((d, i) => (d !== 0 ? [i] : []));
    if (moved.length === 1 && grew[moved[0]!] === 1 && conn.connects === 1) return { worker: moved[0], conn };
    if (moved.length === 0) {
      await conn.close();
      throw new WorkerPinningError(
        `no worker's listener.${prefix ?? "edgewatch_ingress"}.worker_<N>.downstream_cx_total moved after a new connection (per worker: ${after.join(", ")}); does the proxy keep Envoy's per-handler listener stats?`,
      );
    }
    return { worker: undefined, conn };
  }

  /** A new connection on `worker` (used when a probe's connection was closed by the proxy). */
  async pinOne(worker: number): Promise<Connection> {
    const max = this.opts.maxAttempts ?? 25 * this.workers;
    const spare: Connection[] = [];
    try {
      for (let i = 0; i < max; i++) {
        const { worker: w, conn } = await this.identify();
        if (w === worker) return conn;
        spare.push(conn);
      }
    } finally {
      await Promise.all(spare.map((c) => c.close()));
    }
    throw new WorkerPinningError(`could not re-pin a connection to worker ${worker} in ${max} attempts`);
  }

  get(worker: number): WorkerProbe {
    const p = this.probes[worker];
    if (!p) throw new RangeError(`no probe for worker ${worker} (workers: ${this.workers})`);
    return p;
  }

  /** The same request on every worker, in worker order. */
  async onEach(spec: RequestSpec | ((worker: number) => RequestSpec)): Promise<Answer[]> {
    const out: Answer[] = [];
    for (const p of this.probes) out.push(await p.send(typeof spec === "function" ? spec(p.worker) : spec));
    return out;
  }

  /**
   * Poll every worker with `spec` until `accept` holds for each one's answer (workers that already
   * passed are not asked again), or throw after timeoutMs naming the workers that did not and their
   * last answer. This is how "enforced on every worker" is established.
   */
  async untilEach(spec: RequestSpec | ((worker: number) => RequestSpec), accept: (a: Answer, worker: number) => boolean, opts: { timeoutMs?: number; what?: string } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    const pending = new Set(this.probes.map((p) => p.worker));
    const last = new Map<number, Answer>();
    for (;;) {
      for (const w of [...pending]) {
        const a = await this.get(w).send(typeof spec === "function" ? spec(w) : spec);
        last.set(w, a);
        if (accept(a, w)) pending.delete(w);
      }
      if (pending.size === 0) return;
      if (Date.now() > deadline) {
        const detail = [...pending].map((w) => `worker ${w}: ${last.get(w)?.status} ${JSON.stringify(last.get(w)?.headers["x-edgewatch-rule"] ?? null)}`).join("; ");
        throw new NotOnEveryWorkerError(`${opts.what ?? "condition"} not met on every worker within ${timeoutMs} ms (${detail})`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * A reload's time on every worker, as bench:reload and the demo measure it: all probes at once,
   * each sending `spec(worker, attempt)` (gapMs between its tries) until `accept` takes an answer;
   * resolves with each worker's ms from `t0` (performance.now()) to that answer. `abort` is asked
   * after each refused answer: an error it returns (the publish being timed failed) is thrown.
   */
  async firstAcceptedEach(
    spec: (worker: number, attempt: number) => RequestSpec,
    accept: (a: Answer) => boolean,
    opts: { t0: number; gapMs: number; timeoutMs: number; what: string; abort?: () => unknown },
  ): Promise<number[]> {
    return Promise.all(
      this.probes.map(async (probe) => {
        for (let attempt = 0; ; attempt++) {
          if (attempt > 0 && opts.gapMs > 0) await new Promise((r) => setTimeout(r, opts.gapMs));
          const a = await probe.send(spec(probe.worker, attempt));
          const at = performance.now() - opts.t0;
          if (accept(a)) return at;
          const aborted = opts.abort?.();
          if (aborted !== undefined && aborted !== null) throw aborted;
          if (at > opts.timeoutMs) {
            throw new NotOnEveryWorkerError(`worker ${probe.worker}: no ${opts.what} within ${opts.timeoutMs} ms (last answer ${a.status} ${JSON.stringify(a.headers["x-edgewatch-rule"] ?? null)})`);
          }
        }
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.probes.map((p) => p.close()));
  }
}

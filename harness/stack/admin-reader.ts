/**
 * Reads a proxy's state the way an operator does: over the admin HTTP interface only, with the
 * endpoints Envoy and the embedded host both serve (https://www.envoyproxy.io/docs/envoy/latest/operations/admin):
 *
 *   GET /stats?filter=<regex>   native stats by full name ("name: value" lines);
 *   GET /stats/prometheus       the filter's series with their labels (wasmcustom. stripped, tags extracted).
 *
 * Nothing here reaches into a proxy's process, so a scenario reading stats runs unchanged on every target.
 */
import { request } from "undici";
import { parsePrometheusText, type PromDocument, type Sample } from "../cli/prom-text.js";
import { LISTENER_STAT_PREFIX } from "../config/proxy-config.js";

export class AdminReadError extends Error {
  readonly code = "EDGEWATCH_ADMIN_READ";
  constructor(message: string) {
    super(message);
    this.name = "AdminReadError";
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export class AdminReader {
  constructor(readonly adminUrl: string) {}

  private async get(path: string): Promise<string> {
    const r = await request(`${this.adminUrl}${path}`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
    const body = await r.body.text();
    if (r.statusCode !== 200) throw new AdminReadError(`GET ${path} → ${r.statusCode}: ${body.slice(0, 200)}`);
    return body;
  }

  /** Every stat whose full name matches `pattern` (an RE2/ECMAScript-compatible regex), from GET /stats?filter=. */
  async stats(pattern: string): Promise<Map<string, number>> {
    const body = await this.get(`/stats?filter=${encodeURIComponent(pattern)}`);
    const out = new Map<string, number>();
    for (const line of body.split("\n")) {
      const i = line.lastIndexOf(": ");
      if (i <= 0) continue;
      const value = Number(line.slice(i + 2));
      // Histograms render as "P0(...)" summaries: not a single number, skipped.
      if (Number.isFinite(value)) out.set(line.slice(0, i), value);
    }
    return out;
  }

  /** One counter or gauge by its full Envoy name; 0 when the stat does not exist (Envoy creates most lazily). */
  async stat(name: string): Promise<number> {
    return (await this.stats(`^${escapeRegex(name)}$`)).get(name) ?? 0;
  }

  /** GET /stats/prometheus, parsed. */
  async prometheus(): Promise<PromSnapshotView> {
    return new PromSnapshotView(parsePrometheusText(await this.get("/stats/prometheus")));
  }

  /** Sum of the Prometheus samples named `name` whose labels include `labels` (0 when none). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return (await this.prometheus()).sum(name, labels);
  }

  /**
   * Connections accepted per worker: Envoy's per-handler listener stats
   * `listener.<stat_prefix>.worker_<N>.downstream_cx_total` (configuration/listeners/stats.rst,
   * "Per-handler Listener Stats"). Index N = worker N; a worker that accepted nothing yet reads 0.
   */
  async connectionsPerWorker(workers: number, listenerStatPrefix = LISTENER_STAT_PREFIX): Promise<number[]> {
    const prefix = `listener.${listenerStatPrefix}.worker_`;
    const stats = await this.stats(`^${escapeRegex(prefix)}\\d+\\.downstream_cx_total$`);
    const out = new Array<number>(workers).fill(0);
    for (const [name, value] of stats) {
      const n = Number(name.slice(prefix.length, name.indexOf(".", prefix.length)));
      if (Number.isInteger(n) && n >= 0 && n < workers) out[n] = value;
    }
    return out;
  }
}

/** A parsed /stats/prometheus body with lookups by name and label subset. */
export class PromSnapshotView {
  constructor(readonly doc: PromDocument) {}

  get samples(): readonly Sample[] {
    return this.doc.samples;
  }

  /** Samples named `name` whose labels include every pair of `labels`. */
  find(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.doc.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  sum(name: string, labels: Record<string, string> = {}): number {
    return this.find(name, labels).reduce((a, s) => a + s.value, 0);
  }

  /** Value of the single sample matching; undefined when none, an error when several match. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const found = this.find(name, labels);
    if (found.length > 1) throw new AdminReadError(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
    return found[0]?.value;
  }

  names(): Set<string> {
    return new Set(this.doc.samples.map((s) => s.name));
  }
}

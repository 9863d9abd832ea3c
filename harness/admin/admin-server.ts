/**
 * The embedded host's admin listener, answering like Envoy's admin interface for the endpoints the
 * project uses. node:http, one handler per exact path (query string ignored for matching).
 *
 * Emulated Envoy behaviour (source in brackets):
 *  - handler lookup by exact path; unknown path → 404 "invalid path. admin commands are: …"
 *    [source/server/admin/admin.cc AdminImpl::runCallback / makeRequest];
 *  - handlers that mutate server state accept only POST: other methods → 405
 *    "Method GET not allowed, POST required." [admin.cc, mutates_server_state_];
 *  - default response headers: `content-type: text/plain; charset=UTF-8`,
 *    `cache-control: no-cache, max-age=0`, `x-content-type-options: nosniff`; JSON handlers set
 *    `application/json` [source/server/admin/utils.cc populateFallbackResponseHeaders];
 *    `/stats/prometheus` keeps the text/plain default (Envoy does not send
 *    `text/plain; version=0.0.4`; Prometheus parses it as the classic text format anyway);
 *  - GET /ready → 200 "LIVE\n", else 503 with the state name ("INITIALIZING\n")
 *    [source/server/admin/server_info_handler.cc handlerReady];
 *  - GET /stats (`usedonly`, `filter`, `format=json|prometheus`, `histogram_buckets=`),
 *    GET /stats/prometheus (`usedonly`, `filter`); with `flushOnAdmin` the stats are flushed before
 *    rendering [source/server/admin/stats_handler.cc, stats_params.cc]; a bad regex or parameter → 400;
 *  - POST /reset_counters → counters zeroed, "OK\n" [stats_handler.cc handlerResetCounters];
 *  - GET /server_info → a minimal ServerInfo JSON (version, state, uptimes, hot_restart_version,
 *    command_line_options, node) [server_info_handler.cc handlerServerInfo].
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { RenderOptions } from "../stats/model.js";
import type { StatsStoreApi } from "../stats/types.js";

export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface AdminServerOptions {
  address: string;
  port: number;
  stats: StatsStoreApi & { flush(): void; resetCounters?(): void };
  isReady: () => boolean;
  flushOnAdmin?: boolean;
  /** Extra handlers by exact path (they take precedence over the built-in ones). */
  extra?: Record<string, AdminHandler>;
  /** Optional content of /server_info. */
  serverInfo?: { version?: string; node?: { id: string; cluster: string }; concurrency?: number };
}

export interface AdminServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Admin paths Envoy registers with mutates_server_state = true (admin.cc handler table). */
export const MUTATING_ADMIN_PATHS: ReadonlySet<string> = new Set([
  "/cpuprofiler",
  "/heapprofiler",
  "/healthcheck/fail",
  "/healthcheck/ok",
  "/logging",
  "/quitquitquit",
  "/reset_counters",
  "/drain_listeners",
  "/runtime_modify",
  "/reopen_logs",
  "/stats/recentlookups/clear",
  "/stats/recentlookups/disable",
  "/stats/recentlookups/enable",
  "/tap",
]);

const TEXT = "text/plain; charset=UTF-8";
const JSON_CT = "application/json";

function send(res: ServerResponse, status: number, body: string, contentType = TEXT): void {
  res.statusCode = status;
  res.setHeader("content-type", contentType);
  res.setHeader("cache-control", "no-cache, max-age=0");
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("content-length", Buffer.byteLength(body));
  res.end(body);
}

type ParsedParams = { ok: true; opts: RenderOptions; format?: string } | { ok: false; error: string };

/** StatsParams::parse subset: usedonly, filter, format, histogram_buckets. */
function parseStatsParams(search: URLSearchParams): ParsedParams {
  const opts: RenderOptions = {};
  if (search.has("usedonly")) opts.usedOnly = true;
  const filter = search.get("filter");
  if (filter !== null && filter !== "") {
    try {
      opts.filter = new RegExp(filter);
    } catch (e) {
      return { ok: false, error: `Invalid re2 regex: ${(e as Error).message}\n` };
    }
  }
  const hb = search.get("histogram_buckets");
  if (hb !== null) {
    if (hb === "cumulative" || hb === "disjoint" || hb === "detailed" || hb === "summary") opts.histogramBuckets = hb;
    else if (hb === "none") opts.histogramBuckets = "summary";
    else return { ok: false, error: "usage: /stats?histogram_buckets=(cumulative|disjoint|detailed|summary|none)\n" };
  }
  const format = search.get("format") ?? undefined;
  if (format !== undefined && format !== "json" && format !== "prometheus" && format !== "text") {
    return { ok: false, error: "usage: /stats?format=(html|active-html|json|prometheus|text)\n\n" };
  }
  return { ok: true, opts, format };
}

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const started = Date.now();
  const { stats } = opts;

  const builtin: Record<string, AdminHandler> = {
    "/ready": (_req, res) => {
      if (opts.isReady()) send(res, 200, "LIVE\n");
      else send(res, 503, "INITIALIZING\n");
    },
    "/stats": (req, res) => {
      const p = parseStatsParams(new URL(req.url ?? "/", "http://admin").searchParams);
      if (!p.ok) return send(res, 400, p.error);
      if (opts.flushOnAdmin) stats.flush();
      if (p.format === "json") return send(res, 200, JSON.stringify(stats.renderJson(p.opts)), JSON_CT);
      if (p.format === "prometheus") return send(res, 200, stats.renderPrometheus(p.opts));
      return send(res, 200, stats.renderText(p.opts));
    },
    "/stats/prometheus": (req, res) => {
      const p = parseStatsParams(new URL(req.url ?? "/", "http://admin").searchParams);
      if (!p.ok) return send(res, 400, p.error);
      if (opts.flushOnAdmin) stats.flush();
      send(res, 200, stats.renderPrometheus(p.opts));
    },
    "/server_info": (_req, res) => {
      const uptime = `${Math.floor((Date.now() - started) / 1000)}s`;
      const info = {
        version: opts.serverInfo?.version ?? "edgewatch-harness/0.0.0/emulated/RELEASE/BoringSSL",
        state: opts.isReady() ? "LIVE" : "INITIALIZING",
        hot_restart_version: "disabled",
        command_line_options: { concurrency: opts.serverInfo?.concurrency ?? 1 },
        node: opts.serverInfo?.node ?? {},
        uptime_current_epoch: uptime,
        uptime_all_epochs: uptime,
      };
      send(res, 200, JSON.stringify(info, null, 2), JSON_CT);
    },
    "/reset_counters": (_req, res) => {
      stats.resetCounters?.();
      send(res, 200, "OK\n");
    },
  };
  const handlers: Record<string, AdminHandler> = { ...builtin, ...(opts.extra ?? {}) };

  const help = () =>
    "admin commands are:\n" +
    Object.keys(handlers)
      .sort()
      .map((p) => `  ${p}\n`)
      .join("");

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://admin").pathname;
    const handler = Object.prototype.hasOwnProperty.call(handlers, path) ? handlers[path] : undefined;
    if (!handler) return send(res, 404, `invalid path. ${help()}`);
    const method = req.method ?? "GET";
    if (MUTATING_ADMIN_PATHS.has(path) && method !== "POST") {
      return send(res, 405, `Method ${method} not allowed, POST required.`);
    }
    try {
      handler(req, res);
    } catch (e) {
      if (!res.headersSent) send(res, 500, `admin handler error: ${(e as Error).message}\n`);
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once("error", onError);
    server.listen(opts.port, opts.address, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.address.includes(":") ? `[${opts.address}]` : opts.address;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

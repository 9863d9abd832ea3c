/**
 * Small Envoy admin client shared by the Envoy targets: readiness, counters, the listener's bound
 * port, and the wait for an ECDS push to be applied or rejected.
 * Admin endpoints: https://www.envoyproxy.io/docs/envoy/latest/operations/admin
 */

import { ConfigRejectedError, type TargetName } from "./target.js";

export class EnvoyAdminError extends Error {
  constructor(
    readonly code: "EDGEWATCH_ENVOY_NOT_READY" | "EDGEWATCH_ECDS_TIMEOUT" | "EDGEWATCH_ENVOY_ADMIN",
    message: string,
  ) {
    super(message);
    this.name = "EnvoyAdminError";
  }
}

async function get(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

/** GET /ready until 200 ("LIVE"), or throw after timeoutMs. `alive` lets a caller abort early when the process died. */
export async function waitForReady(adminUrl: string, timeoutMs: number, alive: () => string | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no response";
  while (Date.now() < deadline) {
    const dead = alive();
    if (dead) throw new EnvoyAdminError("EDGEWATCH_ENVOY_NOT_READY", `Envoy exited before it was ready: ${dead}`);
    try {
      const r = await get(`${adminUrl}/ready`, 1000);
      if (r.status === 200) return;
      last = `${r.status} ${r.body.trim()}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(100);
  }
  throw new EnvoyAdminError("EDGEWATCH_ENVOY_NOT_READY", `Envoy admin ${adminUrl}/ready not 200 after ${timeoutMs} ms (last: ${last})`);
}

/** Value of one counter or gauge from GET /stats?filter=^name$ (0 when absent). */
export async function readStat(adminUrl: string, name: string): Promise<number> {
  const filter = encodeURIComponent(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  const r = await get(`${adminUrl}/stats?filter=${filter}`);
  if (r.status !== 200) throw new EnvoyAdminError("EDGEWATCH_ENVOY_ADMIN", `GET /stats → ${r.status}`);
  const line = r.body.split("\n").find((l) => l.startsWith(`${name}: `));
  return line ? Number(line.slice(name.length + 2)) : 0;
}

/** Stat names Envoy keeps per ECDS-configured HTTP filter (extension.rst "Statistics"). */
export function ecdsStatNames(filterName: string): { reload: string; fail: string } {
  const base = `extension_config_discovery.http_filter.${filterName}`;
  return { reload: `${base}.config_reload`, fail: `${base}.config_fail` };
}

export interface EcdsCounters {
  reload: number;
  fail: number;
}

export async function readEcdsCounters(adminUrl: string, filterName: string): Promise<EcdsCounters> {
  const n = ecdsStatNames(filterName);
  const [reload, fail] = await Promise.all([readStat(adminUrl, n.reload), readStat(adminUrl, n.fail)]);
  return { reload, fail };
}

/**
 * Resolve once config_reload has grown past `before` (the push applied); reject with a
 * ConfigRejectedError if config_fail grew (Envoy rejected it and keeps the previous config), or with
 * EDGEWATCH_ECDS_TIMEOUT if nothing happened within timeoutMs. Polls admin, never sleeps blindly.
 */
export async function awaitEcdsApplied(
  adminUrl: string,
  filterName: string,
  before: EcdsCounters,
  timeoutMs = 10_000,
  logTail: () => string = () => "",
  target: TargetName = "envoy",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const now = await readEcdsCounters(adminUrl, filterName);
    if (now.reload > before.reload) return;
    if (now.fail > before.fail) {
      throw new ConfigRejectedError(target, `Envoy rejected the ECDS update for ${filterName} (config_fail ${before.fail} → ${now.fail}); the previous config stays active.${tail(logTail())}`);
    }
    await sleep(50);
  }
  throw new EnvoyAdminError("EDGEWATCH_ECDS_TIMEOUT", `ECDS update for ${filterName} not applied within ${timeoutMs} ms (config_reload stayed at ${before.reload}).${tail(logTail())}`);
}

/** Port the (first) listener is bound to, from GET /listeners?format=json (needed when it was 0). */
export async function listenerPort(adminUrl: string, listenerName?: string): Promise<number> {
  const r = await get(`${adminUrl}/listeners?format=json`);
  if (r.status !== 200) throw new EnvoyAdminError("EDGEWATCH_ENVOY_ADMIN", `GET /listeners?format=json → ${r.status}`);
  const body = JSON.parse(r.body) as Record<string, unknown>;
  const statuses = (body.listener_statuses ?? body.listenerStatuses ?? []) as Array<Record<string, any>>;
  const st = listenerName ? statuses.find((s) => s.name === listenerName) : statuses[0];
  const sa = (st?.local_address ?? st?.localAddress)?.socket_address ?? (st?.local_address ?? st?.localAddress)?.socketAddress;
  const port = Number(sa?.port_value ?? sa?.portValue);
  if (!Number.isInteger(port) || port <= 0) throw new EnvoyAdminError("EDGEWATCH_ENVOY_ADMIN", `no bound port for listener ${listenerName ?? "#0"} in ${r.body.slice(0, 300)}`);
  return port;
}

function tail(text: string): string {
  const lines = text.trim().split("\n").slice(-20).join("\n");
  return lines ? `\nLast Envoy log lines:\n${lines}` : "";
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

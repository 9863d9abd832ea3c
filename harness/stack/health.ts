/**
 * "No VM failure and no request lost", checked over admin the same way on every target:
 *
 *   requests the client sent = responses it received
 *     = the filter's edgewatch_requests_seen_total (every worker VM counted each request it saw)
 *     = Envoy's http.<hcm stat_prefix>.downstream_rq_total (requests the HCM accepted);
 *   and no VM failure.
 *
 * What reveals a failed (trapped) VM. Envoy 1.30–1.32 has no stat for it (envoyproxy/envoy#16403
 * is open; wasm.<runtime>.{created,active} only count VMs, and the vm_reload_* stats exist only with
 * 1.33's FAIL_RELOAD policy). A trapped VM is still visible on admin, through the equation above: a
 * failed VM stops running the filter, so edgewatch_requests_seen_total falls behind
 * downstream_rq_total (fail-closed requests get Envoy's 503 without the filter counting them).
 * Two direct signals are added where a target has them: the embedded host's
 * `wasm.edgewatch.vm_failed` counter (0 or absent on Envoy), and the failure line Envoy's wasm
 * logger writes ("Function: proxy_on_… failed: Uncaught …", cpp-host WasmBase::fail) in the log.
 */
import type { AdminReader } from "./admin-reader.js";
import type { TrafficCounter } from "./http-client.js";

/** Counter the embedded host adds on a trap (Envoy has none before envoyproxy/envoy#40882). */
export const EMBEDDED_VM_FAILED_STAT = "wasm.edgewatch.vm_failed";
/**
 * The line Envoy (and the embedded host) log when a VM traps at run time (cpp-host:
 * fail(RuntimeError, "Function: <export> failed: <message>")). Not "Wasm VM failed" alone: Envoy logs
 * that for a configuration the plugin refused too (a canary VM), which is a rejection, not a failure.
 */
export const VM_FAILURE_LOG = /Function: \w+ failed: /;

export interface HealthReport {
  sent: number;
  responses: number;
  /** edgewatch_requests_seen_total, summed over every series. */
  requestsSeen: number;
  /** http.<prefix>.downstream_rq_total. */
  downstreamRequests: number;
  vmFailedStat: number;
  vmFailureLogLines: string[];
  clientFailures: string[];
  /** Empty when healthy; else one line per broken equation. */
  problems: string[];
}

export class HealthError extends Error {
  readonly code = "EDGEWATCH_UNHEALTHY";
  constructor(readonly report: HealthReport) {
    super(`proxy unhealthy:\n  ${report.problems.join("\n  ")}`);
    this.name = "HealthError";
  }
}

export async function checkHealth(opts: { admin: AdminReader; counter: TrafficCounter; hcmStatPrefix: string; logs: () => string }): Promise<HealthReport> {
  const { admin, counter } = opts;
  const [prom, downstreamRequests, vmFailedStat] = await Promise.all([
    admin.prometheus(),
    admin.stat(`http.${opts.hcmStatPrefix}.downstream_rq_total`),
    admin.stat(EMBEDDED_VM_FAILED_STAT),
  ]);
  const requestsSeen = prom.sum("edgewatch_requests_seen_total");
  const vmFailureLogLines = opts.logs().split("\n").filter((l) => VM_FAILURE_LOG.test(l));
  const r: HealthReport = {
    sent: counter.sent,
    responses: counter.responses,
    requestsSeen,
    downstreamRequests,
    vmFailedStat,
    vmFailureLogLines,
    clientFailures: [...counter.failures],
    problems: [],
  };
  if (r.clientFailures.length > 0) r.problems.push(`${r.clientFailures.length} request(s) got no response: ${r.clientFailures.slice(0, 3).join("; ")}`);
  if (r.responses !== r.sent) r.problems.push(`responses ${r.responses} ≠ requests sent ${r.sent}`);
  if (r.requestsSeen !== r.sent) r.problems.push(`edgewatch_requests_seen_total ${r.requestsSeen} ≠ requests sent ${r.sent}`);
  if (r.downstreamRequests !== r.sent) r.problems.push(`http.${opts.hcmStatPrefix}.downstream_rq_total ${r.downstreamRequests} ≠ requests sent ${r.sent}`);
  if (r.vmFailedStat !== 0) r.problems.push(`${EMBEDDED_VM_FAILED_STAT} = ${r.vmFailedStat}`);
  if (r.vmFailureLogLines.length > 0) r.problems.push(`VM failure logged: ${r.vmFailureLogLines[0]}`);
  return r;
}

/**
 * `edgewatch doctor`: diagnose a running proxy (Envoy or the embedded host) against silent failure.
 *
 * It scrapes `/stats/prometheus` a few times over a window (and `/ready` once), optionally sends
 * probe requests through the listener so "traffic flows" is known rather than guessed, and runs one
 * check per failure mode. Each check yields PASS, WARN or FAIL with a detail and the fix to try.
 * The checks are pure functions of the scrapes (see `evaluate`), so tests can feed crafted text.
 */
import { PromSnapshot, formatLabels, nonEmptyBuckets, type HistogramSeries } from "./prom-text.js";

export type Verdict = "PASS" | "WARN" | "FAIL";

export interface CheckResult {
  check: string;
  verdict: Verdict;
  detail: string;
  fix?: string;
}

export interface Scrape {
  /** Epoch ms when the scrape was taken. */
  at: number;
  status: number;
  /** Parsed body; undefined when the request failed or did not answer 200. */
  snap?: PromSnapshot;
  /** Transport error text, when the request failed. */
  error?: string;
}

export interface DoctorInput {
  adminUrl: string;
  scrapes: Scrape[];
  /** GET /ready: status and body, or the transport error. */
  ready?: { status: number; body: string } | { error: string };
  /** Probe requests sent through the listener during the window (undefined: no probing). */
  probes?: { sent: number; answered: number; errors: string[] };
  /** Maximum age of the last successful rules check (edgewatch_rules_last_check_seconds), seconds; 0 disables the age check. */
  rulesMaxAgeS: number;
  /** Maximum age of the heartbeat gauge when it is a timestamp, seconds. */
  heartbeatMaxAgeS: number;
  /** Clock used for ages (epoch ms); defaults to the last scrape time. */
  nowMs?: number;
}

const M = {
  seen: "edgewatch_requests_seen_total",
  requests: "edgewatch_requests_total",
  latency: "edgewatch_route_latency_us",
  ticks: "edgewatch_ticks_total",
  heartbeat: "edgewatch_heartbeat_seconds",
  memory: "edgewatch_vm_memory_bytes",
  rulesVersion: "edgewatch_rules_version",
  rulesLastCheck: "edgewatch_rules_last_check_seconds",
  rulesLastChange: "edgewatch_rules_last_change_seconds",
  reloads: "edgewatch_rules_reload_total",
  reloadFailures: "edgewatch_rules_reload_failures_total",
  coldStart: "edgewatch_rules_cold_start_total",
  spansExported: "edgewatch_trace_spans_exported_total",
  spansDropped: "edgewatch_trace_spans_dropped_total",
  exportFailures: "edgewatch_trace_export_failures_total",
  routesOverflow: "edgewatch_routes_overflow_total",
  signatureVerified: "edgewatch_rules_signature_verified_total",
  blastSampled: "edgewatch_rules_blast_radius_sampled_clients",
  blastDenied: "edgewatch_rules_blast_radius_denied_clients",
  blastOverrides: "edgewatch_rules_blast_radius_overrides_total",
  clientSample: "edgewatch_rules_client_sample_size",
} as const;

/**
 * Envoy's own request counters, used to tell "no traffic" from "the filter sees nothing". Envoy's
 * default tag extractors put the HCM stat prefix in a label; the admin listener's own HCM
 * (prefix "admin") counts doctor's scrapes, so it is left out.
 */
const ENVOY_DOWNSTREAM = ["envoy_http_downstream_rq_total", "envoy_http_downstream_rq_completed"];
const notAdminHcm = (l: Record<string, string>) => l.envoy_http_conn_manager_prefix !== "admin";

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return n.toFixed(2);
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Interpret a gauge that is either an epoch timestamp in seconds or an uptime/elapsed value. */
function isEpochSeconds(v: number): boolean {
  return v > 1e9 && v < 1e11;
}

class Window {
  readonly ok: Scrape[];
  constructor(scrapes: Scrape[]) {
    this.ok = scrapes.filter((s) => s.snap !== undefined);
  }
  get first(): PromSnapshot | undefined {
    return this.ok[0]?.snap;
  }
  get last(): PromSnapshot | undefined {
    return this.ok[this.ok.length - 1]?.snap;
  }
  get spanMs(): number {
    return this.ok.length < 2 ? 0 : this.ok[this.ok.length - 1].at - this.ok[0].at;
  }
  /**
   * Increase of a summed counter between the first and the last good scrape; a series that first
   * appears during the window counts from 0 (Envoy shows a stat once it is defined). Undefined when
   * the metric is absent from the last scrape.
   */
  delta(name: string, filter?: (l: Record<string, string>) => boolean): number | undefined {
    const b = this.last?.sum(name, filter);
    if (b === undefined) return undefined;
    return b - (this.first?.sum(name, filter) ?? 0);
  }
  /** Per-label-set increases of a counter (series absent at the start count from 0). */
  deltasByLabels(name: string): { labels: Record<string, string>; delta: number }[] {
    const first = new Map<string, number>();
    for (const s of this.first?.series(name) ?? []) first.set(formatLabels(s.labels), s.value);
    return (this.last?.series(name) ?? []).map((s) => ({
      labels: s.labels,
      delta: s.value - (first.get(formatLabels(s.labels)) ?? 0),
    }));
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export function evaluate(input: DoctorInput): CheckResult[] {
  const out: CheckResult[] = [];
  const add = (check: string, verdict: Verdict, detail: string, fix?: string) =>
    out.push({ check, verdict, detail, fix: verdict === "PASS" ? undefined : fix });

  const w = new Window(input.scrapes);
  const nowMs = input.nowMs ?? input.scrapes[input.scrapes.length - 1]?.at ?? Date.now();
  const statsUrl = `${input.adminUrl}/stats/prometheus`;

  // --- admin endpoint --------------------------------------------------------------------------
  const bad = input.scrapes.filter((s) => s.snap === undefined);
  if (w.ok.length === 0) {
    const why = bad[0]?.error ?? `HTTP ${bad[0]?.status}`;
    add(
      "admin",
      "FAIL",
      `${statsUrl} did not answer 200 (${why})`,
      "check the --admin URL and that the proxy's admin listener is up (Envoy: admin.address; embedded: --admin-port)",
    );
    return out; // nothing else can be judged
  }
  const parseErrors = w.ok.flatMap((s) => s.snap!.doc.errors);
  if (parseErrors.length > 0) {
    const e = parseErrors[0];
    add(
      "admin",
      "FAIL",
      `${parseErrors.length} unparsable line(s) in ${statsUrl}; first: line ${e.line}: ${e.reason}: ${e.text.slice(0, 80)}`,
      "Prometheus will reject this scrape; check for a stats sink or tag extractor producing malformed names",
    );
  } else if (bad.length > 0) {
    add(
      "admin",
      "WARN",
      `${bad.length} of ${input.scrapes.length} scrapes failed (${bad[0].error ?? `HTTP ${bad[0].status}`})`,
      "the admin listener is flaky under load; check proxy CPU and admin thread",
    );
  } else {
    add("admin", "PASS", `${statsUrl} answered 200 on ${w.ok.length} scrapes over ${seconds(w.spanMs)}`);
  }

  // --- readiness -------------------------------------------------------------------------------
  if (input.ready) {
    if ("error" in input.ready) {
      add("ready", "FAIL", `/ready failed: ${input.ready.error}`, "check the admin listener");
    } else if (input.ready.status === 200) {
      add("ready", "PASS", `/ready 200 ${input.ready.body.trim().slice(0, 40)}`);
    } else if (input.ready.status === 404) {
      add("ready", "WARN", "/ready not served by this admin endpoint", "point --admin at Envoy's admin port");
    } else {
      add(
        "ready",
        "FAIL",
        `/ready ${input.ready.status} ${input.ready.body.trim().slice(0, 60)}`,
        "the proxy is not serving: a listener is warming, draining, or a Wasm filter failed to load (see the proxy log)",
      );
    }
  }

  const last = w.last!;
  const first = w.first!;

  // --- series present --------------------------------------------------------------------------
  const ewNames = last.names().filter((n) => n.startsWith("edgewatch_"));
  if (ewNames.length === 0) {
    add(
      "series",
      "FAIL",
      `${statsUrl} answered 200 but has no edgewatch_* series (${last.names().length} other series)`,
      "the filter is not loaded or defines no metrics: check the Wasm filter is in the HTTP filter chain, root_id is 'edgewatch', the proxy log for a failed on_configure, and that no stats_matcher drops wasmcustom.* stats",
    );
    return out; // every later check would only repeat this
  }
  const seriesCount = ewNames.reduce((n, name) => n + last.series(name).length, 0);
  const missingCore = [M.seen, M.requests, M.ticks].filter((n) => !last.has(n));
  if (missingCore.length > 0) {
    add(
      "series",
      "FAIL",
      `edgewatch series present but ${missingCore.join(", ")} missing`,
      "a stats_matcher or tag extractor rewrote the names, or the filter build is older than this doctor",
    );
  } else {
    add("series", "PASS", `${seriesCount} edgewatch series in ${new Set(ewNames.map(familyOf)).size} families`);
  }

  // --- counter resets --------------------------------------------------------------------------
  const resets: string[] = [];
  for (let i = 1; i < w.ok.length; i++) {
    const a = w.ok[i - 1].snap!;
    const b = w.ok[i].snap!;
    for (const name of b.names()) {
      if (!name.startsWith("edgewatch_") || !(name.endsWith("_total") || name.endsWith("_count"))) continue;
      const va = a.sum(name);
      const vb = b.sum(name);
      if (va !== undefined && vb !== undefined && vb < va) resets.push(`${name} ${fmt(va)}→${fmt(vb)}`);
    }
  }
  if (resets.length > 0) {
    add(
      "counter resets",
      "WARN",
      `counters went down between scrapes: ${resets.slice(0, 3).join("; ")}`,
      "the proxy restarted or hot-restarted during the window, or two proxies answer on this admin URL",
    );
  }

  // --- requests counted ------------------------------------------------------------------------
  const seenDelta = w.delta(M.seen);
  const reqDelta = w.delta(M.requests);
  const envoyName = ENVOY_DOWNSTREAM.find((n) => first.has(n) && last.has(n));
  const envoyDelta = envoyName ? w.delta(envoyName, notAdminHcm) : undefined;
  const envoyText = envoyName && envoyDelta !== undefined ? `; Envoy ${envoyName} +${fmt(envoyDelta)}` : "; no Envoy downstream counter";
  const probesAnswered = input.probes?.answered ?? 0;
  const trafficKnown = (envoyDelta ?? 0) > 0 || probesAnswered > 0;
  if (seenDelta === undefined) {
    add("requests counted", "FAIL", `${M.seen} missing`, "see the 'series' check");
  } else if (seenDelta > 0) {
    if (reqDelta !== undefined && reqDelta <= 0) {
      add(
        "requests counted",
        "FAIL",
        `${M.seen} +${fmt(seenDelta)} but ${M.requests} did not move`,
        "requests enter the filter but are never counted per route: look for a trap or an early return in on_log / on_done (proxy log, envoy_wasm_*_failed counters)",
      );
    } else {
      const rps = w.spanMs > 0 ? ` (${((seenDelta * 1000) / w.spanMs).toFixed(1)} rps)` : "";
      add(
        "requests counted",
        "PASS",
        `${M.seen} +${fmt(seenDelta)}${rps}, ${M.requests} +${fmt(reqDelta ?? 0)} over ${seconds(w.spanMs)}${envoyText}`,
      );
    }
  } else if (trafficKnown) {
    const why =
      probesAnswered > 0
        ? `${probesAnswered} probe request(s) answered`
        : `${envoyName} +${fmt(envoyDelta ?? 0)}`;
    add(
      "requests counted",
      "FAIL",
      `traffic flowed (${why}) but ${M.seen} stayed at ${fmt(last.sum(M.seen) ?? 0)}`,
      "the filter is not on this route's filter chain (per-route disabled?), or its VM trapped and fail_open lets requests bypass it; check envoy_wasm_* counters and the proxy log",
    );
  } else {
    add(
      "requests counted",
      "WARN",
      `no traffic during the ${seconds(w.spanMs)} window (${M.seen} = ${fmt(last.sum(M.seen) ?? 0)}); counting not verified`,
      "rerun while traffic flows, or pass --probe http://<listener>/ so doctor sends its own requests",
    );
  }

  // --- histograms complete ---------------------------------------------------------------------
  const families = last.histogramFamilies().filter((f) => f.startsWith("edgewatch_"));
  const broken: string[] = [];
  let seriesChecked = 0;
  for (const fam of families) {
    for (const h of last.histograms(fam)) {
      seriesChecked++;
      const p = histogramProblems(h);
      if (p.length > 0) broken.push(`${fam}${formatLabels(h.labels)}: ${p.join(", ")}`);
    }
  }
  if (broken.length > 0) {
    add(
      "histograms",
      "FAIL",
      `${broken.length} histogram series incomplete: ${broken.slice(0, 2).join("; ")}${broken.length > 2 ? "; …" : ""}`,
      "quantiles computed from these buckets are wrong: check stats_config.histogram_bucket_settings and any relabelling that drops le series",
    );
  } else if (!families.includes(M.latency)) {
    const countedEarly = (first.sum(M.requests) ?? 0) > 0;
    const verdict: Verdict = countedEarly && w.spanMs >= 5000 ? "FAIL" : "WARN";
    add(
      "histograms",
      verdict,
      `${M.latency} absent${countedEarly ? " although requests were counted" : ""}`,
      "histograms appear after a stats flush with samples (Envoy stats_flush_interval, default 5s); if traffic flowed for longer, check the filter records latency on the response path",
    );
  } else {
    add("histograms", "PASS", `${families.length} histogram ${families.length === 1 ? "family" : "families"}, ${seriesChecked} series, buckets complete`);
  }

  // --- histogram resolution ("p99 stuck at one bucket") -----------------------------------------
  const lat = last.histograms(M.latency).filter((h) => (h.count ?? h.infCount ?? 0) >= 20);
  if (lat.length > 0) {
    const stuck = lat.filter((h) => nonEmptyBuckets(h) <= 1);
    const overflow = lat.filter((h) => {
      const finite = h.buckets.filter((b) => b.le !== Infinity);
      const lastFinite = finite[finite.length - 1];
      return lastFinite !== undefined && h.infCount !== undefined && h.infCount > 0 && lastFinite.count === 0;
    });
    if (stuck.length > 0 || overflow.length > 0) {
      const which = [...stuck, ...overflow].slice(0, 3).map((h) => formatLabels(h.labels) || "{}");
      add(
        "latency resolution",
        "WARN",
        `${stuck.length} route(s) with every sample in one bucket${overflow.length ? `, ${overflow.length} with every sample above the largest bound` : ""}: ${which.join(" ")} — p50 and p99 collapse to one bucket bound`,
        "set stats_config.histogram_bucket_settings for prefix 'wasmcustom.edgewatch.' with bounds around your latencies, in microseconds with at most two significant digits (e.g. 100,250,500,1000,2500,5000,10000,25000,50000,100000 = 0.1–100 ms)",
      );
    } else {
      add("latency resolution", "PASS", `${lat.length} route histogram(s) spread over more than one bucket`);
    }
  }

  // --- heartbeat -------------------------------------------------------------------------------
  const ticksDelta = w.delta(M.ticks);
  if (ticksDelta === undefined) {
    add("heartbeat", "FAIL", `${M.ticks} missing`, "the root context never armed its tick: check on_configure succeeded (proxy log)");
  } else if (w.ok.length < 2) {
    add("heartbeat", "WARN", "only one good scrape; cannot tell if ticks advance", "rerun with a longer --duration");
  } else if (ticksDelta <= 0) {
    add(
      "heartbeat",
      "FAIL",
      `${M.ticks} stuck at ${fmt(last.sum(M.ticks) ?? 0)} over ${seconds(w.spanMs)}`,
      "the root context stopped ticking: the VM trapped or was replaced without a new tick (proxy log: wasm errors); if telemetry.heartbeat_ms is longer than the window, rerun with a longer --duration",
    );
  } else {
    const hb = last.max(M.heartbeat);
    if (hb !== undefined && isEpochSeconds(hb)) {
      const age = nowMs / 1000 - hb;
      if (age > input.heartbeatMaxAgeS) {
        add(
          "heartbeat",
          "FAIL",
          `${M.ticks} +${fmt(ticksDelta)} but ${M.heartbeat} is ${age.toFixed(0)}s old`,
          "one VM ticks but the heartbeat gauge is stale: a worker VM may be stuck; check the proxy and host clocks agree",
        );
      } else {
        add("heartbeat", "PASS", `${M.ticks} +${fmt(ticksDelta)} over ${seconds(w.spanMs)}, heartbeat ${Math.max(0, age).toFixed(1)}s ago`);
      }
    } else {
      add("heartbeat", "PASS", `${M.ticks} +${fmt(ticksDelta)} over ${seconds(w.spanMs)}`);
    }
  }

  // --- rules version & freshness ---------------------------------------------------------------
  const version = last.max(M.rulesVersion);
  const coldDelta = w.delta(M.coldStart) ?? 0;
  if (version === undefined) {
    add("rules version", "FAIL", `${M.rulesVersion} missing`, "the filter build has no rules support or the metric was filtered out");
  } else if (version <= 0) {
    add(
      "rules version",
      "WARN",
      `no rules loaded (version ${fmt(version)})${coldDelta > 0 ? `; ${fmt(coldDelta)} request(s) served under the cold-start policy in the window` : ""}`,
      "push rules in the plugin configuration or check the rules_service cluster is reachable (edgewatch_rules_reload_failures_total{reason})",
    );
  } else if (coldDelta > 0) {
    add(
      "rules version",
      "WARN",
      `version ${fmt(version)}, but ${fmt(coldDelta)} request(s) hit the cold-start policy in the window`,
      "a worker VM has no rules yet: check the shared-queue delivery to every worker",
    );
  } else {
    add("rules version", "PASS", `version ${fmt(version)}`);
  }
  // Freshness is the age of the last successful CHECK (any valid answer of the rules service, 304
  // and a long poll that ended with no change included; push: every tick), not of the last change:
  // rules that simply did not change for an hour are fresh.
  const lastCheck = last.max(M.rulesLastCheck);
  const lastChange = last.max(M.rulesLastChange);
  const changed = lastChange !== undefined && lastChange > 0 && isEpochSeconds(lastChange)
    ? `; rules last changed ${Math.max(0, nowMs / 1000 - lastChange).toFixed(0)}s ago`
    : "";
  if (lastCheck === undefined) {
    add("rules freshness", "FAIL", `${M.rulesLastCheck} missing`, "the filter build has no rules support, is older than this doctor, or the metric was filtered out");
  } else if (lastCheck <= 0) {
    add(
      "rules freshness",
      input.rulesMaxAgeS === 0 ? "WARN" : "FAIL",
      "rules never checked successfully: no valid answer from the rules service yet",
      "check the rules document (edgewatch rules validate FILE) and the rules service (edgewatch_rules_reload_failures_total{reason})",
    );
  } else {
    const age = isEpochSeconds(lastCheck) ? nowMs / 1000 - lastCheck : undefined;
    if (age === undefined) {
      add("rules freshness", "WARN", `${M.rulesLastCheck} = ${fmt(lastCheck)} is not an epoch timestamp`, "the gauge should hold the Unix time of the last successful check");
    } else if (input.rulesMaxAgeS > 0 && age > input.rulesMaxAgeS) {
      add(
        "rules freshness",
        "FAIL",
        `last successful rules check ${age.toFixed(0)}s ago (max ${input.rulesMaxAgeS}s)${changed}`,
        "the rules service is unreachable, answers errors, or serves a document the filter rejects (see reload failures); the last good rules stay in force",
      );
    } else {
      add(
        "rules freshness",
        "PASS",
        `last successful rules check ${Math.max(0, age).toFixed(0)}s ago${input.rulesMaxAgeS > 0 ? ` (max ${input.rulesMaxAgeS}s)` : " (age check off)"}${changed}`,
      );
    }
  }

  // --- reload failures -------------------------------------------------------------------------
  if (!last.has(M.reloadFailures)) {
    add("reload failures", "PASS", `no ${M.reloadFailures} series (no failure recorded)`);
  } else {
    const grew = w.deltasByLabels(M.reloadFailures).filter((d) => d.delta > 0);
    const total = last.sum(M.reloadFailures) ?? 0;
    if (grew.length > 0) {
      const reasons = grew.map((d) => `${d.labels.reason ?? "?"} +${fmt(d.delta)}`).join(", ");
      add(
        "reload failures",
        "FAIL",
        `rules reloads failing in the window: ${reasons}; the last good rules stay in force`,
        "validate the document (edgewatch rules validate FILE), fix the rules service, then watch edgewatch_rules_version move",
      );
    } else if (total > 0) {
      const reasons = (last.series(M.reloadFailures) ?? []).filter((s) => s.value > 0).map((s) => `${s.labels.reason ?? "?"}=${fmt(s.value)}`);
      add("reload failures", "WARN", `none in the window, ${fmt(total)} earlier (${reasons.join(", ")})`, "earlier bad documents were rejected; nothing to do if the version is current");
    } else {
      add("reload failures", "PASS", "none");
    }
  }

  // --- safety rails of rule delivery (issue 15) -------------------------------------------------
  const refusals = (reason: string) => {
    const inWindow = w.deltasByLabels(M.reloadFailures).filter((d) => d.labels.reason === reason).reduce((a, d) => a + Math.max(0, d.delta), 0);
    const total = (last.series(M.reloadFailures) ?? []).filter((x) => x.labels.reason === reason).reduce((a, x) => a + x.value, 0);
    return { inWindow, total };
  };
  const sig = refusals("signature");
  const verified = last.sum(M.signatureVerified);
  if (sig.inWindow > 0) {
    add(
      "rule signatures",
      "FAIL",
      `${fmt(sig.inWindow)} document(s) refused in the window: unsigned, unknown key, or the signature does not verify; the last good rules stay in force`,
      "read the proxy log (reason=signature) for the key id; sign the exact bytes that are served (edgewatch rules sign) with a key listed in rules_signing; if nobody published, treat it as tampering",
    );
  } else if (sig.total > 0) {
    add("rule signatures", "WARN", `none in the window, ${fmt(sig.total)} refused earlier`, "earlier documents failed their signature check; nothing to do if the version is current");
  } else if (verified === undefined) {
    add("rule signatures", "PASS", `no ${M.signatureVerified} series (a build without signed documents)`);
  } else {
    add("rule signatures", "PASS", verified > 0 ? `${fmt(verified)} signed document(s) verified, none refused` : "no signed document seen (rules_signing not configured, or nothing published yet)");
  }

  const blast = refusals("blast_radius");
  const overrides = w.delta(M.blastOverrides) ?? 0;
  const sampleSize = last.max(M.clientSample);
  const sampled = last.max(M.blastSampled);
  const denied = last.max(M.blastDenied);
  const lastMeasure = sampled !== undefined && denied !== undefined && sampled > 0 ? `; last document checked denies ${fmt(denied)} of ${fmt(sampled)} sampled clients` : "";
  if (blast.inWindow > 0) {
    add(
      "blast radius",
      "FAIL",
      `${fmt(blast.inWindow)} document(s) refused in the window for denying a whole address family or too many recent clients${lastMeasure}`,
      "read the proxy log (reason=blast_radius) for what the document denies; fix it, or set \"allow_large_blast_radius\": true in the document if the block is intended",
    );
  } else if (overrides > 0) {
    add("blast radius", "WARN", `${fmt(overrides)} document(s) over the limits applied because they set allow_large_blast_radius${lastMeasure}`, "make sure the wide block was intended; remove the flag from the next document");
  } else if (sampleSize === undefined) {
    add("blast radius", "PASS", `no ${M.clientSample} series (a build without the blast-radius guard)`);
  } else if (sampleSize === 0 && seenDelta !== undefined && seenDelta > 0) {
    add(
      "blast radius",
      "WARN",
      "requests flow but the client sample is empty: only whole-space denial is judged",
      "the sample fills from requests decided by rules: check the rules are loaded (rules version) and the root tick runs (heartbeat)",
    );
  } else {
    add("blast radius", blast.total > 0 ? "WARN" : "PASS", `${blast.total > 0 ? `${fmt(blast.total)} refused earlier; ` : ""}client sample ${fmt(sampleSize)} address(es)${lastMeasure}`,
      "earlier documents were refused as too broad; nothing to do if the version is current");
  }

  // --- trace export ----------------------------------------------------------------------------
  // Every kept span is exported, dropped (by reason) or still buffered. Drops for reason
  // no_collector are a configuration (tracing on without tracing.collector.cluster), not a failure.
  const noCollector = (l: Record<string, string>) => l.reason === "no_collector";
  const realDrop = (l: Record<string, string>) => l.reason !== "no_collector";
  const hasTrace = [M.spansExported, M.spansDropped, M.exportFailures].some((n) => last.has(n));
  const unexported = w.delta(M.spansDropped, noCollector) ?? 0;
  if (!hasTrace) {
    add("trace export", "WARN", "no trace export counters", "tracing is disabled; set tracing.collector.cluster if you expect spans");
  } else if (!last.has(M.spansExported)) {
    add(
      "trace export",
      "WARN",
      `tracing is on but no collector is configured: ${fmt(unexported)} kept span(s) dropped in the window (reason no_collector)`,
      "set tracing.collector.cluster (and authority/path) to export spans, or tracing.enabled false if you only want propagation",
    );
  } else {
    const exp = w.delta(M.spansExported) ?? 0;
    const drop = w.delta(M.spansDropped, realDrop) ?? 0;
    const fail = w.delta(M.exportFailures) ?? 0;
    const byReason = w.deltasByLabels(M.spansDropped).filter((d) => d.delta > 0 && realDrop(d.labels)).map((d) => `${d.labels.reason ?? "?"} +${fmt(d.delta)}`);
    const detail = `exported +${fmt(exp)}, dropped +${fmt(drop)}${byReason.length ? ` (${byReason.join(", ")})` : ""}, export failures +${fmt(fail)}`;
    if (fail > 0 || (drop > 0 && exp <= 0)) {
      add(
        "trace export",
        "FAIL",
        detail,
        "the OTLP collector cluster is unreachable or rejecting batches: check tracing.collector.cluster/authority/path and the collector's logs",
      );
    } else if (drop > 0) {
      add("trace export", "WARN", detail, "spans are dropped while the buffer is full: raise tracing.collector.buffer_max or batch_max, or lower sampling");
    } else {
      add("trace export", "PASS", detail);
    }
  }

  // --- route label overflow --------------------------------------------------------------------
  const overflow = w.delta(M.routesOverflow);
  if (overflow === undefined) {
    add("routes overflow", "PASS", "no overflow counter (no overflow recorded)");
  } else if (overflow > 0) {
    add(
      "routes overflow",
      "WARN",
      `${fmt(overflow)} request(s) labelled route="other" in the window (cap reached)`,
      "raise telemetry.routes_cap or name routes in Envoy (xds.route_name) / telemetry.path_routes so the label stays bounded and useful",
    );
  } else {
    add("routes overflow", "PASS", `none in the window (total ${fmt(last.sum(M.routesOverflow) ?? 0)})`);
  }

  // --- VM memory -------------------------------------------------------------------------------
  const mem = last.max(M.memory);
  if (mem === undefined) {
    add("vm memory", "WARN", `${M.memory} missing`, "the heartbeat should publish linear-memory size; check telemetry is enabled");
  } else {
    const memFirst = first.max(M.memory) ?? mem;
    const growth = memFirst > 0 ? (mem - memFirst) / memFirst : 0;
    if (growth > 0.25 && w.ok.length >= 3) {
      add("vm memory", "WARN", `${mib(memFirst)} → ${mib(mem)} in ${seconds(w.spanMs)}`, "linear memory keeps growing: a leak in the filter; watch over a longer window");
    } else {
      add("vm memory", "PASS", `${mib(mem)} (largest VM)`);
    }
  }

  // --- probes ----------------------------------------------------------------------------------
  if (input.probes && input.probes.sent > 0 && input.probes.answered < input.probes.sent) {
    add(
      "probes",
      input.probes.answered === 0 ? "FAIL" : "WARN",
      `${input.probes.answered}/${input.probes.sent} probe requests answered${input.probes.errors[0] ? ` (${input.probes.errors[0]})` : ""}`,
      "check the --probe URL points at the proxy listener",
    );
  }
  return out;
}

function familyOf(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, "");
}

export function histogramProblems(h: HistogramSeries): string[] {
  const p = [...h.problems];
  if (!h.hasInf) p.push('no le="+Inf" bucket');
  let prev = -Infinity;
  for (const b of h.buckets) {
    if (b.count < prev) {
      p.push(`bucket le="${b.le}" count ${b.count} < previous ${prev} (not cumulative)`);
      break;
    }
    prev = b.count;
  }
  if (h.count === undefined) p.push("no _count");
  else if (h.hasInf && h.infCount !== h.count) p.push(`_count ${h.count} != +Inf bucket ${h.infCount}`);
  if (h.sum === undefined) p.push("no _sum");
  else if (Number.isNaN(h.sum)) p.push("_sum is NaN");
  if (h.buckets.some((b) => b.count < 0 || Number.isNaN(b.count))) p.push("negative or NaN bucket count");
  return p;
}

export function formatResults(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length), 8);
  const lines = results.map((r) => {
    const base = `${r.verdict.padEnd(4)}  ${r.check.padEnd(width)}  ${r.detail}`;
    return r.fix ? `${base}  → fix: ${r.fix}` : base;
  });
  const count = (v: Verdict) => results.filter((r) => r.verdict === v).length;
  lines.push(`doctor: ${count("PASS")} PASS, ${count("WARN")} WARN, ${count("FAIL")} FAIL`);
  return lines.join("\n");
}

// --- live collection ---------------------------------------------------------------------------

export interface CollectOptions {
  adminUrl: string;
  durationMs: number;
  scrapes: number;
  probeUrl?: string;
  /** Called after each scrape (progress display). */
  onScrape?: (index: number, total: number) => void;
  timeoutMs?: number;
}

async function scrapeOnce(url: string, timeoutMs: number): Promise<Scrape> {
  const at = Date.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    if (res.status !== 200) return { at, status: res.status, error: `HTTP ${res.status}` };
    return { at, status: 200, snap: PromSnapshot.parse(body, at) };
  } catch (err) {
    return { at, status: 0, error: describeFetchError(err) };
  }
}

export function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError") return "timed out";
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e.message ?? "fetch failed"}: ${cause}` : String(e?.message ?? err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Scrape `n` times evenly over the window; send one probe request every ~250 ms when asked. */
export async function collect(opts: CollectOptions): Promise<Pick<DoctorInput, "scrapes" | "ready" | "probes">> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const statsUrl = `${opts.adminUrl}/stats/prometheus`;
  const n = Math.max(2, opts.scrapes);
  const interval = opts.durationMs / (n - 1);

  let ready: DoctorInput["ready"];
  try {
    const res = await fetch(`${opts.adminUrl}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    ready = { status: res.status, body: await res.text() };
  } catch (err) {
    ready = { error: describeFetchError(err) };
  }

  const start = Date.now();
  const deadline = start + opts.durationMs + n * timeoutMs; // hard bound on the whole run
  let probing = Boolean(opts.probeUrl);
  const probes = { sent: 0, answered: 0, errors: [] as string[] };
  const probeLoop = (async () => {
    if (!opts.probeUrl) return;
    const maxProbes = 1000;
    while (probing && probes.sent < maxProbes && Date.now() < deadline) {
      probes.sent++;
      try {
        const res = await fetch(opts.probeUrl, {
          headers: { "user-agent": "edgewatch-doctor" },
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer();
        probes.answered++;
      } catch (err) {
        if (probes.errors.length < 3) probes.errors.push(describeFetchError(err));
      }
      await sleep(250);
    }
  })();

  const scrapes: Scrape[] = [];
  for (let i = 0; i < n && Date.now() < deadline; i++) {
    const target = start + i * interval;
    const wait = target - Date.now();
    if (wait > 0) await sleep(wait);
    scrapes.push(await scrapeOnce(statsUrl, timeoutMs));
    opts.onScrape?.(i + 1, n);
  }
  probing = false;
  await probeLoop;
  return { scrapes, ready, probes: opts.probeUrl ? probes : undefined };
}

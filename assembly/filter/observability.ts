// Telemetry + tracing state of one root context: per-route metrics (telemetry/recorder.ts), the
// heartbeat (telemetry/heartbeat.ts), the trace sampler/propagator (tracing/tracer.ts) and the OTLP
// span exporter (tracing/exporter.ts). The root context (C1) calls configure / onRulesApplied /
// onTick / onHttpCallResponse / onDelete; the stream context (http-context.ts) uses the members.
import { FilterSettings } from "../config/settings";
import { RuleSet, SamplingRules } from "../rules/rule-set";
import { RootContextBase, roots } from "../abi/contexts";
import { Telemetry, PREFIX } from "../telemetry/recorder";
import { Heartbeat, withdrawMemory } from "../telemetry/heartbeat";
import { Tracer } from "../tracing/tracer";
import { SpanExporter } from "../tracing/exporter";
import { SAMPLE_REASON_NAMES } from "../tracing/span-store";
import { nowNanos, setTickPeriod } from "../host/time";
import { defineCounter, incrementMetric } from "../host/metrics";

export class Observability {
  telemetry: Telemetry = new Telemetry();
  heartbeat: Heartbeat = new Heartbeat();
  tracer: Tracer = new Tracer();
  exporter: SpanExporter = new SpanExporter();
  /** edgewatch.reason=.=<reason>;.;trace_spans_kept_total ids, by SampleReason. */
  keptIds: StaticArray<u32> = new StaticArray<u32>(5);
  configured: bool = false;
  /** Head-sampling rate per route index for `ratesOf` (no string hashing per request). */
  private rates: f64[] = [];
  private ratesOf: SamplingRules | null = null;

  constructor(public readonly root: RootContextBase) {}

  /** on_configure succeeded with these settings (define metrics, arm exporter). */
  configure(settings: FilterSettings): void {
    this.telemetry.configure(settings.telemetry);
    this.ratesOf = null; // route indices restart with the new route table
    this.heartbeat.configure(settings.telemetry.heartbeatMs);
    this.tracer.configure(settings.tracing);
    this.exporter.configure(settings.tracing.collector, settings.tracing.serviceName, settings.tracing.enabled);
    if (settings.tracing.enabled) {
      for (let r = 1; r < 5; r++) {
        unchecked(this.keptIds[r] = defineCounter(PREFIX + "reason=.=" + SAMPLE_REASON_NAMES[r] + ";.;trace_spans_kept_total"));
      }
    }
    this.configured = true;
    // The root may shorten the tick afterwards (rules fetcher); our work is time-based either way.
    setTickPeriod(<u32>this.tickPeriodMs(settings));
  }

  /** The tick period telemetry and export need: min(heartbeat_ms, collector.flush_ms when exporting). */
  tickPeriodMs(settings: FilterSettings): i32 {
    let t = settings.telemetry.heartbeatMs > 0 ? settings.telemetry.heartbeatMs : 1000;
    const c = settings.tracing.collector;
    if (settings.tracing.enabled && c.cluster.length > 0 && c.flushMs > 0 && c.flushMs < t) t = c.flushMs;
    return t;
  }

  /** A new rule snapshot is in force (rules-version gauge etc. are owned by the rules code). */
  onRulesApplied(rules: RuleSet): void {}

  /** Root tick (period = settings.telemetry.heartbeatMs or shorter when the rules fetcher needs it). */
  onTick(): void {
    if (!this.configured) return;
    const now = nowNanos();
    this.heartbeat.onTick(now);
    this.exporter.onTick(now);
  }

  /** An http_call response arrived; return true if the token was ours (span export). */
  onHttpCallResponse(token: u32, headerCount: u32, bodySize: u32, trailerCount: u32): bool {
    if (token == 0 || token != this.exporter.inflightToken) return false;
    return this.exporter.onResponse(token, headerCount, nowNanos());
  }

  /** sampling.rateFor(route label), cached per route index for the current sampling rules. */
  rateFor(sampling: SamplingRules, route: i32): f64 {
    if (this.ratesOf !== sampling) {
      this.ratesOf = sampling;
      this.rates = [];
    }
    const rates = this.rates;
    while (rates.length <= route) rates.push(-1.0);
    let r = unchecked(rates[route]);
    if (r < 0) {
      r = sampling.rateFor(this.telemetry.routes.label(route));
      rates[route] = r;
    }
    return r;
  }

  countKept(reason: u8): void {
    if (reason > 0 && reason < 5) incrementMetric(unchecked(this.keptIds[<i32>reason]), 1);
  }

  onDelete(): void {
    this.exporter.close();
    // The registry removes this root after onDelete: it is the VM's last one when it is alone.
    if (roots.size <= 1) withdrawMemory();
  }
}

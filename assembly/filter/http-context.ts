// The per-request pipeline (one object per HTTP stream; Envoy keeps it for the stream's life).
//
// on_request_headers (request headers readable — Envoy releases them once we return Continue, so
// everything needed later is copied now):
//   requests_seen_total +1; start time; route label (xds.route_name → path-prefix map → "unknown",
//   capped); method when method_label is on; access decision (cold start: allow or 503 per
//   rules_service.cold_start; deny → the rule's local reply, stream ends locally, Pause);
//   trace: parse, decide, and write traceparent/tracestate to the request before Continue.
// on_response_headers (also for our own local replies): status, and request→response latency into
//   route_latency_us (whole microseconds) for answers that did not come from our own rules.
// on_log: stream duration, requests_total{route,code,source[,method]}, the tail-sampling rules
//   (5xx / slow), and the server span handed to the exporter.
import { HttpContextBase, RootContextBase } from "../abi/contexts";
import { Action, MapType } from "../abi/status";
import { EdgewatchRoot } from "./root-context";
import { decideAccess } from "../rules/access";
import { RuleAction, SamplingRules } from "../rules/rule-set";
import { nowNanos } from "../host/time";
import { getHeaderBytes } from "../host/headers";
import { getPropertyI64 } from "../host/properties";
import { sendLocalResponse } from "../host/stream";
import { HeaderPair } from "../abi/pairs";
import { parseStatus, METHOD_GET } from "../telemetry/labels";
import { StreamTrace, tailReason, spanTracestate } from "../tracing/tracer";
import { SpanFields, SampleReason, SpanDecision } from "../tracing/span-store";
import { clientAddressBytes, ADDR_OUT } from "../tracing/client-address";

// @ts-ignore: decorator
@lazy const STATUS_KEY: ArrayBuffer = String.UTF8.encode(":status");
// @ts-ignore: decorator
@lazy const RESPONSE_CODE_PATH: ArrayBuffer = String.UTF8.encode("response\0code");
// @ts-ignore: decorator
@lazy const DEFAULT_SAMPLING: SamplingRules = new SamplingRules();
// @ts-ignore: decorator
@lazy const COLD_START_BODY: ArrayBuffer = String.UTF8.encode("edgewatch: access rules not loaded yet\n");
// @ts-ignore: decorator
@lazy const SPAN: SpanFields = new SpanFields();
// @ts-ignore: decorator
@lazy const EMPTY: ArrayBuffer = new ArrayBuffer(0);

/** Rule id reported for cold-start decisions (ids starting with "_" are reserved). */
export const COLD_START_RULE = "_cold_start";

export class EdgewatchHttp extends HttpContextBase {
  /** on_request_headers ran (streams rejected before the filter see only on_log). */
  private started: bool = false;
  private route: i32 = 0;
  private method: i32 = -1;
  private startNs: u64 = 0;
  private responseNs: u64 = 0;
  private status: i32 = 0;
  /** The response is our own local reply (deny / cold-start deny). */
  private local: bool = false;
  private decision: u8 = SpanDecision.Allow;
  private ruleId: string = "";
  private trace: StreamTrace | null = null;
  private keep5xx: bool = true;
  private slowMs: i64 = 0;

  constructor(id: u32, root: RootContextBase) { super(id, root); }

  onRequestHeaders(headerCount: u32, endOfStream: bool): i32 {
    if (this.started) return Action.Continue;
    this.started = true;
    const root = changetype<EdgewatchRoot>(this.root);
    const obs = root.observability;
    const tel = obs.telemetry;
    const settings = root.settings;
    this.startNs = nowNanos();
    tel.countSeen();
    const tracing = obs.tracer.enabled;
    if (tel.enabled || tracing) this.route = tel.resolveRoute();
    if (tel.methodLabel) this.method = tel.readMethod();

    // Access.
    const rules = root.rules;
    let deny = false;
    if (rules === null) {
      tel.countColdStart();
      this.ruleId = COLD_START_RULE;
      if (settings.rulesService.coldStartDeny) {
        this.decision = SpanDecision.ColdStartDeny;
        deny = true;
      } else {
        this.decision = SpanDecision.ColdStartAllow;
      }
    } else {
      const d = decideAccess(rules, settings.clientAddress);
      this.ruleId = d.ruleId;
      if (d.action == RuleAction.Deny) {
        this.decision = SpanDecision.Deny;
        deny = true;
        this.local = true;
        d.sendLocalReply();
      } else {
        this.decision = d.action == RuleAction.Log ? SpanDecision.Log : SpanDecision.Allow;
      }
    }
    if (deny && rules === null) {
      this.local = true;
      const h = new Array<HeaderPair>();
      h.push(new HeaderPair("x-edgewatch-rule", COLD_START_RULE));
      sendLocalResponse(503, "edgewatch_cold_start", COLD_START_BODY, h);
    }

    // Trace context: decided for every request (a denied one may still be exported), propagated
    // only when the request goes upstream.
    if (tracing) {
      const sampling = rules === null ? DEFAULT_SAMPLING : rules.sampling;
      this.keep5xx = sampling.alwaysKeep5xx;
      this.slowMs = sampling.slowThresholdMs;
      const st = obs.tracer.acquire();
      this.trace = st;
      obs.tracer.begin(st, obs.rateFor(sampling, this.route), settings.clientAddress, !deny);
    }
    return deny ? Action.Pause : Action.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): i32 {
    if (!this.started || this.responseNs != 0) return Action.Continue;
    this.responseNs = nowNanos();
    const s = getHeaderBytes(MapType.ResponseHeaders, STATUS_KEY);
    if (s !== null) this.status = parseStatus(changetype<usize>(s), s.byteLength);
    if (!this.local) {
      const root = changetype<EdgewatchRoot>(this.root);
      root.observability.telemetry.recordLatency(this.route, (this.responseNs - this.startNs) / 1_000);
    }
    return Action.Continue;
  }

  onLog(): void {
    if (!this.started) return;
    const root = changetype<EdgewatchRoot>(this.root);
    const obs = root.observability;
    const tel = obs.telemetry;
    const now = nowNanos();
    if (this.status == 0) this.status = <i32>getPropertyI64(RESPONSE_CODE_PATH, 0);
    const durationUs = (now - this.startNs) / 1_000;
    tel.recordDuration(this.route, durationUs);
    tel.countRequest(this.route, this.status, this.local, this.method < 0 ? METHOD_GET : this.method);

    const st = this.trace;
    if (st === null) return;
    const reason = tailReason(st, this.status, durationUs, this.keep5xx, this.slowMs);
    if (reason == SampleReason.None) return;
    obs.countKept(reason);
    // Kept = exported + dropped{reason} + buffered: with no collector the span is dropped, counted.
    if (!obs.exporter.enabled) { obs.exporter.dropNoCollector(); return; }
    const f = SPAN;
    f.traceHi = st.traceHi;
    f.traceLo = st.traceLo;
    f.spanId = st.spanId;
    f.parentId = st.parentId;
    f.startNs = this.startNs;
    f.endNs = now;
    f.status = this.status;
    f.flags = st.flags;
    f.reason = reason;
    f.method = <u8>(this.method >= 0 ? this.method : tel.readMethod());
    f.local = this.local;
    f.decision = this.decision;
    const label = tel.routes.labelUtf8(this.route);
    f.route = changetype<usize>(label);
    f.routeLen = label.byteLength;
    f.clientLen = clientAddressBytes(root.settings.clientAddress);
    f.client = ADDR_OUT;
    const rule = this.ruleId.length > 0 ? String.UTF8.encode(this.ruleId) : EMPTY;
    f.rule = changetype<usize>(rule);
    f.ruleLen = rule.byteLength;
    const ts = spanTracestate(st);
    f.tracestate = ts === null ? 0 : changetype<usize>(ts);
    f.tracestateLen = ts === null ? 0 : ts.byteLength;
    obs.exporter.add(f, now);
  }

  onDelete(): void {
    const st = this.trace;
    if (st !== null) {
      changetype<EdgewatchRoot>(this.root).observability.tracer.release(st);
      this.trace = null;
    }
  }
}

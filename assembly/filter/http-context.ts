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
import { decideAccess, forgetClientAddress, clientMemo, clientV4, clientIp4, clientHi, clientLo, restoreClientAddress } from "../rules/access";
import { RuleAction, SamplingRules } from "../rules/rule-set";
import { nowNanos } from "../host/time";
import { resetScratch, headerScratch, propertyScratch, scratchPtr, scratchLen } from "../host/scratch";
import { forgetRequestHeaders } from "../host/request-headers";
import { sendLocalResponse } from "../host/stream";
import { HeaderPair } from "../abi/pairs";
import { parseStatus, METHOD_GET } from "../telemetry/labels";
import { StreamTrace, tailReason, spanTracestate, spanTsPtr, spanTsLen } from "../tracing/tracer";
import { SpanFields, SampleReason, SpanDecision } from "../tracing/span-store";
import { clientAddressBytes, formatParsedAddress, ADDR_OUT } from "../tracing/client-address";

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

/**
 * Start of a stream callback: host bytes read into scratch memory by an earlier callback (of this
 * stream or another) are dead, and so is the request-headers view and the client-address memo.
 */
// @ts-ignore: decorator
@inline
function beginCallback(): void {
  resetScratch();
  forgetRequestHeaders();
  forgetClientAddress();
}

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
  /** The client address as resolved at request headers (for the span at on_log): 1 = known. */
  private client: u8 = 0;
  private clientV4: bool = false;
  private clientIp4: u32 = 0;
  private clientHi: u64 = 0;
  private clientLo: u64 = 0;

  constructor(id: u32, root: RootContextBase) { super(id, root); }

  /** Re-bind a recycled object to a new stream: every field back to its initial value. */
  reuse(id: u32): void {
    this.id = id;
    this.started = false;
    this.route = 0;
    this.method = -1;
    this.startNs = 0;
    this.responseNs = 0;
    this.status = 0;
    this.local = false;
    this.decision = SpanDecision.Allow;
    this.ruleId = "";
    this.trace = null;
    this.keep5xx = true;
    this.slowMs = 0;
    this.client = 0;
    this.clientV4 = false;
    this.clientIp4 = 0;
    this.clientHi = 0;
    this.clientLo = 0;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): i32 {
    if (this.started) return Action.Continue;
    this.started = true;
    beginCallback();
    const root = changetype<EdgewatchRoot>(this.root);
    const obs = root.observability;
    const tel = obs.telemetry;
    const settings = root.settings;
    this.startNs = nowNanos();
    tel.countSeen();
    const tracing = obs.tracer.enabled;
    if (tel.enabled || tracing) this.route = tel.resolveRoute();
    // The method label, and the span's http.request.method (read now: free from the one header read).
    if (tel.methodLabel || tracing) this.method = tel.readMethod();

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
      if (clientMemo == 1) {
        this.client = 1;
        this.clientV4 = clientV4;
        this.clientIp4 = clientIp4;
        this.clientHi = clientHi;
        this.clientLo = clientLo;
      }
    }
    return deny ? Action.Pause : Action.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): i32 {
    if (!this.started || this.responseNs != 0) return Action.Continue;
    beginCallback();
    this.responseNs = nowNanos();
    if (headerScratch(MapType.ResponseHeaders, STATUS_KEY)) this.status = parseStatus(scratchPtr, scratchLen);
    if (!this.local) {
      const root = changetype<EdgewatchRoot>(this.root);
      root.observability.telemetry.recordLatency(this.route, (this.responseNs - this.startNs) / 1_000);
    }
    return Action.Continue;
  }

  onLog(): void {
    if (!this.started) return;
    beginCallback();
    const root = changetype<EdgewatchRoot>(this.root);
    const obs = root.observability;
    const tel = obs.telemetry;
    const now = nowNanos();
    if (this.status == 0 && propertyScratch(RESPONSE_CODE_PATH) && scratchLen >= 8) this.status = <i32>load<i64>(scratchPtr);
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
    if (this.client == 1) {
      restoreClientAddress(this.clientV4, this.clientIp4, this.clientHi, this.clientLo);
      f.clientLen = formatParsedAddress(ADDR_OUT);
    } else {
      f.clientLen = clientAddressBytes(root.settings.clientAddress);
    }
    f.client = ADDR_OUT;
    const rule = this.ruleId.length > 0 ? String.UTF8.encode(this.ruleId) : EMPTY;
    f.rule = changetype<usize>(rule);
    f.ruleLen = rule.byteLength;
    spanTracestate(st);
    f.tracestate = spanTsPtr;
    f.tracestateLen = spanTsLen;
    obs.exporter.add(f, now);
  }

  onDelete(): void {
    const root = changetype<EdgewatchRoot>(this.root);
    const st = this.trace;
    if (st !== null) {
      root.observability.tracer.release(st);
      this.trace = null;
    }
    root.recycle(this);
  }
}

// Per-route request metrics (Envoy stats through proxy_define_metric; Envoy adds "wasmcustom."):
//
//   edgewatch.requests_seen_total                                   counter  every request reaching the filter
//   edgewatch.routes_overflow_total                                 counter  requests whose route went to "other"
//   edgewatch.rules_cold_start_total                                counter  requests decided before the first rules
//   edgewatch.route=.=<route>;.;route_latency_us                    histogram request headers → response headers,
//                                                                             upstream answers only (not our own denials)
//   edgewatch.route=.=<route>;.;stream_duration_us                  histogram request headers → end of stream (on_log)
//   edgewatch.route=.=<route>;.;code=.=<code>;.;source=.=<src>;.;[method=.=<m>;.;]requests_total   counter
//
// Labels are Istio-style name segments that the shipped stats_tags regexes extract
// (harness/envoy-config/defaults.ts): /stats/prometheus shows edgewatch_requests_total{route,code,source[,method]}.
// Histogram values are whole MICROSECONDS, truncated (a sample v means v ≤ latency < v+1 µs): Envoy
// histograms take integers, so microseconds keep sub-millisecond answers visible. Envoy bins a sample
// with two significant digits (circllhist) and counts a bin toward a bucket only when the whole bin
// lies at or below the bound; with integer µs bounds of at most two significant digits (the shipped
// ones, harness/envoy-config/defaults.ts) no latency is then counted in a bucket below it.
//
// Metric ids are cached per VM: one define_metric per (route), per (route, code, source, method)
// the first time it is seen; afterwards the request path only increments/records by id.
import { TelemetrySettings } from "../config/settings";
import { defineCounter, defineHistogram, incrementMetric, recordMetric } from "../host/metrics";
import { propertyScratch, scratchPtr, scratchLen } from "../host/scratch";
import { first, valuePtr, valueLen } from "../host/request-headers";
import { RouteTable, ROUTE_UNKNOWN } from "./routes";
import { IdTable, ABSENT } from "./id-table";
import { CodeLabels, METHOD_NAMES, methodIndex, sanitizeString, METHOD_GET } from "./labels";

// @ts-ignore: decorator
@lazy const ROUTE_NAME_PATH: ArrayBuffer = String.UTF8.encode("xds\0route_name");
// @ts-ignore: decorator
@lazy const PATH_HEADER: ArrayBuffer = String.UTF8.encode(":path");
// @ts-ignore: decorator
@lazy const METHOD_HEADER: ArrayBuffer = String.UTF8.encode(":method");

export const PREFIX = "edgewatch.";

export class Telemetry {
  enabled: bool = true;
  methodLabel: bool = false;
  routes: RouteTable;
  codes: CodeLabels;
  private pathPrefixes: ArrayBuffer[] = [];
  private pathLabels: string[] = [];
  private pathRouteIdx: i32[] = [];

  requestsSeenId: u32 = 0;
  overflowId: u32 = 0;
  coldStartId: u32 = 0;
  private latencyIds: u32[] = [];
  private durationIds: u32[] = [];
  private counterIds: IdTable = new IdTable();

  constructor() {
    const t = new TelemetrySettings();
    this.routes = new RouteTable(t.routesCap);
    this.codes = new CodeLabels(t.exactCodes);
  }

  configure(t: TelemetrySettings): void {
    this.enabled = t.enabled;
    this.methodLabel = t.methodLabel;
    this.routes = new RouteTable(t.routesCap);
    this.codes = new CodeLabels(t.exactCodes);
    this.latencyIds = [];
    this.durationIds = [];
    this.counterIds = new IdTable();
    this.pathPrefixes = [];
    this.pathLabels = [];
    this.pathRouteIdx = [];
    for (let i = 0; i < t.pathRoutes.length; i++) {
      const r = t.pathRoutes[i];
      this.pathPrefixes.push(String.UTF8.encode(r.prefix));
      this.pathLabels.push(sanitizeString(r.route));
      this.pathRouteIdx.push(-1);
    }
    this.requestsSeenId = defineCounter(PREFIX + "requests_seen_total");
    this.overflowId = defineCounter(PREFIX + "routes_overflow_total");
    this.coldStartId = defineCounter(PREFIX + "rules_cold_start_total");
  }

  countSeen(): void { incrementMetric(this.requestsSeenId, 1); }
  countColdStart(): void { incrementMetric(this.coldStartId, 1); }

  /**
   * Route index for the current request (request-headers phase): xds.route_name, else the longest
   * configured path prefix matching :path, else "unknown". Counts an overflow into "other".
   */
  resolveRoute(): i32 {
    let idx = ROUTE_UNKNOWN;
    this.routes.overflowed = false;
    if (propertyScratch(ROUTE_NAME_PATH) && scratchLen > 0) {
      idx = this.routes.resolve(scratchPtr, scratchLen);
    } else if (this.pathPrefixes.length > 0) {
      idx = this.routeFromPath();
    }
    if (this.routes.overflowed) incrementMetric(this.overflowId, 1);
    return idx;
  }

  private routeFromPath(): i32 {
    this.routes.overflowed = false;
    if (!first(PATH_HEADER)) return ROUTE_UNKNOWN;
    const pp = valuePtr;
    const plen = valueLen;
    let best = -1;
    let bestLen = -1;
    for (let i = 0; i < this.pathPrefixes.length; i++) {
      const pre = unchecked(this.pathPrefixes[i]);
      const n = pre.byteLength;
      if (n <= plen && n > bestLen && memory.compare(pp, changetype<usize>(pre), <usize>n) == 0) {
        best = i;
        bestLen = n;
      }
    }
    if (best < 0) return ROUTE_UNKNOWN;
    let idx = unchecked(this.pathRouteIdx[best]);
    if (idx < 0) {
      idx = this.routes.intern(unchecked(this.pathLabels[best]));
      if (!this.routes.overflowed) this.pathRouteIdx[best] = idx;
    } else {
      this.routes.overflowed = false;
    }
    return idx;
  }

  /** Method id from :method (request-headers phase; from the one request-headers read). */
  readMethod(): i32 {
    if (!first(METHOD_HEADER)) return METHOD_GET;
    return methodIndex(valuePtr, valueLen);
  }

  recordLatency(route: i32, us: u64): void {
    if (!this.enabled) return;
    recordMetric(this.latencyId(route), us);
  }

  recordDuration(route: i32, us: u64): void {
    if (!this.enabled) return;
    recordMetric(this.durationId(route), us);
  }

  /** requests_total{route, code|class, source, [method]} += 1. */
  countRequest(route: i32, status: i32, local: bool, method: i32): void {
    if (!this.enabled) return;
    const codeKey = this.codes.keyOf(status);
    const m = this.methodLabel ? method : 15;
    const key: i64 = (<i64>route << 20) | (<i64>codeKey << 5) | (<i64>(local ? 1 : 0) << 4) | <i64>m;
    let id = this.counterIds.get(key);
    if (id == ABSENT) {
      let name = PREFIX + "route=.=" + this.routes.label(route) + ";.;code=.=" + this.codes.nameOf(codeKey) +
        ";.;source=.=" + (local ? "local" : "upstream") + ";.;";
      if (this.methodLabel) name += "method=.=" + METHOD_NAMES[method] + ";.;";
      id = defineCounter(name + "requests_total");
      this.counterIds.set(key, id);
    }
    incrementMetric(id, 1);
  }

  private latencyId(route: i32): u32 {
    while (this.latencyIds.length <= route) this.latencyIds.push(0);
    let id = unchecked(this.latencyIds[route]);
    if (id == 0) {
      id = defineHistogram(PREFIX + "route=.=" + this.routes.label(route) + ";.;route_latency_us");
      this.latencyIds[route] = id;
    }
    return id;
  }

  private durationId(route: i32): u32 {
    while (this.durationIds.length <= route) this.durationIds.push(0);
    let id = unchecked(this.durationIds[route]);
    if (id == 0) {
      id = defineHistogram(PREFIX + "route=.=" + this.routes.label(route) + ";.;stream_duration_us");
      this.durationIds[route] = id;
    }
    return id;
  }
}

/**
 * The Grafana dashboard shipped as envoy/grafana/edgewatch.json (written by write-examples.ts, like
 * the other files under envoy/). It is in Grafana's "export for sharing externally" form:
 * `__inputs` declares the Prometheus data source as DS_PROMETHEUS and `__requires` the plugins, so
 * Dashboards → Import asks for the data source; a data-source template variable of the same name
 * makes the file work unchanged when provisioned from disk too (provisioning does not read
 * `__inputs`, and `${DS_PROMETHEUS}` then resolves through the variable).
 *
 * Queries use the recording rules of envoy/prometheus/edgewatch-rules.yml where one exists (those
 * aggregate over every proxy, so the job/instance variables do not narrow them) and the raw series
 * otherwise. test/telemetry/grafana-dashboard.test.ts evaluates every query against a real
 * Prometheus scraping the proxy (harness/stack: embedded, and Envoy where available).
 */

export const DASHBOARD_UID = "edgewatch";
const DS = { type: "prometheus", uid: "${DS_PROMETHEUS}" } as const;

/** Label matchers every raw-series query carries (the template variables). */
const SEL = `job=~"$job", instance=~"$instance"`;
const SEL_ROUTE = `${SEL}, route=~"$route"`;

interface Target {
  expr: string;
  legendFormat?: string;
  format?: "time_series" | "heatmap" | "table";
  instant?: boolean;
}

interface PanelSpec {
  type: "timeseries" | "heatmap" | "stat";
  title: string;
  description: string;
  w: number;
  h: number;
  unit?: string;
  targets: Target[];
  /** Stacked areas (timeseries). */
  stacked?: boolean;
  thresholds?: Array<{ value: number | null; color: string }>;
  min?: number;
}

interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

const ROWS: RowSpec[] = [
  {
    title: "Traffic",
    panels: [
      {
        type: "timeseries", title: "Request rate by route", w: 12, h: 8, unit: "reqps",
        description: "Requests per second per route label (xds.route_name, else telemetry.path_routes, else unknown), all status codes, upstream answers and edgewatch's own local replies.",
        targets: [{ expr: `sum by (route) (rate(edgewatch_requests_total{${SEL_ROUTE}}[$__rate_interval]))`, legendFormat: "{{route}}" }],
      },
      {
        type: "timeseries", title: "Status distribution", w: 12, h: 8, unit: "reqps", stacked: true,
        description: "Requests per second by status code (exact codes listed in telemetry.exact_codes, else the class 2xx…5xx) and source: upstream = the cluster answered, local = edgewatch replied itself (denies, fail-closed).",
        targets: [{ expr: `sum by (code, source) (rate(edgewatch_requests_total{${SEL_ROUTE}}[$__rate_interval]))`, legendFormat: "{{code}} {{source}}" }],
      },
      {
        type: "timeseries", title: "5xx ratio by route (5m)", w: 12, h: 8, unit: "percentunit", min: 0,
        description: "Recording rule route:edgewatch_requests_5xx:ratio5m: share of 5xx per route over 5 minutes, all proxies. The EdgewatchHigh5xxRatio alert fires above 5 % with at least 20 requests.",
        thresholds: [{ value: null, color: "green" }, { value: 0.05, color: "red" }],
        targets: [{ expr: `route:edgewatch_requests_5xx:ratio5m{route=~"$route"}`, legendFormat: "{{route}}" }],
      },
      {
        type: "timeseries", title: "Requests per route (5m)", w: 12, h: 8, unit: "short",
        description: "Recording rule route:edgewatch_requests:increase5m: requests per route over the last 5 minutes, all proxies.",
        targets: [{ expr: `route:edgewatch_requests:increase5m{route=~"$route"}`, legendFormat: "{{route}}" }],
      },
    ],
  },
  {
    title: "Latency",
    panels: [
      {
        type: "heatmap", title: "Latency heatmap (request → response headers)", w: 12, h: 9, unit: "µs",
        description: "Requests per Envoy histogram bucket of edgewatch_route_latency_us (whole microseconds, upstream answers only), selected routes together. Buckets (µs) come from the bootstrap's histogram_bucket_settings; a request is never counted in a bucket below its latency.",
        targets: [{ expr: `sum by (le) (increase(edgewatch_route_latency_us_bucket{${SEL_ROUTE}}[$__rate_interval]))`, legendFormat: "{{le}}", format: "heatmap" }],
      },
      {
        type: "timeseries", title: "p50 / p99 latency by route (5m)", w: 12, h: 9, unit: "s",
        description: "Recording rules route:edgewatch_route_latency_seconds:p50_5m and :p99_5m (histogram_quantile over the Envoy µs buckets, all proxies, in seconds). Values are interpolated inside a bucket, so read them against the bucket bounds. EdgewatchP99High fires above 1 s.",
        thresholds: [{ value: null, color: "green" }, { value: 1, color: "red" }],
        targets: [
          { expr: `route:edgewatch_route_latency_seconds:p50_5m{route=~"$route"}`, legendFormat: "p50 {{route}}" },
          { expr: `route:edgewatch_route_latency_seconds:p99_5m{route=~"$route"}`, legendFormat: "p99 {{route}}" },
        ],
      },
    ],
  },
  {
    title: "Access rules",
    panels: [
      {
        type: "timeseries", title: "Local denials by rule", w: 12, h: 8, unit: "reqps",
        description: "Recording rule rule_action:edgewatch_decisions:rate5m, action=deny: requests per second denied by each rule (answered locally, counted under source=local).",
        targets: [{ expr: `sum by (rule) (rule_action:edgewatch_decisions:rate5m{action="deny"})`, legendFormat: "{{rule}}" }],
      },
      {
        type: "timeseries", title: "Dry-run matches by rule", w: 12, h: 8, unit: "reqps",
        description: "Recording rule rule_action:edgewatch_decisions:rate5m, action=log: requests a dry-run rule would have denied, per second. Check these before switching a rule to deny.",
        targets: [{ expr: `sum by (rule) (rule_action:edgewatch_decisions:rate5m{action="log"})`, legendFormat: "{{rule}}" }],
      },
      {
        type: "stat", title: "Rules version in force", w: 6, h: 6, unit: "none",
        description: "edgewatch_rules_version per proxy: the version of the rules document every request is decided on. Different values across proxies mean a rollout in progress or a proxy that stopped receiving rules.",
        targets: [{ expr: `max by (instance) (edgewatch_rules_version{${SEL}})`, legendFormat: "{{instance}}", instant: true }],
      },
      {
        type: "stat", title: "Rules freshness (age of last successful check)", w: 6, h: 6, unit: "s",
        description: "time() - edgewatch_rules_last_check_seconds per proxy: when the rules in force were last confirmed current (any valid answer of the rules service, 304 and unchanged long polls included; push-only setups: every tick). 0 = never, shows as a very large age. EdgewatchRulesStale fires past 15 minutes. When the rules last CHANGED is edgewatch_rules_last_change_seconds (old is fine).",
        thresholds: [{ value: null, color: "green" }, { value: 900, color: "red" }],
        targets: [{ expr: `time() - max by (instance) (edgewatch_rules_last_check_seconds{${SEL}})`, legendFormat: "{{instance}}", instant: true }],
      },
      {
        type: "timeseries", title: "Rule reloads and reload failures", w: 12, h: 6, unit: "short",
        description: "Accepted rules documents and rejected ones (by reason: schema, cidr, version, fetch, size…) per interval. A rejected document leaves the previous rules in force. A reason seen for the first time shows from its second occurrence (increase() needs two samples).",
        targets: [
          { expr: `sum by (instance) (increase(edgewatch_rules_reload_total{${SEL}}[$__rate_interval]))`, legendFormat: "accepted {{instance}}" },
          { expr: `sum by (reason) (increase(edgewatch_rules_reload_failures_total{${SEL}}[$__rate_interval]))`, legendFormat: "failed: {{reason}}" },
        ],
      },
    ],
  },
  {
    title: "Tracing",
    panels: [
      {
        type: "timeseries", title: "Trace export", w: 12, h: 8, unit: "short",
        description: "Spans exported to the OTLP collector, spans dropped by reason (buffer_full, rejected by the collector, shutdown, no_collector = tracing on without a collector) and failed export calls, per second. EdgewatchTraceExportDropping fires on drops other than no_collector for 10 minutes.",
        targets: [
          { expr: `sum(rate(edgewatch_trace_spans_exported_total{${SEL}}[$__rate_interval]))`, legendFormat: "exported spans/s" },
          { expr: `sum by (reason) (rate(edgewatch_trace_spans_dropped_total{${SEL}}[$__rate_interval]))`, legendFormat: "dropped ({{reason}}) spans/s" },
          { expr: `sum(rate(edgewatch_trace_export_failures_total{${SEL}}[$__rate_interval]))`, legendFormat: "failed exports/s" },
        ],
      },
      {
        type: "timeseries", title: "Spans kept by reason and export buffer", w: 12, h: 8, unit: "short",
        description: "Why spans were kept (probability, parent, error = 5xx, slow) per second, and spans waiting in the per-VM export buffers. Every kept span is exported, dropped (by reason) or still buffered.",
        targets: [
          { expr: `sum by (reason) (rate(edgewatch_trace_spans_kept_total{${SEL}}[$__rate_interval]))`, legendFormat: "kept: {{reason}}/s" },
          { expr: `sum(edgewatch_trace_spans_buffered{${SEL}})`, legendFormat: "buffered" },
        ],
      },
    ],
  },
  {
    title: "Liveness",
    panels: [
      {
        type: "stat", title: "Heartbeat age", w: 6, h: 6, unit: "s",
        description: "Seconds since each proxy's filter last ticked (edgewatch_heartbeat_seconds). A proxy that still answers scrapes but stopped recording shows here. EdgewatchProxySilent fires past 60 s.",
        thresholds: [{ value: null, color: "green" }, { value: 60, color: "red" }],
        targets: [{ expr: `time() - max by (instance) (edgewatch_heartbeat_seconds{${SEL}})`, legendFormat: "{{instance}}", instant: true }],
      },
      {
        type: "stat", title: "Proxies scraped", w: 6, h: 6, unit: "none",
        description: "Scrape targets of the selected jobs that answered the last scrape (up == 1) out of all of them.",
        targets: [
          { expr: `sum(up{job=~"$job", instance=~"$instance"})`, legendFormat: "up", instant: true },
          { expr: `count(up{job=~"$job", instance=~"$instance"})`, legendFormat: "targets", instant: true },
        ],
      },
      {
        type: "timeseries", title: "Requests seen", w: 12, h: 6, unit: "reqps",
        description: "edgewatch_requests_seen_total per proxy per second: every request the filter saw, counted before any other work. Compare with Envoy's downstream_rq_total: a gap means streams bypass the filter.",
        targets: [{ expr: `sum by (instance) (rate(edgewatch_requests_seen_total{${SEL}}[$__rate_interval]))`, legendFormat: "{{instance}}" }],
      },
      {
        type: "timeseries", title: "Wasm VM memory", w: 12, h: 6, unit: "bytes",
        description: "Largest Wasm linear memory per proxy (edgewatch_vm_memory_bytes). Memory never shrinks; Envoy's limit is 1 GiB per VM and EdgewatchVmMemoryHigh fires above 768 MiB.",
        thresholds: [{ value: null, color: "green" }, { value: 805306368, color: "red" }],
        targets: [{ expr: `max by (instance) (edgewatch_vm_memory_bytes{${SEL}})`, legendFormat: "{{instance}}" }],
      },
      {
        type: "timeseries", title: "Route label overflow", w: 12, h: 6, unit: "short",
        description: "Requests on routes beyond telemetry.routes_cap, folded into route=\"other\" (edgewatch_routes_overflow_total), per interval.",
        targets: [{ expr: `sum by (instance) (increase(edgewatch_routes_overflow_total{${SEL}}[$__rate_interval]))`, legendFormat: "{{instance}}" }],
      },
    ],
  },
];

const PANEL_PLUGINS: Record<PanelSpec["type"], string> = { timeseries: "Time series", heatmap: "Heatmap", stat: "Stat" };

function fieldConfig(p: PanelSpec): object {
  const defaults: Record<string, unknown> = { unit: p.unit ?? "short" };
  if (p.min !== undefined) defaults.min = p.min;
  defaults.thresholds = { mode: "absolute", steps: p.thresholds ?? [{ value: null, color: "green" }] };
  if (p.type === "timeseries") {
    defaults.color = { mode: "palette-classic" };
    defaults.custom = {
      drawStyle: "line", lineWidth: 1, fillOpacity: p.stacked ? 60 : 10, showPoints: "never", spanNulls: false,
      stacking: { mode: p.stacked ? "normal" : "none", group: "A" },
      thresholdsStyle: { mode: p.thresholds ? "line" : "off" },
    };
  } else if (p.type === "stat") {
    defaults.color = { mode: "thresholds" };
  }
  return { defaults, overrides: [] };
}

function panelOptions(p: PanelSpec): object {
  switch (p.type) {
    case "timeseries":
      return { legend: { displayMode: "list", placement: "bottom", showLegend: true }, tooltip: { mode: "multi", sort: "desc" } };
    case "stat":
      return {
        reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
        colorMode: "value", graphMode: "none", justifyMode: "auto", orientation: "auto", textMode: "value_and_name",
      };
    case "heatmap":
      return {
        calculate: false,
        cellGap: 1,
        color: { mode: "scheme", scheme: "Oranges", steps: 64, exponent: 0.5, fill: "dark-orange", reverse: false },
        yAxis: { axisPlacement: "left", unit: p.unit ?? "short", reverse: false },
        rowsFrame: { layout: "auto" },
        cellValues: { unit: "short" },
        tooltip: { mode: "single", yHistogram: true, showColorScale: false },
        legend: { show: true },
        exemplars: { color: "rgba(255,0,255,0.7)" },
        filterValues: { le: 1e-9 },
      };
  }
}

function targetJson(t: Target, i: number): object {
  return {
    datasource: DS,
    expr: t.expr,
    legendFormat: t.legendFormat ?? "__auto",
    format: t.format ?? "time_series",
    range: !t.instant,
    instant: t.instant ?? false,
    refId: String.fromCharCode(65 + i),
  };
}

function queryVariable(name: string, label: string, query: string): object {
  return {
    name, label, type: "query", datasource: DS,
    definition: query,
    query: { query, refId: "PrometheusVariableQueryEditor-VariableQuery" },
    refresh: 2, sort: 1, regex: "", hide: 0,
    includeAll: true, multi: true,
    current: {}, options: [],
  };
}

/** The dashboard as Grafana's JSON model (schemaVersion 39, Grafana 10.4+). */
export function renderGrafanaDashboard(): Record<string, unknown> {
  const panels: object[] = [];
  let id = 1;
  let y = 0;
  for (const row of ROWS) {
    panels.push({ id: id++, type: "row", title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let rowH = 0;
    for (const p of row.panels) {
      if (x + p.w > 24) {
        y += rowH;
        x = 0;
        rowH = 0;
      }
      panels.push({
        id: id++,
        type: p.type,
        title: p.title,
        description: p.description,
        datasource: DS,
        gridPos: { h: p.h, w: p.w, x, y },
        fieldConfig: fieldConfig(p),
        options: panelOptions(p),
        targets: p.targets.map(targetJson),
      });
      x += p.w;
      rowH = Math.max(rowH, p.h);
    }
    y += rowH;
  }
  const usedTypes = [...new Set(ROWS.flatMap((r) => r.panels.map((p) => p.type)))].sort();
  return {
    __inputs: [
      { name: "DS_PROMETHEUS", label: "Prometheus", description: "Prometheus scraping the Envoy admin /stats/prometheus of the edgewatch proxies", type: "datasource", pluginId: "prometheus", pluginName: "Prometheus" },
    ],
    __elements: {},
    __requires: [
      { type: "grafana", id: "grafana", name: "Grafana", version: "10.4.0" },
      { type: "datasource", id: "prometheus", name: "Prometheus", version: "1.0.0" },
      ...usedTypes.map((t) => ({ type: "panel", id: t, name: PANEL_PLUGINS[t], version: "" })),
    ],
    annotations: {
      list: [
        {
          builtIn: 1, datasource: { type: "grafana", uid: "-- Grafana --" }, enable: true, hide: true,
          iconColor: "rgba(0, 211, 255, 1)", name: "Annotations & Alerts", type: "dashboard",
        },
        {
          datasource: DS, enable: true, hide: false, iconColor: "blue", name: "Rules version changes",
          expr: `changes(edgewatch_rules_version{${SEL}}[1m]) > 0`,
          titleFormat: "rules version changed", textFormat: "{{instance}}", step: "60s",
        },
      ],
    },
    description: "edgewatch proxy-wasm filter: per-route traffic and latency, access-rule denials and reloads, trace export, liveness. Metrics from Envoy's /stats/prometheus; recording rules from envoy/prometheus/edgewatch-rules.yml.",
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [],
    panels,
    refresh: "30s",
    schemaVersion: 39,
    tags: ["edgewatch", "envoy", "proxy-wasm"],
    templating: {
      list: [
        { name: "DS_PROMETHEUS", label: "Data source", type: "datasource", query: "prometheus", regex: "", hide: 0, includeAll: false, multi: false, refresh: 1, current: {}, options: [] },
        queryVariable("job", "Job", "label_values(edgewatch_requests_seen_total, job)"),
        queryVariable("instance", "Proxy", `label_values(edgewatch_requests_seen_total{job=~"$job"}, instance)`),
        queryVariable("route", "Route", `label_values(edgewatch_requests_total{job=~"$job", instance=~"$instance"}, route)`),
      ],
    },
    time: { from: "now-1h", to: "now" },
    timepicker: {},
    timezone: "",
    title: "edgewatch",
    uid: DASHBOARD_UID,
    version: 1,
    weekStart: "",
  };
}

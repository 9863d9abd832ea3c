/**
 * envoy/grafana/edgewatch.json against real data: a real Prometheus (Debian package) with the
 * shipped recording rules scrapes the proxy's admin /stats/prometheus (the embedded host here; Envoy
 * too where a container runtime or an envoy binary exists: harness/stack), after traffic that
 * gives every panel something to show — several routes (one beyond routes_cap), 5xx, latencies,
 * denials and dry-run matches, an accepted rules reload and two rejected ones, exported traces and
 * then a collector that refuses them. Every template variable is resolved the way Grafana does
 * (label values from Prometheus; "All" = the regex alternation of the values), then every panel
 * query and the annotation query run against Prometheus: an error or an empty result fails the
 * panel's test, which is named after the panel. A renamed metric or recording rule fails here.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrometheus, type PrometheusServer, type PromSample } from "../../harness/stats/prometheus-server.js";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { startStack, type Stack } from "../../harness/stack/stack.js";
import { describeTargets } from "../../harness/targets/describe-targets.js";
import { ConfigRejectedError } from "../../harness/targets/target.js";

const ROOT = resolve(import.meta.dirname, "../..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target { expr: string; refId: string; legendFormat?: string; datasource?: { uid: string } }
interface Panel { id: number; type: string; title: string; targets?: Target[]; datasource?: { type: string; uid: string }; gridPos: { x: number; y: number; w: number; h: number } }
interface Variable { name: string; type: string; query?: { query: string } | string; includeAll?: boolean; multi?: boolean; allValue?: string | null; datasource?: { uid: string } }

const DASHBOARD_PATH = resolve(ROOT, "envoy/grafana/edgewatch.json");
const RULES = resolve(ROOT, "envoy/prometheus/edgewatch-rules.yml");
const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, "utf8"));
const panels: Panel[] = dashboard.panels.filter((p: Panel) => p.type !== "row");
const variables: Variable[] = dashboard.templating.list;
/** What Grafana substitutes for $__rate_interval with its default 15 s scrape interval (4 × 15 s). */
const RATE_INTERVAL = "1m";

const ROUTES = ["api", "web", "static", "admin"];
const plugin = (version: number, access: unknown = [
  { id: "scanners", action: "deny", cidrs: ["203.0.113.0/24"] },
  { id: "watch", action: "log", cidrs: ["198.51.100.0/24"] },
]) => ({
  client_address: { source: "xff", xff_trusted_hops: 1 },
  // routes_cap 3 with four routes: the fourth is folded into "other" (the overflow panel)
  telemetry: { heartbeat_ms: 500, routes_cap: 3 },
  tracing: { trust_parent: "never", collector: { cluster: "otel", authority: "otel.test", batch_max: 20, flush_ms: 100 } },
  rules: { version, access, sampling: { default_rate: 1 } },
});

/** Grafana's Prometheus regex escaping of a variable value (backslash doubled for the PromQL string). */
const escapeValue = (v: string) => v.replace(/[\\^$*+?.()|{}[\]]/g, (c) => `\\\\${c}`);

describe("Grafana dashboard envoy/grafana/edgewatch.json is importable as is", () => {
  it("declares the Prometheus input and the plugins it needs, the way a Grafana export does", () => {
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" })]);
    const requires = dashboard.__requires.map((r: { type: string; id: string }) => `${r.type}:${r.id}`);
    expect(requires).toEqual(expect.arrayContaining(["grafana:grafana", "datasource:prometheus"]));
    for (const t of new Set(panels.map((p) => p.type))) expect(requires, `panel plugin ${t}`).toContain(`panel:${t}`);
    expect(dashboard.id).toBeNull();
    expect(dashboard.uid).toBe("edgewatch");
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    // provisioned from disk (no __inputs processing), ${DS_PROMETHEUS} resolves through this variable
    expect(variables.find((v) => v.name === "DS_PROMETHEUS")).toMatchObject({ type: "datasource", query: "prometheus" });
  });

  it("every panel, query, variable and annotation uses the data source variable; panel ids are unique and panels do not overlap", () => {
    const ids = dashboard.panels.map((p: Panel) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${DS_PROMETHEUS}" });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource?.uid, `${p.title} ${t.refId}`).toBe("${DS_PROMETHEUS}");
    }
    for (const v of variables.filter((v) => v.type === "query")) expect(v.datasource?.uid, v.name).toBe("${DS_PROMETHEUS}");
    for (const a of dashboard.annotations.list.filter((a: { builtIn?: number }) => !a.builtIn)) expect(a.datasource.uid).toBe("${DS_PROMETHEUS}");
    const cells = new Map<string, string>();
    for (const p of dashboard.panels as Panel[]) {
      const g = p.gridPos;
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const k = `${x},${y}`;
          expect(cells.get(k), `${p.title} overlaps ${cells.get(k)}`).toBeUndefined();
          cells.set(k, p.title);
        }
      }
    }
  });
});

describeTargets("Grafana dashboard: every panel query returns data from a real Prometheus scraping the proxy", (target) => {
  let stack: Stack;
  let prom: PrometheusServer;
  const values = new Map<string, string[]>();

  /** Poll the proxy's own counter over admin (what Prometheus will scrape next). */
  async function untilCounter(name: string, what: string): Promise<void> {
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      if ((await stack.admin.metric(name)) > 0) return;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what} (${name})`);
  }

  beforeAll(async () => {
    stack = await startStack(target, proxyOptions()
      .withWorkers(2)
      .withCollector()
      .withPlugin(plugin(1))
      .withRoutes([...ROUTES.map((r) => ({ name: r, match: { prefix: `/${r}/` } })), { name: "default", match: { prefix: "/" } }]));
    prom = await startPrometheus({ targets: [stack.proxy.adminUrl], ruleFiles: [RULES], scrapeIntervalSeconds: 1, evaluationIntervalSeconds: 1 });
    await prom.waitForTargetsUp(30_000);

    let i = 0;
    const traffic = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        await stack.client.many(40, 4, () => {
          const n = i++;
          const client = n % 10 === 0 ? "203.0.113.7" : n % 10 === 1 ? "198.51.100.3" : `10.0.${n % 7}.1`;
          return {
            path: `/${ROUTES[n % ROUTES.length]}/x`,
            headers: { "x-forwarded-for": client, "x-edgewatch-status": n % 9 === 0 ? "503" : "200", "x-edgewatch-delay-ms": String(n % 3 === 0 ? 12 : 1) },
          };
        });
      }
    };
    await traffic(3000);
    await stack.push(plugin(2)); // accepted reload
    await traffic(2500);
    // Two rejected documents (schema: an unknown field), a few scrapes apart so increase() sees the
    // reason's series move (its first sample alone has no predecessor).
    for (const v of [3, 4]) {
      await expect(stack.push(plugin(v, [{ id: "bad", action: "deny", cidrz: ["10.0.0.0/8"] }]))).rejects.toBeInstanceOf(ConfigRejectedError);
      await traffic(2500);
    }
    await untilCounter("edgewatch_trace_spans_exported_total", "spans exported");
    // The collector now refuses batches (400): failed exports and dropped spans.
    stack.collector!.setFault("reject");
    await traffic(2000);
    await untilCounter("edgewatch_trace_export_failures_total", "a failed export");
    await prom.waitForQuery(`edgewatch_trace_export_failures_total > 0`, (r) => r.length > 0, { timeoutMs: 15_000 });
    await sleep(2500); // two more scrapes and rule evaluations

    // Template variables, in order (later ones use earlier ones), as Grafana resolves them.
    for (const v of variables.filter((x) => x.type === "query")) {
      const q = typeof v.query === "string" ? v.query : v.query!.query;
      const m = /^label_values\((.+),\s*([A-Za-z_]\w*)\)$/.exec(q);
      if (!m) throw new Error(`variable ${v.name}: unsupported query ${q}`);
      const match = substitute(m[1]);
      values.set(v.name, await prom.api<string[]>(`/api/v1/label/${m[2]}/values?${new URLSearchParams({ "match[]": match })}`));
    }
  }, 180_000);

  afterAll(async () => {
    await prom?.close();
    await stack?.close();
  });

  /** Replace $var / ${var} as Grafana would with every variable set to All. */
  function substitute(expr: string): string {
    return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
      const name = (a ?? b)!;
      if (name === "__rate_interval" || name === "__interval") return RATE_INTERVAL;
      const vals = values.get(name);
      if (!vals) throw new Error(`query uses $${name}, which is not a resolved template variable`);
      const v = variables.find((x) => x.name === name)!;
      if (v.allValue) return v.allValue;
      return vals.length === 1 ? escapeValue(vals[0]) : `(${vals.map(escapeValue).join("|")})`;
    });
  }

  async function evaluate(expr: string, what: string): Promise<PromSample[]> {
    const q = substitute(expr);
    try {
      return await prom.waitForQuery(q, (r) => r.length > 0, { timeoutMs: 10_000, intervalMs: 500 });
    } catch (err) {
      throw new Error(`${what}: ${q}\n  ${(err as Error).message.split("\n")[0]}`);
    }
  }

  const num = (s: PromSample) => Number(s.value[1]);
  const byLabel = (r: PromSample[], label: string) => Object.fromEntries(r.map((s) => [s.metric[label], num(s)]));

  /** Route labels the filter may use here: the routes, "default" (requests that pin the probe
   * connections), and "other" for routes beyond routes_cap (which ones fold depends on the order
   * each VM, and each new root context after a reload, first sees them). */
  const ROUTE_LABELS = [...ROUTES, "default", "other"];

  it("template variables $job, $instance and $route list values", () => {
    expect(values.get("job")).toEqual(["edgewatch"]);
    expect(values.get("instance")).toEqual([new URL(stack.proxy.adminUrl).host]);
    expect(values.get("route")).toContain("other");
    for (const r of values.get("route")!) expect(ROUTE_LABELS).toContain(r);
  });

  /** Samples of routes that had traffic during the run (excludes "default": only the probe pins). */
  const busy = (r: PromSample[]) => r.filter((s) => s.metric.route !== "default");

  /** What the traffic guarantees each panel shows, beyond "some data" (by panel title, per target). */
  const expectations: Record<string, (r: PromSample[][]) => void> = {
    "Request rate by route": ([a]) => {
      expect(byLabel(a, "route").api).toBeGreaterThan(0);
      expect(byLabel(a, "route").other).toBeGreaterThan(0);
    },
    "Status distribution": ([a]) => {
      const keys = a.filter((s) => num(s) > 0).map((s) => `${s.metric.code} ${s.metric.source}`);
      expect(keys).toEqual(expect.arrayContaining(["200 upstream", "503 upstream", "403 local"]));
    },
    "Requests per route (5m)": ([a]) => expect(byLabel(a, "route").api).toBeGreaterThan(0),
    "5xx ratio by route (5m)": ([a]) => {
      const ratios = busy(a).map(num).filter(Number.isFinite);
      expect(ratios.length).toBeGreaterThan(0);
      expect(Math.max(...ratios)).toBeGreaterThan(0);
      expect(Math.max(...ratios)).toBeLessThan(0.5); // 1 request in 9 is a 503
    },
    "Latency heatmap (request → response headers)": ([a]) => {
      const le = byLabel(a, "le");
      expect(le["+Inf"]).toBeGreaterThan(0);
      expect(le["10000"]).toBeLessThan(le["25000"]); // the 12 ms requests land in (10000, 25000] µs
    },
    "p50 / p99 latency by route (5m)": ([p50, p99]) => {
      expect(byLabel(p50, "route").api).toBeGreaterThan(0.001); // seconds
      expect(byLabel(p99, "route").api).toBeGreaterThan(0.01);
      expect(Number.isFinite(byLabel(p99, "route").api)).toBe(true);
    },
    "Local denials by rule": ([a]) => expect(byLabel(a, "rule").scanners).toBeGreaterThan(0),
    "Dry-run matches by rule": ([a]) => expect(byLabel(a, "rule").watch).toBeGreaterThan(0),
    "Rules version in force": ([a]) => expect(a.map(num)).toEqual([2]),
    "Rules freshness (age of last successful check)": ([a]) => expect(num(a[0])).toBeLessThan(120),
    "Rule reloads and reload failures": ([accepted, failed]) => {
      expect(Math.max(...accepted.map(num))).toBeGreaterThan(0);
      expect(byLabel(failed, "reason").schema).toBeGreaterThan(0);
    },
    "Trace export": ([exported, , failures]) => {
      expect(num(exported[0])).toBeGreaterThan(0);
      expect(num(failures[0])).toBeGreaterThan(0);
    },
    "Spans kept by reason and export buffer": ([kept]) => expect(byLabel(kept, "reason").probability).toBeGreaterThan(0),
    "Heartbeat age": ([a]) => expect(num(a[0])).toBeLessThan(10),
    "Proxies scraped": ([up, count]) => expect([num(up[0]), num(count[0])]).toEqual([1, 1]),
    "Requests seen": ([a]) => expect(num(a[0])).toBeGreaterThan(0),
    "Wasm VM memory": ([a]) => expect(num(a[0])).toBeGreaterThan(65_536),
    "Route label overflow": ([a]) => expect(num(a[0])).toBeGreaterThan(0),
  };

  it("every panel title has a traffic expectation (a new panel needs one here)", () => {
    expect(panels.map((x) => x.title).filter((t) => !(t in expectations))).toEqual([]);
  });

  for (const panel of panels) {
    it(`panel "${panel.title}": every query returns data`, async () => {
      const results: PromSample[][] = [];
      for (const t of panel.targets!) {
        const r = await evaluate(t.expr, `panel "${panel.title}" query ${t.refId}`);
        results.push(r);
      }
      expectations[panel.title]?.(results);
      console.log(`[grafana] checked panel "${panel.title}": ${results.map((r, i) => `${panel.targets![i].refId}=${r.length} series`).join(", ")}`);
    });
  }

  it("the annotation query (rules version changes) finds the reload", async () => {
    for (const a of dashboard.annotations.list.filter((x: { builtIn?: number }) => !x.builtIn)) {
      const r = await evaluate(a.expr, `annotation "${a.name}"`);
      expect(r.length).toBeGreaterThan(0);
    }
  });
});

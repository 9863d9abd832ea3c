// stats_tags regex extraction (Envoy tag_extractor_impl.cc / tag_producer_impl.cc).
import { describe, expect, it } from "vitest";
import { TagExtractor, extractRegexPrefix } from "../../harness/stats/tag-extractor.js";
import { prometheusMetricName } from "../../harness/stats/prometheus-format.js";

const istio = (names: string[]) => names.map((n) => ({ tagName: n, regex: `(${n}=\\.=(.*?);\\.;)` }));

describe("Istio-style names", () => {
  const ex = new TagExtractor(istio(["route", "code", "source"]));

  it("removes each first capture and takes the second as the value, in config order", () => {
    const r = ex.extract("wasmcustom.edgewatch.route=.=api;.;code=.=200;.;source=.=upstream;.;requests_total");
    expect(r.tagExtractedName).toBe("wasmcustom.edgewatch.requests_total");
    expect(r.tags).toEqual([
      { name: "route", value: "api" },
      { name: "code", value: "200" },
      { name: "source", value: "upstream" },
    ]);
    expect(prometheusMetricName(r.tagExtractedName)).toBe("edgewatch_requests_total");
  });

  it("runs every regex on the original name (segment order in the name does not matter)", () => {
    const r = ex.extract("wasmcustom.edgewatch.source=.=local;.;route=.=a.b;.;requests_total");
    expect(r.tagExtractedName).toBe("wasmcustom.edgewatch.requests_total");
    expect(r.tags).toEqual([
      { name: "route", value: "a.b" },
      { name: "source", value: "local" },
    ]);
  });

  it("keeps an empty value when the second group matches empty", () => {
    const r = ex.extract("wasmcustom.edgewatch.route=.=;.;requests_total");
    expect(r.tags).toEqual([{ name: "route", value: "" }]);
    expect(r.tagExtractedName).toBe("wasmcustom.edgewatch.requests_total");
  });

  it("leaves names without segments untouched", () => {
    expect(ex.extract("wasmcustom.edgewatch.ticks_total")).toEqual({
      tagExtractedName: "wasmcustom.edgewatch.ticks_total",
      tags: [],
    });
  });
});

describe("Envoy extractor details", () => {
  it("uses the first group as value when there is only one group", () => {
    const ex = new TagExtractor([{ tagName: "x", regex: "\\.(v\\d+)$" }]);
    expect(ex.extract("a.b.v2")).toEqual({ tagExtractedName: "a.b.", tags: [{ name: "x", value: "v2" }] });
  });

  it("path-style regexes with a ^token\\. prefix run after the unprefixed ones (Higress style)", () => {
    expect(extractRegexPrefix("^wasmcustom\\.route\\.((.*?)\\.)upstream")).toBe("wasmcustom");
    expect(extractRegexPrefix("(route=\\.=(.*?);\\.;)")).toBe("");
    const ex = new TagExtractor([
      { tagName: "route", regex: "^wasmcustom\\.route\\.((.*?)\\.)upstream" },
      { tagName: "code", regex: "(code=\\.=(.*?);\\.;)" },
    ]);
    const r = ex.extract("wasmcustom.route.api.upstream.code=.=200;.;total");
    expect(r.tags.map((t) => t.name)).toEqual(["code", "route"]);
    expect(r.tagExtractedName).toBe("wasmcustom.route.upstream.total");
  });

  it("skips later extractors with a tag name that already matched", () => {
    const ex = new TagExtractor([
      { tagName: "code", regex: "(code=\\.=(.*?);\\.;)" },
      { tagName: "code", regex: "_(\\d{3})$" },
    ]);
    expect(ex.extract("x.code=.=200;.;rq_503").tags).toEqual([{ name: "code", value: "200" }]);
    expect(ex.extract("x.rq_503").tags).toEqual([{ name: "code", value: "503" }]);
  });

  it("rejects invalid specifiers like Envoy config validation", () => {
    expect(() => new TagExtractor([{ tagName: "", regex: "(a)" }])).toThrow(/tag_name/);
    expect(() => new TagExtractor([{ tagName: "a", regex: "" }])).toThrow(/no regex/);
    expect(() => new TagExtractor([{ tagName: "a", regex: "(" }])).toThrow(/invalid regex/);
  });
});

// Envoy's built-in extractors (use_all_default_tags, on by default). Expected names and tags are what
// Envoy's own tag_extractor_impl_test / real /stats/prometheus output show for these stats.
describe("Envoy's default tag extractors", () => {
  const ex = new TagExtractor([], { useAllDefaultTags: true });
  const cases: Array<[string, string, Array<[string, string]>]> = [
    ["http.edgewatch_ingress.downstream_rq_total", "http.downstream_rq_total", [["envoy.http_conn_manager_prefix", "edgewatch_ingress"]]],
    // No-prefix extractors (response_code_class) come before the "http." ones: label order as in Envoy.
    ["http.ingress_http.downstream_rq_2xx", "http.downstream_rq_xx", [["envoy.response_code_class", "2"], ["envoy.http_conn_manager_prefix", "ingress_http"]]],
    ["cluster.app.upstream_rq_503", "cluster.upstream_rq", [["envoy.response_code", "503"], ["envoy.cluster_name", "app"]]],
    ["cluster.app.upstream_cx_total", "cluster.upstream_cx_total", [["envoy.cluster_name", "app"]]],
    ["listener.127.0.0.1_10000.downstream_cx_total", "listener.downstream_cx_total", [["envoy.listener_address", "127.0.0.1_10000"]]],
    ["listener.[__1]_10000.downstream_cx_total", "listener.downstream_cx_total", [["envoy.listener_address", "[__1]_10000"]]],
    ["listener.0.0.0.0_10000.worker_1.downstream_cx_total", "listener.worker_downstream_cx_total", [["envoy.worker_id", "1"], ["envoy.listener_address", "0.0.0.0_10000"]]],
    ["listener.127.0.0.1_10000.http.ingress_http.downstream_rq_2xx", "listener.http.downstream_rq_xx", [["envoy.response_code_class", "2"], ["envoy.http_conn_manager_prefix", "ingress_http"], ["envoy.listener_address", "127.0.0.1_10000"]]],
    ["listener_manager.worker_0.dispatcher.loop_duration_us", "listener_manager.worker_dispatcher.loop_duration_us", [["envoy.worker_id", "0"]]],
    ["vhost.backend.vcluster.other.upstream_rq_200", "vhost.vcluster.upstream_rq", [["envoy.response_code", "200"], ["envoy.virtual_cluster", "other"], ["envoy.virtual_host", "backend"]]],
    // The admin listener keeps its name (negative match).
    ["listener.admin.downstream_cx_total", "listener.admin.downstream_cx_total", []],
    // Names no built-in extractor knows stay as they are.
    ["extension_config_discovery.http_filter.edgewatch.config_fail", "extension_config_discovery.http_filter.edgewatch.config_fail", []],
    ["wasm.envoy.wasm.runtime.v8.created", "wasm.envoy.wasm.runtime.v8.created", []],
    ["wasmcustom.edgewatch.rules_reload_total", "wasmcustom.edgewatch.rules_reload_total", []],
  ];
  it.each(cases)("%s → %s", (name, extracted, tags) => {
    const r = ex.extract(name);
    expect(r.tagExtractedName).toBe(extracted);
    expect(r.tags.map((t) => [t.name, t.value])).toEqual(tags);
  });

  it("renders Envoy's Prometheus names", () => {
    expect(prometheusMetricName(ex.extract("http.edgewatch_ingress.downstream_rq_total").tagExtractedName)).toBe("envoy_http_downstream_rq_total");
  });

  it("runs before the configured stats_tags, which still extract the filter's labels", () => {
    const both = new TagExtractor(istio(["route", "code"]), { useAllDefaultTags: true });
    const r = both.extract("wasmcustom.edgewatch.route=.=api;.;code=.=200;.;requests_total");
    expect(r.tagExtractedName).toBe("wasmcustom.edgewatch.requests_total");
    expect(r.tags).toEqual([{ name: "route", value: "api" }, { name: "code", value: "200" }]);
  });

  it("an empty regex names the built-in extractors of that tag; without defaults nothing is extracted", () => {
    const only = new TagExtractor([{ tagName: "envoy.cluster_name", regex: "" }]);
    expect(only.extract("cluster.app.upstream_rq_503").tags).toEqual([{ name: "envoy.cluster_name", value: "app" }]);
    expect(new TagExtractor([]).extract("http.x.downstream_rq_total").tags).toEqual([]);
  });
});

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

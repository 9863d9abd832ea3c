import { describe, expect, it } from "vitest";
import { PromSnapshot, histogramQuantile, nonEmptyBuckets, parsePrometheusText, quantileBucket } from "../../harness/cli/prom-text.js";

describe("Prometheus text parser", () => {
  it("reads Envoy's shapes: empty braces, escapes, special values, timestamps, CRLF", () => {
    const doc = parsePrometheusText(
      [
        "# TYPE a counter",
        "a{} 3",
        'b{x="q\\"uote\\\\ and \\n",y="2",} 1.5e3 1700000000000',
        "c NaN",
        "d{le=\"+Inf\"} +Inf\r",
        "# just a comment",
        "",
      ].join("\n"),
    );
    expect(doc.errors).toEqual([]);
    expect(doc.types.get("a")).toBe("counter");
    expect(doc.samples[1]).toEqual({ name: "b", labels: { x: 'q"uote\\ and \n', y: "2" }, value: 1500, timestampMs: 1700000000000 });
    expect(Number.isNaN(doc.samples[2].value)).toBe(true);
    expect(doc.samples[3].value).toBe(Infinity);
  });

  it("records bad lines with a reason instead of throwing", () => {
    const doc = parsePrometheusText('ok 1\nbad{a="1" 2\nworse{a="1"} x\n1abc 2\n');
    expect(doc.samples).toHaveLength(1);
    expect(doc.errors.map((e) => e.line)).toEqual([2, 3, 4]);
    expect(doc.errors[1].reason).toMatch(/bad sample value/);
  });

  it("groups histograms and estimates quantiles like histogram_quantile", () => {
    const snap = PromSnapshot.parse(
      [
        'h_bucket{route="a",le="1"} 10',
        'h_bucket{route="a",le="10"} 90',
        'h_bucket{route="a",le="+Inf"} 100',
        'h_sum{route="a"} 400',
        'h_count{route="a"} 100',
      ].join("\n"),
    );
    const [h] = snap.histograms("h");
    expect(h.labels).toEqual({ route: "a" });
    expect(h.hasInf).toBe(true);
    expect(nonEmptyBuckets(h)).toBe(3);
    expect(histogramQuantile(0.5, h.buckets)).toBeCloseTo(1 + (9 * 40) / 80, 6);
    expect(histogramQuantile(0.99, h.buckets)).toBe(10); // in +Inf: the largest finite bound
    // The bucket each quantile is interpolated in (the demo prints it next to the value).
    expect(quantileBucket(0.5, h.buckets)).toEqual({ lower: 1, upper: 10 });
    expect(quantileBucket(0.99, h.buckets)).toEqual({ lower: 10, upper: Infinity });
    expect(quantileBucket(0.5, [])).toBeUndefined();
  });
});

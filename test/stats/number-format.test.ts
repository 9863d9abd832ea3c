// C printf/fmt number formatting used in Envoy's Prometheus output.
import { describe, expect, it } from "vitest";
import { formatG, formatShortest } from "../../harness/stats/number-format.js";

describe("%.32g (le labels and _sum)", () => {
  it.each([
    [9.05, "9.0500000000000007105427357601002"],
    [0.5, "0.5"],
    [0.25, "0.25"],
    [1, "1"],
    [3_600_000, "3600000"],
    [5532, "5532"],
    [0.1, "0.10000000000000000555111512312578"],
    [1e-5, "1.0000000000000000818030539140313e-05"],
    [1e40, "1.0000000000000000303786028427004e+40"],
    [104866771428.571441650390625, "104866771428.571441650390625"],
    [2.2578688482015323, "2.2578688482015323302221077028662"],
    [0, "0"],
    [-2.5, "-2.5"],
  ])("%s → %s", (x, s) => {
    expect(formatG(x, 32)).toBe(s);
  });
});

describe("%g and fmt {}", () => {
  it("formats P/B labels like {:g}", () => {
    expect(formatG(100 * 0.995)).toBe("99.5");
    expect(formatG(100 * 0.999)).toBe("99.9");
    expect(formatG(1234567)).toBe("1.23457e+06");
    expect(formatG(NaN)).toBe("nan");
  });

  it("formats quantile values like fmt {}", () => {
    expect(formatShortest(27.899999999999977)).toBe("27.899999999999977");
    expect(formatShortest(1.1)).toBe("1.1");
    expect(formatShortest(1e16)).toBe("1e+16");
    expect(formatShortest(1e-5)).toBe("1e-05");
    expect(formatShortest(NaN)).toBe("nan");
  });
});

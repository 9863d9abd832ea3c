/**
 * C/fmt-style number formatting used by Envoy's admin renderers.
 *
 * - `formatG(x, 32)` reproduces `fmt::format("{:.32g}", x)` / printf `%.32g`, which Envoy uses for
 *   the `le` label and the `_sum` of Prometheus histograms
 *   (envoy source/server/admin/prometheus_stats.cc, generateHistogramOutput /
 *   prometheus_stats_render.cc). Example: 9.05 → "9.0500000000000007105427357601002".
 * - `formatG(x)` (precision 6) is `{:g}` as used in `P{:g}` / `B{:g}` labels
 *   (envoy source/common/stats/histogram_impl.cc quantileSummary/bucketSummary).
 * - `formatShortest(x)` approximates fmt's `{}` for doubles (shortest round-trip digits), used for the
 *   quantile values in the text `/stats` histogram summary.
 *
 * The digits come from `Number.prototype.toExponential(P-1)`, which ECMA-262 defines as the exact
 * decimal value of the double rounded to P significant digits, the same digits glibc prints. The only
 * difference is an exact tie at digit P+1 (ECMAScript rounds half up, glibc half-to-even); for
 * P=32 that needs a double whose exact expansion has exactly 33 significant digits ending in 5 —
 * rare, and accepted here.
 */

function splitExponential(x: number, precision: number): { neg: boolean; digits: string; exp: number } {
  const s = x.toExponential(precision - 1); // e.g. "-5.5311160155998386471765115857124e+3"
  const neg = s.startsWith("-");
  const body = neg ? s.slice(1) : s;
  const eIdx = body.indexOf("e");
  const mant = body.slice(0, eIdx);
  const exp = parseInt(body.slice(eIdx + 1), 10);
  const digits = mant.replace(".", "");
  return { neg, digits, exp };
}

function stripFraction(intPart: string, frac: string): string {
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) === 48 /* '0' */) end--;
  return end === 0 ? intPart : `${intPart}.${frac.slice(0, end)}`;
}

function expSuffix(exp: number): string {
  const sign = exp < 0 ? "-" : "+";
  const abs = Math.abs(exp);
  return `e${sign}${abs < 10 ? "0" : ""}${abs}`;
}

/** printf("%.<precision>g", x) without the '#' flag (trailing zeros removed). */
export function formatG(x: number, precision = 6): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const p = precision === 0 ? 1 : precision;
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const { neg, digits, exp } = splitExponential(x, p);
  let out: string;
  if (p > exp && exp >= -4) {
    // Style f with precision p-1-exp.
    if (exp >= 0) {
      out = stripFraction(digits.slice(0, exp + 1), digits.slice(exp + 1));
    } else {
      out = stripFraction("0", "0".repeat(-exp - 1) + digits);
    }
  } else {
    out = stripFraction(digits.slice(0, 1), digits.slice(1)) + expSuffix(exp);
  }
  return neg ? `-${out}` : out;
}

/**
 * fmt `{}` for a double: shortest digits that round-trip; fixed notation unless the decimal exponent
 * is < -4 or >= 16 (fmt's general presentation for the shortest representation). NaN → "nan".
 */
export function formatShortest(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const s = x.toExponential(); // shortest round-trip digits in exponential form
  const neg = s.startsWith("-");
  const body = neg ? s.slice(1) : s;
  const eIdx = body.indexOf("e");
  const digits = body.slice(0, eIdx).replace(".", "");
  const exp = parseInt(body.slice(eIdx + 1), 10);
  let out: string;
  if (exp < -4 || exp >= 16) {
    out = stripFraction(digits.slice(0, 1), digits.slice(1)) + expSuffix(exp);
  } else if (exp >= 0) {
    const intDigits = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits.padEnd(exp + 1, "0");
    out = stripFraction(intDigits, digits.slice(exp + 1));
  } else {
    out = stripFraction("0", "0".repeat(-exp - 1) + digits);
  }
  return neg ? `-${out}` : out;
}

/**
 * Issue #13 (found by the long fuzz run, seed 2): the rules-pull family reported a valid document
 * "rejected" (case 13: rules_reload_total moved by 0, no failure counted). Cause: the oracle's
 * whole-space check of the case before (7,245 CIDRs) ran for ~9 s in this process — a BigInt mask
 * computed per containment test, n² of them — the fetcher's 2 s lease ran out meanwhile, another
 * VM took the role, the former fetcher dropped the document its poll then received, and the fake
 * rules service (one answer per document) never served it again. The oracle now looks its masks up,
 * and the family's lease outlasts its own stalls.
 */
import { describe, expect, it } from "vitest";
import { FAMILY_FACTORIES } from "../../harness/fuzz/families.js";
import { maskOf } from "../../harness/fuzz/reference/net.js";
import { runFamily } from "../../harness/fuzz/runner.js";

describe("issue 13: rules-pull fuzz family after a big document", () => {
  it("seed 2, the first 20 cases: no violation (case 13 was reported rejected)", async () => {
    const runner = await FAMILY_FACTORIES["rules-pull"]!();
    try {
      const r = await runFamily(runner, { seed: 2, cases: 20 });
      expect(r.cases).toBe(20);
      expect(r.violations.map((v) => `[${v.kind}] case ${v.caseIndex}: ${v.message}`)).toEqual([]);
    } finally {
      await runner.close();
    }
  }, 120_000);

  it("the oracle's masks are the prefix masks", () => {
    expect(maskOf(0, 32)).toBe(0n);
    expect(maskOf(24, 32)).toBe(0xffffff00n);
    expect(maskOf(32, 32)).toBe(0xffffffffn);
    expect(maskOf(1, 128)).toBe(1n << 127n);
    expect(maskOf(128, 128)).toBe((1n << 128n) - 1n);
    expect(maskOf(64, 128)).toBe(((1n << 64n) - 1n) << 64n);
  });
});

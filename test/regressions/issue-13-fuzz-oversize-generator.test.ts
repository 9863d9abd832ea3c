/**
 * Issue #13 (found by the long fuzz run, seed 2, rules-push case 34292): "generator marked oversize
 * invalid but the reference accepts it". The oversize mutation padded the document 1..19 bytes short
 * of max_rules_bytes and made up the rest with spaces after it; embedded in a plugin configuration
 * those spaces are not part of the rules value, which the filter and the reference both measure, so
 * the document was valid. The document value itself now passes the limit.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mutateDoc } from "../../harness/fuzz/arbitraries.js";
import { FAMILY_FACTORIES } from "../../harness/fuzz/families.js";
import { validatePluginConfiguration } from "../../harness/fuzz/reference/schema.js";
import { caseAt } from "../../harness/fuzz/runner.js";
import type { J } from "../../harness/fuzz/json-ast.js";

const MAX = 1024 * 1024;
const config = (doc: string) => Buffer.from(`{"tracing":{"enabled":false},"max_rules_bytes":${MAX},"rules":${doc}}`, "utf8");

describe("issue 13: the oversize mutation of a rules document", () => {
  it("seed 2, rules-push case 34292, and 10 more: the pushed document is over max_rules_bytes (reason size)", async () => {
    const runner = await FAMILY_FACTORIES["rules-push"]!();
    try {
      const cases = [caseAt(runner.arb, 2, "rules-push", 34292) as { doc: J; seed: number }];
      cases.push(...(fc.sample(runner.arb, { seed: 7, numRuns: 10 }) as Array<{ doc: J; seed: number }>));
      for (const c of cases) {
        const m = mutateDoc(c.doc, "oversize", c.seed, { binary: false, maxRulesBytes: MAX });
        const text = m.bytes.toString("utf8");
        expect(Buffer.byteLength(text.trimEnd())).toBeGreaterThan(MAX);
        const ref = validatePluginConfiguration(config(text));
        expect(ref.valid).toBe(false);
        expect(ref.errors.map((e) => e.reason)).toContain("size");
      }
    } finally {
      await runner.close();
    }
  }, 120_000);
});

/**
 * assembly/host/big-blocks.ts sizes the blocks of big values (configurations, snapshots, pulled
 * bodies, the push cache's text) so that a freed one is found again by the next value of the same
 * size: a VM's linear memory never shrinks, so every fresh place a reload writes stays with the VM.
 * These tests pin the facts about AssemblyScript's TLSF the sizes rest on (a compiler upgrade that
 * changes them fails here first) and the reload pattern itself: the new value arrives while the one
 * in force lives, the old one is freed after the swap, small allocations come and go in between.
 */
import { describe, expect, it } from "vitest";
import { instantiateUnit } from "../rules/unit-module.js";

type Call = (name: string, ...a: number[]) => number;
async function unit(): Promise<Call> {
  const u = await instantiateUnit("test/filters-unit/big-blocks-unit.ts");
  return (name, ...a) => (u.exports[name] as unknown as (...x: number[]) => number)(...a) >>> 0;
}
const MB7 = 7_000_576; // a 1,000,000-CIDR snapshot configuration
const MB1_6 = 1_671_338; // a 100,000-CIDR JSON configuration

describe("big blocks: the runtime facts", () => {
  it("TLSF payloads are what tlsfPayload says (≡ 12 mod 16: never a size-class start)", async () => {
    const call = await unit();
    for (const size of [1 << 20, (1 << 20) + 1, MB1_6, MB7, 16_700_000]) {
      expect(call("rawPayload", size)).toBe(call("predictedPayload", size));
      expect(call("predictedPayload", size) % 16).toBe(12);
    }
  }, 120_000);

  it("a block freed at the size asked for again is not found by the same request (why big-blocks exists)", async () => {
    const call = await unit();
    expect(call("rawReloads", MB7, 12, 0)).toBeGreaterThan(2);
  }, 120_000);
});

describe("big blocks: reloads reuse the freed block", () => {
  it("raw blocks (the push cache's text): two places however many reloads, no memory growth after the second", async () => {
    for (const size of [MB7, MB1_6]) {
      const call = await unit();
      expect(call("rawReloads", size, 2, 1)).toBe(2);
      const pages = call("pages");
      expect(call("rawReloads", size, 40, 1)).toBeLessThanOrEqual(2);
      expect(call("pages")).toBe(pages);
    }
  }, 120_000);

  it("the filter's malloc (a configuration or snapshot the rules in force hold): no more places or memory than before", async () => {
    // A GC block FIND took from a bigger free block stays FIND-sized (growing it would break itcms's
    // byte count), so under this churn it is found again only when it merges with a free neighbour.
    const before = await unit();
    const now = await unit();
    expect(now("gcReloads", MB7, 30, 1)).toBeLessThanOrEqual(before("gcReloads", MB7, 30, 0));
    expect(now("pages")).toBeLessThanOrEqual(before("pages"));
  }, 120_000);
});

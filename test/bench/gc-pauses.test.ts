import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { describe, expect, it } from "vitest";
import { pauseMsIn, recordGcPauses, type GcPause } from "../../harness/bench/gc-pauses.js";

describe("GC pauses inside measured windows (bench:reload gc_* fields)", () => {
  const pauses: GcPause[] = [
    { start: 10, ms: 2, major: false },
    { start: 20, ms: 5, major: true },
    { start: 40, ms: 1, major: false },
  ];

  it("counts the part of each pause that overlaps the window, and the full collections in it", () => {
    expect(pauseMsIn(pauses, 0, 100)).toEqual({ ms: 8, major: 1 });
    expect(pauseMsIn(pauses, 11, 22)).toEqual({ ms: 3, major: 1 }); // 1 ms of the first, 2 of the second
    expect(pauseMsIn(pauses, 24, 39)).toEqual({ ms: 1, major: 1 }); // the last ms of the full collection
    expect(pauseMsIn(pauses, 12, 20)).toEqual({ ms: 0, major: 0 }); // between pauses, touching an edge
    expect(pauseMsIn([], 0, 100)).toEqual({ ms: 0, major: 0 });
  });

  it("records this process's collections, a full one marked major, until stopped", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const rec = recordGcPauses();
    const t0 = performance.now();
    let keep: number[][] = [];
    for (let i = 0; i < 200_000; i++) keep = i % 1000 === 0 ? [] : (keep.push([i, i]), keep); // young garbage
    gc();
    const t1 = performance.now();
    await new Promise((r) => setTimeout(r, 20)); // entries are delivered after the fact
    const seen = rec.stop();
    expect(keep.length).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.some((p) => p.major)).toBe(true);
    for (const p of seen) {
      expect(p.ms).toBeGreaterThanOrEqual(0);
      expect(p.start).toBeGreaterThanOrEqual(t0 - 1);
    }
    expect(pauseMsIn(seen, t0, t1 + 50).major).toBeGreaterThan(0);
    gc();
    await new Promise((r) => setTimeout(r, 20));
    expect(rec.stop()).toEqual(seen); // stopped: later collections are not added
  });
});

import { describe, expect, it } from "vitest";
import { reloadParts } from "../../harness/bench/reload-parts.js";

describe("reload parts: where the median and the slowest push reloads' time went", () => {
  // 40 reloads: latency i + 1 ms; the canary's start 0.1·i, the whole canary 0.3·i, the VMs 0.2·i, GC 0.01·i.
  const n = 40;
  const idx = [...Array(n).keys()].reverse(); // not in latency order
  const lat = idx.map((i) => i + 1);
  const start = idx.map((i) => 0.1 * i);
  const canary = idx.map((i) => 0.3 * i);
  const vms = idx.map((i) => 0.2 * i);
  const gc = idx.map((i) => 0.01 * i);

  it("means over the 45th–55th percentile reloads and over the slowest 5 % (at least 2), parts adding up to the latency", () => {
    const r = reloadParts(lat, start, canary, vms, gc)!;
    // Median set: latencies 19..22 (i = 18..21); slowest: 39, 40 (i = 38, 39).
    expect(r.median).toEqual({ reloads: 4, latency_ms: 20.5, canary_start_ms: 1.95, canary_configure_ms: 3.9, vms_ms: 3.9, other_ms: 10.75, gc_ms: 0.195 });
    expect(r.slowest.reloads).toBe(2);
    expect(r.slowest.latency_ms).toBe(39.5);
    expect(r.slowest.canary_start_ms).toBeCloseTo(3.85, 3);
    for (const p of [r.median, r.slowest]) expect(p.canary_start_ms + p.canary_configure_ms + p.vms_ms + p.other_ms).toBeCloseTo(p.latency_ms, 2);
  });

  it("no GC figure when the pauses were not recorded; null when a part is missing or too few reloads", () => {
    expect(reloadParts(lat, start, canary, vms, null)!.slowest.gc_ms).toBeNull();
    expect(reloadParts(lat, start.slice(1), canary, vms, gc)).toBeNull(); // a reload without its parts (an Envoy target has none)
    expect(reloadParts(lat.slice(0, 19), start.slice(0, 19), canary.slice(0, 19), vms.slice(0, 19), null)).toBeNull();
  });
});

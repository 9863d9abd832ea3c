/**
 * Where a push reload's time went (bench:reload, push modes on the embedded host): the host's
 * UpdateTiming of each reload split the latency into the canary's instantiation and `_start`, its
 * configure and the new roots of every VM; the rest is what lies outside the host's update (the
 * probes' HTTP round trips on the same JS thread, the event loop, GC pauses outside those parts).
 * Means over two sets of reloads, so the parts of a set add up to its mean latency: the median
 * ones (between the 45th and 55th percentile of latency) and the slowest 5 % (at least 2).
 */

/** Means over a set of reloads; gc_ms: GC pauses inside those reloads' windows (null when not recorded). */
export interface ReloadParts {
  reloads: number;
  latency_ms: number;
  canary_start_ms: number;
  canary_configure_ms: number;
  vms_ms: number;
  other_ms: number;
  gc_ms: number | null;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The median and slowest sets from per-reload arrays aligned with `lat` (ms each: the latency, the
 * canary's instantiation + `_start`, the whole canary, all VMs' new roots, GC pauses in the window).
 * Null when a part was not recorded for every reload or there are fewer than 20 reloads.
 */
export function reloadParts(lat: number[], canaryStart: number[], canary: number[], vms: number[], gc: number[] | null): { median: ReloadParts; slowest: ReloadParts } | null {
  const n = lat.length;
  if (n < 20 || canaryStart.length !== n || canary.length !== n || vms.length !== n || (gc !== null && gc.length !== n)) return null;
  const order = [...lat.keys()].sort((a, b) => lat[a]! - lat[b]!);
  const mean = (ids: number[], xs: number[]) => ids.reduce((a, i) => a + xs[i]!, 0) / ids.length;
  const parts = (ids: number[]): ReloadParts => {
    const latency = mean(ids, lat), c = mean(ids, canary), v = mean(ids, vms), st = mean(ids, canaryStart);
    return {
      reloads: ids.length,
      latency_ms: round3(latency),
      canary_start_ms: round3(st),
      canary_configure_ms: round3(c - st),
      vms_ms: round3(v),
      other_ms: round3(latency - c - v),
      gc_ms: gc === null ? null : round3(mean(ids, gc)),
    };
  };
  const k = Math.max(2, Math.ceil(n * 0.05));
  return { median: parts(order.slice(Math.floor(n * 0.45), Math.ceil(n * 0.55))), slowest: parts(order.slice(n - k)) };
}

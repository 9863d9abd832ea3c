/**
 * V8 garbage-collection pauses of this process, for benches whose proxy runs in it (the embedded
 * host in-process): which pauses fell inside a measured window. A stop-the-world pause stops the
 * host and the probes alike, so a window's latency includes it in full; Envoy's C++ host has no
 * such pause (its VMs' memories are not garbage collected by the host), so the benches report how
 * much of a window was this process's GC next to the latency itself.
 *
 * Recorded with a PerformanceObserver on "gc" entries (start and duration on performance.now()'s
 * clock, delivered after the fact, so windows are matched when the recording stops).
 */
import { PerformanceObserver, constants, type PerformanceEntry } from "node:perf_hooks";

export interface GcPause {
  /** performance.now() ms at the pause's start. */
  start: number;
  ms: number;
  /** A full (mark-compact) collection's finalisation, as opposed to a young-generation scavenge. */
  major: boolean;
}

export interface GcRecorder {
  /** Stops recording (again: no-op); the pauses seen since start, in time order. */
  stop(): GcPause[];
}

/** Starts recording this process's GC pauses. */
export function recordGcPauses(): GcRecorder {
  const pauses: GcPause[] = [];
  const take = (entries: PerformanceEntry[]) => {
    for (const e of entries) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      pauses.push({ start: e.startTime, ms: e.duration, major: kind === constants.NODE_PERFORMANCE_GC_MAJOR });
    }
  };
  let stopped = false;
  const obs = new PerformanceObserver((list) => take(list.getEntries()));
  obs.observe({ entryTypes: ["gc"] });
  return {
    stop() {
      if (!stopped) {
        stopped = true;
        take(obs.takeRecords());
        obs.disconnect();
      }
      return pauses.sort((a, b) => a.start - b.start);
    },
  };
}

/** Pause ms inside [from, to]: the part of each pause that overlaps the window. */
export function pauseMsIn(pauses: readonly GcPause[], from: number, to: number): { ms: number; major: number } {
  let ms = 0;
  let major = 0;
  for (const p of pauses) {
    const a = Math.max(from, p.start);
    const b = Math.min(to, p.start + p.ms);
    if (b <= a) continue;
    ms += b - a;
    if (p.major) major++;
  }
  return { ms, major };
}

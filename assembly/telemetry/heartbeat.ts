// Liveness signals, so that "the endpoint answers but has no series" and "the filter stopped
// recording" are both visible:
//   edgewatch.ticks_total          counter  +1 per heartbeat (every heartbeat_ms, per root context;
//                                           every worker and the main thread tick in Envoy)
//   edgewatch.heartbeat_seconds    gauge    unix time of the last heartbeat (any VM)
//   edgewatch.vm_memory_bytes      gauge    linear memory of all VMs: each VM adds the growth of its
//                                           own memory since its last report (memory never shrinks),
//                                           and removes its share when its last root context goes.
// The work is time-based (elapsed since the last beat), so a shorter tick set by someone else
// (the rules fetcher) costs one clock read per tick and no extra samples.
import { defineCounter, defineGauge, incrementMetric, recordMetric } from "../host/metrics";
import { nowNanos } from "../host/time";
import { PREFIX } from "./recorder";

/** Bytes of this VM's linear memory already added to the shared gauge (one value per VM). */
let reportedMemoryBytes: i64 = 0;
let memoryGaugeId: u32 = 0;

export class Heartbeat {
  ticksId: u32 = 0;
  heartbeatId: u32 = 0;
  periodNs: u64 = 1_000_000_000;
  private lastBeatNs: u64 = 0;

  configure(periodMs: i32): void {
    this.periodNs = <u64>(periodMs > 0 ? periodMs : 1000) * 1_000_000;
    this.ticksId = defineCounter(PREFIX + "ticks_total");
    this.heartbeatId = defineGauge(PREFIX + "heartbeat_seconds");
    if (memoryGaugeId == 0) memoryGaugeId = defineGauge(PREFIX + "vm_memory_bytes");
    this.lastBeatNs = 0;
    reportMemory();
  }

  /** Called on every tick; beats when a period has elapsed. `now` from nowNanos(). */
  onTick(now: u64): void {
    // Allow 5 % early: timers fire at period boundaries with jitter.
    if (this.lastBeatNs != 0 && now - this.lastBeatNs < this.periodNs - this.periodNs / 20) return;
    this.lastBeatNs = now;
    incrementMetric(this.ticksId, 1);
    recordMetric(this.heartbeatId, now / 1_000_000_000);
    reportMemory();
  }
}

/** Add this VM's memory growth since the last report to the shared gauge. */
export function reportMemory(): void {
  if (memoryGaugeId == 0) return;
  const bytes = <i64>memory.size() << 16;
  const delta = bytes - reportedMemoryBytes;
  if (delta != 0) {
    incrementMetric(memoryGaugeId, delta);
    reportedMemoryBytes = bytes;
  }
}

/** The VM's last root context is going away: take its share out of the shared gauge. */
export function withdrawMemory(): void {
  if (memoryGaugeId == 0 || reportedMemoryBytes == 0) return;
  incrementMetric(memoryGaugeId, -reportedMemoryBytes);
  reportedMemoryBytes = 0;
}

export function nowForTick(): u64 { return nowNanos(); }

// Metrics (Envoy context.cc defineMetric/incrementMetric/recordMetric): the stat is created as
// "wasmcustom.<name>", shared by every VM; ids are per VM. Counter increments must be > 0.
import { proxy_define_metric, proxy_increment_metric, proxy_record_metric, proxy_get_metric } from "../abi/imports";
import { MetricType, WasmResult } from "../abi/status";
import { OUT_U32, OUT_U64 } from "./memory";

/** Define (or re-open) a metric; returns its id, or 0 when the host refused. */
export function defineMetric(type: i32, name: string): u32 {
  const n = String.UTF8.encode(name);
  store<u32>(OUT_U32, 0);
  const r = proxy_define_metric(type, changetype<usize>(n), n.byteLength, OUT_U32);
  if (r != WasmResult.Ok) return 0;
  return load<u32>(OUT_U32);
}

export function defineCounter(name: string): u32 { return defineMetric(MetricType.Counter, name); }
export function defineGauge(name: string): u32 { return defineMetric(MetricType.Gauge, name); }
export function defineHistogram(name: string): u32 { return defineMetric(MetricType.Histogram, name); }

/** Counter += delta (delta > 0) or gauge += delta. Id 0 (undefined metric) is ignored. */
export function incrementMetric(id: u32, delta: i64): void {
  if (id != 0 && delta != 0) proxy_increment_metric(id, delta);
}

/** Gauge = value, histogram sample = value (counters would add). */
export function recordMetric(id: u32, value: u64): void {
  if (id != 0) proxy_record_metric(id, value);
}

export function getMetric(id: u32): u64 {
  if (id == 0) return 0;
  store<u64>(OUT_U64, 0);
  if (proxy_get_metric(id, OUT_U64) != WasmResult.Ok) return 0;
  return load<u64>(OUT_U64);
}

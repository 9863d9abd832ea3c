/**
 * Metric hostcalls (Envoy context.cc defineMetric/incrementMetric/recordMetric/getMetric):
 * ids per VM with the type in the low 2 bits, stats named "wasmcustom.<name>" in the shared store.
 */
import { METRIC_ID_INCREMENT, METRIC_TYPE_MASK, METRIC_TYPE_MAX, MetricType, WasmResult } from "../abi/status.js";
import { u64ToNumber } from "../../stats/stats-store.js";
import type { WasmVm } from "../vm.js";
import type { HostFunctions } from "./types.js";

export const CUSTOM_STAT_NAMESPACE = "wasmcustom";

export function metricImports(vm: WasmVm): HostFunctions {
  const stats = vm.env.stats;
  return {
    "env.proxy_define_metric": (type: number, np: number, ns: number, idPtr: number): number => {
      const name = vm.mem.utf8(np, ns);
      if (name === null) return WasmResult.InvalidMemoryAccess;
      type >>>= 0;
      if (type > METRIC_TYPE_MAX) return WasmResult.BadArgument;
      const full = `${CUSTOM_STAT_NAMESPACE}.${name}`;
      let id: number;
      // Defining an existing name yields a new id for the same (shared) stat.
      if (type === MetricType.Counter) {
        id = vm.nextCounterId += METRIC_ID_INCREMENT;
        vm.counters[id >>> 2] = stats.counter(full).slot;
      } else if (type === MetricType.Gauge) {
        id = vm.nextGaugeId += METRIC_ID_INCREMENT;
        vm.gauges[id >>> 2] = stats.gauge(full).slot;
      } else {
        id = vm.nextHistogramId += METRIC_ID_INCREMENT;
        vm.histograms[id >>> 2] = stats.histogram(full).slot;
      }
      return vm.mem.setU32(idPtr, id) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    "env.proxy_increment_metric": (id: number, offset: bigint): number => {
      id >>>= 0;
      const type = id & METRIC_TYPE_MASK;
      if (type === MetricType.Counter) {
        const c = vm.counters[id >>> 2];
        if (c === undefined) return WasmResult.NotFound;
        // Counters only go up: offset ≤ 0 → BadArgument.
        if (offset <= 0n) return WasmResult.BadArgument;
        stats.addNumeric(c, offset);
        return WasmResult.Ok;
      }
      if (type === MetricType.Gauge) {
        const g = vm.gauges[id >>> 2];
        if (g === undefined) return WasmResult.NotFound;
        stats.addNumeric(g, offset);
        return WasmResult.Ok;
      }
      return WasmResult.BadArgument;
    },
    "env.proxy_record_metric": (id: number, value: bigint): number => {
      id >>>= 0;
      // Envoy reads the value as uint64 (a negative i64 wraps).
      const type = id & METRIC_TYPE_MASK;
      if (type === MetricType.Histogram) {
        // Histograms take the value as a number: no BigInt operation on the per-request path.
        const h = vm.histograms[id >>> 2];
        if (h !== undefined) {
          stats.recordHistogram(h, u64ToNumber(value));
          return WasmResult.Ok;
        }
        return WasmResult.NotFound;
      }
      const v = value >= 0n ? value : BigInt.asUintN(64, value);
      if (type === MetricType.Counter) {
        // record on a counter adds (does not set).
        const c = vm.counters[id >>> 2];
        if (c !== undefined) {
          stats.addNumeric(c, v);
          return WasmResult.Ok;
        }
      } else if (type === MetricType.Gauge) {
        const g = vm.gauges[id >>> 2];
        if (g !== undefined) {
          stats.setNumeric(g, v);
          return WasmResult.Ok;
        }
      }
      return WasmResult.NotFound;
    },
    "env.proxy_get_metric": (id: number, resultPtr: number): number => {
      id >>>= 0;
      const type = id & METRIC_TYPE_MASK;
      let slot: number | undefined;
      if (type === MetricType.Counter) slot = vm.counters[id >>> 2];
      else if (type === MetricType.Gauge) slot = vm.gauges[id >>> 2];
      else return WasmResult.BadArgument;
      if (slot === undefined) return WasmResult.NotFound;
      return vm.mem.setU64(resultPtr, stats.numericValue(slot)) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}

/** Time and timer hostcalls (cpp-host exports.cc get_current_time_nanoseconds / set_tick_period_milliseconds). */
import { WasmResult } from "../abi/status.js";
import type { WasmVm } from "../vm.js";
import type { HostFunctions } from "./types.js";

// Wall clock with ns resolution: hrtime anchored to Date.now() once.
const wallOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
export function wallClockNs(): bigint {
  return process.hrtime.bigint() + wallOffset;
}
export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

export function timeImports(vm: WasmVm): HostFunctions {
  return {
    "env.proxy_get_current_time_nanoseconds": (ptr: number): number =>
      // Live wall clock (Envoy Context::getCurrentTimeNanoseconds), not frozen per request.
      vm.mem.setU64(ptr, wallClockNs()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess,
    "env.proxy_set_tick_period_milliseconds": (ms: number): number => {
      // ContextBase::setTimerPeriod: the timer of the root of the current (effective) context.
      const root = vm.ctx().rootContext();
      if (root !== null) vm.setTickPeriod(root, ms >>> 0);
      return WasmResult.Ok;
    },
  };
}

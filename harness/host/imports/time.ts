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

// wallClockNs() as two u32 halves, without a BigInt per call (the request path reads the clock three
// times per stream): the same offset, split once, added to process.hrtime()'s [seconds, ns] exactly
// in doubles (every intermediate stays below 2^53; seconds below 2^32, i.e. 136 years of uptime).
const offsetU64 = BigInt.asUintN(64, wallOffset);
const OFFSET_HI = Number(offsetU64 >> 32n);
const OFFSET_LO = Number(offsetU64 & 0xffffffffn);
const TWO_16 = 65536;
const TWO_32 = 4294967296;

/** Low and high 32 bits of the wall clock in ns (modulo 2^64) at the monotonic time [s, ns]. */
export function wallClockWords(s: number, ns: number, out: { lo: number; hi: number }): void {
  // s·10^9 = (sh·10^9)·2^16 + sl·10^9 with sh, sl < 2^16: each product < 2^46.
  const sh = Math.floor(s / TWO_16);
  const sl = s - sh * TWO_16;
  const a = sh * 1e9;
  const aHi = Math.floor(a / TWO_16); // a·2^16 = aHi·2^32 + (a mod 2^16)·2^16
  const low = (a - aHi * TWO_16) * TWO_16 + sl * 1e9 + ns + OFFSET_LO; // < 2^47
  const carry = Math.floor(low / TWO_32);
  out.lo = low - carry * TWO_32;
  out.hi = (aHi + carry + OFFSET_HI) >>> 0;
}
const words = { lo: 0, hi: 0 };

export function timeImports(vm: WasmVm): HostFunctions {
  return {
    "env.proxy_get_current_time_nanoseconds": (ptr: number): number => {
      // Live wall clock (Envoy Context::getCurrentTimeNanoseconds), not frozen per request.
      const t = process.hrtime();
      wallClockWords(t[0], t[1], words);
      return vm.mem.setU64Words(ptr, words.lo, words.hi) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    "env.proxy_set_tick_period_milliseconds": (ms: number): number => {
      // ContextBase::setTimerPeriod: the timer of the root of the current (effective) context.
      const root = vm.ctx().rootContext();
      if (root !== null) vm.setTickPeriod(root, ms >>> 0);
      return WasmResult.Ok;
    },
  };
}

import { proxy_get_current_time_nanoseconds, proxy_set_tick_period_milliseconds, random_get, clock_time_get } from "../abi/imports";
import { OUT_U64 } from "./memory";

/** Wall-clock now in ns (Envoy: live clock, not frozen per request). */
export function nowNanos(): u64 {
  store<u64>(OUT_U64, 0);
  proxy_get_current_time_nanoseconds(OUT_U64);
  return load<u64>(OUT_U64);
}

export function setTickPeriod(ms: u32): void {
  proxy_set_tick_period_milliseconds(ms);
}

const RAND: usize = memory.data(16);

/** 64 random bits from WASI random_get (Envoy: BoringSSL RAND_bytes). */
export function randomU64(): u64 {
  random_get(RAND, 8);
  return load<u64>(RAND);
}

/** Fill `len` bytes at `ptr` with random bytes (len ≤ 64 KiB). */
export function randomFill(ptr: usize, len: usize): void {
  random_get(ptr, len);
}

const MONO: usize = memory.data(8);

/** Monotonic clock in ns (WASI clock_time_get, CLOCK_MONOTONIC); for measuring durations. */
export function monotonicNanos(): u64 {
  store<u64>(MONO, 0);
  clock_time_get(1, 1000, MONO);
  return load<u64>(MONO);
}

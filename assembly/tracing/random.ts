// Random ids from the host's randomness (WASI random_get; Envoy: BoringSSL RAND_bytes), drawn 256
// bytes at a time so a request costs one host call per 16 ids instead of one per id.
import { randomFill } from "../host/time";

const POOL_SIZE: i32 = 256;
const POOL: usize = memory.data(POOL_SIZE);
let used: i32 = POOL_SIZE;

/** 64 random bits. */
export function random64(): u64 {
  if (used + 8 > POOL_SIZE) {
    randomFill(POOL, <usize>POOL_SIZE);
    used = 0;
  }
  const v = load<u64>(POOL + <usize>used);
  used += 8;
  return v;
}

/** 64 random bits, never 0 (an all-zero span id is invalid). */
export function randomNonZero64(): u64 {
  let v = random64();
  while (v == 0) v = random64();
  return v;
}

// XXH64 (Yann Collet's xxHash, 64-bit variant, as specified in xxhash's doc/xxhash_spec.md): the
// rules snapshot checksum. Not cryptographic — it detects corruption and truncation; signatures
// (rules/signing.ts) are what protect against someone else's snapshots. About 0.1 ms per MiB in V8.

const P1: u64 = 0x9e3779b185ebca87;
const P2: u64 = 0xc2b2ae3d27d4eb4f;
const P3: u64 = 0x165667b19e3779f9;
const P4: u64 = 0x85ebca77c2b2ae63;
const P5: u64 = 0x27d4eb2f165667c5;

// @ts-ignore: decorator
@inline function round(acc: u64, input: u64): u64 {
  return rotl<u64>(acc + input * P2, 31) * P1;
}

// @ts-ignore: decorator
@inline function merge(acc: u64, v: u64): u64 {
  return (acc ^ round(0, v)) * P1 + P4;
}

/** XXH64 of p[0..len) with `seed`. */
export function xxh64(p: usize, len: usize, seed: u64 = 0): u64 {
  let i: usize = 0;
  let h: u64;
  if (len >= 32) {
    let v1 = seed + P1 + P2;
    let v2 = seed + P2;
    let v3 = seed;
    let v4 = seed - P1;
    const limit = len - 32;
    while (i <= limit) {
      v1 = round(v1, load<u64>(p + i));
      v2 = round(v2, load<u64>(p + i + 8));
      v3 = round(v3, load<u64>(p + i + 16));
      v4 = round(v4, load<u64>(p + i + 24));
      i += 32;
    }
    h = rotl<u64>(v1, 1) + rotl<u64>(v2, 7) + rotl<u64>(v3, 12) + rotl<u64>(v4, 18);
    h = merge(h, v1);
    h = merge(h, v2);
    h = merge(h, v3);
    h = merge(h, v4);
  } else {
    h = seed + P5;
  }
  h += <u64>len;
  while (i + 8 <= len) {
    h = rotl<u64>(h ^ round(0, load<u64>(p + i)), 27) * P1 + P4;
    i += 8;
  }
  if (i + 4 <= len) {
    h = rotl<u64>(h ^ (<u64>load<u32>(p + i) * P1), 23) * P2 + P3;
    i += 4;
  }
  while (i < len) {
    h = rotl<u64>(h ^ (<u64>load<u8>(p + i) * P5), 11) * P1;
    i++;
  }
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

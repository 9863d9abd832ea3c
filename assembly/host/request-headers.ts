// The request headers as ONE proxy_get_header_map_pairs answer, read at most once per callback into
// scratch memory (host/scratch.ts) and searched in place: every header the request path needs
// (x-envoy-external-address, traceparent, tracestate, :path, :method, rule header conditions, and
// X-Forwarded-For once they were read: rules/access.ts resolveFromXff) costs no further host call
// and no allocation.
//
// Why pairs and not proxy_get_header_map_value: Envoy's get_header_map_value returns only the FIRST
// value of a repeated header (context.cc getHeaderMapValue: `entry[0]`), while some headers must be
// seen line by line: tracestate is a list over every line, and two traceparent lines make the
// request's traceparent invalid (W3C Trace Context). (X-Forwarded-For is an inline header in Envoy:
// its lines are one entry, so one value read serves when the pairs were not needed otherwise.)
// The pairs serialization (cpp-host pairs_util.cc): u32 count, count × (u32 key_len, u32
// value_len), then key NUL value NUL. Envoy keys are lower case; names are compared ASCII
// case-insensitively (rule conditions may name a header in any case, as get_header_map_value,
// which lower-cases the key, allowed).
import { MapType } from "../abi/status";
import { headerPairsScratch, scratchPtr, scratchLen } from "./scratch";

/** Serialized pairs of the current callback's request headers (0 = not read in this callback). */
let base: usize = 0;
let count: usize = 0;
let loaded: bool = false;
/** Envoy's limit on a pairs buffer it accepts (limits.h); a larger answer is not believed. */
const MAX_PAIRS: usize = 1024;

/** Start of a stream callback: the previous answer lives in dead scratch memory. */
// @ts-ignore: decorator
@inline
export function forgetRequestHeaders(): void {
  loaded = false;
  base = 0;
  count = 0;
}

/** Were the request headers read (or tried) in this callback? Then a header costs no host call. */
export function requestHeadersRead(): bool {
  return loaded;
}

/** Read the request headers if not done in this callback; false when unavailable or malformed. */
export function loadRequestHeaders(): bool {
  if (loaded) return base != 0;
  loaded = true;
  base = 0;
  count = 0;
  if (!headerPairsScratch(MapType.RequestHeaders) || scratchLen < 4) return false;
  const p = scratchPtr;
  const s = <usize>scratchLen;
  const n = <usize>load<u32>(p);
  if (n > MAX_PAIRS || <usize>4 + n * 8 > s) return false;
  // Validate the whole layout once, so lookups can walk it without bounds checks.
  let data = p + 4 + n * 8;
  const end = p + s;
  for (let i: usize = 0; i < n; i++) {
    const kl = <usize>load<u32>(p + 4 + i * 8);
    const vl = <usize>load<u32>(p + 8 + i * 8);
    if (kl > s || vl > s || data + kl + vl + 2 > end) return false;
    data += kl + vl + 2;
  }
  base = p;
  count = n;
  return true;
}

/** Value of the last `lineOf` / `first` hit. */
export let valuePtr: usize = 0;
export let valueLen: i32 = 0;

function keyEquals(p: usize, len: usize, name: ArrayBuffer): bool {
  if (len != <usize>name.byteLength) return false;
  const k = changetype<usize>(name);
  // Envoy's keys are lower case, and so are the names the filter looks up: equal words settle most
  // of a matching name at once; the rest (or a differing word on) is compared case-insensitively.
  let i: usize = 0;
  while (i + 8 <= len && load<u64>(p + i) == load<u64>(k + i)) i += 8;
  if (i + 4 <= len && load<u32>(p + i) == load<u32>(k + i)) i += 4;
  for (; i < len; i++) {
    let c = <u32>load<u8>(p + i);
    if (c - 0x41 < 26) c |= 0x20;
    let d = <u32>load<u8>(k + i);
    if (d - 0x41 < 26) d |= 0x20;
    if (c != d) return false;
  }
  return true;
}

/**
 * The `index`-th line (0-based) of header `name` (UTF-8, any case) into valuePtr/valueLen; false
 * when there are fewer lines. Reads the headers first if needed.
 */
export function lineOf(name: ArrayBuffer, index: i32): bool {
  if (!loadRequestHeaders()) return false;
  const p = base;
  let data = p + 4 + count * 8;
  let seen = 0;
  const nl = <usize>name.byteLength;
  for (let i: usize = 0; i < count; i++) {
    const kl = <usize>load<u32>(p + 4 + i * 8);
    const vl = <usize>load<u32>(p + 8 + i * 8);
    if (kl == nl && keyEquals(data, kl, name)) {
      if (seen == index) {
        valuePtr = data + kl + 1;
        valueLen = <i32>vl;
        return true;
      }
      seen++;
    }
    data += kl + vl + 2;
  }
  return false;
}

/** First line of `name` (what get_header_map_value would return), without a host call. */
// @ts-ignore: decorator
@inline
export function first(name: ArrayBuffer): bool {
  return lineOf(name, 0);
}

/** Number of lines of header `name`. */
export function lineCount(name: ArrayBuffer): i32 {
  if (!loadRequestHeaders()) return 0;
  const p = base;
  let data = p + 4 + count * 8;
  let n = 0;
  const nl = <usize>name.byteLength;
  for (let i: usize = 0; i < count; i++) {
    const kl = <usize>load<u32>(p + 4 + i * 8);
    const vl = <usize>load<u32>(p + 8 + i * 8);
    if (kl == nl && keyEquals(data, kl, name)) n++;
    data += kl + vl + 2;
  }
  return n;
}

/**
 * Collect (ptr, len) of every line of `name`, in order, as u32 pairs at `out` (at most `max`);
 * returns how many. For lists spread over lines (X-Forwarded-For, tracestate).
 */
export function collectLines(name: ArrayBuffer, out: usize, max: i32): i32 {
  if (!loadRequestHeaders()) return 0;
  const p = base;
  let data = p + 4 + count * 8;
  let n = 0;
  const nl = <usize>name.byteLength;
  for (let i: usize = 0; i < count && n < max; i++) {
    const kl = <usize>load<u32>(p + 4 + i * 8);
    const vl = <usize>load<u32>(p + 8 + i * 8);
    if (kl == nl && keyEquals(data, kl, name)) {
      store<u32>(out + <usize>n * 8, <u32>(data + kl + 1));
      store<u32>(out + <usize>n * 8 + 4, <u32>vl);
      n++;
    }
    data += kl + vl + 2;
  }
  return n;
}

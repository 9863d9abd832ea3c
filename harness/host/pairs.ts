/**
 * Header/metadata pair serialization (proxy-wasm-cpp-host src/pairs_util.cc):
 * u32 count, count × (u32 key_len, u32 value_len), then key\0value\0 for each pair, little-endian.
 * Strings are byte strings (latin1: one JS char per byte).
 */

/** cpp-host include/proxy-wasm/limits.h PROXY_WASM_HOST_PAIRS_MAX_BYTES / _MAX_COUNT. */
export const PAIRS_MAX_BYTES = 1024 * 1024;
export const PAIRS_MAX_COUNT = 1024;

export type Pairs = Array<[string, string]>;

export function pairsSize(keys: readonly string[], values: readonly string[]): number {
  let size = 4;
  for (let i = 0; i < keys.length; i++) size += 8 + keys[i].length + 1 + values[i].length + 1;
  return size;
}

/**
 * Writes the serialized pairs into `buf` at `offset` (buf must have room for pairsSize bytes; `dv`
 * views the same bytes as `buf`). This runs for every get_header_map_pairs: the counts are DataView
 * stores and the strings go out in one native latin1 write of key\0value\0… built by `+`
 * (rope strings, flattened once by the write). Measured under callgrind, that costs less than half
 * of an Array#join of the same strings, and far less than a JS store per byte or a native write per
 * string.
 */
export function marshalPairsInto(buf: Buffer, dv: DataView, offset: number, keys: readonly string[], values: readonly string[]): void {
  const n = keys.length;
  let p = offset;
  dv.setUint32(p, n, true);
  p += 4;
  if (n === 0) return;
  let s = `${keys[0]}\0${values[0]}`;
  dv.setUint32(p, keys[0].length, true);
  dv.setUint32(p + 4, values[0].length, true);
  p += 8;
  for (let i = 1; i < n; i++) {
    const k = keys[i];
    const v = values[i];
    s = s + "\0" + k + "\0" + v;
    dv.setUint32(p, k.length, true);
    dv.setUint32(p + 4, v.length, true);
    p += 8;
  }
  // key\0value\0 … : the string lacks only the last NUL.
  p += buf.latin1Write(s, p);
  buf[p] = 0;
}

export function serializePairs(keys: readonly string[], values: readonly string[]): Buffer {
  const buf = Buffer.allocUnsafe(pairsSize(keys, values));
  marshalPairsInto(buf, new DataView(buf.buffer, buf.byteOffset, buf.length), 0, keys, values);
  return buf;
}

export function serializePairList(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  return serializePairs(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
}

/**
 * cpp-host PairsUtil::toPairs: strict; any malformed or over-limit buffer yields an empty list
 * (so proxy_set_header_map_pairs with a bad buffer removes every header, as in Envoy).
 */
export function parsePairs(bytes: Uint8Array): Pairs {
  const size = bytes.length;
  if (size > PAIRS_MAX_BYTES || size < 4) return [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(0, true);
  if (n > PAIRS_MAX_COUNT) return [];
  let pos = 4;
  if (pos + n * 8 > size) return [];
  const lens = new Array<number>(n * 2);
  for (let i = 0; i < n * 2; i++) {
    lens[i] = dv.getUint32(pos, true);
    pos += 4;
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Pairs = new Array(n);
  for (let i = 0; i < n; i++) {
    const kl = lens[2 * i];
    const vl = lens[2 * i + 1];
    if (pos + kl + 1 > size) return [];
    const key = buf.latin1Slice(pos, pos + kl);
    pos += kl;
    if (buf[pos++] !== 0) return [];
    if (pos + vl + 1 > size) return [];
    const value = buf.latin1Slice(pos, pos + vl);
    pos += vl;
    if (buf[pos++] !== 0) return [];
    out[i] = [key, value];
  }
  if (pos !== size) return [];
  return out;
}

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
 * Writes the serialized pairs into `buf` at `offset` (buf must have room for pairsSize bytes).
 * This runs for every get_header_map_pairs: the counts are plain byte stores and the strings go out
 * joined with NUL in one native latin1 write (one JS loop per byte, or one native write per string,
 * costs several times more for a dozen headers).
 */
export function marshalPairsInto(buf: Buffer, offset: number, keys: readonly string[], values: readonly string[]): void {
  const n = keys.length;
  let p = offset;
  p = writeU32(buf, p, n);
  if (n === 0) return;
  const parts = new Array<string>(2 * n);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    const v = values[i];
    parts[2 * i] = k;
    parts[2 * i + 1] = v;
    p = writeU32(buf, p, k.length);
    p = writeU32(buf, p, v.length);
  }
  // key\0value\0 … : the joined string lacks only the last NUL.
  p += buf.latin1Write(parts.join("\0"), p);
  buf[p] = 0;
}

/** Little-endian u32 at `p`; returns p + 4. */
function writeU32(buf: Buffer, p: number, v: number): number {
  buf[p] = v;
  buf[p + 1] = v >>> 8;
  buf[p + 2] = v >>> 16;
  buf[p + 3] = v >>> 24;
  return p + 4;
}

export function serializePairs(keys: readonly string[], values: readonly string[]): Buffer {
  const buf = Buffer.allocUnsafe(pairsSize(keys, values));
  marshalPairsInto(buf, 0, keys, values);
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

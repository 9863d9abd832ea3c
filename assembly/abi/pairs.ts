// Envoy header-pair serialization (proxy-wasm-cpp-host src/pairs_util.cc): little-endian
// u32 count, count × (u32 key_len, u32 value_len), then each key and value followed by a NUL.

export class HeaderPair {
  constructor(public key: string, public value: string) {}
}

/** Serialize pairs as Envoy expects them for set_header_map_pairs / http_call / local replies. */
export function serializePairs(pairs: HeaderPair[]): ArrayBuffer {
  const n = pairs.length;
  const keys = new Array<ArrayBuffer>(n);
  const values = new Array<ArrayBuffer>(n);
  let size = 4 + n * 8;
  for (let i = 0; i < n; i++) {
    const k = String.UTF8.encode(pairs[i].key);
    const v = String.UTF8.encode(pairs[i].value);
    keys[i] = k;
    values[i] = v;
    size += k.byteLength + v.byteLength + 2;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, n);
  let lens = base + 4;
  let data = base + 4 + <usize>n * 8;
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    const v = values[i];
    store<u32>(lens, k.byteLength);
    store<u32>(lens + 4, v.byteLength);
    lens += 8;
    memory.copy(data, changetype<usize>(k), k.byteLength);
    data += k.byteLength;
    store<u8>(data, 0);
    data += 1;
    memory.copy(data, changetype<usize>(v), v.byteLength);
    data += v.byteLength;
    store<u8>(data, 0);
    data += 1;
  }
  return out;
}

/** Parse a pairs buffer; a malformed buffer yields an empty list (as Envoy's strict parser does). */
export function deserializePairs(buf: ArrayBuffer | null): HeaderPair[] {
  const out = new Array<HeaderPair>();
  if (buf === null) return out;
  const size = <usize>buf.byteLength;
  if (size < 4) return out;
  const base = changetype<usize>(buf);
  const n = <usize>load<u32>(base);
  if (<usize>4 + n * 8 > size) return out;
  let data = base + 4 + n * 8;
  const end = base + size;
  for (let i: usize = 0; i < n; i++) {
    const kl = <usize>load<u32>(base + 4 + i * 8);
    const vl = <usize>load<u32>(base + 8 + i * 8);
    if (data + kl + vl + 2 > end) return new Array<HeaderPair>();
    const k = String.UTF8.decodeUnsafe(data, kl);
    data += kl + 1;
    const v = String.UTF8.decodeUnsafe(data, vl);
    data += vl + 1;
    out.push(new HeaderPair(k, v));
  }
  return out;
}

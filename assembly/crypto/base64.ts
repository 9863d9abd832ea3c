// Strict standard base64 (RFC 4648 §4, alphabet A–Z a–z 0–9 + /, "=" padding required) → bytes.
// Returns null on any other character, bad padding, non-zero trailing bits or a length that is not
// a multiple of 4. Used for keys and signatures in the plugin configuration and response headers.

function value(c: u32): i32 {
  if (c >= 0x41 && c <= 0x5a) return <i32>(c - 0x41);
  if (c >= 0x61 && c <= 0x7a) return <i32>(c - 0x61 + 26);
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30 + 52);
  if (c == 0x2b) return 62;
  if (c == 0x2f) return 63;
  return -1;
}

export function base64Decode(p: usize, len: i32): ArrayBuffer | null {
  if (len <= 0 || (len & 3) != 0) return null;
  let pad = 0;
  if (load<u8>(p + <usize>(len - 1)) == 0x3d) pad++;
  if (load<u8>(p + <usize>(len - 2)) == 0x3d) pad++;
  const out = new ArrayBuffer((len >> 2) * 3 - pad);
  const o = changetype<usize>(out);
  let w = 0;
  for (let i = 0; i < len; i += 4) {
    const last = i + 4 == len;
    let acc: u32 = 0;
    for (let j = 0; j < 4; j++) {
      const c = <u32>load<u8>(p + <usize>(i + j));
      let v: i32;
      if (c == 0x3d && last && j >= 4 - pad) v = 0;
      else {
        v = value(c);
        if (v < 0) return null;
      }
      acc = (acc << 6) | <u32>v;
    }
    if (last && pad == 2) {
      if ((acc & 0xffff) != 0) return null;
      store<u8>(o + <usize>w, <u8>(acc >> 16));
      w += 1;
    } else if (last && pad == 1) {
      if ((acc & 0xff) != 0) return null;
      store<u8>(o + <usize>w, <u8>(acc >> 16));
      store<u8>(o + <usize>w + 1, <u8>(acc >> 8));
      w += 2;
    } else {
      store<u8>(o + <usize>w, <u8>(acc >> 16));
      store<u8>(o + <usize>w + 1, <u8>(acc >> 8));
      store<u8>(o + <usize>w + 2, <u8>acc);
      w += 3;
    }
  }
  return out;
}

export function base64DecodeString(s: string): ArrayBuffer | null {
  const b = String.UTF8.encode(s);
  return base64Decode(changetype<usize>(b), b.byteLength);
}

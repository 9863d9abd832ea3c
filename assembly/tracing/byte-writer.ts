// A growable byte buffer for building request bodies (OTLP JSON) without string concatenation:
// one ArrayBuffer, reused across batches, doubled when full.
import { writeHex } from "./hex";

const DEC_TMP: usize = memory.data(24);

export class ByteWriter {
  buf: ArrayBuffer;
  len: i32 = 0;

  constructor(initialCapacity: i32) {
    this.buf = new ArrayBuffer(initialCapacity < 64 ? 64 : initialCapacity);
  }

  get ptr(): usize { return changetype<usize>(this.buf); }
  get capacity(): i32 { return this.buf.byteLength; }

  reset(): void { this.len = 0; }

  /** Make room for n more bytes; returns the write address. */
  // @ts-ignore: decorator
  @inline
  reserve(n: i32): usize {
    const need = this.len + n;
    if (need > this.buf.byteLength) this.grow(need);
    return changetype<usize>(this.buf) + <usize>this.len;
  }

  private grow(need: i32): void {
    {
      let cap = this.buf.byteLength << 1;
      while (cap < need) cap <<= 1;
      const nb = new ArrayBuffer(cap);
      memory.copy(changetype<usize>(nb), changetype<usize>(this.buf), <usize>this.len);
      this.buf = nb;
    }
  }

  byte(b: u8): void {
    const p = this.reserve(1);
    store<u8>(p, b);
    this.len += 1;
  }

  bytes(src: usize, n: i32): void {
    if (n <= 0) return;
    const p = this.reserve(n);
    if (n <= 48) copySmall(p, src, n); // memory.copy is a runtime call: slow for short fragments
    else memory.copy(p, src, <usize>n);
    this.len += n;
  }

  /** Append pre-encoded bytes (constants built once with String.UTF8.encode). */
  raw(b: ArrayBuffer): void { this.bytes(changetype<usize>(b), b.byteLength); }

  /** Decimal digits of an unsigned integer. */
  dec(v: u64): void {
    const p = this.reserve(20);
    const tmp = DEC_TMP;
    let i: i32 = 20;
    do {
      const q = v / 10;
      i--;
      store<u8>(tmp + <usize>i, <u8>(0x30 + <u32>(v - q * 10)));
      v = q;
    } while (v != 0);
    const n = 20 - i;
    copySmall(p, tmp + <usize>i, n);
    this.len += n;
  }

  /** n lowercase hex digits of v. */
  hex(v: u64, n: i32): void {
    const p = this.reserve(n);
    writeHex(p, v, n);
    this.len += n;
  }

  /** The bytes at src as the inside of a JSON string (escapes '"', '\\' and control characters). */
  jsonEscaped(src: usize, n: i32): void {
    // Worst case: every byte becomes \u00XX (6 bytes).
    const p0 = this.reserve(n * 6);
    let p = p0;
    for (let i = 0; i < n; i++) {
      const c = load<u8>(src + <usize>i);
      if (c == 0x22 || c == 0x5c) {
        store<u8>(p, 0x5c); store<u8>(p + 1, c); p += 2;
      } else if (c < 0x20 || c == 0x7f) {
        store<u8>(p, 0x5c); store<u8>(p + 1, 0x75); store<u8>(p + 2, 0x30); store<u8>(p + 3, 0x30);
        writeHex(p + 4, <u64>c, 2);
        p += 6;
      } else {
        store<u8>(p, c); p += 1;
      }
    }
    this.len += <i32>(p - p0);
  }

  /** Copy the content into a new exact-size ArrayBuffer. */
  toArrayBuffer(): ArrayBuffer {
    const out = new ArrayBuffer(this.len);
    memory.copy(changetype<usize>(out), changetype<usize>(this.buf), <usize>this.len);
    return out;
  }
}

// @ts-ignore: decorator
@inline
function copySmall(dst: usize, src: usize, n: i32): void {
  let i: i32 = 0;
  for (; i + 8 <= n; i += 8) store<u64>(dst + <usize>i, load<u64>(src + <usize>i));
  for (; i < n; i++) store<u8>(dst + <usize>i, load<u8>(src + <usize>i));
}

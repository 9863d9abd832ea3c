// Lowercase-hex helpers working on raw linear memory (no allocation).
// W3C Trace Context accepts lowercase hex only: an uppercase digit makes the header invalid.

/** Value of one lowercase hex digit, or -1. */
// @ts-ignore: decorator
@inline
export function hexDigit(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);      // '0'..'9'
  if (c - 0x61 < 6) return <i32>(c - 0x61 + 10);  // 'a'..'f'
  return -1;
}

/** Sticky error flag of readHex (set when a digit was not lowercase hex); see clearHexError/hexFailed. */
let hexError: bool = false;

export function clearHexError(): void { hexError = false; }
export function hexFailed(): bool { return hexError; }

/** Read `n` (≤ 16) lowercase hex digits at `p` as a big-endian number; sets hexError on a bad digit. */
export function readHex(p: usize, n: i32): u64 {
  let v: u64 = 0;
  let bad: i32 = 0;
  for (let i = 0; i < n; i++) {
    const d = hexDigit(<u32>load<u8>(p + <usize>i));
    bad |= d;          // -1 sets the sign bit
    v = (v << 4) | <u64>(d & 0xf);
  }
  if (bad < 0) hexError = true;
  return v;
}

const HEX_CHARS: usize = memory.data<u8>([
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
]);

/** Write `n` (≤ 16) lowercase hex digits of the low n*4 bits of `v` at `p` (zero padded). */
export function writeHex(p: usize, v: u64, n: i32): void {
  for (let i = n - 1; i >= 0; i--) {
    store<u8>(p + <usize>i, load<u8>(HEX_CHARS + <usize>(v & 0xf)));
    v >>= 4;
  }
}

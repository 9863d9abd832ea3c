// W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context-2/#traceparent-header):
//   version "-" trace-id "-" parent-id "-" trace-flags   e.g. 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
// Rules applied here (an invalid header is treated as absent, so a new trace starts):
//   - lowercase hex only; version "ff" is invalid;
//   - version 00: exactly 55 characters;
//   - a higher (future) version: at least 55 characters, and if longer, the character after the
//     flags must be "-" (the fields we know are parsed, the rest is ignored);
//   - all-zero trace-id or parent-id is invalid;
//   - optional whitespace (SP/HTAB) around the value is ignored, as an HTTP parser would strip it.
// Parsing works on raw bytes and allocates nothing.
import { readHex, clearHexError, hexFailed, writeHex } from "./hex";

/** Trace flags (W3C Level 2): bit 0 sampled, bit 1 random (trace-id's right 56 bits are random). */
export const FLAG_SAMPLED: u8 = 0x01;
export const FLAG_RANDOM: u8 = 0x02;

/** Length of a version-00 traceparent. */
export const TRACEPARENT_LEN: i32 = 55;

/** Parsed trace context. The trace id is kept as two big-endian halves (hi = first 16 hex chars). */
export class TraceParent {
  valid: bool = false;
  version: u8 = 0;
  traceHi: u64 = 0;
  traceLo: u64 = 0;
  parentId: u64 = 0;
  flags: u8 = 0;

  reset(): void {
    this.valid = false;
    this.version = 0;
    this.traceHi = 0;
    this.traceLo = 0;
    this.parentId = 0;
    this.flags = 0;
  }

  get sampled(): bool { return (this.flags & FLAG_SAMPLED) != 0; }
}

/** Parse `len` bytes at `ptr` into `out`; returns out.valid. Never traps, whatever the input. */
export function parseTraceparent(ptr: usize, len: i32, out: TraceParent): bool {
  out.reset();
  // Strip optional whitespace.
  while (len > 0 && isOws(load<u8>(ptr))) { ptr++; len--; }
  while (len > 0 && isOws(load<u8>(ptr + <usize>(len - 1)))) len--;
  if (len < TRACEPARENT_LEN) return false;

  clearHexError();
  const version = <u8>readHex(ptr, 2);
  if (hexFailed() || version == 0xff) return false;
  if (version == 0 && len != TRACEPARENT_LEN) return false;
  if (version != 0 && len > TRACEPARENT_LEN && load<u8>(ptr + 55) != 0x2d) return false;
  if (load<u8>(ptr + 2) != 0x2d || load<u8>(ptr + 35) != 0x2d || load<u8>(ptr + 52) != 0x2d) return false;

  const hi = readHex(ptr + 3, 16);
  const lo = readHex(ptr + 19, 16);
  const parent = readHex(ptr + 36, 16);
  const flags = <u8>readHex(ptr + 53, 2);
  if (hexFailed()) return false;
  if ((hi | lo) == 0 || parent == 0) return false;

  out.version = version;
  out.traceHi = hi;
  out.traceLo = lo;
  out.parentId = parent;
  out.flags = flags;
  out.valid = true;
  return true;
}

/** Write a version-00 traceparent (55 bytes) at `ptr`. Only the sampled and random flags are kept. */
export function formatTraceparent(ptr: usize, traceHi: u64, traceLo: u64, spanId: u64, flags: u8): void {
  store<u8>(ptr, 0x30);
  store<u8>(ptr + 1, 0x30);
  store<u8>(ptr + 2, 0x2d);
  writeHex(ptr + 3, traceHi, 16);
  writeHex(ptr + 19, traceLo, 16);
  store<u8>(ptr + 35, 0x2d);
  writeHex(ptr + 36, spanId, 16);
  store<u8>(ptr + 52, 0x2d);
  writeHex(ptr + 53, <u64>(flags & (FLAG_SAMPLED | FLAG_RANDOM)), 2);
}

// @ts-ignore: decorator
@inline
function isOws(c: u8): bool { return c == 0x20 || c == 0x09; }

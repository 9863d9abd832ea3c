// Byte-level IPv4/IPv6 address and CIDR parsing. No allocation, no throw: results go to module
// globals (one parse at a time per VM, which is all a single-threaded VM ever does).
//
// Addresses: IPv4 dotted quad (no leading zeros, like Go's netip: "010.1.1.1" is ambiguous octal
// in some parsers, so it is rejected); IPv6 with "::" compression and an embedded IPv4 tail.
// IPv4-mapped IPv6 (::ffff:a.b.c.d) is converted to IPv4 so one rule covers both spellings.
// CIDRs: "addr/len"; a bare address means /32 or /128; host bits are masked off (as Envoy's
// CidrRange does). An IPv4-mapped IPv6 CIDR with len ≥ 96 becomes the IPv4 CIDR of len-96.
// Client addresses (source.address, XFF entries): also "[v6]", "[v6]:port", "v4:port", a zone
// ("%eth0", ignored) and surrounding spaces/tabs.

/** Result of the last successful parse. */
export let ipIsV4: bool = false;
export let ipV4: u32 = 0;
export let ipHi: u64 = 0;
export let ipLo: u64 = 0;
export let ipPrefix: i32 = 0;

const GROUPS: usize = memory.data(16);

@inline function isDigit(c: u32): bool { return c - 0x30 < 10; }

function hexDigit(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

/** Parse a dotted-quad IPv4 at p[0..len) exactly; result in ipV4. */
function parseV4(p: usize, len: i32): bool {
  let i = 0;
  let addr: u32 = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= len || load<u8>(p + <usize>i) != 0x2e) return false;
      i++;
    }
    const s = i;
    let v: u32 = 0;
    while (i < len && i - s < 4) {
      const c = <u32>load<u8>(p + <usize>i);
      if (!isDigit(c)) break;
      v = v * 10 + (c - 0x30);
      i++;
    }
    const nd = i - s;
    if (nd == 0 || nd > 3 || v > 255) return false;
    if (nd > 1 && load<u8>(p + <usize>s) == 0x30) return false; // leading zero
    addr = (addr << 8) | v;
  }
  if (i != len) return false;
  ipV4 = addr;
  return true;
}

/** Parse an IPv6 address at p[0..len) exactly; result in ipHi/ipLo. */
function parseV6(p: usize, len: i32): bool {
  if (len < 2) return false;
  let i = 0;
  let n = 0;          // groups written
  let dc = -1;        // group index where "::" stands
  if (load<u8>(p) == 0x3a) {
    if (load<u8>(p + 1) != 0x3a) return false;
    dc = 0;
    i = 2;
    if (i == len) { store<u64>(GROUPS, 0); store<u64>(GROUPS + 8, 0); ipHi = 0; ipLo = 0; return true; }
  }
  while (true) {
    if (n >= 8) return false;
    const s = i;
    let v: u32 = 0;
    while (i < len && i - s < 5) {
      const d = hexDigit(<u32>load<u8>(p + <usize>i));
      if (d < 0) break;
      v = (v << 4) | <u32>d;
      i++;
    }
    const nd = i - s;
    if (i < len && load<u8>(p + <usize>i) == 0x2e) {
      // Embedded IPv4 in the last 32 bits.
      if (n > 6) return false;
      if (!parseV4(p + <usize>s, len - s)) return false;
      store<u16>(GROUPS + <usize>n * 2, <u16>(ipV4 >> 16));
      store<u16>(GROUPS + <usize>(n + 1) * 2, <u16>(ipV4 & 0xffff));
      n += 2;
      i = len;
      break;
    }
    if (nd == 0 || nd > 4) return false;
    store<u16>(GROUPS + <usize>n * 2, <u16>v);
    n++;
    if (i == len) break;
    if (load<u8>(p + <usize>i) != 0x3a) return false;
    i++;
    if (i < len && load<u8>(p + <usize>i) == 0x3a) {
      if (dc >= 0) return false;
      dc = n;
      i++;
      if (i == len) break;
    } else if (i == len) {
      return false; // trailing single ':'
    }
  }
  if (dc >= 0) {
    if (n > 7) return false;
    // Move groups after the "::" to the end, zero the gap.
    const tail = n - dc;
    for (let k = tail - 1; k >= 0; k--) {
      store<u16>(GROUPS + <usize>(8 - tail + k) * 2, load<u16>(GROUPS + <usize>(dc + k) * 2));
    }
    for (let k = dc; k < 8 - tail; k++) store<u16>(GROUPS + <usize>k * 2, 0);
  } else if (n != 8) {
    return false;
  }
  let hi: u64 = 0, lo: u64 = 0;
  for (let k = 0; k < 4; k++) hi = (hi << 16) | <u64>load<u16>(GROUPS + <usize>k * 2);
  for (let k = 4; k < 8; k++) lo = (lo << 16) | <u64>load<u16>(GROUPS + <usize>k * 2);
  ipHi = hi;
  ipLo = lo;
  return true;
}

function hasColon(p: usize, len: i32): bool {
  for (let i = 0; i < len; i++) if (load<u8>(p + <usize>i) == 0x3a) return true;
  return false;
}

/** Parse an address (no prefix, no port); sets ipIsV4 and the address. Mapped v6 → v4. */
export function parseIp(p: usize, len: i32): bool {
  if (len <= 0 || len > 45) return false;
  if (!hasColon(p, len)) {
    if (!parseV4(p, len)) return false;
    ipIsV4 = true;
    return true;
  }
  if (!parseV6(p, len)) return false;
  if (ipHi == 0 && (ipLo >> 32) == 0xffff) {
    ipIsV4 = true;
    ipV4 = <u32>(ipLo & 0xffffffff);
  } else {
    ipIsV4 = false;
  }
  return true;
}

/** Parse "addr" or "addr/len" at p[0..len). Sets ip*, ipPrefix; masks host bits. */
export function parseCidr(p: usize, len: i32): bool {
  let slash = -1;
  for (let i = 0; i < len; i++) {
    if (load<u8>(p + <usize>i) == 0x2f) { slash = i; break; }
  }
  const alen = slash < 0 ? len : slash;
  if (alen <= 0 || alen > 45) return false;
  const v6 = hasColon(p, alen);
  if (v6) {
    if (!parseV6(p, alen)) return false;
  } else {
    if (!parseV4(p, alen)) return false;
  }
  let plen: i32;
  if (slash < 0) {
    plen = v6 ? 128 : 32;
  } else {
    const s = slash + 1;
    const nd = len - s;
    if (nd < 1 || nd > 3) return false;
    if (nd > 1 && load<u8>(p + <usize>s) == 0x30) return false;
    plen = 0;
    for (let i = s; i < len; i++) {
      const c = <u32>load<u8>(p + <usize>i);
      if (!isDigit(c)) return false;
      plen = plen * 10 + <i32>(c - 0x30);
    }
    if (plen > (v6 ? 128 : 32)) return false;
  }
  if (v6) {
    if (ipHi == 0 && (ipLo >> 32) == 0xffff && plen >= 96) {
      ipIsV4 = true;
      ipV4 = <u32>(ipLo & 0xffffffff);
      plen -= 96;
    } else {
      ipIsV4 = false;
    }
  } else {
    ipIsV4 = true;
  }
  ipPrefix = plen;
  if (ipIsV4) {
    ipV4 &= maskV4(plen);
  } else {
    ipHi &= maskHi(plen);
    ipLo &= maskLo(plen);
  }
  return true;
}

// @ts-ignore: decorator
@inline export function maskV4(len: i32): u32 {
  return len == 0 ? 0 : (0xffffffff << <u32>(32 - len));
}
// @ts-ignore: decorator
@inline export function maskHi(len: i32): u64 {
  return len >= 64 ? 0xffffffffffffffff : (len == 0 ? 0 : (0xffffffffffffffff << <u64>(64 - len)));
}
// @ts-ignore: decorator
@inline export function maskLo(len: i32): u64 {
  return len <= 64 ? 0 : (len >= 128 ? 0xffffffffffffffff : (0xffffffffffffffff << <u64>(128 - len)));
}

/**
 * Parse a client address as Envoy and proxies write it: "1.2.3.4", "1.2.3.4:5678", "::1",
 * "[::1]", "[::1]:8080", "fe80::1%eth0", with optional surrounding spaces/tabs. Mapped v6 → v4.
 */
export function parseClientAddress(p: usize, len: i32): bool {
  // Trim spaces and tabs.
  let s = 0, e = len;
  while (s < e && (load<u8>(p + <usize>s) == 0x20 || load<u8>(p + <usize>s) == 0x09)) s++;
  while (e > s && (load<u8>(p + <usize>e - 1) == 0x20 || load<u8>(p + <usize>e - 1) == 0x09)) e--;
  if (e <= s) return false;
  if (load<u8>(p + <usize>s) == 0x5b) {
    // [v6] or [v6]:port
    let close = -1;
    for (let i = s + 1; i < e; i++) if (load<u8>(p + <usize>i) == 0x5d) { close = i; break; }
    if (close < 0) return false;
    if (close + 1 < e) {
      if (load<u8>(p + <usize>close + 1) != 0x3a || !validPort(p + <usize>close + 2, e - close - 2)) return false;
    }
    let ae = close;
    for (let i = s + 1; i < close; i++) if (load<u8>(p + <usize>i) == 0x25) { ae = i; break; } // zone
    if (!parseV6(p + <usize>s + 1, ae - s - 1)) return false;
    mappedToV4();
    return true;
  }
  // Count colons: exactly one → v4:port; none → v4; more → bare v6.
  let colons = 0, last = -1;
  for (let i = s; i < e; i++) if (load<u8>(p + <usize>i) == 0x3a) { colons++; last = i; }
  if (colons == 0) {
    if (!parseV4(p + <usize>s, e - s)) return false;
    ipIsV4 = true;
    return true;
  }
  if (colons == 1) {
    if (!validPort(p + <usize>last + 1, e - last - 1)) return false;
    if (!parseV4(p + <usize>s, last - s)) return false;
    ipIsV4 = true;
    return true;
  }
  let ae = e;
  for (let i = s; i < e; i++) if (load<u8>(p + <usize>i) == 0x25) { ae = i; break; }
  if (!parseV6(p + <usize>s, ae - s)) return false;
  mappedToV4();
  return true;
}

function mappedToV4(): void {
  if (ipHi == 0 && (ipLo >> 32) == 0xffff) {
    ipIsV4 = true;
    ipV4 = <u32>(ipLo & 0xffffffff);
  } else {
    ipIsV4 = false;
  }
}

function validPort(p: usize, len: i32): bool {
  if (len < 1 || len > 5) return false;
  let v: u32 = 0;
  for (let i = 0; i < len; i++) {
    const c = <u32>load<u8>(p + <usize>i);
    if (!isDigit(c)) return false;
    v = v * 10 + (c - 0x30);
  }
  return v <= 65535;
}

/** Format the last parsed address (ip*) as text (tests, logs). */
export function formatIp(): string {
  if (ipIsV4) {
    return ((ipV4 >> 24) & 0xff).toString() + "." + ((ipV4 >> 16) & 0xff).toString() + "." +
      ((ipV4 >> 8) & 0xff).toString() + "." + (ipV4 & 0xff).toString();
  }
  let s = "";
  for (let k = 0; k < 8; k++) {
    const g = k < 4 ? (ipHi >> <u64>((3 - k) * 16)) & 0xffff : (ipLo >> <u64>((7 - k) * 16)) & 0xffff;
    if (k > 0) s += ":";
    s += (<u32>g).toString(16);
  }
  return s;
}

/** Set the parse result directly (benches, tests): an IPv4 address. */
export function setParsedV4(a: u32): void {
  ipIsV4 = true;
  ipV4 = a;
  ipPrefix = 32;
}

/** Set the parse result directly: an IPv6 address (restoring a client address resolved earlier). */
export function setParsedV6(hi: u64, lo: u64): void {
  ipIsV4 = false;
  ipHi = hi;
  ipLo = lo;
  ipPrefix = 128;
}

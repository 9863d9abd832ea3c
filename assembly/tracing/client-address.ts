// client.address of exported spans: the client address resolved as the access rules resolve it
// (settings client_address: connection / envoy_external / xff), formatted without the port into a
// static buffer (IPv4 dotted quad; IPv6 as 8 hex groups with the longest zero run compressed).
import { ClientAddressSettings } from "../config/settings";
import { ipIsV4, ipV4, ipHi, ipLo } from "../rules/cidr";
import { resolveClientAddress } from "../rules/access";

export const ADDR_OUT: usize = memory.data(64);

/** Resolve and format; returns the length at ADDR_OUT (0 = unknown). */
export function clientAddressBytes(cfg: ClientAddressSettings): i32 {
  if (!resolveClientAddress(cfg)) return 0;
  return formatParsedAddress(ADDR_OUT);
}

/** Format the address last parsed by rules/cidr.ts at `out`; returns the length. */
export function formatParsedAddress(out: usize): i32 {
  let w = out;
  if (ipIsV4) {
    for (let i = 3; i >= 0; i--) {
      w = writeDec(w, (ipV4 >> <u32>(i * 8)) & 0xff);
      if (i > 0) { store<u8>(w, 0x2e); w++; }
    }
    return <i32>(w - out);
  }
  // groups
  const g = new StaticArray<u32>(8);
  for (let k = 0; k < 8; k++) {
    unchecked(g[k] = <u32>(k < 4 ? (ipHi >> <u64>((3 - k) * 16)) & 0xffff : (ipLo >> <u64>((7 - k) * 16)) & 0xffff));
  }
  // longest run of ≥ 2 zero groups (RFC 5952)
  let bestStart = -1, bestLen = 0, curStart = -1, curLen = 0;
  for (let k = 0; k < 8; k++) {
    if (unchecked(g[k]) == 0) {
      if (curStart < 0) { curStart = k; curLen = 0; }
      curLen++;
      if (curLen > bestLen) { bestLen = curLen; bestStart = curStart; }
    } else {
      curStart = -1;
    }
  }
  if (bestLen < 2) bestStart = -1;
  let k = 0;
  while (k < 8) {
    if (k == bestStart) {
      store<u8>(w, 0x3a); w++;
      if (k == 0) { store<u8>(w, 0x3a); w++; }
      k += bestLen;
      if (k == 8) break;
      continue;
    }
    w = writeHexGroup(w, unchecked(g[k]));
    k++;
    if (k < 8) { store<u8>(w, 0x3a); w++; }
  }
  return <i32>(w - out);
}

function writeDec(w: usize, v: u32): usize {
  if (v >= 100) { store<u8>(w, <u8>(0x30 + v / 100)); w++; }
  if (v >= 10) { store<u8>(w, <u8>(0x30 + (v / 10) % 10)); w++; }
  store<u8>(w, <u8>(0x30 + v % 10));
  return w + 1;
}

function writeHexGroup(w: usize, v: u32): usize {
  let started = false;
  for (let s = 12; s >= 0; s -= 4) {
    const d = (v >> <u32>s) & 0xf;
    if (d != 0 || started || s == 0) {
      store<u8>(w, <u8>(d < 10 ? 0x30 + d : 0x57 + d));
      w++;
      started = true;
    }
  }
  return w;
}

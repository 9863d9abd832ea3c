/**
 * Reference address / CIDR semantics for the fuzzing oracles, from the documented contract of the
 * rules (assembly/rules/cidr.ts header, issue #3), written independently in TypeScript with bigints:
 *   - IPv4: dotted quad, 1–3 digits per part, no leading zeros, ≤ 255;
 *   - IPv6: 1–4 hex digits per group, one "::" standing for ≥ 1 zero group, optional dotted IPv4
 *     in the last 32 bits; no zone in a CIDR;
 *   - CIDR "addr[/len]", len decimal 1–3 digits without leading zero, ≤ 32 / 128, host bits masked;
 *     IPv4-mapped IPv6 (::ffff:a.b.c.d) with len ≥ 96 is the IPv4 CIDR of len − 96;
 *   - client addresses: "v4", "v4:port", "[v6]", "[v6]:port", bare v6 with an optional "%zone",
 *     spaces/tabs trimmed; port 1–5 digits ≤ 65535; mapped IPv6 → IPv4.
 */

export interface Addr {
  v4: boolean;
  /** 32-bit (v4) or 128-bit (v6) value. */
  value: bigint;
}

export interface Cidr extends Addr {
  len: number;
}

const DEC = /^[0-9]+$/;
const HEX = /^[0-9a-fA-F]{1,4}$/;

export function parseV4(s: string): bigint | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let v = 0n;
  for (const p of parts) {
    if (!DEC.test(p) || p.length > 3) return null;
    if (p.length > 1 && p[0] === "0") return null;
    const n = Number(p);
    if (n > 255) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

export function parseV6(s: string): bigint | null {
  if (s.length < 2) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (part: string, allowV4Tail: boolean): bigint[] | null => {
    if (part === "") return [];
    const items = part.split(":");
    const out: bigint[] = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (i === items.length - 1 && allowV4Tail && it.includes(".")) {
        const v4 = parseV4(it);
        if (v4 === null) return null;
        out.push(v4 >> 16n, v4 & 0xffffn);
        continue;
      }
      if (!HEX.test(it)) return null;
      out.push(BigInt(parseInt(it, 16)));
    }
    return out;
  };
  let groups: bigint[];
  if (halves.length === 1) {
    const g = groupsOf(halves[0], true);
    if (g === null || g.length !== 8) return null;
    groups = g;
  } else {
    const head = groupsOf(halves[0], false);
    const tail = groupsOf(halves[1], true);
    if (head === null || tail === null) return null;
    if (head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<bigint>(8 - head.length - tail.length).fill(0n), ...tail];
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | g;
  return v;
}

const MAPPED_PREFIX = 0xffffn << 32n;
const isMapped = (v: bigint) => v >> 32n === 0xffffn;

export function maskOf(len: number, bits: number): bigint {
  const table = bits === 32 ? MASKS_32 : bits === 128 ? MASKS_128 : null;
  return table !== null && len >= 0 && len <= bits ? table[len]! : computeMask(len, bits);
}

function computeMask(len: number, bits: number): bigint {
  if (len === 0) return 0n;
  return ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - len)) - 1n);
}

// The oracle's whole-space check asks for masks millions of times on a big document (a BigInt
// computation each took seconds and stalled the host's timers): computed once per length.
const MASKS_32 = Array.from({ length: 33 }, (_, len) => computeMask(len, 32));
const MASKS_128 = Array.from({ length: 129 }, (_, len) => computeMask(len, 128));

export function parseCidrRef(text: string): Cidr | null {
  const slash = text.indexOf("/");
  const a = slash < 0 ? text : text.slice(0, slash);
  if (a.length === 0 || Buffer.byteLength(a, "utf8") > 45) return null;
  const v6 = a.includes(":");
  let value = v6 ? parseV6(a) : parseV4(a);
  if (value === null) return null;
  let len: number;
  if (slash < 0) len = v6 ? 128 : 32;
  else {
    const l = text.slice(slash + 1);
    if (l.length < 1 || l.length > 3 || !DEC.test(l)) return null;
    if (l.length > 1 && l[0] === "0") return null;
    len = Number(l);
    if (len > (v6 ? 128 : 32)) return null;
  }
  let v4 = !v6;
  if (v6 && isMapped(value) && len >= 96) {
    v4 = true;
    value &= 0xffffffffn;
    len -= 96;
  }
  value &= maskOf(len, v4 ? 32 : 128);
  return { v4, value, len };
}

export function cidrContains(c: Cidr, a: Addr): boolean {
  if (c.v4 !== a.v4) return false;
  return (a.value & maskOf(c.len, c.v4 ? 32 : 128)) === c.value;
}

function trimOws(s: string): string {
  let b = 0, e = s.length;
  while (b < e && (s[b] === " " || s[b] === "\t")) b++;
  while (e > b && (s[e - 1] === " " || s[e - 1] === "\t")) e--;
  return s.slice(b, e);
}

function validPort(p: string): boolean {
  return p.length >= 1 && p.length <= 5 && DEC.test(p) && Number(p) <= 65535;
}

function fromV6(v: bigint): Addr {
  if (isMapped(v)) return { v4: true, value: v & 0xffffffffn };
  return { v4: false, value: v };
}

/** A client address as proxies write it (source.address, XFF entries, x-envoy-external-address). */
export function parseClientAddressRef(text: string): Addr | null {
  const s = trimOws(text);
  if (s.length === 0) return null;
  if (s[0] === "[") {
    const close = s.indexOf("]");
    if (close < 0) return null;
    const rest = s.slice(close + 1);
    if (rest.length > 0 && (rest[0] !== ":" || !validPort(rest.slice(1)))) return null;
    let inner = s.slice(1, close);
    const z = inner.indexOf("%");
    if (z >= 0) inner = inner.slice(0, z);
    const v = parseV6(inner);
    return v === null ? null : fromV6(v);
  }
  const colons = [...s].filter((c) => c === ":").length;
  if (colons === 0) {
    const v = parseV4(s);
    return v === null ? null : { v4: true, value: v };
  }
  if (colons === 1) {
    const i = s.indexOf(":");
    if (!validPort(s.slice(i + 1))) return null;
    const v = parseV4(s.slice(0, i));
    return v === null ? null : { v4: true, value: v };
  }
  const z = s.indexOf("%");
  const v = parseV6(z >= 0 ? s.slice(0, z) : s);
  return v === null ? null : fromV6(v);
}

/** Envoy's Address::asString for a socket address. */
export function socketAddressText(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function addrText(a: Addr): string {
  if (a.v4) return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 0xffn)).join(".");
  const g: string[] = [];
  for (let i = 7; i >= 0; i--) g.push(((a.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return g.join(":");
}

export function addrEquals(a: Addr | null, b: Addr | null): boolean {
  if (a === null || b === null) return a === b;
  return a.v4 === b.v4 && a.value === b.value;
}

/** Resolved client address per the filter's client_address settings (documented semantics). */
export interface ClientAddressSettingsRef {
  source: "connection" | "envoy_external" | "xff";
  xffTrustedHops: number;
}

/**
 * headers: request header entries in map order (lower-case names, latin1 values).
 * `entryLimit`: the filter reads at most this many x-forwarded-for header lines (the first ones).
 */
export function resolveClientRef(
  cfg: ClientAddressSettingsRef, headers: Array<[string, string]>, sourceAddress: string, xffLineLimit = 64,
): Addr | null {
  if (cfg.source === "envoy_external") {
    const h = headers.find(([k]) => k === "x-envoy-external-address");
    if (h) {
      const a = parseClientAddressRef(h[1]);
      if (a !== null) return a;
    }
  } else if (cfg.source === "xff" && headers.length <= 1024) {
    const lines = headers.filter(([k]) => k === "x-forwarded-for").slice(0, xffLineLimit).map(([, v]) => v);
    const entries = lines.join(",").split(",").filter((e) => trimOws(e).length > 0);
    const idx = entries.length - 1 - cfg.xffTrustedHops;
    if (idx >= 0) {
      const a = parseClientAddressRef(entries[idx]);
      if (a !== null) return a;
    }
  }
  return parseClientAddressRef(sourceAddress);
}

export { MAPPED_PREFIX };

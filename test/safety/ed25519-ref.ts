/**
 * A small, slow BigInt model of edwards25519 for the tests: point decoding/encoding per RFC 8032
 * §5.1.3, addition, scalar multiplication. Independent of the AssemblyScript code under test; used
 * to build edge cases (torsion points, non-canonical encodings, forged R values) that no signer
 * produces.
 */
export const P = (1n << 255n) - 19n;
export const L = (1n << 252n) + 27742317777372353535851937790883648493n;

const mod = (a: bigint, m = P) => ((a % m) + m) % m;
export function pow(b: bigint, e: bigint, m = P): bigint {
  let r = 1n;
  b = mod(b, m);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}
const inv = (a: bigint) => pow(a, P - 2n);
export const D = mod(-121665n * inv(121666n));
const SQRTM1 = pow(2n, (P - 1n) / 4n);

export interface Pt { x: bigint; y: bigint }
export const IDENTITY: Pt = { x: 0n, y: 1n };

export function add(a: Pt, b: Pt): Pt {
  const t = mod(D * a.x * b.x * a.y * b.y);
  return {
    x: mod((a.x * b.y + a.y * b.x) * inv(mod(1n + t))),
    y: mod((a.y * b.y + a.x * b.x) * inv(mod(1n - t))),
  };
}

export function mul(k: bigint, p: Pt): Pt {
  let r = IDENTITY;
  let q = p;
  while (k > 0n) {
    if (k & 1n) r = add(r, q);
    q = add(q, q);
    k >>= 1n;
  }
  return r;
}

export function leToBigint(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

export function bigintToLe(v: bigint, n = 32): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

/** RFC 8032 decoding; null when it fails (y ≥ p, no square root, x = 0 with the sign bit set). */
export function decode(b: Uint8Array): Pt | null {
  const v = leToBigint(b);
  const sign = v >> 255n;
  const y = v & ((1n << 255n) - 1n);
  if (y >= P) return null;
  const u = mod(y * y - 1n), w = mod(D * y * y + 1n);
  let x = mod(u * pow(w, 3n) * pow(u * pow(w, 7n), (P - 5n) / 8n));
  if (mod(w * x * x) !== u) {
    if (mod(w * x * x) !== mod(-u)) return null;
    x = mod(x * SQRTM1);
  }
  if (x === 0n && sign === 1n) return null;
  if ((x & 1n) !== sign) x = mod(-x);
  return { x, y };
}

export function encode(p: Pt): Buffer {
  return bigintToLe(p.y | ((p.x & 1n) << 255n));
}

let torsion: Pt[] | null = null;

/** Every point of order dividing 8, found as [L]·Q for points Q decoded from y = 2, 3, … (cached). */
export function torsionPoints(): Pt[] {
  if (torsion) return torsion;
  const found = new Map<string, Pt>();
  for (let y = 2n; found.size < 8 && y < 200n; y++) {
    for (const sign of [0n, 1n]) {
      const q = decode(bigintToLe(y | (sign << 255n)));
      if (!q) continue;
      const t = mul(L, q);
      found.set(encode(t).toString("hex"), t);
    }
  }
  torsion = [...found.values()];
  return torsion;
}

export const BASE: Pt = decode(bigintToLe(mod(4n * inv(5n))))!;

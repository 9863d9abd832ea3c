// Ed25519 signature verification (RFC 8032 §5.1.7) for rule documents, in plain AssemblyScript:
// no host facility needed, so it behaves the same on every Envoy build and on the embedded host.
// Never traps and never allocates after the first call (fixed temporaries); it only handles public
// data (keys, signatures, documents), so it makes no attempt at constant time.
//
// Verification policy ("strict", as libsodium's crypto_sign_verify_detached):
//   - public key and R must be canonical point encodings (y < p; x = 0 only with sign bit 0);
//   - public key and R must not be of small order (8·P = identity);
//   - S must be canonical (S < L);
//   - the cofactorless equation: encode([S]B − [k]A) must equal R byte for byte,
//     k = SHA-512(R ‖ A ‖ M) mod L.
//
// Field GF(2^255 − 19): 10 signed 64-bit limbs, radix 2^25.5 (26, 25, 26, … bits), kept
// non-negative and carried after every operation. Points: extended twisted Edwards coordinates
// (X:Y:Z:T), a = −1; addition add-2008-hwcd-3, doubling dbl-2008-hwcd. Constants (d, √−1, the base
// point) are computed from their definitions on first use rather than typed in.
import { sha512Init, sha512Update, sha512Final } from "./sha512";

export namespace VerifyResult {
  export const Ok: i32 = 0;
  /** Key not 32 bytes or signature not 64 bytes. */
  export const BadLength: i32 = 1;
  /** Public key is not a canonical encoding of a curve point. */
  export const BadKey: i32 = 2;
  /** Public key is a point of small order (the identity or a torsion point). */
  export const WeakKey: i32 = 3;
  /** S ≥ L (non-canonical, malleable signature). */
  export const NonCanonicalS: i32 = 4;
  /** R is not a canonical point encoding, or is of small order. */
  export const BadR: i32 = 5;
  /** Well-formed, but the equation does not hold: wrong key, or the message or signature changed. */
  export const Mismatch: i32 = 6;
}

export function verifyResultText(r: i32): string {
  if (r == VerifyResult.Ok) return "valid";
  if (r == VerifyResult.BadLength) return "bad length";
  if (r == VerifyResult.BadKey) return "public key is not a valid point encoding";
  if (r == VerifyResult.WeakKey) return "public key has small order";
  if (r == VerifyResult.NonCanonicalS) return "non-canonical signature (S >= L)";
  if (r == VerifyResult.BadR) return "signature R is not a valid point of large order";
  return "signature does not match the document";
}

type Fe = StaticArray<i64>;

function fe(): Fe { return new StaticArray<i64>(10); }

// ---- field arithmetic -----------------------------------------------------------------------

/** Carries h0…h9 into 26, 25, 26, … -bit limbs (the carry out of limb 9 folds back ×19, since
 *  2^255 ≡ 19 mod p) and stores them in h. Inlined: the field operations stay straight-line code. */
@inline function carryStore(h: Fe, h0: i64, h1: i64, h2: i64, h3: i64, h4: i64, h5: i64, h6: i64, h7: i64, h8: i64, h9: i64): void {
  let c: i64;
  c = h0 >> 26; h1 += c; h0 -= c << 26;
  c = h1 >> 25; h2 += c; h1 -= c << 25;
  c = h2 >> 26; h3 += c; h2 -= c << 26;
  c = h3 >> 25; h4 += c; h3 -= c << 25;
  c = h4 >> 26; h5 += c; h4 -= c << 26;
  c = h5 >> 25; h6 += c; h5 -= c << 25;
  c = h6 >> 26; h7 += c; h6 -= c << 26;
  c = h7 >> 25; h8 += c; h7 -= c << 25;
  c = h8 >> 26; h9 += c; h8 -= c << 26;
  c = h9 >> 25; h0 += c * 19; h9 -= c << 25;
  c = h0 >> 26; h1 += c; h0 -= c << 26;
  unchecked(h[0] = h0); unchecked(h[1] = h1); unchecked(h[2] = h2); unchecked(h[3] = h3); unchecked(h[4] = h4);
  unchecked(h[5] = h5); unchecked(h[6] = h6); unchecked(h[7] = h7); unchecked(h[8] = h8); unchecked(h[9] = h9);
}

/** h = f · g (mod p), carried. */
function feMul(h: Fe, f: Fe, g: Fe): void {
  const f0 = unchecked(f[0]);
  const f1 = unchecked(f[1]);
  const f2 = unchecked(f[2]);
  const f3 = unchecked(f[3]);
  const f4 = unchecked(f[4]);
  const f5 = unchecked(f[5]);
  const f6 = unchecked(f[6]);
  const f7 = unchecked(f[7]);
  const f8 = unchecked(f[8]);
  const f9 = unchecked(f[9]);
  const g0 = unchecked(g[0]);
  const g1 = unchecked(g[1]);
  const g2 = unchecked(g[2]);
  const g3 = unchecked(g[3]);
  const g4 = unchecked(g[4]);
  const g5 = unchecked(g[5]);
  const g6 = unchecked(g[6]);
  const g7 = unchecked(g[7]);
  const g8 = unchecked(g[8]);
  const g9 = unchecked(g[9]);
  const g1_19 = g1 * 19;
  const g2_19 = g2 * 19;
  const g3_19 = g3 * 19;
  const g4_19 = g4 * 19;
  const g5_19 = g5 * 19;
  const g6_19 = g6 * 19;
  const g7_19 = g7 * 19;
  const g8_19 = g8 * 19;
  const g9_19 = g9 * 19;
  const f1_2 = f1 * 2;
  const f3_2 = f3 * 2;
  const f5_2 = f5 * 2;
  const f7_2 = f7 * 2;
  const f9_2 = f9 * 2;
  let h0: i64 = f0 * g0 + f1_2 * g9_19 + f2 * g8_19 + f3_2 * g7_19 + f4 * g6_19 + f5_2 * g5_19 + f6 * g4_19 + f7_2 * g3_19 + f8 * g2_19 + f9_2 * g1_19;
  let h1: i64 = f0 * g1 + f1 * g0 + f2 * g9_19 + f3 * g8_19 + f4 * g7_19 + f5 * g6_19 + f6 * g5_19 + f7 * g4_19 + f8 * g3_19 + f9 * g2_19;
  let h2: i64 = f0 * g2 + f1_2 * g1 + f2 * g0 + f3_2 * g9_19 + f4 * g8_19 + f5_2 * g7_19 + f6 * g6_19 + f7_2 * g5_19 + f8 * g4_19 + f9_2 * g3_19;
  let h3: i64 = f0 * g3 + f1 * g2 + f2 * g1 + f3 * g0 + f4 * g9_19 + f5 * g8_19 + f6 * g7_19 + f7 * g6_19 + f8 * g5_19 + f9 * g4_19;
  let h4: i64 = f0 * g4 + f1_2 * g3 + f2 * g2 + f3_2 * g1 + f4 * g0 + f5_2 * g9_19 + f6 * g8_19 + f7_2 * g7_19 + f8 * g6_19 + f9_2 * g5_19;
  let h5: i64 = f0 * g5 + f1 * g4 + f2 * g3 + f3 * g2 + f4 * g1 + f5 * g0 + f6 * g9_19 + f7 * g8_19 + f8 * g7_19 + f9 * g6_19;
  let h6: i64 = f0 * g6 + f1_2 * g5 + f2 * g4 + f3_2 * g3 + f4 * g2 + f5_2 * g1 + f6 * g0 + f7_2 * g9_19 + f8 * g8_19 + f9_2 * g7_19;
  let h7: i64 = f0 * g7 + f1 * g6 + f2 * g5 + f3 * g4 + f4 * g3 + f5 * g2 + f6 * g1 + f7 * g0 + f8 * g9_19 + f9 * g8_19;
  let h8: i64 = f0 * g8 + f1_2 * g7 + f2 * g6 + f3_2 * g5 + f4 * g4 + f5_2 * g3 + f6 * g2 + f7_2 * g1 + f8 * g0 + f9_2 * g9_19;
  let h9: i64 = f0 * g9 + f1 * g8 + f2 * g7 + f3 * g6 + f4 * g5 + f5 * g4 + f6 * g3 + f7 * g2 + f8 * g1 + f9 * g0;

  carryStore(h, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}

/** h = f² (mod p), carried: 55 products instead of 100. */
function feSq(h: Fe, f: Fe): void {
  const f0 = unchecked(f[0]);
  const f1 = unchecked(f[1]);
  const f2 = unchecked(f[2]);
  const f3 = unchecked(f[3]);
  const f4 = unchecked(f[4]);
  const f5 = unchecked(f[5]);
  const f6 = unchecked(f[6]);
  const f7 = unchecked(f[7]);
  const f8 = unchecked(f[8]);
  const f9 = unchecked(f[9]);
  let h0: i64 = f0 * f0 + f1 * f9 * 76 + f2 * f8 * 38 + f3 * f7 * 76 + f4 * f6 * 38 + f5 * f5 * 38;
  let h1: i64 = f0 * f1 * 2 + f2 * f9 * 38 + f3 * f8 * 38 + f4 * f7 * 38 + f5 * f6 * 38;
  let h2: i64 = f0 * f2 * 2 + f1 * f1 * 2 + f3 * f9 * 76 + f4 * f8 * 38 + f5 * f7 * 76 + f6 * f6 * 19;
  let h3: i64 = f0 * f3 * 2 + f1 * f2 * 2 + f4 * f9 * 38 + f5 * f8 * 38 + f6 * f7 * 38;
  let h4: i64 = f0 * f4 * 2 + f1 * f3 * 4 + f2 * f2 + f5 * f9 * 76 + f6 * f8 * 38 + f7 * f7 * 38;
  let h5: i64 = f0 * f5 * 2 + f1 * f4 * 2 + f2 * f3 * 2 + f6 * f9 * 38 + f7 * f8 * 38;
  let h6: i64 = f0 * f6 * 2 + f1 * f5 * 4 + f2 * f4 * 2 + f3 * f3 * 2 + f7 * f9 * 76 + f8 * f8 * 19;
  let h7: i64 = f0 * f7 * 2 + f1 * f6 * 2 + f2 * f5 * 2 + f3 * f4 * 2 + f8 * f9 * 38;
  let h8: i64 = f0 * f8 * 2 + f1 * f7 * 4 + f2 * f6 * 2 + f3 * f5 * 4 + f4 * f4 + f9 * f9 * 38;
  let h9: i64 = f0 * f9 * 2 + f1 * f8 * 2 + f2 * f7 * 2 + f3 * f6 * 2 + f4 * f5 * 2;

  carryStore(h, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}


@inline function bitsOf(i: i32): i64 { return (i & 1) == 0 ? 26 : 25; }

/** h = f + g, carried. */
function feAdd(h: Fe, f: Fe, g: Fe): void {
  let h0: i64 = unchecked(f[0]) + unchecked(g[0]);
  let h1: i64 = unchecked(f[1]) + unchecked(g[1]);
  let h2: i64 = unchecked(f[2]) + unchecked(g[2]);
  let h3: i64 = unchecked(f[3]) + unchecked(g[3]);
  let h4: i64 = unchecked(f[4]) + unchecked(g[4]);
  let h5: i64 = unchecked(f[5]) + unchecked(g[5]);
  let h6: i64 = unchecked(f[6]) + unchecked(g[6]);
  let h7: i64 = unchecked(f[7]) + unchecked(g[7]);
  let h8: i64 = unchecked(f[8]) + unchecked(g[8]);
  let h9: i64 = unchecked(f[9]) + unchecked(g[9]);
  carryStore(h, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}

/** h = f − g + 2p: limbs stay non-negative for carried inputs; carried. */
function feSub(h: Fe, f: Fe, g: Fe): void {
  let h0: i64 = unchecked(f[0]) - unchecked(g[0]) + 0x7ffffda;
  let h1: i64 = unchecked(f[1]) - unchecked(g[1]) + 0x3fffffe;
  let h2: i64 = unchecked(f[2]) - unchecked(g[2]) + 0x7fffffe;
  let h3: i64 = unchecked(f[3]) - unchecked(g[3]) + 0x3fffffe;
  let h4: i64 = unchecked(f[4]) - unchecked(g[4]) + 0x7fffffe;
  let h5: i64 = unchecked(f[5]) - unchecked(g[5]) + 0x3fffffe;
  let h6: i64 = unchecked(f[6]) - unchecked(g[6]) + 0x7fffffe;
  let h7: i64 = unchecked(f[7]) - unchecked(g[7]) + 0x3fffffe;
  let h8: i64 = unchecked(f[8]) - unchecked(g[8]) + 0x7fffffe;
  let h9: i64 = unchecked(f[9]) - unchecked(g[9]) + 0x3fffffe;
  carryStore(h, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}


function feCopy(h: Fe, f: Fe): void { for (let i = 0; i < 10; i++) unchecked(h[i] = unchecked(f[i])); }

function feSmall(h: Fe, v: i64): void {
  for (let i = 1; i < 10; i++) unchecked(h[i] = 0);
  unchecked(h[0] = v);
}

const LIMB_POS: StaticArray<i32> = [0, 26, 51, 77, 102, 128, 153, 179, 204, 230];

/** 32 little-endian bytes → field element; bit 255 is ignored. */
function feFromBytes(h: Fe, p: usize): void {
  const w0 = load<u64>(p), w1 = load<u64>(p + 8), w2 = load<u64>(p + 16), w3 = load<u64>(p + 24) & 0x7fffffffffffffff;
  for (let i = 0; i < 10; i++) {
    const pos = unchecked(LIMB_POS[i]);
    const width = <u64>bitsOf(i);
    const wi = pos >> 6;
    const off = <u64>(pos & 63);
    const lo = wi == 0 ? w0 : (wi == 1 ? w1 : (wi == 2 ? w2 : w3));
    let v = lo >> off;
    if (off + width > 64 && wi < 3) {
      const hi = wi == 0 ? w1 : (wi == 1 ? w2 : w3);
      v |= hi << (64 - off);
    }
    unchecked(h[i] = <i64>(v & ((<u64>1 << width) - 1)));
  }
}

const TMP_BYTES: usize = memory.data(32);
const CANON: Fe = fe();

/** Canonical little-endian encoding of f (fully reduced mod p) at `out` (32 bytes). */
function feToBytes(out: usize, f: Fe): void {
  const h = CANON;
  feCopy(h, f);
  // Until every limb is in range and nothing folds: value in [0, 2^255).
  for (let round = 0; round < 4; round++) {
    let c: i64 = 0;
    for (let i = 0; i < 10; i++) {
      const b = bitsOf(i);
      const v = unchecked(h[i]) + c;
      c = v >> b;
      unchecked(h[i] = v - (c << b));
    }
    if (c == 0) break;
    unchecked(h[0] = unchecked(h[0]) + c * 19);
  }
  // v ≥ p iff v + 19 ≥ 2^255: add 19 and look at the carry out of bit 255.
  let c: i64 = 19;
  let q: i64 = 0;
  for (let i = 0; i < 10; i++) {
    const b = bitsOf(i);
    const v = unchecked(h[i]) + c;
    c = v >> b;
  }
  q = c; // 1 when v ≥ p
  c = 19 * q;
  for (let i = 0; i < 10; i++) {
    const b = bitsOf(i);
    const v = unchecked(h[i]) + c;
    c = v >> b;
    unchecked(h[i] = v - (c << b));
  }
  // (the carry out of limb 9 is q · 2^255, dropped: v − p = v + 19 − 2^255)
  let w0: u64 = 0, w1: u64 = 0, w2: u64 = 0, w3: u64 = 0;
  for (let i = 0; i < 10; i++) {
    const pos = unchecked(LIMB_POS[i]);
    const v = <u64>unchecked(h[i]);
    const wi = pos >> 6;
    const off = <u64>(pos & 63);
    const lo = v << off;
    const hi = off == 0 ? 0 : v >> (64 - off);
    if (wi == 0) { w0 |= lo; w1 |= hi; }
    else if (wi == 1) { w1 |= lo; w2 |= hi; }
    else if (wi == 2) { w2 |= lo; w3 |= hi; }
    else { w3 |= lo; }
  }
  store<u64>(out, w0);
  store<u64>(out + 8, w1);
  store<u64>(out + 16, w2);
  store<u64>(out + 24, w3);
}

function feIsZero(f: Fe): bool {
  feToBytes(TMP_BYTES, f);
  return (load<u64>(TMP_BYTES) | load<u64>(TMP_BYTES + 8) | load<u64>(TMP_BYTES + 16) | load<u64>(TMP_BYTES + 24)) == 0;
}

function feIsOdd(f: Fe): bool {
  feToBytes(TMP_BYTES, f);
  return (load<u8>(TMP_BYTES) & 1) != 0;
}

const EQ_T: Fe = fe();
function feEqual(f: Fe, g: Fe): bool {
  feSub(EQ_T, f, g);
  return feIsZero(EQ_T);
}

const POW_T: Fe = fe();
/** h = f^e, e given as 4 little-endian words with e < 2^255 (square and multiply). */
function fePow(h: Fe, f: Fe, e0: u64, e1: u64, e2: u64, e3: u64): void {
  const acc = POW_T;
  feSmall(acc, 1);
  for (let bit = 254; bit >= 0; bit--) {
    feSq(acc, acc);
    const w = bit >> 6;
    const word = w == 0 ? e0 : (w == 1 ? e1 : (w == 2 ? e2 : e3));
    if (((word >> <u64>(bit & 63)) & 1) != 0) feMul(acc, acc, f);
  }
  feCopy(h, acc);
}

/** h = f^(2^n) by n squarings. */
function feSqN(h: Fe, f: Fe, n: i32): void {
  feSq(h, f);
  for (let i = 1; i < n; i++) feSq(h, h);
}

const C_Z11 = fe(), C_Z250 = fe(), C_T0 = fe(), C_T1 = fe(), C_Z50 = fe(), C_Z10 = fe();

/**
 * C_Z250 = z^(2^250 − 1) and C_Z11 = z^11 by the usual addition chain (254 squarings, 11
 * multiplications), shared by the inversion and the square root.
 */
function pow250(z: Fe): void {
  feSq(C_T0, z);               // z^2
  feSqN(C_T1, C_T0, 2);        // z^8
  feMul(C_T1, C_T1, z);        // z^9
  feMul(C_Z11, C_T0, C_T1);    // z^11
  feSq(C_T0, C_Z11);           // z^22
  feMul(C_T0, C_T0, C_T1);     // z^(2^5 − 1)
  feSqN(C_T1, C_T0, 5);
  feMul(C_Z10, C_T1, C_T0);    // z^(2^10 − 1)
  feSqN(C_T1, C_Z10, 10);
  feMul(C_T1, C_T1, C_Z10);    // z^(2^20 − 1)
  feSqN(C_T0, C_T1, 20);
  feMul(C_T0, C_T0, C_T1);     // z^(2^40 − 1)
  feSqN(C_T0, C_T0, 10);
  feMul(C_Z50, C_T0, C_Z10);   // z^(2^50 − 1)
  feSqN(C_T0, C_Z50, 50);
  feMul(C_T0, C_T0, C_Z50);    // z^(2^100 − 1)
  feSqN(C_T1, C_T0, 100);
  feMul(C_T1, C_T1, C_T0);     // z^(2^200 − 1)
  feSqN(C_T1, C_T1, 50);
  feMul(C_Z250, C_T1, C_Z50);  // z^(2^250 − 1)
}

/** h = 1/f = f^(p − 2) = f^(2^255 − 21) = (f^(2^250 − 1))^(2^5) · f^11. */
function feInvert(h: Fe, f: Fe): void {
  pow250(f);
  feSqN(C_T0, C_Z250, 5);
  feMul(h, C_T0, C_Z11);
}

/** h = f^((p − 5)/8) = f^(2^252 − 3) = (f^(2^250 − 1))^4 · f. */
function fePow22523(h: Fe, f: Fe): void {
  pow250(f);
  feSqN(C_T0, C_Z250, 2);
  feMul(h, C_T0, f);
}

// ---- constants ------------------------------------------------------------------------------

const D: Fe = fe();
const D2: Fe = fe();
const SQRTM1: Fe = fe();
let constantsReady = false;

class Point {
  X: Fe = fe();
  Y: Fe = fe();
  Z: Fe = fe();
  T: Fe = fe();
}

const BASE = new Point();
const ONE: Fe = fe();
const BASE_Y: usize = memory.data(32);

function initConstants(): void {
  if (constantsReady) return;
  const t = fe(), u = fe();
  feSmall(ONE, 1);
  // d = −121665 / 121666
  feSmall(t, 121666);
  feInvert(u, t);
  feSmall(t, 121665);
  feMul(u, u, t);
  feSmall(t, 0);
  feSub(D, t, u);
  feAdd(D2, D, D);
  // √−1 = 2^((p − 1)/4) (2 is a non-residue since p ≡ 5 mod 8)
  feSmall(t, 2);
  fePow(SQRTM1, t, 0xfffffffffffffffb, 0xffffffffffffffff, 0xffffffffffffffff, 0x1fffffffffffffff);
  // base point: y = 4/5, x even
  const enc = BASE_Y;
  feSmall(t, 5);
  feInvert(u, t);
  feSmall(t, 4);
  feMul(u, u, t);
  feToBytes(enc, u);
  constantsReady = true;
  decodePoint(BASE, enc);
}

// ---- points ---------------------------------------------------------------------------------

const PA = fe(), PB = fe(), PC = fe(), PD = fe(), PE = fe(), PF = fe(), PG = fe(), PH = fe();

/** r = p + q (r may alias p or q). */
function ptAdd(r: Point, p: Point, q: Point): void {
  feSub(PA, p.Y, p.X);
  feSub(PB, q.Y, q.X);
  feMul(PA, PA, PB);
  feAdd(PB, p.Y, p.X);
  feAdd(PC, q.Y, q.X);
  feMul(PB, PB, PC);
  feMul(PC, p.T, q.T);
  feMul(PC, PC, D2);
  feMul(PD, p.Z, q.Z);
  feAdd(PD, PD, PD);
  feSub(PE, PB, PA);
  feSub(PF, PD, PC);
  feAdd(PG, PD, PC);
  feAdd(PH, PB, PA);
  feMul(r.X, PE, PF);
  feMul(r.Y, PG, PH);
  feMul(r.T, PE, PH);
  feMul(r.Z, PF, PG);
}

/** r = 2p (r may alias p). */
function ptDouble(r: Point, p: Point): void {
  feSq(PA, p.X);
  feSq(PB, p.Y);
  feSq(PC, p.Z);
  feAdd(PC, PC, PC);
  feAdd(PE, p.X, p.Y);
  feSq(PE, PE);
  feSub(PE, PE, PA);
  feSub(PE, PE, PB);          // E = 2XY
  feSub(PG, PB, PA);          // G = D + B with D = −A
  feSub(PF, PG, PC);          // F = G − C
  feAdd(PH, PA, PB);          // −H = A + B (H = D − B)
  feSmall(PD, 0);
  feSub(PH, PD, PH);          // H
  feMul(r.X, PE, PF);
  feMul(r.Y, PG, PH);
  feMul(r.T, PE, PH);
  feMul(r.Z, PF, PG);
}

function ptIdentity(r: Point): void {
  feSmall(r.X, 0);
  feSmall(r.Y, 1);
  feSmall(r.Z, 1);
  feSmall(r.T, 0);
}

function ptCopy(r: Point, p: Point): void {
  feCopy(r.X, p.X); feCopy(r.Y, p.Y); feCopy(r.Z, p.Z); feCopy(r.T, p.T);
}

function ptNegate(r: Point, p: Point): void {
  feSmall(PD, 0);
  feSub(r.X, PD, p.X);
  feCopy(r.Y, p.Y);
  feCopy(r.Z, p.Z);
  feSub(r.T, PD, p.T);
}

const SMALL = new Point();
/** 8·p is the identity. */
function hasSmallOrder(p: Point): bool {
  ptDouble(SMALL, p);
  ptDouble(SMALL, SMALL);
  ptDouble(SMALL, SMALL);
  return feIsZero(SMALL.X) && feEqual(SMALL.Y, SMALL.Z);
}

const DY = fe(), DU = fe(), DV = fe(), DV3 = fe(), DX = fe(), DT = fe();

/**
 * RFC 8032 §5.1.3 point decoding. false when y ≥ p, when x² has no root, or for x = 0 with the
 * sign bit set.
 */
function decodePoint(r: Point, p: usize): bool {
  const w0 = load<u64>(p), w1 = load<u64>(p + 8), w2 = load<u64>(p + 16), w3 = load<u64>(p + 24);
  const sign = (w3 >> 63) != 0;
  // canonical: y < p = 2^255 − 19
  if ((w3 & 0x7fffffffffffffff) == 0x7fffffffffffffff && w2 == 0xffffffffffffffff && w1 == 0xffffffffffffffff && w0 >= 0xffffffffffffffed) return false;
  feFromBytes(DY, p);
  // u = y² − 1, v = d·y² + 1
  feSq(DU, DY);
  feMul(DV, DU, D);
  feSub(DU, DU, ONE);
  feAdd(DV, DV, ONE);
  // x = u·v³·(u·v⁷)^((p − 5)/8)
  feSq(DV3, DV);
  feMul(DV3, DV3, DV);       // v³
  feSq(DX, DV3);
  feMul(DX, DX, DV);         // v⁷
  feMul(DX, DX, DU);         // u·v⁷
  fePow22523(DX, DX);
  feMul(DX, DX, DV3);
  feMul(DX, DX, DU);
  // check v·x² = ±u
  feSq(DT, DX);
  feMul(DT, DT, DV);
  if (!feEqual(DT, DU)) {
    feSmall(r.T, 0);
    feSub(r.T, r.T, DU);
    if (!feEqual(DT, r.T)) return false;
    feMul(DX, DX, SQRTM1);
  }
  if (feIsZero(DX)) {
    if (sign) return false;
  } else if (feIsOdd(DX) != sign) {
    feSmall(DT, 0);
    feSub(DX, DT, DX);
  }
  feCopy(r.X, DX);
  feCopy(r.Y, DY);
  feSmall(r.Z, 1);
  feMul(r.T, DX, DY);
  return true;
}

const ENC_X = fe(), ENC_Y = fe(), ENC_ZI = fe();
function encodePoint(out: usize, p: Point): void {
  feInvert(ENC_ZI, p.Z);
  feMul(ENC_X, p.X, ENC_ZI);
  feMul(ENC_Y, p.Y, ENC_ZI);
  feToBytes(out, ENC_Y);
  if (feIsOdd(ENC_X)) store<u8>(out + 31, load<u8>(out + 31) | 0x80);
}

// ---- scalars mod L = 2^252 + 27742317777372353535851937790883648493 -------------------------

const L0: u64 = 0x5812631a5cf5d3ed, L1: u64 = 0x14def9dea2f79cd6, L2: u64 = 0, L3: u64 = 0x1000000000000000;

/** The 32-byte little-endian scalar at p is < L. */
function scalarCanonical(p: usize): bool {
  const s0 = load<u64>(p), s1 = load<u64>(p + 8), s2 = load<u64>(p + 16), s3 = load<u64>(p + 24);
  if (s3 != L3) return s3 < L3;
  if (s2 != L2) return s2 < L2;
  if (s1 != L1) return s1 < L1;
  return s0 < L0;
}

/** out (32 bytes LE) = the 64-byte little-endian number at p mod L (shift and subtract). */
function reduce512(out: usize, p: usize): void {
  let r0: u64 = 0, r1: u64 = 0, r2: u64 = 0, r3: u64 = 0;
  for (let bit = 511; bit >= 0; bit--) {
    const b = <u64>((load<u8>(p + <usize>(bit >> 3)) >> <u8>(bit & 7)) & 1);
    r3 = (r3 << 1) | (r2 >> 63);
    r2 = (r2 << 1) | (r1 >> 63);
    r1 = (r1 << 1) | (r0 >> 63);
    r0 = (r0 << 1) | b;
    // r < 2L < 2^254 before the shift, so r < 2^255 here: no word overflows.
    let ge: bool;
    if (r3 != L3) ge = r3 > L3;
    else if (r2 != L2) ge = r2 > L2;
    else if (r1 != L1) ge = r1 > L1;
    else ge = r0 >= L0;
    if (ge) {
      const d0 = r0 - L0;
      let borrow: u64 = r0 < L0 ? 1 : 0;
      const d1 = r1 - L1 - borrow;
      borrow = (r1 < L1 || (r1 == L1 && borrow != 0)) ? 1 : 0;
      const d2 = r2 - L2 - borrow;
      borrow = (r2 < L2 || (r2 == L2 && borrow != 0)) ? 1 : 0;
      const d3 = r3 - L3 - borrow;
      r0 = d0; r1 = d1; r2 = d2; r3 = d3;
    }
  }
  store<u64>(out, r0);
  store<u64>(out + 8, r1);
  store<u64>(out + 16, r2);
  store<u64>(out + 24, r3);
}

@inline function scalarBit(p: usize, i: i32): bool {
  return ((load<u8>(p + <usize>(i >> 3)) >> <u8>(i & 7)) & 1) != 0;
}

// ---- verification ---------------------------------------------------------------------------

const A = new Point();
const NEG_A = new Point();
const R = new Point();
const B_NEG_A = new Point();
const Q = new Point();
const HASH: usize = memory.data(64);
const K_SCALAR: usize = memory.data(32);
const CHECK_R: usize = memory.data(32);

/**
 * Verify `sig` (64 bytes at sigPtr) over msg[0..msgLen) with the public key at keyPtr (32 bytes).
 * Returns a VerifyResult.
 */
export function ed25519VerifyRaw(keyPtr: usize, sigPtr: usize, msgPtr: usize, msgLen: usize): i32 {
  initConstants();
  if (!scalarCanonical(sigPtr + 32)) return VerifyResult.NonCanonicalS;
  if (!decodePoint(A, keyPtr)) return VerifyResult.BadKey;
  if (hasSmallOrder(A)) return VerifyResult.WeakKey;
  if (!decodePoint(R, sigPtr)) return VerifyResult.BadR;
  if (hasSmallOrder(R)) return VerifyResult.BadR;
  // k = SHA-512(R ‖ A ‖ M) mod L
  sha512Init();
  sha512Update(sigPtr, 32);
  sha512Update(keyPtr, 32);
  sha512Update(msgPtr, msgLen);
  sha512Final(HASH);
  reduce512(K_SCALAR, HASH);
  // R' = [S]B + [k](−A), one shared doubling chain (Straus).
  ptNegate(NEG_A, A);
  ptAdd(B_NEG_A, BASE, NEG_A);
  ptIdentity(Q);
  const s = sigPtr + 32;
  for (let i = 255; i >= 0; i--) {
    ptDouble(Q, Q);
    const sb = scalarBit(s, i), kb = scalarBit(K_SCALAR, i);
    if (sb && kb) ptAdd(Q, Q, B_NEG_A);
    else if (sb) ptAdd(Q, Q, BASE);
    else if (kb) ptAdd(Q, Q, NEG_A);
  }
  encodePoint(CHECK_R, Q);
  return memory.compare(CHECK_R, sigPtr, 32) == 0 ? VerifyResult.Ok : VerifyResult.Mismatch;
}

/** ed25519VerifyRaw with length checks on the key and signature buffers. */
export function ed25519Verify(key: ArrayBuffer, sig: ArrayBuffer, msgPtr: usize, msgLen: usize): i32 {
  if (key.byteLength != 32 || sig.byteLength != 64) return VerifyResult.BadLength;
  return ed25519VerifyRaw(changetype<usize>(key), changetype<usize>(sig), msgPtr, msgLen);
}

/** The 32 bytes decode to a point of large order (a usable public key). */
export function ed25519KeyUsable(key: ArrayBuffer): bool {
  if (key.byteLength != 32) return false;
  initConstants();
  return decodePoint(A, changetype<usize>(key)) && !hasSmallOrder(A);
}

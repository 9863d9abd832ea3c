// SHA-512 (FIPS 180-4), streaming, allocation-free: one hash in progress per VM at a time (the
// filter is single-threaded per VM). Used by Ed25519 verification (crypto/ed25519.ts) and by
// nothing on the request path. Never traps: every input length is valid.
//
//   sha512Init(); sha512Update(p, n); …; sha512Final(out)   // out: 64 bytes
//   sha512(p, n, out)                                       // one shot

/** Chaining state H0..H7. */
const H: usize = memory.data(64);
/** Partial block. */
const BUF: usize = memory.data(128);
let bufLen: usize = 0;
let totalLen: u64 = 0;

export function sha512Init(): void {
  // Initial hash: first 64 bits of the fractional parts of the square roots of the first 8 primes.
  store<u64>(H, 0x6a09e667f3bcc908);
  store<u64>(H + 8, 0xbb67ae8584caa73b);
  store<u64>(H + 16, 0x3c6ef372fe94f82b);
  store<u64>(H + 24, 0xa54ff53a5f1d36f1);
  store<u64>(H + 32, 0x510e527fade682d1);
  store<u64>(H + 40, 0x9b05688c2b3e6c1f);
  store<u64>(H + 48, 0x1f83d9abfb41bd6b);
  store<u64>(H + 56, 0x5be0cd19137e2179);
  bufLen = 0;
  totalLen = 0;
}

// One 128-byte block, fully unrolled: the message schedule lives in 16 locals (w[t mod 16]), and the
// eight working variables rotate names each round instead of being shuffled (round t uses the
// variable that round 0 called "a" for role (0 - t) mod 8, and so on). Round constants: the first
// 64 bits of the fractional parts of the cube roots of the first 80 primes (FIPS 180-4 §4.2.3),
// written inline. Ch(e,f,g) = g ^ (e & (f ^ g)); Maj(a,b,c) = (a & b) ^ (c & (a ^ b)).
function compress(block: usize): void {
  let w0 = bswap<u64>(load<u64>(block, 0));
  let w1 = bswap<u64>(load<u64>(block, 8));
  let w2 = bswap<u64>(load<u64>(block, 16));
  let w3 = bswap<u64>(load<u64>(block, 24));
  let w4 = bswap<u64>(load<u64>(block, 32));
  let w5 = bswap<u64>(load<u64>(block, 40));
  let w6 = bswap<u64>(load<u64>(block, 48));
  let w7 = bswap<u64>(load<u64>(block, 56));
  let w8 = bswap<u64>(load<u64>(block, 64));
  let w9 = bswap<u64>(load<u64>(block, 72));
  let w10 = bswap<u64>(load<u64>(block, 80));
  let w11 = bswap<u64>(load<u64>(block, 88));
  let w12 = bswap<u64>(load<u64>(block, 96));
  let w13 = bswap<u64>(load<u64>(block, 104));
  let w14 = bswap<u64>(load<u64>(block, 112));
  let w15 = bswap<u64>(load<u64>(block, 120));
  let a = load<u64>(H), b = load<u64>(H, 8), c = load<u64>(H, 16), d = load<u64>(H, 24);
  let e = load<u64>(H, 32), f = load<u64>(H, 40), g = load<u64>(H, 48), h = load<u64>(H, 56);
  let t1: u64, t2: u64;
  t1 = h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + (g ^ (e & (f ^ g))) + 0x428a2f98d728ae22 + w0;
  t2 = (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) ^ (c & (a ^ b)));
  d += t1; h = t1 + t2;
  t1 = g + (rotr<u64>(d, 14) ^ rotr<u64>(d, 18) ^ rotr<u64>(d, 41)) + (f ^ (d & (e ^ f))) + 0x7137449123ef65cd + w1;
  t2 = (rotr<u64>(h, 28) ^ rotr<u64>(h, 34) ^ rotr<u64>(h, 39)) + ((h & a) ^ (b & (h ^ a)));
  c += t1; g = t1 + t2;
  t1 = f + (rotr<u64>(c, 14) ^ rotr<u64>(c, 18) ^ rotr<u64>(c, 41)) + (e ^ (c & (d ^ e))) + 0xb5c0fbcfec4d3b2f + w2;
  t2 = (rotr<u64>(g, 28) ^ rotr<u64>(g, 34) ^ rotr<u64>(g, 39)) + ((g & h) ^ (a & (g ^ h)));
  b += t1; f = t1 + t2;
  t1 = e + (rotr<u64>(b, 14) ^ rotr<u64>(b, 18) ^ rotr<u64>(b, 41)) + (d ^ (b & (c ^ d))) + 0xe9b5dba58189dbbc + w3;
  t2 = (rotr<u64>(f, 28) ^ rotr<u64>(f, 34) ^ rotr<u64>(f, 39)) + ((f & g) ^ (h & (f ^ g)));
  a += t1; e = t1 + t2;
  t1 = d + (rotr<u64>(a, 14) ^ rotr<u64>(a, 18) ^ rotr<u64>(a, 41)) + (c ^ (a & (b ^ c))) + 0x3956c25bf348b538 + w4;
  t2 = (rotr<u64>(e, 28) ^ rotr<u64>(e, 34) ^ rotr<u64>(e, 39)) + ((e & f) ^ (g & (e ^ f)));
  h += t1; d = t1 + t2;
  t1 = c + (rotr<u64>(h, 14) ^ rotr<u64>(h, 18) ^ rotr<u64>(h, 41)) + (b ^ (h & (a ^ b))) + 0x59f111f1b605d019 + w5;
  t2 = (rotr<u64>(d, 28) ^ rotr<u64>(d, 34) ^ rotr<u64>(d, 39)) + ((d & e) ^ (f & (d ^ e)));
  g += t1; c = t1 + t2;
  t1 = b + (rotr<u64>(g, 14) ^ rotr<u64>(g, 18) ^ rotr<u64>(g, 41)) + (a ^ (g & (h ^ a))) + 0x923f82a4af194f9b + w6;
  t2 = (rotr<u64>(c, 28) ^ rotr<u64>(c, 34) ^ rotr<u64>(c, 39)) + ((c & d) ^ (e & (c ^ d)));
  f += t1; b = t1 + t2;
  t1 = a + (rotr<u64>(f, 14) ^ rotr<u64>(f, 18) ^ rotr<u64>(f, 41)) + (h ^ (f & (g ^ h))) + 0xab1c5ed5da6d8118 + w7;
  t2 = (rotr<u64>(b, 28) ^ rotr<u64>(b, 34) ^ rotr<u64>(b, 39)) + ((b & c) ^ (d & (b ^ c)));
  e += t1; a = t1 + t2;
  t1 = h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + (g ^ (e & (f ^ g))) + 0xd807aa98a3030242 + w8;
  t2 = (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) ^ (c & (a ^ b)));
  d += t1; h = t1 + t2;
  t1 = g + (rotr<u64>(d, 14) ^ rotr<u64>(d, 18) ^ rotr<u64>(d, 41)) + (f ^ (d & (e ^ f))) + 0x12835b0145706fbe + w9;
  t2 = (rotr<u64>(h, 28) ^ rotr<u64>(h, 34) ^ rotr<u64>(h, 39)) + ((h & a) ^ (b & (h ^ a)));
  c += t1; g = t1 + t2;
  t1 = f + (rotr<u64>(c, 14) ^ rotr<u64>(c, 18) ^ rotr<u64>(c, 41)) + (e ^ (c & (d ^ e))) + 0x243185be4ee4b28c + w10;
  t2 = (rotr<u64>(g, 28) ^ rotr<u64>(g, 34) ^ rotr<u64>(g, 39)) + ((g & h) ^ (a & (g ^ h)));
  b += t1; f = t1 + t2;
  t1 = e + (rotr<u64>(b, 14) ^ rotr<u64>(b, 18) ^ rotr<u64>(b, 41)) + (d ^ (b & (c ^ d))) + 0x550c7dc3d5ffb4e2 + w11;
  t2 = (rotr<u64>(f, 28) ^ rotr<u64>(f, 34) ^ rotr<u64>(f, 39)) + ((f & g) ^ (h & (f ^ g)));
  a += t1; e = t1 + t2;
  t1 = d + (rotr<u64>(a, 14) ^ rotr<u64>(a, 18) ^ rotr<u64>(a, 41)) + (c ^ (a & (b ^ c))) + 0x72be5d74f27b896f + w12;
  t2 = (rotr<u64>(e, 28) ^ rotr<u64>(e, 34) ^ rotr<u64>(e, 39)) + ((e & f) ^ (g & (e ^ f)));
  h += t1; d = t1 + t2;
  t1 = c + (rotr<u64>(h, 14) ^ rotr<u64>(h, 18) ^ rotr<u64>(h, 41)) + (b ^ (h & (a ^ b))) + 0x80deb1fe3b1696b1 + w13;
  t2 = (rotr<u64>(d, 28) ^ rotr<u64>(d, 34) ^ rotr<u64>(d, 39)) + ((d & e) ^ (f & (d ^ e)));
  g += t1; c = t1 + t2;
  t1 = b + (rotr<u64>(g, 14) ^ rotr<u64>(g, 18) ^ rotr<u64>(g, 41)) + (a ^ (g & (h ^ a))) + 0x9bdc06a725c71235 + w14;
  t2 = (rotr<u64>(c, 28) ^ rotr<u64>(c, 34) ^ rotr<u64>(c, 39)) + ((c & d) ^ (e & (c ^ d)));
  f += t1; b = t1 + t2;
  t1 = a + (rotr<u64>(f, 14) ^ rotr<u64>(f, 18) ^ rotr<u64>(f, 41)) + (h ^ (f & (g ^ h))) + 0xc19bf174cf692694 + w15;
  t2 = (rotr<u64>(b, 28) ^ rotr<u64>(b, 34) ^ rotr<u64>(b, 39)) + ((b & c) ^ (d & (b ^ c)));
  e += t1; a = t1 + t2;
  w0 += (rotr<u64>(w14, 19) ^ rotr<u64>(w14, 61) ^ (w14 >> 6)) + w9 + (rotr<u64>(w1, 1) ^ rotr<u64>(w1, 8) ^ (w1 >> 7));
  t1 = h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + (g ^ (e & (f ^ g))) + 0xe49b69c19ef14ad2 + w0;
  t2 = (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) ^ (c & (a ^ b)));
  d += t1; h = t1 + t2;
  w1 += (rotr<u64>(w15, 19) ^ rotr<u64>(w15, 61) ^ (w15 >> 6)) + w10 + (rotr<u64>(w2, 1) ^ rotr<u64>(w2, 8) ^ (w2 >> 7));
  t1 = g + (rotr<u64>(d, 14) ^ rotr<u64>(d, 18) ^ rotr<u64>(d, 41)) + (f ^ (d & (e ^ f))) + 0xefbe4786384f25e3 + w1;
  t2 = (rotr<u64>(h, 28) ^ rotr<u64>(h, 34) ^ rotr<u64>(h, 39)) + ((h & a) ^ (b & (h ^ a)));
  c += t1; g = t1 + t2;
  w2 += (rotr<u64>(w0, 19) ^ rotr<u64>(w0, 61) ^ (w0 >> 6)) + w11 + (rotr<u64>(w3, 1) ^ rotr<u64>(w3, 8) ^ (w3 >> 7));
  t1 = f + (rotr<u64>(c, 14) ^ rotr<u64>(c, 18) ^ rotr<u64>(c, 41)) + (e ^ (c & (d ^ e))) + 0x0fc19dc68b8cd5b5 + w2;
  t2 = (rotr<u64>(g, 28) ^ rotr<u64>(g, 34) ^ rotr<u64>(g, 39)) + ((g & h) ^ (a & (g ^ h)));
  b += t1; f = t1 + t2;
  w3 += (rotr<u64>(w1, 19) ^ rotr<u64>(w1, 61) ^ (w1 >> 6)) + w12 + (rotr<u64>(w4, 1) ^ rotr<u64>(w4, 8) ^ (w4 >> 7));
  t1 = e + (rotr<u64>(b, 14) ^ rotr<u64>(b, 18) ^ rotr<u64>(b, 41)) + (d ^ (b & (c ^ d))) + 0x240ca1cc77ac9c65 + w3;
  t2 = (rotr<u64>(f, 28) ^ rotr<u64>(f, 34) ^ rotr<u64>(f, 39)) + ((f & g) ^ (h & (f ^ g)));
  a += t1; e = t1 + t2;
  w4 += (rotr<u64>(w2, 19) ^ rotr<u64>(w2, 61) ^ (w2 >> 6)) + w13 + (rotr<u64>(w5, 1) ^ rotr<u64>(w5, 8) ^ (w5 >> 7));
  t1 = d + (rotr<u64>(a, 14) ^ rotr<u64>(a, 18) ^ rotr<u64>(a, 41)) + (c ^ (a & (b ^ c))) + 0x2de92c6f592b0275 + w4;
  t2 = (rotr<u64>(e, 28) ^ rotr<u64>(e, 34) ^ rotr<u64>(e, 39)) + ((e & f) ^ (g & (e ^ f)));
  h += t1; d = t1 + t2;
  w5 += (rotr<u64>(w3, 19) ^ rotr<u64>(w3, 61) ^ (w3 >> 6)) + w14 + (rotr<u64>(w6, 1) ^ rotr<u64>(w6, 8) ^ (w6 >> 7));
  t1 = c + (rotr<u64>(h, 14) ^ rotr<u64>(h, 18) ^ rotr<u64>(h, 41)) + (b ^ (h & (a ^ b))) + 0x4a7484aa6ea6e483 + w5;
  t2 = (rotr<u64>(d, 28) ^ rotr<u64>(d, 34) ^ rotr<u64>(d, 39)) + ((d & e) ^ (f & (d ^ e)));
  g += t1; c = t1 + t2;
  w6 += (rotr<u64>(w4, 19) ^ rotr<u64>(w4, 61) ^ (w4 >> 6)) + w15 + (rotr<u64>(w7, 1) ^ rotr<u64>(w7, 8) ^ (w7 >> 7));
  t1 = b + (rotr<u64>(g, 14) ^ rotr<u64>(g, 18) ^ rotr<u64>(g, 41)) + (a ^ (g & (h ^ a))) + 0x5cb0a9dcbd41fbd4 + w6;
  t2 = (rotr<u64>(c, 28) ^ rotr<u64>(c, 34) ^ rotr<u64>(c, 39)) + ((c & d) ^ (e & (c ^ d)));
  f += t1; b = t1 + t2;
  w7 += (rotr<u64>(w5, 19) ^ rotr<u64>(w5, 61) ^ (w5 >> 6)) + w0 + (rotr<u64>(w8, 1) ^ rotr<u64>(w8, 8) ^ (w8 >> 7));
  t1 = a + (rotr<u64>(f, 14) ^ rotr<u64>(f, 18) ^ rotr<u64>(f, 41)) + (h ^ (f & (g ^ h))) + 0x76f988da831153b5 + w7;
  t2 = (rotr<u64>(b, 28) ^ rotr<u64>(b, 34) ^ rotr<u64>(b, 39)) + ((b & c) ^ (d & (b ^ c)));
  e += t1; a = t1 + t2;
  w8 += (rotr<u64>(w6, 19) ^ rotr<u64>(w6, 61) ^ (w6 >> 6)) + w1 + (rotr<u64>(w9, 1) ^ rotr<u64>(w9, 8) ^ (w9 >> 7));
  t1 = h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + (g ^ (e & (f ^ g))) + 0x983e5152ee66dfab + w8;
  t2 = (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) ^ (c & (a ^ b)));
  d += t1; h = t1 + t2;
  w9 += (rotr<u64>(w7, 19) ^ rotr<u64>(w7, 61) ^ (w7 >> 6)) + w2 + (rotr<u64>(w10, 1) ^ rotr<u64>(w10, 8) ^ (w10 >> 7));
  t1 = g + (rotr<u64>(d, 14) ^ rotr<u64>(d, 18) ^ rotr<u64>(d, 41)) + (f ^ (d & (e ^ f))) + 0xa831c66d2db43210 + w9;
  t2 = (rotr<u64>(h, 28) ^ rotr<u64>(h, 34) ^ rotr<u64>(h, 39)) + ((h & a) ^ (b & (h ^ a)));
  c += t1; g = t1 + t2;
  w10 += (rotr<u64>(w8, 19) ^ rotr<u64>(w8, 61) ^ (w8 >> 6)) + w3 + (rotr<u64>(w11, 1) ^ rotr<u64>(w11, 8) ^ (w11 >> 7));
  t1 = f + (rotr<u64>(c, 14) ^ rotr<u64>(c, 18) ^ rotr<u64>(c, 41)) + (e ^ (c & (d ^ e))) + 0xb00327c898fb213f + w10;
  t2 = (rotr<u64>(g, 28) ^ rotr<u64>(g, 34) ^ rotr<u64>(g, 39)) + ((g & h) ^ (a & (g ^ h)));
  b += t1; f = t1 + t2;
  w11 += (rotr<u64>(w9, 19) ^ rotr<u64>(w9, 61) ^ (w9 >> 6)) + w4 + (rotr<u64>(w12, 1) ^ rotr<u64>(w12, 8) ^ (w12 >> 7));
  t1 = e + (rotr<u64>(b, 14) ^ rotr<u64>(b, 18) ^ rotr<u64>(b, 41)) + (d ^ (b & (c ^ d))) + 0xbf597fc7beef0ee4 + w11;
  t2 = (rotr<u64>(f, 28) ^ rotr<u64>(f, 34) ^ rotr<u64>(f, 39)) + ((f & g) ^ (h & (f ^ g)));
  a += t1; e = t1 + t2;
  w12 += (rotr<u64>(w10, 19) ^ rotr<u64>(w10, 61) ^ (w10 >> 6)) + w5 + (rotr<u64>(w13, 1) ^ rotr<u64>(w13, 8) ^ (w13 >> 7));
  t1 = d + (rotr<u64>(a, 14) ^ rotr<u64>(a, 18) ^ rotr<u64>(a, 41)) + (c ^ (a & (b ^ c))) + 0xc6e00bf33da88fc2 + w12;
  t2 = (rotr<u64>(e, 28) ^ rotr<u64>(e, 34) ^ rotr<u64>(e, 39)) + ((e & f) ^ (g & (e ^ f)));
  h += t1; d = t1 + t2;
  w13 += (rotr<u64>(w11, 19) ^ rotr<u64>(w11, 61) ^ (w11 >> 6)) + w6 + (rotr<u64>(w14, 1) ^ rotr<u64>(w14, 8) ^ (w14 >> 7));
  t1 = c + (rotr<u64>(h, 14) ^ rotr<u64>(h, 18) ^ rotr<u64>(h, 41)) + (b ^ (h & (a ^ b))) + 0xd5a79147930aa725 + w13;
  t2 = (rotr<u64>(d, 28) ^ rotr<u64>(d, 34) ^ rotr<u64>(d, 39)) + ((d & e) ^ (f & (d ^ e)));
  g += t1; c = t1 + t2;
  w14 += (rotr<u64>(w12, 19) ^ rotr<u64>(w12, 61) ^ (w12 >> 6)) + w7 + (rotr<u64>(w15, 1) ^ rotr<u64>(w15, 8) ^ (w15 >> 7));
  t1 = b + (rotr<u64>(g, 14) ^ rotr<u64>(g, 18) ^ rotr<u64>(g, 41)) + (a ^ (g & (h ^ a))) + 0x06ca6351e003826f + w14;
  t2 = (rotr<u64>(c, 28) ^ rotr<u64>(c, 34) ^ rotr<u64>(c, 39)) + ((c & d) ^ (e & (c ^ d)));
  f += t1; b = t1 + t2;
  w15 += (rotr<u64>(w13, 19) ^ rotr<u64>(w13, 61) ^ (w13 >> 6)) + w8 + (rotr<u64>(w0, 1) ^ rotr<u64>(w0, 8) ^ (w0 >> 7));
  t1 = a + (rotr<u64>(f, 14) ^ rotr<u64>(f, 18) ^ rotr<u64>(f, 41)) + (h ^ (f & (g ^ h))) + 0x142929670a0e6e70 + w15;
  t2 = (rotr<u64>(b, 28) ^ rotr<u64>(b, 34) ^ rotr<u64>(b, 39)) + ((b & c) ^ (d & (b ^ c)));
  e += t1; a = t1 + t2;
  w0 += (rotr<u64>(w14, 19) ^ rotr<u64>(w14, 61) ^ (w14 >> 6)) + w9 + (rotr<u64>(w1, 1) ^ rotr<u64>(w1, 8) ^ (w1 >> 7));
  t1 = h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + (g ^ (e & (f ^ g))) + 0x27b70a8546d22ffc + w0;
  t2 = (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) ^ (c & (a ^ b)));
  d += t1; h = t1 + t2;
  w1 += (rotr<u64>(w15, 19) ^ rotr<u64>(w15, 61) ^ (w15 >> 6)) + w10 + (rotr<u64>(w2, 1) ^ rotr<u64>(w2, 8) ^ (w2 >> 7));
  t1 = g + (rotr<u64>(d, 14) ^ rotr<u64>(d, 18) ^ rotr<u64>(d, 41)) + (f ^ (d & (e ^ f))) + 0x2e1b21385c26c926 + w1;
  t2 = (rotr<u64>(h, 28) ^ rotr<u64>(h, 34) ^ rotr<u64>(h, 39)) + ((h & a) ^ (b & (h ^ a)));
  c += t1; g = t1 + t2;
  w2 += (rotr<u64>(w0, 19) ^ rotr<u64>(w0, 61) ^ (w0 >> 6)) + w11 + (rotr<u64>(w3, 1) ^ rotr<u64>(w3, 8) ^ (w3 >> 7));
  t1 = f + (rotr<u64>(c, 14) ^ rotr<u64>(c, 18) ^ rotr<u64>(c, 41)) + (e ^ (c & (d ^ e))) + 0x4d2c6dfc5ac42aed + w2;
  t2 = (rotr<u64>(g, 28) ^ rotr<u64>(g, 34) ^ rotr<u64>(g, 39)) + ((g & h) ^ (a & (g ^ h)));
  b += t1; f = t1 + t2;
  w3 += (rotr<u64>(w1, 19) ^ rotr<u64>(w1, 61) ^ (w1 >> 6)) + w12 + (rotr<u64>(w4, 1) ^ rotr<u64>(w4, 8) ^ (w4 >> 7));
  t1 = e + (rotr<u64>(b, 14) ^ rotr<u64>(b, 18) ^ rotr<u64>(b, 41)) + (d ^ (b & (c ^ d))) + 0x53380d139d95b3df + w3;
  t2 = (rotr<u64>(f, 28) ^ rotr<u64>(f, 34) ^ rotr<u64>(f, 39)) + ((f & g) ^ (h & (f ^ g)));
  a += t1; e = t1 + t2;
  w4 += (rotr<u64>(w2, 19) ^ rotr<u64>(w2, 61) ^ (w2 >> 6)) + w13 + (rotr<u64>(w5, 1) ^ rotr<u64>(w5, 8) ^ (w5 >> 7));
  t1 = d + (rotr<u64>(a, 14) ^ rotr<u64>(a, 18) ^ rotr<u64>(a, 41)) + (c ^ (a & (b ^ c))) + 0x650a73548baf63de + w4;
  t2 = (rotr<u64>(e, 28) ^ rotr<u64>(e, 34) ^ rotr<u64>(e, 39)) + ((e & f) ^ (g & (e ^ f)));
  h += t1; d = t1 + t2;
  w5 += (rotr<u64>(w3, 19) ^ rotr<u64>(w3, 61) ^ (w3 >> 6)) + w14 + (rotr<u64>(w6, 1) ^ rotr<u64>(w6, 8) ^ (w6 >> 7));
  t1 = c + (rotr<u64>(h, 14) ^ rotr<u64>(h, 18) ^ rotr<u64>(h, 41)) + (b ^ (h & (a ^ b))) + 0x766a0abb3c77b2a8 + w5;
  t2 = (rotr<u64>(d, 28) ^ rotr<u64>(d, 34) ^ rotr<u64>(d, 39)) + ((d & e) ^ (f & (d ^ e)));
  g += t1; c = t1 + t2;
  w6 += (rotr<u64>(w4, 19) ^ rotr<u64>(w4, 61) ^ (w4 >> 6)) + w15 + (rotr<u64>(w7, 1) ^ rotr<u64>(w7, 8) ^ (w7 >> 7));
  t1 = b + (rotr<u64>(g, 14) ^ rotr<u64>(g, 18) ^ rotr<u64>(g, 41)) + (a ^ (g & (h ^ a))) + 0x81c2c92e47edaee6 + w6;
  t2 = (rotr<u64>(c, 28) ^ rotr<u64>(c, 34) ^ rotr<u64>(c, 39)) + ((c & d) ^ (e & (c ^ d)));
  f += t1; b = t1 + t2;
  w7 += (rotr<u64>(w5, 19) ^ rotr<u64>(w5, 61) ^ (w5 >> 6)) + w0 + (rotr<u64>(w8, 1) ^ rotr<u64>(w8, 8) ^ (w8 >> 7));
  t1 = a + (rotr<u64>(f, 14) ^ rotr<u64>(f, 18) ^ rotr<u64>(f, 41)) + (h ^ (f & (g ^ h))) + 0x92722c851482353b + w7;
  t2 = (rotr<u64>(b, 28) ^ rotr<u64>(b, 34) ^ rotr<u64>(b, 39)) + ((b & c) ^ (d & (b ^ c)));
  e += t1; a = t1 + t2;
  w8 += (rotr<u64>(w6, 19) ^ rotr<u64>(w6, 61) ^ (w6 >> 6)) + w1 + (rotr<u64>(w9, 1) ^ rotr<u64>(w9, 8) ^ (w9 >> 7));
  t1 = h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + (g ^ (e & (f ^ g))) + 0xa2bfe8a14cf10364 + w8;
  t2 = (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) ^ (c & (a ^ b)));
  d += t1; h = t1 + t2;
  w9 += (rotr<u64>(w7, 19) ^ rotr<u64>(w7, 61) ^ (w7 >> 6)) + w2 + (rotr<u64>(w10, 1) ^ rotr<u64>(w10, 8) ^ (w10 >> 7));
  t1 = g + (rotr<u64>(d, 14) ^ rotr<u64>(d, 18) ^ rotr<u64>(d, 41)) + (f ^ (d & (e ^ f))) + 0xa81a664bbc423001 + w9;
  t2 = (rotr<u64>(h, 28) ^ rotr<u64>(h, 34) ^ rotr<u64>(h, 39)) + ((h & a) ^ (b & (h ^ a)));
  c += t1; g = t1 + t2;
  w10 += (rotr<u64>(w8, 19) ^ rotr<u64>(w8, 61) ^ (w8 >> 6)) + w3 + (rotr<u64>(w11, 1) ^ rotr<u64>(w11, 8) ^ (w11 >> 7));
  t1 = f + (rotr<u64>(c, 14) ^ rotr<u64>(c, 18) ^ rotr<u64>(c, 41)) + (e ^ (c & (d ^ e))) + 0xc24b8b70d0f89791 + w10;
  t2 = (rotr<u64>(g, 28) ^ rotr<u64>(g, 34) ^ rotr<u64>(g, 39)) + ((g & h) ^ (a & (g ^ h)));
  b += t1; f = t1 + t2;
  w11 += (rotr<u64>(w9, 19) ^ rotr<u64>(w9, 61) ^ (w9 >> 6)) + w4 + (rotr<u64>(w12, 1) ^ rotr<u64>(w12, 8) ^ (w12 >> 7));
  t1 = e + (rotr<u64>(b, 14) ^ rotr<u64>(b, 18) ^ rotr<u64>(b, 41)) + (d ^ (b & (c ^ d))) + 0xc76c51a30654be30 + w11;
  t2 = (rotr<u64>(f, 28) ^ rotr<u64>(f, 34) ^ rotr<u64>(f, 39)) + ((f & g) ^ (h & (f ^ g)));
  a += t1; e = t1 + t2;
  w12 += (rotr<u64>(w10, 19) ^ rotr<u64>(w10, 61) ^ (w10 >> 6)) + w5 + (rotr<u64>(w13, 1) ^ rotr<u64>(w13, 8) ^ (w13 >> 7));
  t1 = d + (rotr<u64>(a, 14) ^ rotr<u64>(a, 18) ^ rotr<u64>(a, 41)) + (c ^ (a & (b ^ c))) + 0xd192e819d6ef5218 + w12;
  t2 = (rotr<u64>(e, 28) ^ rotr<u64>(e, 34) ^ rotr<u64>(e, 39)) + ((e & f) ^ (g & (e ^ f)));
  h += t1; d = t1 + t2;
  w13 += (rotr<u64>(w11, 19) ^ rotr<u64>(w11, 61) ^ (w11 >> 6)) + w6 + (rotr<u64>(w14, 1) ^ rotr<u64>(w14, 8) ^ (w14 >> 7));
  t1 = c + (rotr<u64>(h, 14) ^ rotr<u64>(h, 18) ^ rotr<u64>(h, 41)) + (b ^ (h & (a ^ b))) + 0xd69906245565a910 + w13;
  t2 = (rotr<u64>(d, 28) ^ rotr<u64>(d, 34) ^ rotr<u64>(d, 39)) + ((d & e) ^ (f & (d ^ e)));
  g += t1; c = t1 + t2;
  w14 += (rotr<u64>(w12, 19) ^ rotr<u64>(w12, 61) ^ (w12 >> 6)) + w7 + (rotr<u64>(w15, 1) ^ rotr<u64>(w15, 8) ^ (w15 >> 7));
  t1 = b + (rotr<u64>(g, 14) ^ rotr<u64>(g, 18) ^ rotr<u64>(g, 41)) + (a ^ (g & (h ^ a))) + 0xf40e35855771202a + w14;
  t2 = (rotr<u64>(c, 28) ^ rotr<u64>(c, 34) ^ rotr<u64>(c, 39)) + ((c & d) ^ (e & (c ^ d)));
  f += t1; b = t1 + t2;
  w15 += (rotr<u64>(w13, 19) ^ rotr<u64>(w13, 61) ^ (w13 >> 6)) + w8 + (rotr<u64>(w0, 1) ^ rotr<u64>(w0, 8) ^ (w0 >> 7));
  t1 = a + (rotr<u64>(f, 14) ^ rotr<u64>(f, 18) ^ rotr<u64>(f, 41)) + (h ^ (f & (g ^ h))) + 0x106aa07032bbd1b8 + w15;
  t2 = (rotr<u64>(b, 28) ^ rotr<u64>(b, 34) ^ rotr<u64>(b, 39)) + ((b & c) ^ (d & (b ^ c)));
  e += t1; a = t1 + t2;
  w0 += (rotr<u64>(w14, 19) ^ rotr<u64>(w14, 61) ^ (w14 >> 6)) + w9 + (rotr<u64>(w1, 1) ^ rotr<u64>(w1, 8) ^ (w1 >> 7));
  t1 = h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + (g ^ (e & (f ^ g))) + 0x19a4c116b8d2d0c8 + w0;
  t2 = (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) ^ (c & (a ^ b)));
  d += t1; h = t1 + t2;
  w1 += (rotr<u64>(w15, 19) ^ rotr<u64>(w15, 61) ^ (w15 >> 6)) + w10 + (rotr<u64>(w2, 1) ^ rotr<u64>(w2, 8) ^ (w2 >> 7));
  t1 = g + (rotr<u64>(d, 14) ^ rotr<u64>(d, 18) ^ rotr<u64>(d, 41)) + (f ^ (d & (e ^ f))) + 0x1e376c085141ab53 + w1;
  t2 = (rotr<u64>(h, 28) ^ rotr<u64>(h, 34) ^ rotr<u64>(h, 39)) + ((h & a) ^ (b & (h ^ a)));
  c += t1; g = t1 + t2;
  w2 += (rotr<u64>(w0, 19) ^ rotr<u64>(w0, 61) ^ (w0 >> 6)) + w11 + (rotr<u64>(w3, 1) ^ rotr<u64>(w3, 8) ^ (w3 >> 7));
  t1 = f + (rotr<u64>(c, 14) ^ rotr<u64>(c, 18) ^ rotr<u64>(c, 41)) + (e ^ (c & (d ^ e))) + 0x2748774cdf8eeb99 + w2;
  t2 = (rotr<u64>(g, 28) ^ rotr<u64>(g, 34) ^ rotr<u64>(g, 39)) + ((g & h) ^ (a & (g ^ h)));
  b += t1; f = t1 + t2;
  w3 += (rotr<u64>(w1, 19) ^ rotr<u64>(w1, 61) ^ (w1 >> 6)) + w12 + (rotr<u64>(w4, 1) ^ rotr<u64>(w4, 8) ^ (w4 >> 7));
  t1 = e + (rotr<u64>(b, 14) ^ rotr<u64>(b, 18) ^ rotr<u64>(b, 41)) + (d ^ (b & (c ^ d))) + 0x34b0bcb5e19b48a8 + w3;
  t2 = (rotr<u64>(f, 28) ^ rotr<u64>(f, 34) ^ rotr<u64>(f, 39)) + ((f & g) ^ (h & (f ^ g)));
  a += t1; e = t1 + t2;
  w4 += (rotr<u64>(w2, 19) ^ rotr<u64>(w2, 61) ^ (w2 >> 6)) + w13 + (rotr<u64>(w5, 1) ^ rotr<u64>(w5, 8) ^ (w5 >> 7));
  t1 = d + (rotr<u64>(a, 14) ^ rotr<u64>(a, 18) ^ rotr<u64>(a, 41)) + (c ^ (a & (b ^ c))) + 0x391c0cb3c5c95a63 + w4;
  t2 = (rotr<u64>(e, 28) ^ rotr<u64>(e, 34) ^ rotr<u64>(e, 39)) + ((e & f) ^ (g & (e ^ f)));
  h += t1; d = t1 + t2;
  w5 += (rotr<u64>(w3, 19) ^ rotr<u64>(w3, 61) ^ (w3 >> 6)) + w14 + (rotr<u64>(w6, 1) ^ rotr<u64>(w6, 8) ^ (w6 >> 7));
  t1 = c + (rotr<u64>(h, 14) ^ rotr<u64>(h, 18) ^ rotr<u64>(h, 41)) + (b ^ (h & (a ^ b))) + 0x4ed8aa4ae3418acb + w5;
  t2 = (rotr<u64>(d, 28) ^ rotr<u64>(d, 34) ^ rotr<u64>(d, 39)) + ((d & e) ^ (f & (d ^ e)));
  g += t1; c = t1 + t2;
  w6 += (rotr<u64>(w4, 19) ^ rotr<u64>(w4, 61) ^ (w4 >> 6)) + w15 + (rotr<u64>(w7, 1) ^ rotr<u64>(w7, 8) ^ (w7 >> 7));
  t1 = b + (rotr<u64>(g, 14) ^ rotr<u64>(g, 18) ^ rotr<u64>(g, 41)) + (a ^ (g & (h ^ a))) + 0x5b9cca4f7763e373 + w6;
  t2 = (rotr<u64>(c, 28) ^ rotr<u64>(c, 34) ^ rotr<u64>(c, 39)) + ((c & d) ^ (e & (c ^ d)));
  f += t1; b = t1 + t2;
  w7 += (rotr<u64>(w5, 19) ^ rotr<u64>(w5, 61) ^ (w5 >> 6)) + w0 + (rotr<u64>(w8, 1) ^ rotr<u64>(w8, 8) ^ (w8 >> 7));
  t1 = a + (rotr<u64>(f, 14) ^ rotr<u64>(f, 18) ^ rotr<u64>(f, 41)) + (h ^ (f & (g ^ h))) + 0x682e6ff3d6b2b8a3 + w7;
  t2 = (rotr<u64>(b, 28) ^ rotr<u64>(b, 34) ^ rotr<u64>(b, 39)) + ((b & c) ^ (d & (b ^ c)));
  e += t1; a = t1 + t2;
  w8 += (rotr<u64>(w6, 19) ^ rotr<u64>(w6, 61) ^ (w6 >> 6)) + w1 + (rotr<u64>(w9, 1) ^ rotr<u64>(w9, 8) ^ (w9 >> 7));
  t1 = h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + (g ^ (e & (f ^ g))) + 0x748f82ee5defb2fc + w8;
  t2 = (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) ^ (c & (a ^ b)));
  d += t1; h = t1 + t2;
  w9 += (rotr<u64>(w7, 19) ^ rotr<u64>(w7, 61) ^ (w7 >> 6)) + w2 + (rotr<u64>(w10, 1) ^ rotr<u64>(w10, 8) ^ (w10 >> 7));
  t1 = g + (rotr<u64>(d, 14) ^ rotr<u64>(d, 18) ^ rotr<u64>(d, 41)) + (f ^ (d & (e ^ f))) + 0x78a5636f43172f60 + w9;
  t2 = (rotr<u64>(h, 28) ^ rotr<u64>(h, 34) ^ rotr<u64>(h, 39)) + ((h & a) ^ (b & (h ^ a)));
  c += t1; g = t1 + t2;
  w10 += (rotr<u64>(w8, 19) ^ rotr<u64>(w8, 61) ^ (w8 >> 6)) + w3 + (rotr<u64>(w11, 1) ^ rotr<u64>(w11, 8) ^ (w11 >> 7));
  t1 = f + (rotr<u64>(c, 14) ^ rotr<u64>(c, 18) ^ rotr<u64>(c, 41)) + (e ^ (c & (d ^ e))) + 0x84c87814a1f0ab72 + w10;
  t2 = (rotr<u64>(g, 28) ^ rotr<u64>(g, 34) ^ rotr<u64>(g, 39)) + ((g & h) ^ (a & (g ^ h)));
  b += t1; f = t1 + t2;
  w11 += (rotr<u64>(w9, 19) ^ rotr<u64>(w9, 61) ^ (w9 >> 6)) + w4 + (rotr<u64>(w12, 1) ^ rotr<u64>(w12, 8) ^ (w12 >> 7));
  t1 = e + (rotr<u64>(b, 14) ^ rotr<u64>(b, 18) ^ rotr<u64>(b, 41)) + (d ^ (b & (c ^ d))) + 0x8cc702081a6439ec + w11;
  t2 = (rotr<u64>(f, 28) ^ rotr<u64>(f, 34) ^ rotr<u64>(f, 39)) + ((f & g) ^ (h & (f ^ g)));
  a += t1; e = t1 + t2;
  w12 += (rotr<u64>(w10, 19) ^ rotr<u64>(w10, 61) ^ (w10 >> 6)) + w5 + (rotr<u64>(w13, 1) ^ rotr<u64>(w13, 8) ^ (w13 >> 7));
  t1 = d + (rotr<u64>(a, 14) ^ rotr<u64>(a, 18) ^ rotr<u64>(a, 41)) + (c ^ (a & (b ^ c))) + 0x90befffa23631e28 + w12;
  t2 = (rotr<u64>(e, 28) ^ rotr<u64>(e, 34) ^ rotr<u64>(e, 39)) + ((e & f) ^ (g & (e ^ f)));
  h += t1; d = t1 + t2;
  w13 += (rotr<u64>(w11, 19) ^ rotr<u64>(w11, 61) ^ (w11 >> 6)) + w6 + (rotr<u64>(w14, 1) ^ rotr<u64>(w14, 8) ^ (w14 >> 7));
  t1 = c + (rotr<u64>(h, 14) ^ rotr<u64>(h, 18) ^ rotr<u64>(h, 41)) + (b ^ (h & (a ^ b))) + 0xa4506cebde82bde9 + w13;
  t2 = (rotr<u64>(d, 28) ^ rotr<u64>(d, 34) ^ rotr<u64>(d, 39)) + ((d & e) ^ (f & (d ^ e)));
  g += t1; c = t1 + t2;
  w14 += (rotr<u64>(w12, 19) ^ rotr<u64>(w12, 61) ^ (w12 >> 6)) + w7 + (rotr<u64>(w15, 1) ^ rotr<u64>(w15, 8) ^ (w15 >> 7));
  t1 = b + (rotr<u64>(g, 14) ^ rotr<u64>(g, 18) ^ rotr<u64>(g, 41)) + (a ^ (g & (h ^ a))) + 0xbef9a3f7b2c67915 + w14;
  t2 = (rotr<u64>(c, 28) ^ rotr<u64>(c, 34) ^ rotr<u64>(c, 39)) + ((c & d) ^ (e & (c ^ d)));
  f += t1; b = t1 + t2;
  w15 += (rotr<u64>(w13, 19) ^ rotr<u64>(w13, 61) ^ (w13 >> 6)) + w8 + (rotr<u64>(w0, 1) ^ rotr<u64>(w0, 8) ^ (w0 >> 7));
  t1 = a + (rotr<u64>(f, 14) ^ rotr<u64>(f, 18) ^ rotr<u64>(f, 41)) + (h ^ (f & (g ^ h))) + 0xc67178f2e372532b + w15;
  t2 = (rotr<u64>(b, 28) ^ rotr<u64>(b, 34) ^ rotr<u64>(b, 39)) + ((b & c) ^ (d & (b ^ c)));
  e += t1; a = t1 + t2;
  w0 += (rotr<u64>(w14, 19) ^ rotr<u64>(w14, 61) ^ (w14 >> 6)) + w9 + (rotr<u64>(w1, 1) ^ rotr<u64>(w1, 8) ^ (w1 >> 7));
  t1 = h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + (g ^ (e & (f ^ g))) + 0xca273eceea26619c + w0;
  t2 = (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) ^ (c & (a ^ b)));
  d += t1; h = t1 + t2;
  w1 += (rotr<u64>(w15, 19) ^ rotr<u64>(w15, 61) ^ (w15 >> 6)) + w10 + (rotr<u64>(w2, 1) ^ rotr<u64>(w2, 8) ^ (w2 >> 7));
  t1 = g + (rotr<u64>(d, 14) ^ rotr<u64>(d, 18) ^ rotr<u64>(d, 41)) + (f ^ (d & (e ^ f))) + 0xd186b8c721c0c207 + w1;
  t2 = (rotr<u64>(h, 28) ^ rotr<u64>(h, 34) ^ rotr<u64>(h, 39)) + ((h & a) ^ (b & (h ^ a)));
  c += t1; g = t1 + t2;
  w2 += (rotr<u64>(w0, 19) ^ rotr<u64>(w0, 61) ^ (w0 >> 6)) + w11 + (rotr<u64>(w3, 1) ^ rotr<u64>(w3, 8) ^ (w3 >> 7));
  t1 = f + (rotr<u64>(c, 14) ^ rotr<u64>(c, 18) ^ rotr<u64>(c, 41)) + (e ^ (c & (d ^ e))) + 0xeada7dd6cde0eb1e + w2;
  t2 = (rotr<u64>(g, 28) ^ rotr<u64>(g, 34) ^ rotr<u64>(g, 39)) + ((g & h) ^ (a & (g ^ h)));
  b += t1; f = t1 + t2;
  w3 += (rotr<u64>(w1, 19) ^ rotr<u64>(w1, 61) ^ (w1 >> 6)) + w12 + (rotr<u64>(w4, 1) ^ rotr<u64>(w4, 8) ^ (w4 >> 7));
  t1 = e + (rotr<u64>(b, 14) ^ rotr<u64>(b, 18) ^ rotr<u64>(b, 41)) + (d ^ (b & (c ^ d))) + 0xf57d4f7fee6ed178 + w3;
  t2 = (rotr<u64>(f, 28) ^ rotr<u64>(f, 34) ^ rotr<u64>(f, 39)) + ((f & g) ^ (h & (f ^ g)));
  a += t1; e = t1 + t2;
  w4 += (rotr<u64>(w2, 19) ^ rotr<u64>(w2, 61) ^ (w2 >> 6)) + w13 + (rotr<u64>(w5, 1) ^ rotr<u64>(w5, 8) ^ (w5 >> 7));
  t1 = d + (rotr<u64>(a, 14) ^ rotr<u64>(a, 18) ^ rotr<u64>(a, 41)) + (c ^ (a & (b ^ c))) + 0x06f067aa72176fba + w4;
  t2 = (rotr<u64>(e, 28) ^ rotr<u64>(e, 34) ^ rotr<u64>(e, 39)) + ((e & f) ^ (g & (e ^ f)));
  h += t1; d = t1 + t2;
  w5 += (rotr<u64>(w3, 19) ^ rotr<u64>(w3, 61) ^ (w3 >> 6)) + w14 + (rotr<u64>(w6, 1) ^ rotr<u64>(w6, 8) ^ (w6 >> 7));
  t1 = c + (rotr<u64>(h, 14) ^ rotr<u64>(h, 18) ^ rotr<u64>(h, 41)) + (b ^ (h & (a ^ b))) + 0x0a637dc5a2c898a6 + w5;
  t2 = (rotr<u64>(d, 28) ^ rotr<u64>(d, 34) ^ rotr<u64>(d, 39)) + ((d & e) ^ (f & (d ^ e)));
  g += t1; c = t1 + t2;
  w6 += (rotr<u64>(w4, 19) ^ rotr<u64>(w4, 61) ^ (w4 >> 6)) + w15 + (rotr<u64>(w7, 1) ^ rotr<u64>(w7, 8) ^ (w7 >> 7));
  t1 = b + (rotr<u64>(g, 14) ^ rotr<u64>(g, 18) ^ rotr<u64>(g, 41)) + (a ^ (g & (h ^ a))) + 0x113f9804bef90dae + w6;
  t2 = (rotr<u64>(c, 28) ^ rotr<u64>(c, 34) ^ rotr<u64>(c, 39)) + ((c & d) ^ (e & (c ^ d)));
  f += t1; b = t1 + t2;
  w7 += (rotr<u64>(w5, 19) ^ rotr<u64>(w5, 61) ^ (w5 >> 6)) + w0 + (rotr<u64>(w8, 1) ^ rotr<u64>(w8, 8) ^ (w8 >> 7));
  t1 = a + (rotr<u64>(f, 14) ^ rotr<u64>(f, 18) ^ rotr<u64>(f, 41)) + (h ^ (f & (g ^ h))) + 0x1b710b35131c471b + w7;
  t2 = (rotr<u64>(b, 28) ^ rotr<u64>(b, 34) ^ rotr<u64>(b, 39)) + ((b & c) ^ (d & (b ^ c)));
  e += t1; a = t1 + t2;
  w8 += (rotr<u64>(w6, 19) ^ rotr<u64>(w6, 61) ^ (w6 >> 6)) + w1 + (rotr<u64>(w9, 1) ^ rotr<u64>(w9, 8) ^ (w9 >> 7));
  t1 = h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + (g ^ (e & (f ^ g))) + 0x28db77f523047d84 + w8;
  t2 = (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) ^ (c & (a ^ b)));
  d += t1; h = t1 + t2;
  w9 += (rotr<u64>(w7, 19) ^ rotr<u64>(w7, 61) ^ (w7 >> 6)) + w2 + (rotr<u64>(w10, 1) ^ rotr<u64>(w10, 8) ^ (w10 >> 7));
  t1 = g + (rotr<u64>(d, 14) ^ rotr<u64>(d, 18) ^ rotr<u64>(d, 41)) + (f ^ (d & (e ^ f))) + 0x32caab7b40c72493 + w9;
  t2 = (rotr<u64>(h, 28) ^ rotr<u64>(h, 34) ^ rotr<u64>(h, 39)) + ((h & a) ^ (b & (h ^ a)));
  c += t1; g = t1 + t2;
  w10 += (rotr<u64>(w8, 19) ^ rotr<u64>(w8, 61) ^ (w8 >> 6)) + w3 + (rotr<u64>(w11, 1) ^ rotr<u64>(w11, 8) ^ (w11 >> 7));
  t1 = f + (rotr<u64>(c, 14) ^ rotr<u64>(c, 18) ^ rotr<u64>(c, 41)) + (e ^ (c & (d ^ e))) + 0x3c9ebe0a15c9bebc + w10;
  t2 = (rotr<u64>(g, 28) ^ rotr<u64>(g, 34) ^ rotr<u64>(g, 39)) + ((g & h) ^ (a & (g ^ h)));
  b += t1; f = t1 + t2;
  w11 += (rotr<u64>(w9, 19) ^ rotr<u64>(w9, 61) ^ (w9 >> 6)) + w4 + (rotr<u64>(w12, 1) ^ rotr<u64>(w12, 8) ^ (w12 >> 7));
  t1 = e + (rotr<u64>(b, 14) ^ rotr<u64>(b, 18) ^ rotr<u64>(b, 41)) + (d ^ (b & (c ^ d))) + 0x431d67c49c100d4c + w11;
  t2 = (rotr<u64>(f, 28) ^ rotr<u64>(f, 34) ^ rotr<u64>(f, 39)) + ((f & g) ^ (h & (f ^ g)));
  a += t1; e = t1 + t2;
  w12 += (rotr<u64>(w10, 19) ^ rotr<u64>(w10, 61) ^ (w10 >> 6)) + w5 + (rotr<u64>(w13, 1) ^ rotr<u64>(w13, 8) ^ (w13 >> 7));
  t1 = d + (rotr<u64>(a, 14) ^ rotr<u64>(a, 18) ^ rotr<u64>(a, 41)) + (c ^ (a & (b ^ c))) + 0x4cc5d4becb3e42b6 + w12;
  t2 = (rotr<u64>(e, 28) ^ rotr<u64>(e, 34) ^ rotr<u64>(e, 39)) + ((e & f) ^ (g & (e ^ f)));
  h += t1; d = t1 + t2;
  w13 += (rotr<u64>(w11, 19) ^ rotr<u64>(w11, 61) ^ (w11 >> 6)) + w6 + (rotr<u64>(w14, 1) ^ rotr<u64>(w14, 8) ^ (w14 >> 7));
  t1 = c + (rotr<u64>(h, 14) ^ rotr<u64>(h, 18) ^ rotr<u64>(h, 41)) + (b ^ (h & (a ^ b))) + 0x597f299cfc657e2a + w13;
  t2 = (rotr<u64>(d, 28) ^ rotr<u64>(d, 34) ^ rotr<u64>(d, 39)) + ((d & e) ^ (f & (d ^ e)));
  g += t1; c = t1 + t2;
  w14 += (rotr<u64>(w12, 19) ^ rotr<u64>(w12, 61) ^ (w12 >> 6)) + w7 + (rotr<u64>(w15, 1) ^ rotr<u64>(w15, 8) ^ (w15 >> 7));
  t1 = b + (rotr<u64>(g, 14) ^ rotr<u64>(g, 18) ^ rotr<u64>(g, 41)) + (a ^ (g & (h ^ a))) + 0x5fcb6fab3ad6faec + w14;
  t2 = (rotr<u64>(c, 28) ^ rotr<u64>(c, 34) ^ rotr<u64>(c, 39)) + ((c & d) ^ (e & (c ^ d)));
  f += t1; b = t1 + t2;
  w15 += (rotr<u64>(w13, 19) ^ rotr<u64>(w13, 61) ^ (w13 >> 6)) + w8 + (rotr<u64>(w0, 1) ^ rotr<u64>(w0, 8) ^ (w0 >> 7));
  t1 = a + (rotr<u64>(f, 14) ^ rotr<u64>(f, 18) ^ rotr<u64>(f, 41)) + (h ^ (f & (g ^ h))) + 0x6c44198c4a475817 + w15;
  t2 = (rotr<u64>(b, 28) ^ rotr<u64>(b, 34) ^ rotr<u64>(b, 39)) + ((b & c) ^ (d & (b ^ c)));
  e += t1; a = t1 + t2;
  store<u64>(H, load<u64>(H) + a); store<u64>(H, load<u64>(H, 8) + b, 8); store<u64>(H, load<u64>(H, 16) + c, 16); store<u64>(H, load<u64>(H, 24) + d, 24);
  store<u64>(H, load<u64>(H, 32) + e, 32); store<u64>(H, load<u64>(H, 40) + f, 40); store<u64>(H, load<u64>(H, 48) + g, 48); store<u64>(H, load<u64>(H, 56) + h, 56);

}

export function sha512Update(p: usize, len: usize): void {
  totalLen += <u64>len;
  let i: usize = 0;
  if (bufLen > 0) {
    const take = min<usize>(128 - bufLen, len);
    memory.copy(BUF + bufLen, p, take);
    bufLen += take;
    i = take;
    if (bufLen < 128) return;
    compress(BUF);
    bufLen = 0;
  }
  while (i + 128 <= len) {
    compress(p + i);
    i += 128;
  }
  if (i < len) {
    memory.copy(BUF, p + i, len - i);
    bufLen = len - i;
  }
}

/** Finish and write the 64-byte digest to `out`. */
export function sha512Final(out: usize): void {
  const bits = totalLen << 3;
  const hiBits = totalLen >> 61;
  store<u8>(BUF + bufLen, 0x80);
  bufLen++;
  if (bufLen > 112) {
    memory.fill(BUF + bufLen, 0, 128 - bufLen);
    compress(BUF);
    bufLen = 0;
  }
  memory.fill(BUF + bufLen, 0, 112 - bufLen);
  store<u64>(BUF + 112, bswap<u64>(hiBits));
  store<u64>(BUF + 120, bswap<u64>(bits));
  compress(BUF);
  bufLen = 0;
  for (let i: usize = 0; i < 8; i++) store<u64>(out + (i << 3), bswap<u64>(load<u64>(H + (i << 3))));
}

export function sha512(p: usize, len: usize, out: usize): void {
  sha512Init();
  sha512Update(p, len);
  sha512Final(out);
}

/**
 * SHA-512 and Ed25519 verification compiled to wasm (assembly/crypto/): FIPS 180-4 / RFC 8032 test
 * vectors, Wycheproof-style edge cases (non-canonical S, small-order and non-canonical keys and R,
 * bad lengths, bit flips), a random cross-check against node:crypto's Ed25519 and SHA-512, and the
 * strict base64 decoder used for keys and signatures.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify as nodeVerify } from "node:crypto";
import fc from "fast-check";
import { SafetyUnit } from "./unit-module.js";
import { BASE, L, P, add, bigintToLe, decode, encode, leToBigint, mul, torsionPoints } from "./ed25519-ref.js";

const OK = 0, BAD_KEY = 2, WEAK_KEY = 3, NON_CANONICAL_S = 4, BAD_R = 5, MISMATCH = 6;

let u: SafetyUnit;
beforeAll(async () => { u = await SafetyUnit.create(); }, 180_000);

const hex = (s: string) => Buffer.from(s, "hex");

/** node:crypto key objects from a 32-byte RFC 8032 secret (the seed). */
function keyFromSeed(seed: Buffer) {
  const der = Buffer.concat([hex("302e020100300506032b657004220420"), seed]);
  const priv = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  const pub = createPublicKey(priv).export({ format: "der", type: "spki" }).subarray(12);
  return { priv, pub: Buffer.from(pub) };
}

function rawPublic(k: ReturnType<typeof generateKeyPairSync>["publicKey"]): Buffer {
  return Buffer.from(k.export({ format: "der", type: "spki" }).subarray(12));
}

describe("SHA-512", () => {
  it("matches FIPS 180-4 examples and node:crypto at every block boundary", () => {
    expect(u.sha512("abc").toString("hex")).toBe(
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    expect(u.sha512("").toString("hex")).toBe(
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
    for (const n of [1, 55, 56, 63, 64, 111, 112, 113, 127, 128, 129, 239, 240, 255, 256, 1000, 65_537]) {
      const b = randomBytes(n);
      expect(u.sha512(b).toString("hex"), `${n} bytes`).toBe(createHash("sha512").update(b).digest("hex"));
    }
  });
});

describe("Ed25519 verification", () => {
  // RFC 8032 §7.1: the secrets are checked against node:crypto (public key and deterministic signature).
  const VECTORS = [
    { name: "TEST 1", seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
      pub: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", msg: "",
      sig: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
    { name: "TEST 2", seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
      pub: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", msg: "72",
      sig: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
    { name: "TEST 3", seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
      pub: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", msg: "af82",
      sig: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
    { name: "TEST SHA(abc)", seed: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
      pub: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
      msg: createHash("sha512").update("abc").digest("hex"),
      sig: "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704" },
  ];

  it("accepts the RFC 8032 test vectors", () => {
    for (const v of VECTORS) {
      const { priv, pub } = keyFromSeed(hex(v.seed));
      expect(pub.toString("hex"), v.name).toBe(v.pub);
      expect(sign(null, hex(v.msg), priv).toString("hex"), v.name).toBe(v.sig);
      expect(u.verify(hex(v.pub), hex(v.sig), hex(v.msg)), v.name).toBe(OK);
    }
  });

  it("rejects each vector with the message, key, R or S changed by one bit", () => {
    for (const v of VECTORS) {
      const msg = hex(v.msg);
      if (msg.length > 0) {
        const m = Buffer.from(msg); m[m.length - 1] ^= 1;
        expect(u.verify(hex(v.pub), hex(v.sig), m), v.name).toBe(MISMATCH);
      }
      expect(u.verify(hex(v.pub), hex(v.sig), Buffer.concat([msg, Buffer.from([0])])), v.name).toBe(MISMATCH);
      for (const bit of [0, 7, 100, 255, 256, 300, 500, 503]) {
        const s = hex(v.sig); s[bit >> 3] ^= 1 << (bit & 7);
        expect(u.verify(hex(v.pub), s, msg), `${v.name} sig bit ${bit}`).not.toBe(OK);
      }
      const k = hex(v.pub); k[0] ^= 1;
      expect(u.verify(k, hex(v.sig), msg), v.name).not.toBe(OK);
    }
  });

  it("rejects a non-canonical S (S + L): the malleable twin of a valid signature", () => {
    const v = VECTORS[1];
    const sig = hex(v.sig);
    const s = leToBigint(sig.subarray(32));
    const twin = Buffer.concat([sig.subarray(0, 32), bigintToLe(s + L)]);
    expect(u.verify(hex(v.pub), twin, hex(v.msg))).toBe(NON_CANONICAL_S);
    const huge = Buffer.concat([sig.subarray(0, 32), Buffer.alloc(32, 0xff)]);
    expect(u.verify(hex(v.pub), huge, hex(v.msg))).toBe(NON_CANONICAL_S);
    const exactlyL = Buffer.concat([sig.subarray(0, 32), bigintToLe(L)]);
    expect(u.verify(hex(v.pub), exactlyL, hex(v.msg))).toBe(NON_CANONICAL_S);
  });

  it("rejects small-order public keys (all 8 torsion points) and keys that are not points", () => {
    const torsion = torsionPoints();
    expect(torsion.length).toBe(8);
    const v = VECTORS[0];
    for (const t of torsion) {
      expect(u.verify(encode(t), hex(v.sig), hex(v.msg)), encode(t).toString("hex")).toBe(WEAK_KEY);
      expect(u.keyUsable(encode(t))).toBe(false);
    }
    // y = p and y = p + 1 (non-canonical encodings of 0 and 1), and 2^255 − 1
    for (const y of [P, P + 1n, (1n << 255n) - 1n]) {
      expect(u.verify(bigintToLe(y), hex(v.sig), hex(v.msg))).toBe(BAD_KEY);
    }
    // x = 0 with the sign bit set (the identity's encoding with bit 255 set)
    expect(u.verify(bigintToLe(1n | (1n << 255n)), hex(v.sig), hex(v.msg))).toBe(BAD_KEY);
    // a y with no x on the curve
    let y = 2n;
    while (decode(bigintToLe(y))) y++;
    expect(u.verify(bigintToLe(y), hex(v.sig), hex(v.msg))).toBe(BAD_KEY);
    expect(u.keyUsable(bigintToLe(y))).toBe(false);
    expect(u.keyUsable(hex(v.pub))).toBe(true);
  });

  it("rejects R of small order or not canonical, even when the equation would hold", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const pub = rawPublic(publicKey);
    const msg = Buffer.from("edge");
    const good = sign(null, msg, privateKey);
    for (const t of torsionPoints()) {
      const forged = Buffer.concat([encode(t), good.subarray(32)]);
      expect(u.verify(pub, forged, msg)).toBe(BAD_R);
    }
    const nonCanonical = Buffer.concat([bigintToLe(P + 1n), good.subarray(32)]);
    expect(u.verify(pub, nonCanonical, msg)).toBe(BAD_R);
    // S = 0 with R = identity: the classic "zero signature" forgery attempt.
    expect(u.verify(pub, Buffer.concat([encode({ x: 0n, y: 1n }), Buffer.alloc(32)]), msg)).toBe(BAD_R);
  });

  it("a signature by another key, or for another message, is a mismatch", () => {
    const a = generateKeyPairSync("ed25519"), b = generateKeyPairSync("ed25519");
    const msg = randomBytes(200);
    const sigA = sign(null, msg, a.privateKey);
    expect(u.verify(rawPublic(a.publicKey), sigA, msg)).toBe(OK);
    expect(u.verify(rawPublic(b.publicKey), sigA, msg)).toBe(MISMATCH);
    expect(u.verify(rawPublic(a.publicKey), sigA, randomBytes(200))).toBe(MISMATCH);
  });

  it("a valid signature R' = R + T (T torsion) with the same S fails the cofactorless equation", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const msg = Buffer.from("mixed order");
    const sig = sign(null, msg, privateKey);
    const r = decode(sig.subarray(0, 32))!;
    const t = torsionPoints().find((p) => p.x !== 0n)!;
    const moved = add(r, t);
    expect(u.verify(rawPublic(publicKey), Buffer.concat([encode(moved), sig.subarray(32)]), msg)).toBe(MISMATCH);
  });

  it("agrees with node:crypto on random keys, messages and corruptions", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.boolean(), (m, flip, corrupt) => {
      const { privateKey, publicKey } = generateKeyPairSync("ed25519");
      const msg = Buffer.from(m);
      const sig = sign(null, msg, privateKey);
      const pub = rawPublic(publicKey);
      if (corrupt) {
        const where = flip % (msg.length + 64);
        if (where < 64) sig[where] ^= 1 << (flip % 8);
        else msg[where - 64] ^= 1 << (flip % 8);
      }
      const ours = u.verify(pub, sig, msg) === OK;
      const theirs = nodeVerify(null, msg, publicKey, sig);
      expect(ours).toBe(theirs);
    }), { numRuns: 150 });
  });

  it("never traps on arbitrary keys, signatures and messages (property test)", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ maxLength: 300 }), (k, s, m) => {
      const r = u.verify(k, s, m);
      expect(r).toBeGreaterThanOrEqual(2);
      expect(r).toBeLessThanOrEqual(6);
    }), { numRuns: 300 });
  });

  it("verifies a large document (1 MiB) signed by node:crypto", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const msg = randomBytes(1 << 20);
    const sig = sign(null, msg, privateKey);
    expect(u.verify(rawPublic(publicKey), sig, msg)).toBe(OK);
    msg[(1 << 20) - 1] ^= 0x80;
    expect(u.verify(rawPublic(publicKey), sig, msg)).toBe(MISMATCH);
  });

  it("the reference model agrees: [L]B is the identity and [8]T is the identity for torsion T", () => {
    expect(mul(L, BASE)).toEqual({ x: 0n, y: 1n });
    for (const t of torsionPoints()) expect(mul(8n, t)).toEqual({ x: 0n, y: 1n });
  });
});

describe("strict base64", () => {
  it("decodes standard padded base64 and rejects everything else", () => {
    for (const n of [1, 2, 3, 4, 31, 32, 33, 64]) {
      const b = randomBytes(n);
      expect(u.base64(b.toString("base64"))?.toString("hex")).toBe(b.toString("hex"));
    }
    for (const bad of ["", "A", "AA", "AAA", "AA=A", "A===", "====", "AB==x", "AB-_", "AB\n==", " AAA", "AB=", "QQ=!", "QR==", "QUJ=" /* trailing bits */]) {
      expect(u.base64(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});

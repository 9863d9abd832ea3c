/**
 * Bug: a pushed rule document is accepted WITHOUT validation when its 64-bit digest equals the
 * digest of the last pushed document. The push cache (assembly/filter/root-context.ts
 * loadPushCache/storePushCache, one slot in shared data) is keyed by reload/shared-state.ts
 * digest() — FNV-1a over 8-byte words, not collision resistant — and a hit skips
 * buildRulesFromNode entirely. Colliding documents are easy to build (each step
 * h = (h ^ word) · p mod 2^64 is invertible): this test changes a CIDR to the invalid
 * "10.0.0.0/88" and fixes the digest up with 16 printable bytes inside "description"
 * (a few thousand random tries, milliseconds).
 * Effect: an invalid document is reported accepted (config_reload, no rules_reload_failures), and
 * the rule set in force is the cached one, not the document the operator pushed.
 * Fix: key the cache by the document bytes themselves (store and compare the full text, or its
 * length + a cryptographic hash), or keep a per-VM cache that is only filled after validation of
 * the same bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FuzzHost, peer, withRules } from "./support.js";

const M = (1n << 64n) - 1n;
const P = 0x100000001b3n;
const SEED = 0x65770001n; // root-context.ts: digest(..., 0x65770001)

function fnvWords(b: Buffer, words: number): bigint {
  let h = 0xcbf29ce484222325n ^ SEED;
  for (let k = 0; k < words; k++) h = ((h ^ b.readBigUInt64LE(k * 8)) * P) & M;
  return h;
}

function digest(b: Buffer): bigint {
  let h = fnvWords(b, Math.floor(b.length / 8));
  for (let i = Math.floor(b.length / 8) * 8; i < b.length; i++) h = ((h ^ BigInt(b[i])) * P) & M;
  return h ^ BigInt(b.length);
}

const printable = (x: bigint) => {
  for (let k = 0n; k < 8n; k++) {
    const c = Number((x >> (8n * k)) & 0xffn);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
};

/** B: A with an invalid CIDR, made to collide with A by rewriting two aligned words of "description". */
function collide(a: Buffer, b: Buffer): Buffer | null {
  const out = Buffer.from(b);
  const start = out.indexOf("XXXXXXXXXXXXXXXXXXXXXXXX");
  const j = Math.ceil(start / 8) * 8;
  const sA = fnvWords(a, j / 8), sB = fnvWords(out, j / 8);
  const wj = a.readBigUInt64LE(j), wj1 = a.readBigUInt64LE(j + 8);
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  for (let t = 0; t < 5_000_000; t++) {
    let w = 0n;
    for (let k = 0; k < 8; k++) w |= BigInt(0x30 + Math.floor(rnd() * 0x4a)) << BigInt(8 * k);
    if (!printable(w)) continue;
    const w1 = ((((sB ^ w) * P) & M) ^ (((sA ^ wj) * P) & M) ^ wj1) & M;
    if (printable(w1)) {
      out.writeBigUInt64LE(w, j);
      out.writeBigUInt64LE(w1, j + 8);
      return out;
    }
  }
  return null;
}

const A = Buffer.from(`{"version":7,"access":[{"id":"a","cidrs":["10.0.0.0/8"]}],"description":"0123456789abcdefXXXXXXXXXXXXXXXXXXXXXXXX-"}`);
const B0 = Buffer.from(`{"version":7,"access":[{"id":"a","cidrs":["10.0.0.0/88"]}],"description":"0123456789abcdeXXXXXXXXXXXXXXXXXXXXXXXX-"}`);

let h: FuzzHost;
beforeAll(async () => { h = await FuzzHost.start({ configuration: `{"tracing":{"enabled":false}}` }); });
afterAll(async () => { await h?.close(); });

describe("issue-8: push cache keyed by a non-cryptographic digest", () => {
  it("an invalid document colliding with the cached one is still rejected", async () => {
    const B = collide(A, B0);
    expect(B, "collision construction").not.toBeNull();
    expect(B!.length).toBe(A.length);
    expect(digest(B!)).toBe(digest(A));
    expect(B!.toString()).toContain(`"10.0.0.0/88"`);

    // Control: B alone is rejected (bad CIDR).
    const fresh = await FuzzHost.start({ configuration: `{"tracing":{"enabled":false}}` });
    try {
      expect((await fresh.push(withRules(B!.toString()))).accepted).toBe(false);
    } finally {
      await fresh.close();
    }

    expect((await h.push(withRules(A.toString()))).accepted).toBe(true);
    const failed0 = h.reloadFailures("cidr");
    const r = await h.push(withRules(B!.toString()));
    expect(h.trapped()).toBe(false);
    expect(r.accepted, "document with CIDR 10.0.0.0/88 accepted via the push cache").toBe(false);
    expect(h.reloadFailures("cidr")).toBe(failed0 + 1n);
    expect(h.request(peer("10.1.2.3")).status).toBe(403);
  }, 60_000);
});

/**
 * The plugin-configuration side of issue 15, through the filter's own parser compiled to wasm:
 * rules_signing (keys, rotation ids, public-key formats, private keys refused with their own message),
 * rules_text / rules_signature, blast_radius limits, and the x-edgewatch-signature header syntax.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import fc from "fast-check";
import { SafetyUnit } from "./unit-module.js";

let u: SafetyUnit;
beforeAll(async () => { u = await SafetyUnit.create(); }, 180_000);

const pair = generateKeyPairSync("ed25519");
const spki = pair.publicKey.export({ format: "der", type: "spki" }) as Buffer;
const raw = spki.subarray(12);
const pkcs8 = pair.privateKey.export({ format: "der", type: "pkcs8" }) as Buffer;
const pem = pair.privateKey.export({ format: "pem", type: "pkcs8" }) as string;
const sig = randomBytes(64).toString("base64");

const signing = (keys: object[]) => ({ rules_signing: { keys } });

describe("rules_signing", () => {
  it("accepts raw and DER public keys under distinct key ids (two keys for a rotation)", () => {
    const other = generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" }) as Buffer;
    const r = u.config(signing([{ key_id: "ops-2026-06", public_key: raw.toString("base64") }, { key_id: "ops-2026-07", public_key: other.toString("base64") }]));
    expect(r).toMatchObject({ ok: true, summary: { keys: "ops-2026-06,ops-2026-07" } });
  });

  it("refuses private keys, in every form, with a message that says why", () => {
    const cases: object[] = [
      signing([{ key_id: "k", public_key: pkcs8.toString("base64") }]),
      signing([{ key_id: "k", public_key: Buffer.concat([randomBytes(32), raw]).toString("base64") }]),
      signing([{ key_id: "k", public_key: pem }]),
      signing([{ key_id: "k", public_key: raw.toString("base64"), private_key: pkcs8.toString("base64") }]),
      { rules_signing: { keys: [{ key_id: "k", public_key: raw.toString("base64") }], seed: "x" } },
      { signing_key: pkcs8.toString("base64") },
      { private_key: "x" },
      { telemetry: { enabled: true }, tracing: { service_name: pem.slice(0, 200) } },
      { rules_signature: { key_id: "k", sig, secret: "x" }, rules_text: "{}" },
    ];
    for (const c of cases) {
      const r = u.config(c);
      expect(r.ok, JSON.stringify(c).slice(0, 120)).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/private key|PRIVATE KEY|private keys must never/);
    }
  });

  it("rejects keys that are not usable Ed25519 public keys, bad ids, duplicates and empty lists", () => {
    const bad: Array<[object, RegExp]> = [
      [signing([{ key_id: "k", public_key: Buffer.alloc(32).toString("base64") }]), /not a usable/],            // y = 0: small order
      [signing([{ key_id: "k", public_key: Buffer.from([1, ...Buffer.alloc(31)]).toString("base64") }]), /not a usable/], // identity
      [signing([{ key_id: "k", public_key: randomBytes(31).toString("base64") }]), /31 bytes/],
      [signing([{ key_id: "k", public_key: "not base64!" }]), /base64/],
      [signing([{ key_id: "bad id", public_key: raw.toString("base64") }]), /key_id/],
      [signing([{ public_key: raw.toString("base64") }]), /key_id/],
      [signing([{ key_id: "k" }]), /public_key: required/],
      [signing([{ key_id: "k", public_key: raw.toString("base64") }, { key_id: "k", public_key: raw.toString("base64") }]), /duplicate key id/],
      [signing([]), /1 to 16 keys/],
      [{ rules_signing: {} }, /keys: required/],
      [signing([{ key_id: "k", public_key: raw.toString("base64"), algorithm: "rsa" }]), /unknown field/],
    ];
    for (const [c, msg] of bad) {
      const r = u.config(c);
      expect(r.ok, JSON.stringify(c)).toBe(false);
      if (!r.ok) { expect(r.reason).toBe("schema"); expect(r.message).toMatch(msg); }
    }
  });
});

describe("rules_text and rules_signature", () => {
  it("accepts a signed rules_text and reports the key id", () => {
    expect(u.config({ rules_text: "{}", rules_signature: { key_id: "ops-2026-07", sig } })).toMatchObject({ ok: true, summary: { rules_text: true, signature_key: "ops-2026-07" } });
  });

  it("rejects malformed signatures with reason signature, structural errors with reason schema", () => {
    const sigCases: object[] = [
      { rules_text: "{}", rules_signature: { key_id: "k", sig: randomBytes(63).toString("base64") } },
      { rules_text: "{}", rules_signature: { key_id: "k", sig: "@@@@" } },
      { rules_text: "{}", rules_signature: { key_id: "k k", sig } },
      { rules: {}, rules_signature: { key_id: "k", sig } },
    ];
    for (const c of sigCases) expect(u.config(c), JSON.stringify(c)).toMatchObject({ ok: false, reason: "signature" });
    const schemaCases: object[] = [
      { rules_text: { version: 1 } },
      { rules_text: "{}", rules: {} },
      { rules_text: "{}", rules_signature: { key_id: "k" } },
      { rules_text: "{}", rules_signature: { key_id: "k", sig, extra: 1 } },
      { rules_text: "{}", rules_signature: "k:sig" },
    ];
    for (const c of schemaCases) expect(u.config(c), JSON.stringify(c)).toMatchObject({ ok: false, reason: "schema" });
  });
});

describe("blast_radius", () => {
  it("defaults to 0.5 of at least 20 clients, 1024 addresses kept", () => {
    expect(u.config("")).toMatchObject({ ok: true, summary: { max_deny_fraction: 0.5, min_clients: 20, sample_size: 1024 } });
    expect(u.config({ blast_radius: { max_deny_fraction: 0.25, min_clients: 100, sample_size: 4096 } })).toMatchObject({ ok: true, summary: { max_deny_fraction: 0.25, min_clients: 100, sample_size: 4096 } });
    expect(u.config({ blast_radius: { max_deny_fraction: 1 } })).toMatchObject({ ok: true, summary: { max_deny_fraction: 1 } });
  });

  it("rejects out-of-range and unknown values", () => {
    for (const b of [{ max_deny_fraction: 1.5 }, { max_deny_fraction: -0.1 }, { max_deny_fraction: "0.5" }, { min_clients: -1 }, { sample_size: 8 },
      { sample_size: 100000 }, { enabled: false }, { max_deny_fraction: 0.5, max_deny_fraction_: 1 }]) {
      expect(u.config({ blast_radius: b }), JSON.stringify(b)).toMatchObject({ ok: false, reason: "schema" });
    }
  });
});

describe("x-edgewatch-signature header", () => {
  it("parses key_id=<id>;sig=<base64> in either order, with spaces", () => {
    expect(u.signatureHeader(`key_id=ops-1;sig=${sig}`)).toEqual({ ok: true, text: "ops-1" });
    expect(u.signatureHeader(` sig=${sig} ; key_id=ops-1 `)).toEqual({ ok: true, text: "ops-1" });
  });

  it("never traps on arbitrary header values (property test)", () => {
    fc.assert(fc.property(fc.string({ maxLength: 700 }), (h) => { u.signatureHeader(h); }), { numRuns: 1000 });
    fc.assert(fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), (id, sg) => {
      const r = u.config({ rules_text: "{}", rules_signature: { key_id: id, sig: sg } });
      if (!r.ok) expect(["signature", "schema"]).toContain(r.reason);
    }), { numRuns: 500 });
  });

  it("rejects anything else with a reason", () => {
    for (const h of ["", "ops-1", `key_id=ops-1`, `sig=${sig}`, `key_id=ops-1;sig=${sig};x=1`, `key_id=ops-1;key_id=ops-2;sig=${sig}`,
      `key_id=;sig=${sig}`, `key_id=ops-1;sig=${sig.slice(0, -4)}`, `key_id=ops 1;sig=${sig}`, `key_id=o;sig=${"A".repeat(600)}`]) {
      const r = u.signatureHeader(h);
      expect(r.ok, h).toBe(false);
      expect(r.text.length).toBeGreaterThan(0);
    }
  });
});

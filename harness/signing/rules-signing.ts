/**
 * Signing rule documents for edgewatch's signed delivery (issue 15): Ed25519 with node:crypto (the
 * publisher side; the filter verifies with its own AssemblyScript implementation,
 * assembly/crypto/ed25519.ts).
 *
 * What is signed is always the exact bytes the filter parses:
 *   - push: the decoded bytes of the plugin configuration's "rules_text" string, signature in
 *     "rules_signature": {"key_id", "sig"};
 *   - pull: the HTTP response body, signature in the `x-edgewatch-signature: key_id=<id>;sig=<base64>`
 *     response header.
 * Private keys are PKCS#8 PEM files (the format `openssl genpkey -algorithm ed25519` writes), read
 * from a file or an environment variable, never from a command-line argument. A key id defaults to
 * "ed25519-" + the first 16 hex digits of SHA-256(public key): stable, so every tool derives the same.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";

export const SIGNATURE_HEADER = "x-edgewatch-signature";
/** Environment variable `edgewatch rules sign` / `rules push --sign` read a PEM private key from. */
export const SIGNING_KEY_ENV = "EDGEWATCH_SIGNING_KEY";

export interface RulesSignature {
  key_id: string;
  /** Standard padded base64 of the 64-byte Ed25519 signature. */
  sig: string;
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export function validKeyId(id: string): boolean {
  return KEY_ID.test(id);
}

/** The raw 32-byte public key of an Ed25519 key object (private or public). */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  const der = pub.export({ format: "der", type: "spki" });
  return Buffer.from(der.subarray(der.length - 32));
}

export function defaultKeyId(publicKey: Buffer): string {
  return `ed25519-${createHash("sha256").update(publicKey).digest("hex").slice(0, 16)}`;
}

export interface GeneratedKey {
  privateKeyPem: string;
  publicKey: Buffer;
  keyId: string;
}

export function generateSigningKey(keyId?: string): GeneratedKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const raw = rawPublicKey(publicKey);
  const id = keyId ?? defaultKeyId(raw);
  if (!validKeyId(id)) throw new Error(`key id must match [A-Za-z0-9_.-]{1,64}: ${JSON.stringify(id)}`);
  return { privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(), publicKey: raw, keyId: id };
}

/** Parse a PEM private key; throws a readable error for anything that is not an Ed25519 private key. */
export function parsePrivateKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch (err) {
    throw new Error(`${where}: not a PEM private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`${where}: an ${key.asymmetricKeyType} key; edgewatch signs with Ed25519 (edgewatch rules keygen)`);
  return key;
}

/** Sign the exact bytes `doc`. */
export function signRules(doc: Buffer | string, key: KeyObject, keyId?: string): RulesSignature {
  const bytes = typeof doc === "string" ? Buffer.from(doc, "utf8") : doc;
  const id = keyId ?? defaultKeyId(rawPublicKey(key));
  if (!validKeyId(id)) throw new Error(`key id must match [A-Za-z0-9_.-]{1,64}: ${JSON.stringify(id)}`);
  return { key_id: id, sig: sign(null, bytes, key).toString("base64") };
}

/** node:crypto's verdict (for tools and tests; the filter verifies on its own). */
export function verifyRules(doc: Buffer | string, sig: RulesSignature, publicKey: Buffer): boolean {
  const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), publicKey]);
  const key = createPublicKey({ key: spki, format: "der", type: "spki" });
  return verify(null, typeof doc === "string" ? Buffer.from(doc, "utf8") : doc, key, Buffer.from(sig.sig, "base64"));
}

/** The `x-edgewatch-signature` header value of a pulled document. */
export function signatureHeaderValue(sig: RulesSignature): string {
  return `key_id=${sig.key_id};sig=${sig.sig}`;
}

/** Parse a header value (tools; the filter has its own parser). */
export function parseSignatureHeaderValue(v: string): RulesSignature | null {
  const m = /^\s*key_id=([A-Za-z0-9_.-]{1,64})\s*;\s*sig=([A-Za-z0-9+/]+={0,2})\s*$/.exec(v);
  return m ? { key_id: m[1], sig: m[2] } : null;
}

/** The "rules_signing" section naming trusted public keys. */
export function signingSection(keys: Array<{ keyId: string; publicKey: Buffer }>): { keys: Array<{ key_id: string; public_key: string }> } {
  return { keys: keys.map((k) => ({ key_id: k.keyId, public_key: k.publicKey.toString("base64") })) };
}

/**
 * The plugin-configuration members that push a signed document: "rules_text" (the document, exact
 * bytes; must be valid UTF-8, which JSON strings carry) and "rules_signature".
 */
export function signedPushMembers(doc: Buffer | string, sig: RulesSignature): { rules_text: string; rules_signature: RulesSignature } {
  const bytes = typeof doc === "string" ? Buffer.from(doc, "utf8") : doc;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new Error("a signed pushed document must be valid UTF-8 (it travels as a JSON string)");
  }
  return { rules_text: text, rules_signature: sig };
}

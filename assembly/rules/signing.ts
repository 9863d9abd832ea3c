// Signed rule documents (issue 15): trusted keys from the plugin configuration ("rules_signing"),
// the detached signature that travels with a document, and the check itself.
//
// The signature is Ed25519 (crypto/ed25519.ts) over the exact bytes the filter parses:
//   - push: the decoded bytes of the "rules_text" string, signature in "rules_signature";
//   - pull: the HTTP response body, signature in the x-edgewatch-signature response header.
// Key ids name keys for rotation: configure the new key next to the old one, re-sign, then drop the
// old one.
import { TrustedKey } from "../config/settings";
import { ed25519Verify, verifyResultText, VerifyResult } from "../crypto/ed25519";
import { base64DecodeString } from "../crypto/base64";

/** Response header of a pulled document's signature: `key_id=<id>;sig=<base64>`. */
export const SIGNATURE_HEADER = "x-edgewatch-signature";

export class DocSignature {
  keyId: string = "";
  sig: ArrayBuffer = new ArrayBuffer(0);
}

/** Key ids: [A-Za-z0-9_.-]{1,64} (they appear in logs and the signature header). */
export function validKeyId(s: string): bool {
  const n = s.length;
  if (n < 1 || n > 64) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f || c == 0x2e || c == 0x2d;
    if (!ok) return false;
  }
  return true;
}

/** Error text of the last parseSignature* call that returned null. */
export let signatureParseError: string = "";

/** A signature from its parts (config fields or header parameters); null with signatureParseError set. */
export function makeSignature(keyId: string, sigB64: string): DocSignature | null {
  if (!validKeyId(keyId)) { signatureParseError = "key_id must match [A-Za-z0-9_.-]{1,64}"; return null; }
  const sig = base64DecodeString(sigB64);
  if (sig === null) { signatureParseError = "sig is not standard padded base64"; return null; }
  if (sig.byteLength != 64) { signatureParseError = "sig is " + sig.byteLength.toString() + " bytes, an Ed25519 signature is 64"; return null; }
  const d = new DocSignature();
  d.keyId = keyId;
  d.sig = sig;
  return d;
}

/** Parse `key_id=<id>;sig=<base64>` (parameters in any order, optional spaces around ";"). */
export function parseSignatureHeader(v: string): DocSignature | null {
  if (v.length > 512) { signatureParseError = "header longer than 512 bytes"; return null; }
  let keyId = "", sig = "";
  let haveKey = false, haveSig = false;
  const parts = v.split(";");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i].trim();
    if (part.length == 0) continue;
    const eq = part.indexOf("=");
    if (eq <= 0) { signatureParseError = "expected key_id=<id>;sig=<base64>"; return null; }
    const name = part.substring(0, eq).trim();
    const value = part.substring(eq + 1).trim();
    if (name == "key_id" && !haveKey) { keyId = value; haveKey = true; }
    else if (name == "sig" && !haveSig) { sig = value; haveSig = true; }
    else { signatureParseError = "unexpected or repeated parameter \"" + clip(name) + "\" (expected key_id=<id>;sig=<base64>)"; return null; }
  }
  if (!haveKey || !haveSig) { signatureParseError = "expected key_id=<id>;sig=<base64>"; return null; }
  return makeSignature(keyId, sig);
}

function clip(s: string): string { return s.length > 32 ? s.substring(0, 32) + "…" : s; }

export function findKey(keys: TrustedKey[], id: string): TrustedKey | null {
  for (let i = 0; i < keys.length; i++) if (keys[i].id == id) return keys[i];
  return null;
}

function keyList(keys: TrustedKey[]): string {
  let s = "";
  for (let i = 0; i < keys.length; i++) s += (i > 0 ? ", " : "") + keys[i].id;
  return s;
}

export class SignatureCheck {
  ok: bool = false;
  /** The key that verified the document (ok), for logs and the push cache. */
  key: TrustedKey | null = null;
  message: string = "";
}

function failed(message: string): SignatureCheck {
  const c = new SignatureCheck();
  c.message = message;
  return c;
}

/**
 * Resolve `sig` against the trusted keys without verifying (unsigned, unknown key id). ok = the key
 * exists; the caller then verifies, or finds the same (key, signature, bytes) already verified.
 */
export function resolveSigner(keys: TrustedKey[], sig: DocSignature | null, what: string): SignatureCheck {
  if (sig === null) {
    return failed(what + " is unsigned; rules_signing names " + keys.length.toString() + " key(s) (" + keyList(keys) + ")");
  }
  const key = findKey(keys, sig.keyId);
  if (key === null) return failed(what + " is signed by unknown key \"" + sig.keyId + "\" (trusted: " + keyList(keys) + ")");
  const c = new SignatureCheck();
  c.ok = true;
  c.key = key;
  return c;
}

/** Verify the document bytes p[0..len) against `sig` and the trusted keys. */
export function checkSignature(keys: TrustedKey[], sig: DocSignature | null, p: usize, len: i32, what: string): SignatureCheck {
  const r = resolveSigner(keys, sig, what);
  if (!r.ok) return r;
  const v = ed25519Verify(r.key!.key, sig!.sig, p, <usize>len);
  if (v != VerifyResult.Ok) {
    return failed(what + " has a bad signature from key \"" + sig!.keyId + "\": " + verifyResultText(v) +
      " (" + len.toString() + " bytes checked: the signature must cover the exact bytes sent)");
  }
  return r;
}

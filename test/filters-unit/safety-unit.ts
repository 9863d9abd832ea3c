// @ts-nocheck — AssemblyScript source (compiled by asc via test/rules/unit-module.ts), not TypeScript.
// Unit-test (and bench) entry for issue 15's safety rails: SHA-512, Ed25519 verification, base64,
// signature checks of documents, the client sample and the blast-radius guard. Same conventions as
// rules-unit.ts: input through `scratch(n)`, text output through `outPtr()/outLen()`.
import { proxy_log } from "../../assembly/abi/imports";
import { sha512 } from "../../assembly/crypto/sha512";
import { ed25519VerifyRaw, ed25519KeyUsable } from "../../assembly/crypto/ed25519";
import { base64Decode } from "../../assembly/crypto/base64";

// @ts-ignore: decorator
@global
function unit_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const msg = "abort: " + (message !== null ? message : "") + " at " + (fileName !== null ? fileName : "") + ":" + line.toString() + ":" + column.toString();
  const b = String.UTF8.encode(msg);
  proxy_log(5, changetype<usize>(b), b.byteLength);
  unreachable();
}

let scratchBuf: ArrayBuffer = new ArrayBuffer(0);
let out: ArrayBuffer = new ArrayBuffer(0);

export function scratch(n: i32): usize {
  scratchBuf = new ArrayBuffer(n);
  return changetype<usize>(scratchBuf);
}
export function outPtr(): usize { return changetype<usize>(out); }
export function outLen(): i32 { return out.byteLength; }

const DIGEST = memory.data(64);

/** SHA-512 of scratch[0..len) → out (64 bytes). */
export function hash512(len: i32): void {
  sha512(changetype<usize>(scratchBuf), <usize>len, DIGEST);
  out = new ArrayBuffer(64);
  memory.copy(changetype<usize>(out), DIGEST, 64);
}

/** scratch = key (32) ‖ sig (64) ‖ message: VerifyResult code. */
export function verify(len: i32): i32 {
  const p = changetype<usize>(scratchBuf);
  return ed25519VerifyRaw(p, p + 32, p + 96, <usize>(len - 96));
}

/** scratch = 32-byte key: 1 usable. */
export function keyUsable(len: i32): i32 {
  return ed25519KeyUsable(scratchBuf.slice(0, len)) ? 1 : 0;
}

/** base64 decode of scratch → out; -1 when rejected. */
export function b64(len: i32): i32 {
  const r = base64Decode(changetype<usize>(scratchBuf), len);
  if (r === null) return -1;
  out = r;
  return r.byteLength;
}

// @ts-nocheck — AssemblyScript source (compiled by asc via test/rules/unit-module.ts), not TypeScript.
// The I/O convention every unit entry (rules-unit.ts, safety-unit.ts) shares with its TypeScript
// wrapper (test/rules/unit-module.ts): input goes in through `scratch(n)` (a buffer kept alive here),
// output comes back through `outPtr()/outLen()`; an abort is logged at critical level, then traps.
import { proxy_log } from "../../assembly/abi/imports";

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

/** A fresh input buffer of n bytes; the wrapper writes into it at the returned address. */
export function scratch(n: i32): usize {
  scratchBuf = new ArrayBuffer(n);
  return changetype<usize>(scratchBuf);
}
export function outPtr(): usize { return changetype<usize>(out); }
export function outLen(): i32 { return out.byteLength; }

/** The current input buffer (as last sized by `scratch`). */
export function input(): ArrayBuffer { return scratchBuf; }
/** Sets the output to these bytes. */
export function setOutBytes(b: ArrayBuffer): void { out = b; }
/** Sets the output to this text (UTF-8). */
export function setOut(s: string): void { out = String.UTF8.encode(s); }

import { proxy_log } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
export { malloc } from "@gcoredev/proxy-wasm-sdk-as/assembly/malloc";

// @ts-ignore: decorator
@global
export function edgewatch_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const msg = "abort: " + (message ? message : "") + " at " + (fileName ? fileName : "") + ":" + line.toString();
  const buf = String.UTF8.encode(msg);
  proxy_log(5, changetype<usize>(buf), buf.byteLength);
  unreachable();
}

export function proxy_abi_version_0_2_1(): void {}

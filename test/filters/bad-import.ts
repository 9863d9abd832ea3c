// Test filter: imports env.proxy_clear_route_cache, registered by Envoy only for ABI 0.1.0
// (the AssemblyScript SDK declares it) → "missing import: env.proxy_clear_route_cache".
import * as imp from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
export { malloc } from "./lib/hostcalls";

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_request_headers(id: u32, n: u32, eos: u32): u32 {
  imp.proxy_clear_route_cache();
  return 0;
}

// Test filter: exports proxy_on_request_headers with the ABI 0.1.0 arity in a 0.2.1 module
// → "Bad function signature for: proxy_on_request_headers".
export { malloc } from "./lib/hostcalls";

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_request_headers(id: u32, n: u32): u32 {
  return 0;
}

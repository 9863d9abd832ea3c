// Test filter: every stream callback returns at once (no host call, no allocation). What the
// embedded host charges ANY filter per stream — context creation, the six proxy_on_* calls and
// their status conversion — measured against the product filter in bench/request-path.ts.
export { malloc } from "./lib/hostcalls";

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(id: u32, root: u32): void {}

export function proxy_on_vm_start(root: u32, size: u32): bool {
  return true;
}

export function proxy_on_configure(root: u32, size: u32): bool {
  return true;
}

export function proxy_on_request_headers(id: u32, headers: u32, eos: u32): u32 {
  return 0;
}

export function proxy_on_response_headers(id: u32, headers: u32, eos: u32): u32 {
  return 0;
}

export function proxy_on_log(id: u32): void {}

export function proxy_on_done(id: u32): bool {
  return true;
}

export function proxy_on_delete(id: u32): void {}

// Test filter: no proxy_abi_version_* export → "Missing or unknown Proxy-Wasm ABI version".
import * as h from "./lib/hostcalls";
export { malloc } from "./lib/hostcalls";

export function proxy_on_configure(root: u32, size: u32): bool {
  h.info("never called");
  return true;
}

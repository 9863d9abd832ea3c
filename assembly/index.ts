// Wiring only: the ABI entry points, the allocator Envoy prefers (`malloc`), the abort handler,
// the edgewatch root context factory, and the rules-snapshot tool exports.
import { proxy_log } from "./abi/imports";
import { setRootContextFactory, RootContextBase } from "./abi/contexts";
import { EdgewatchRoot } from "./filter/root-context";

export * from "./abi/exports";
// Our malloc: scratch space for transient reads on the request path, else the SDK's (host/scratch.ts).
export { malloc } from "./host/scratch";
// Tools only (rules snapshots built and checked by the filter's own code; Envoy never calls these).
export * from "./rules/snapshot-exports";

/** abort(): log at critical through proxy_log (Envoy prints it with the plugin prefix), then trap. */
// @ts-ignore: decorator
@global
function edgewatch_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const msg = "edgewatch abort: " + (message !== null ? message : "") + " at " + (fileName !== null ? fileName : "") + ":" + line.toString();
  const buf = String.UTF8.encode(msg);
  proxy_log(5, changetype<usize>(buf), buf.byteLength);
  unreachable();
}

setRootContextFactory((id: u32): RootContextBase => new EdgewatchRoot(id));

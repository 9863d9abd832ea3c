/**
 * The V8 engine as Envoy configures it before its first module (proxy-wasm-cpp-host src/v8/v8.cc
 * engine(), once per process: `v8_flags.liftoff = false` and `v8_flags.wasm_max_mem_pages =
 * PROXY_WASM_HOST_MAX_WASM_MEMORY_SIZE_BYTES / 64 KiB` from include/proxy-wasm/limits.h, 1 GiB):
 *
 *  - no Liftoff: every wasm function runs as TurboFan code from its first call. Node's default is
 *    Liftoff first and a tier-up once a function is hot, so without this the embedded host ran
 *    slower baseline code than Envoy for the first thousands of requests (after 5,000 requests of
 *    the bench's plain case only 36 of 266 compiled functions had tiered up);
 *  - memory.grow past 1 GiB fails (returns -1, an allocation failure in the filter), where Node
 *    allows 4 GiB.
 *
 * V8 flags are process-wide: whatever else compiles wasm in this process afterwards gets the same
 * engine (as everything in an Envoy process does).
 */
import { setFlagsFromString } from "node:v8";

/** cpp-host limits.h: PROXY_WASM_HOST_MAX_WASM_MEMORY_SIZE_BYTES (1 GiB) in 64 KiB pages. */
export const MAX_WASM_MEMORY_PAGES = (1024 * 1024 * 1024) / 65536;

let applied = false;

/** Applies cpp-host's engine flags once; later calls do nothing. */
export function useEnvoyWasmEngine(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString("--no-liftoff");
  setFlagsFromString(`--wasm-max-mem-pages=${MAX_WASM_MEMORY_PAGES}`);
}

/** Compiles a module on Envoy's engine settings (asynchronously, like WebAssembly.compile). */
export function compileForEnvoy(bytes: Uint8Array): Promise<WebAssembly.Module> {
  useEnvoyWasmEngine();
  return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
}

/** The same, synchronously (new WebAssembly.Module). */
export function compileForEnvoySync(bytes: Uint8Array): WebAssembly.Module {
  useEnvoyWasmEngine();
  return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
}

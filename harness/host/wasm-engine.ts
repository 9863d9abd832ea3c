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
 * V8 flags are process-wide, and in this process other wasm runs too: undici's HTTP parser (llhttp),
 * the harness's stand-in for Envoy's C++ codec. Left on for it, no-Liftoff made every llhttp function
 * a synchronous TurboFan compile at its first call, on the main thread in the middle of a fresh
 * process's first requests: 2,000 undici requests took 880–970 ms wall there vs 590–750 ms with the
 * flag scoped as below and 720–750 ms in plain Node, CPU alike at 1.1–1.25 s (12/2026; a CPU profile
 * of a fresh proxy process had put ~0.7 s in that compile). So the code-shaping flag holds only
 * while the filter's module compiles, and that compile is eager (every function compiled then, not
 * at its first call, when the flag no longer holds): ~160 ms once per process; V8's native module
 * cache returns the same code for the same bytes later. The memory cap is read at memory.grow and
 * stays set.
 */
import { setFlagsFromString } from "node:v8";

/** cpp-host limits.h: PROXY_WASM_HOST_MAX_WASM_MEMORY_SIZE_BYTES (1 GiB) in 64 KiB pages. */
export const MAX_WASM_MEMORY_PAGES = (1024 * 1024 * 1024) / 65536;

let applied = false;

/** Applies cpp-host's memory cap once (process-wide; later calls do nothing). */
export function useEnvoyWasmEngine(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--wasm-max-mem-pages=${MAX_WASM_MEMORY_PAGES}`);
}

/**
 * Compiles a module on Envoy's engine settings: TurboFan only, every function now (synchronously:
 * the flags must hold for the whole compile), then Node's defaults (lazy, Liftoff first, tier-up
 * of hot functions only) again.
 */
export function compileForEnvoySync(bytes: Uint8Array): WebAssembly.Module {
  useEnvoyWasmEngine();
  setFlagsFromString("--no-liftoff");
  setFlagsFromString("--no-wasm-lazy-compilation");
  try {
    return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } finally {
    // --no-liftoff also switched dynamic tiering off (a V8 flag implication that --liftoff does not
    // undo): without restoring it, later modules got Liftoff code and an immediate TurboFan tier-up.
    setFlagsFromString("--liftoff");
    setFlagsFromString("--wasm-dynamic-tiering");
    setFlagsFromString("--wasm-lazy-compilation");
  }
}

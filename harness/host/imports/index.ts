/**
 * Builds the import object for one VM instance: every hostcall the module imports, wrapped with
 * the restricted-callback check (cpp-host WasmVm::setRestrictedCallback).
 */
import { WasmMissingImportError } from "../errors.js";
import type { ModuleInfo } from "../wasm-binary.js";
import type { WasmVm } from "../vm.js";
import { bufferImports } from "./buffers.js";
import { contextImports } from "./context.js";
import { headerImports } from "./headers.js";
import { httpCallImports } from "./http-call.js";
import { logImports } from "./log.js";
import { metricImports } from "./metrics.js";
import { propertyImports } from "./properties.js";
import { sharedDataImports } from "./shared-data.js";
import { sharedQueueImports } from "./shared-queue.js";
import { streamControlImports } from "./stream-control.js";
import { timeImports } from "./time.js";
import type { HostFn, HostFunctions } from "./types.js";
import { wasiImports } from "./wasi.js";

/** Every host function implementation, keyed "module.name". */
export function allHostFunctions(vm: WasmVm): HostFunctions {
  return {
    ...logImports(vm),
    ...headerImports(vm),
    ...bufferImports(vm),
    ...propertyImports(vm),
    ...timeImports(vm),
    ...metricImports(vm),
    ...sharedDataImports(vm),
    ...sharedQueueImports(vm),
    ...httpCallImports(vm),
    ...streamControlImports(vm),
    ...contextImports(vm),
    ...wasiImports(vm),
  };
}

/**
 * Wraps a hostcall with the restriction check and the VM's hostcall counter (benches report host
 * calls per request: in Envoy each one crosses the VM boundary), keeping the arity (cheap for V8 to inline).
 */
function guard(vm: WasmVm, key: string, fn: HostFn): HostFn {
  /* eslint-disable @typescript-eslint/no-explicit-any */
  switch (fn.length) {
    case 0: return () => { vm.hostCalls++; if (vm.restricted !== null) vm.checkRestricted(key); return fn(); };
    case 1: return (a: any) => { vm.hostCalls++; if (vm.restricted !== null) vm.checkRestricted(key); return fn(a); };
    case 2: return (a: any, b: any) => { vm.hostCalls++; if (vm.restricted !== null) vm.checkRestricted(key); return fn(a, b); };
    case 3: return (a: any, b: any, c: any) => { vm.hostCalls++; if (vm.restricted !== null) vm.checkRestricted(key); return fn(a, b, c); };
    case 4: return (a: any, b: any, c: any, d: any) => { vm.hostCalls++; if (vm.restricted !== null) vm.checkRestricted(key); return fn(a, b, c, d); };
    case 5: return (a: any, b: any, c: any, d: any, e: any) => { vm.hostCalls++; if (vm.restricted !== null) vm.checkRestricted(key); return fn(a, b, c, d, e); };
    default: return (...args: any[]) => { vm.hostCalls++; if (vm.restricted !== null) vm.checkRestricted(key); return fn(...args); };
  }
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

export function buildImports(vm: WasmVm, info: ModuleInfo): WebAssembly.Imports {
  const impls = allHostFunctions(vm);
  const imports: Record<string, Record<string, HostFn>> = {};
  for (const imp of info.imports) {
    if (imp.kind !== "function") throw new WasmMissingImportError(imp.module, imp.name);
    const key = `${imp.module}.${imp.name}`;
    const fn = impls[key];
    if (!fn) throw new WasmMissingImportError(imp.module, imp.name);
    (imports[imp.module] ??= {})[imp.name] = guard(vm, key, fn);
  }
  return imports as WebAssembly.Imports;
}

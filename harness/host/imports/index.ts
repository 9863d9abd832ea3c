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
 * calls per request: in Envoy each one crosses the VM boundary), keeping the arity.
 *
 * Each import gets a wrapper compiled from its own source text (the key is part of it): V8 shares
 * type feedback between closures of one function literal, so one shared wrapper would call every
 * implementation through a single megamorphic call site; a wrapper of its own calls one
 * implementation, which V8 inlines. Same-source wrappers of other VMs share the compiled code.
 */
const wrapperFactories = new Map<string, (vm: WasmVm, key: string, fn: HostFn) => HostFn>();

function guard(vm: WasmVm, key: string, fn: HostFn): HostFn {
  const arity = fn.length;
  const id = `${key}/${arity}`;
  let make = wrapperFactories.get(id);
  if (make === undefined) {
    const params = Array.from({ length: arity }, (_, i) => `a${i}`).join(", ");
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    make = new Function("vm", "key", "fn", `// hostcall ${JSON.stringify(key)}
return function (${params}) {
  vm.hostCalls++;
  if (vm.restricted !== null) vm.checkRestricted(key);
  return fn(${params});
};`) as (vm: WasmVm, key: string, fn: HostFn) => HostFn;
    wrapperFactories.set(id, make);
  }
  return make(vm, key, fn);
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

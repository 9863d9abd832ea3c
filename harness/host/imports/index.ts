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

/** The hostcall areas, one factory per ABI area (later areas win on a shared key, as a spread would). */
const AREAS: ReadonlyArray<(vm: WasmVm) => HostFunctions> = [
  logImports, headerImports, bufferImports, propertyImports, timeImports, metricImports, sharedDataImports,
  sharedQueueImports, httpCallImports, streamControlImports, contextImports, wasiImports,
];

/** Every host function implementation, keyed "module.name". */
export function allHostFunctions(vm: WasmVm): HostFunctions {
  const all: HostFunctions = {};
  for (const area of AREAS) Object.assign(all, area(vm));
  return all;
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
    // Named after the hostcall ("env_proxy_get_property"), so CPU profiles say which one ran.
    const name = key.replace(/[^A-Za-z0-9_$]/g, "_");
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    make = new Function("vm", "key", "fn", `// hostcall ${JSON.stringify(key)}
return function ${name}(${params}) {
  vm.hostCalls++;
  if (vm.restricted !== null) vm.checkRestricted(key);
  return fn(${params});
};`) as (vm: WasmVm, key: string, fn: HostFn) => HostFn;
    wrapperFactories.set(id, make);
  }
  return make(vm, key, fn);
}

/**
 * Which area implements each import of a module (computed once per module: every VM of a plugin
 * host, the canary of each push included, links the same import list).
 */
type ImportPlan = Array<{ module: string; name: string; key: string; area: number }>;
const importPlans = new WeakMap<ModuleInfo, Map<string, ImportPlan>>();

function importPlan(vm: WasmVm, info: ModuleInfo): ImportPlan {
  // The areas' function sets depend on the ABI and the version profile (e.g. WASI poll_oneoff).
  const profile = `${vm.env.abiVersion}/${vm.env.envoyVersion}`;
  let byProfile = importPlans.get(info);
  if (byProfile === undefined) importPlans.set(info, (byProfile = new Map()));
  let plan = byProfile.get(profile);
  if (plan !== undefined) return plan;
  const areas = AREAS.map((a) => a(vm));
  plan = [];
  for (const imp of info.imports) {
    if (imp.kind !== "function") throw new WasmMissingImportError(imp.module, imp.name);
    const key = `${imp.module}.${imp.name}`;
    let area = -1;
    for (let i = areas.length - 1; i >= 0 && area < 0; i--) if (Object.hasOwn(areas[i]!, key)) area = i;
    if (area < 0) throw new WasmMissingImportError(imp.module, imp.name);
    plan.push({ module: imp.module, name: imp.name, key, area });
  }
  byProfile.set(profile, plan);
  return plan;
}

/**
 * The import object of one VM: only the areas the module imports from are instantiated for it, and
 * their functions are picked straight from them (no merged table of every hostcall per VM: a push
 * creates a canary VM, and that table was most of the JS garbage a push left).
 */
export function buildImports(vm: WasmVm, info: ModuleInfo): WebAssembly.Imports {
  const plan = importPlan(vm, info);
  const made: Array<HostFunctions | undefined> = new Array(AREAS.length);
  const imports: Record<string, Record<string, HostFn>> = {};
  for (const p of plan) {
    const fns = (made[p.area] ??= AREAS[p.area]!(vm));
    (imports[p.module] ??= {})[p.name] = guard(vm, p.key, fns[p.key]!);
  }
  return imports as WebAssembly.Imports;
}

/** Property hostcalls (cpp-host exports.cc get_property/set_property; Envoy context.cc getProperty/setProperty). */
import { WasmResult } from "../abi/status.js";
import { declaredProperties } from "../foreign-functions.js";
import { getProperty } from "../properties.js";
import type { WasmVm } from "../vm.js";
import type { HostFunctions } from "./types.js";

export function propertyImports(vm: WasmVm): HostFunctions {
  return {
    "env.proxy_get_property": (pp: number, ps: number, vpp: number, vsp: number): number => {
      const path = vm.mem.name(pp, ps);
      if (path === null) return WasmResult.InvalidMemoryAccess;
      const r = getProperty(vm.ctx(), path);
      if (r.status !== WasmResult.Ok) return r.status;
      const ok = r.latin1 !== undefined
        ? vm.mem.copyLatin1ToPointerSize(r.latin1, vpp, vsp)
        : vm.mem.copyToPointerSize(r.bytes!, vpp, vsp);
      return ok ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    "env.proxy_set_property": (kp: number, ks: number, vp: number, vs: number): number => {
      const ctx = vm.ctx();
      const key = vm.mem.latin1(kp, ks);
      const value = vm.mem.copy(vp, vs);
      if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
      // Filter state "wasm.<path>"; no stream info (root context) → NotFound.
      const info = ctx.streamInfo();
      if (info === null) return WasmResult.NotFound;
      const stateKey = `wasm.${key}`;
      const root = ctx.rootContext();
      const decl = root ? declaredProperties.get(root)?.get(key) : undefined;
      // A read-only declared property can be written once (CelState::setValue).
      if (decl?.readonly && info.filterState.has(stateKey)) return WasmResult.BadArgument;
      info.filterState.set(stateKey, value);
      return WasmResult.Ok;
    },
  };
}

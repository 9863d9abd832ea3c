/**
 * Header map hostcalls (cpp-host exports.cc *_header_map_*; Envoy context.cc
 * getHeaderMapValue/addHeaderMapValue/... with getMap/getConstMap availability).
 */
import { HEADER_MAP_TYPE_MAX, WasmResult } from "../abi/status.js";
import { parsePairs } from "../pairs.js";
import type { WasmVm } from "../vm.js";
import type { HostFunctions } from "./types.js";

export function headerImports(vm: WasmVm): HostFunctions {
  return {
    "env.proxy_get_header_map_value": (type: number, kp: number, ks: number, vpp: number, vsp: number): number => {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const ctx = vm.ctx();
      const key = vm.mem.lowerName(kp, ks);
      if (key === null) return WasmResult.InvalidMemoryAccess;
      const map = ctx.getConstMap(type);
      if (map === null) {
        // Envoy getHeaderMapValue: map not available → BadArgument, except NotFound in the access log phase.
        if (ctx.accessLogPhase) return vm.env.abiVersion === "0_1_0" ? writeEmpty(vm, vpp, vsp) : WasmResult.NotFound;
        return WasmResult.BadArgument;
      }
      // Only the first value of a repeated header (Envoy TODO kept as is).
      const value = map.get(key);
      if (value === undefined) return vm.env.abiVersion === "0_1_0" ? writeEmpty(vm, vpp, vsp) : WasmResult.NotFound;
      return vm.mem.copyLatin1ToPointerSize(value, vpp, vsp) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    "env.proxy_add_header_map_value": (type: number, kp: number, ks: number, vp: number, vs: number): number => {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const ctx = vm.ctx();
      const key = vm.mem.lowerName(kp, ks);
      const value = vm.mem.latin1(vp, vs);
      if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
      const map = ctx.getMap(type);
      if (map === null) return WasmResult.BadArgument;
      map.addCopy(key, value);
      ctx.onHeadersModified(type);
      return WasmResult.Ok;
    },
    "env.proxy_replace_header_map_value": (type: number, kp: number, ks: number, vp: number, vs: number): number => {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const ctx = vm.ctx();
      const key = vm.mem.lowerName(kp, ks);
      const value = vm.mem.latin1(vp, vs);
      if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
      const map = ctx.getMap(type);
      if (map === null) return WasmResult.BadArgument;
      map.setCopy(key, value);
      ctx.onHeadersModified(type);
      return WasmResult.Ok;
    },
    "env.proxy_remove_header_map_value": (type: number, kp: number, ks: number): number => {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const ctx = vm.ctx();
      const key = vm.mem.lowerName(kp, ks);
      if (key === null) return WasmResult.InvalidMemoryAccess;
      const map = ctx.getMap(type);
      if (map === null) return WasmResult.BadArgument;
      map.remove(key);
      ctx.onHeadersModified(type);
      return WasmResult.Ok;
    },
    "env.proxy_get_header_map_pairs": (type: number, pp: number, sp: number): number => {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      // Envoy getHeaderMapPairs: an unavailable map is Ok with no pairs → ptr 0, size 0.
      const map = vm.ctx().getConstMap(type);
      const ok = map === null
        ? vm.mem.setU32(pp, 0) && vm.mem.setU32(sp, 0)
        : vm.mem.copyPairsToPointerSize(map.keys, map.values, pp, sp);
      return ok ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    "env.proxy_set_header_map_pairs": (type: number, ptr: number, size: number): number => {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const ctx = vm.ctx();
      const data = vm.mem.view(ptr, size);
      if (data === null) return WasmResult.InvalidMemoryAccess;
      // Malformed or over-limit buffers parse as empty: every header is removed (Envoy behaviour).
      const pairs = parsePairs(data);
      const map = ctx.getMap(type);
      if (map === null) return WasmResult.BadArgument;
      map.clear();
      for (const [k, v] of pairs) map.addCopy(k.toLowerCase(), v);
      ctx.onHeadersModified(type);
      return WasmResult.Ok;
    },
    "env.proxy_get_header_map_size": (type: number, resultPtr: number): number => {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      // Envoy getHeaderMapSize uses the mutable map and returns HeaderMap::byteSize().
      const map = vm.ctx().getMap(type);
      if (map === null) return WasmResult.BadArgument;
      return vm.mem.setU32(resultPtr, map.byteSize()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}

function writeEmpty(vm: WasmVm, vpp: number, vsp: number): number {
  return vm.mem.setU32(vpp, 0) && vm.mem.setU32(vsp, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
}

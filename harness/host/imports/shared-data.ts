/** Shared data hostcalls (cpp-host exports.cc get_shared_data/set_shared_data; key space = vm_id). */
import { WasmResult } from "../abi/status.js";
import type { WasmVm } from "../vm.js";
import type { HostFunctions } from "./types.js";

export function sharedDataImports(vm: WasmVm): HostFunctions {
  const store = vm.env.sharedData;
  const vmId = vm.env.vmId;
  return {
    "env.proxy_get_shared_data": (kp: number, ks: number, vpp: number, vsp: number, casPtr: number): number => {
      const key = vm.mem.latin1(kp, ks);
      if (key === null) return WasmResult.InvalidMemoryAccess;
      const v = store.get(vmId, key);
      if (v === undefined) return WasmResult.NotFound;
      if (!vm.mem.copyToPointerSize(v.value, vpp, vsp)) return WasmResult.InvalidMemoryAccess;
      return vm.mem.setU32(casPtr, v.cas) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    "env.proxy_set_shared_data": (kp: number, ks: number, vp: number, vs: number, cas: number): number => {
      const key = vm.mem.latin1(kp, ks);
      const value = vm.mem.view(vp, vs);
      if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
      return store.set(vmId, key, value, cas >>> 0);
    },
  };
}

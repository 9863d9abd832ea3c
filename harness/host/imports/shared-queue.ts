/** Shared queue hostcalls (cpp-host exports.cc *_shared_queue; context.cc registerSharedQueue/lookupSharedQueue). */
import { WasmResult } from "../abi/status.js";
import type { WasmVm } from "../vm.js";
import type { HostFunctions } from "./types.js";

export function sharedQueueImports(vm: WasmVm): HostFunctions {
  const queues = vm.env.queues;
  const vmId = vm.env.vmId;
  return {
    "env.proxy_register_shared_queue": (np: number, ns: number, tokenPtr: number): number => {
      const name = vm.mem.latin1(np, ns);
      if (name === null) return WasmResult.InvalidMemoryAccess;
      const ctx = vm.ctx();
      // A registration from a stream context binds the queue to its root (on_queue_ready is on roots).
      const rootId = ctx.isRoot ? ctx.id : (ctx.rootContext()?.id ?? 0);
      const token = queues.register(vmId, name, vm, rootId);
      return vm.mem.setU32(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    "env.proxy_resolve_shared_queue": (vp: number, vs: number, np: number, ns: number, tokenPtr: number): number => {
      const id = vm.mem.latin1(vp, vs);
      const name = vm.mem.latin1(np, ns);
      if (id === null || name === null) return WasmResult.InvalidMemoryAccess;
      const token = queues.resolve(id === "" ? vmId : id, name);
      if (vm.failed || token === 0) return WasmResult.NotFound;
      return vm.mem.setU32(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    "env.proxy_dequeue_shared_queue": (token: number, dpp: number, dsp: number): number => {
      const r = queues.dequeue(token >>> 0);
      if (typeof r === "number") return r;
      return vm.mem.copyToPointerSize(r, dpp, dsp) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    "env.proxy_enqueue_shared_queue": (token: number, dp: number, ds: number): number => {
      const data = vm.mem.view(dp, ds);
      if (data === null) return WasmResult.InvalidMemoryAccess;
      return queues.enqueue(token >>> 0, data);
    },
  };
}

/**
 * Context/system hostcalls: set_effective_context, done, get_status, call_foreign_function,
 * pthread_equal, emscripten_notify_memory_growth (cpp-host exports.cc) and Envoy's
 * envoy_resolve_dns (Envoy wasm.cc).
 */
import { lookup } from "node:dns/promises";
import { WasmResult } from "../abi/status.js";
import { RootContext, StreamContext } from "../contexts.js";
import { callForeignFunction } from "../foreign-functions.js";
import type { WasmVm } from "../vm.js";
import type { HostFunctions } from "./types.js";

export function contextImports(vm: WasmVm): HostFunctions {
  return {
    "env.proxy_set_effective_context": (id: number): number => {
      const c = vm.contexts.get(id >>> 0);
      if (c === undefined) return WasmResult.BadArgument;
      vm.effective = c;
      return WasmResult.Ok;
    },
    "env.proxy_done": (): number => (vm.done(vm.ctx()) ? WasmResult.Ok : WasmResult.NotFound),
    "env.proxy_get_status": (codePtr: number, mpp: number, msp: number): number => {
      // Status of the root context (set after a failed callout: 11 "reset").
      const root = vm.ctx().rootContext();
      const code = root?.statusCode ?? 0;
      const msg = root?.statusMessage ?? "";
      if (!vm.mem.setU32(codePtr, code)) return WasmResult.InvalidMemoryAccess;
      return vm.mem.copyToPointerSize(Buffer.from(msg, "utf8"), mpp, msp) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    "env.proxy_call_foreign_function": (np: number, ns: number, ap: number, as: number, rpp: number, rsp: number): number => {
      const name = vm.mem.latin1(np, ns);
      if (name === null) return WasmResult.InvalidMemoryAccess;
      const args = vm.mem.copy(ap, as);
      if (args === null) return WasmResult.InvalidMemoryAccess;
      const r = callForeignFunction(vm, vm.ctx(), name, args);
      if (r === null) return WasmResult.NotFound;
      let address = 0;
      const size = r.data?.length ?? 0;
      if (r.data !== undefined && rpp !== 0 && size > 0) {
        address = vm.mem.alloc(size);
        if (address === 0 || !vm.mem.setBytes(address, r.data)) return WasmResult.InvalidMemoryAccess;
      }
      if (rpp !== 0 && !vm.mem.setU32(rpp, address)) return WasmResult.InvalidMemoryAccess;
      if (rsp !== 0 && !vm.mem.setU32(rsp, size)) return WasmResult.InvalidMemoryAccess;
      return r.status;
    },
    "env.pthread_equal": (a: number, b: number): number => (a === b ? 1 : 0),
    "env.emscripten_notify_memory_growth": (): void => {},
    "env.envoy_resolve_dns": (ap: number, as: number, tokenPtr: number): number => {
      const ctx = vm.ctx();
      const root = ctx instanceof RootContext ? ctx : ctx instanceof StreamContext ? ctx.root : null;
      const address = vm.mem.latin1(ap, as);
      if (address === null) return WasmResult.InvalidMemoryAccess;
      do vm.nextDnsToken = (vm.nextDnsToken + 1) >>> 0;
      while (vm.nextDnsToken === 0);
      const token = vm.nextDnsToken;
      if (!vm.mem.setU32(tokenPtr, token)) return WasmResult.InvalidMemoryAccess;
      if (root === null) return WasmResult.InternalFailure;
      lookup(address, { all: true }).then(
        (addrs) => deliverDns(vm, root, token, addrs.map((a) => (a.family === 6 ? `[${a.address}]:0` : `${a.address}:0`))),
        () => deliverDns(vm, root, token, null),
      );
      return WasmResult.Ok;
    },
  };
}

/** Envoy Context::onResolveDns: u32 N, N × u32 TTL, N NUL-terminated addresses, in the CallData buffer. */
function deliverDns(vm: WasmVm, root: RootContext, token: number, addresses: string[] | null): void {
  if (vm.failed || vm.closed || root.state === "deleted" || !vm.fx.envoy_on_resolve_dns) return;
  let data = Buffer.alloc(0);
  if (addresses !== null) {
    const size = 4 + addresses.length * 4 + addresses.reduce((n, a) => n + a.length + 1, 0);
    data = Buffer.alloc(size);
    data.writeUInt32LE(addresses.length, 0);
    let p = 4;
    for (let i = 0; i < addresses.length; i++, p += 4) data.writeUInt32LE(0, p);
    for (const a of addresses) {
      p += data.latin1Write(a, p);
      data[p++] = 0;
    }
  }
  root.buffer.setConstant(data);
  vm.call("envoy_on_resolve_dns", vm.fx.envoy_on_resolve_dns, root, root.id, token, data.length);
  vm.afterCall();
}

/** Buffer hostcalls (cpp-host exports.cc get_buffer_bytes/get_buffer_status/set_buffer_bytes). */
import { BUFFER_TYPE_MAX, WasmResult } from "../abi/status.js";
import type { WasmVm } from "../vm.js";
import type { HostFunctions } from "./types.js";

export function bufferImports(vm: WasmVm): HostFunctions {
  return {
    "env.proxy_get_buffer_bytes": (type: number, start: number, length: number, pp: number, sp: number): number => {
      if (type >>> 0 > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buf = vm.ctx().getBuffer(type);
      if (buf === null) return WasmResult.NotFound;
      start >>>= 0;
      length >>>= 0;
      // cpp-host: 32-bit overflow check, then clamp; nothing to copy → (0, 0).
      if (((start + length) >>> 0) < start) return WasmResult.BadArgument;
      const size = buf.size();
      if (start > size) length = 0;
      else if (start + length > size) length = size - start;
      if (length === 0) return vm.mem.setU32(pp, 0) && vm.mem.setU32(sp, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      return vm.mem.copyToPointerSize(buf.bytes(start, length), pp, sp) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    "env.proxy_get_buffer_status": (type: number, lengthPtr: number, flagsPtr: number): number => {
      if (type >>> 0 > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buf = vm.ctx().getBuffer(type);
      if (buf === null) return WasmResult.NotFound;
      // Flags are always 0 in Envoy (end of stream is never reported).
      return vm.mem.setU32(lengthPtr, buf.size()) && vm.mem.setU32(flagsPtr, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    "env.proxy_set_buffer_bytes": (type: number, start: number, length: number, dp: number, ds: number): number => {
      if (type >>> 0 > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buf = vm.ctx().getBuffer(type);
      if (buf === null) return WasmResult.NotFound;
      const data = vm.mem.view(dp, ds);
      if (data === null) return WasmResult.InvalidMemoryAccess;
      return buf.copyFrom(start >>> 0, length >>> 0, data);
    },
  };
}

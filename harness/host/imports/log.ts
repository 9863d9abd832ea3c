/** Logging hostcalls (cpp-host exports.cc log/get_log_level; Envoy context.cc Context::log). */
import { LOG_LEVEL_MAX, WasmResult } from "../abi/status.js";
import type { WasmVm } from "../vm.js";
import type { HostFunctions } from "./types.js";

export function logImports(vm: WasmVm): HostFunctions {
  const logger = vm.env.logger;
  return {
    "env.proxy_log": (level: number, ptr: number, size: number): number => {
      level >>>= 0;
      // cpp-host exports.cc log: level > LogLevel::Max → BadArgument.
      if (level > LOG_LEVEL_MAX) return WasmResult.BadArgument;
      const view = vm.mem.view(ptr, size);
      if (view === null) return WasmResult.InvalidMemoryAccess;
      // Envoy Context::log: "wasm log<prefix>: <msg>", dropped below the wasm logger level.
      if (logger.enabled("wasm", level)) {
        logger.log("wasm", level, `wasm log${vm.ctx().logPrefix()}: ${view.toString("utf8")}`, vm.label);
      }
      return WasmResult.Ok;
    },
    "env.proxy_get_log_level": (ptr: number): number => {
      // Envoy Context::getLogLevel: the wasm logger's spdlog level (same numbering as the ABI).
      return vm.mem.setU32(ptr, Math.min(logger.levelOf("wasm"), LOG_LEVEL_MAX)) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}

/** Log through the current context the way Envoy's Context::log does (used by WASI fd_write). */
export function contextLog(vm: WasmVm, level: number, message: string): void {
  const logger = vm.env.logger;
  if (logger.enabled("wasm", level)) logger.log("wasm", level, `wasm log${vm.ctx().logPrefix()}: ${message}`, vm.label);
}

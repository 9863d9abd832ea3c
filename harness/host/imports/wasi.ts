/**
 * WASI preview1 functions as Envoy's cpp-host implements them (exports.cc wasi_unstable_*),
 * registered under both wasi_snapshot_preview1 and wasi_unstable.
 */
import { randomFillSync } from "node:crypto";
import { WasiErrno } from "../abi/status.js";
import { WASI_MODULES, type EnvoyVersion } from "../envoy-imports.js";
import type { WasmVm } from "../vm.js";
import { contextLog } from "./log.js";
import { monotonicNs, wallClockNs } from "./time.js";
import type { HostFunctions, HostFn } from "./types.js";

/** cpp-host limits.h PROXY_WASM_HOST_WASI_RANDOM_GET_MAX_SIZE_BYTES. */
const RANDOM_GET_MAX = 64 * 1024;

// CSPRNG bytes handed out from a pool (one randomFillSync per 64 KiB instead of per call).
const pool = Buffer.allocUnsafe(RANDOM_GET_MAX);
let poolPos = RANDOM_GET_MAX;
function randomBytes(len: number): Buffer {
  if (poolPos + len > RANDOM_GET_MAX) {
    randomFillSync(pool);
    poolPos = 0;
  }
  const out = pool.subarray(poolPos, poolPos + len);
  poolPos += len;
  return out;
}

function wasiFunctions(vm: WasmVm, version: EnvoyVersion): Record<string, HostFn> {
  const trace = (msg: string) => vm.env.logger.trace("wasm", msg, vm.label);
  const fns: Record<string, HostFn> = {
    // writevImpl: fd 1 → info, fd 2 → error, other fds → EBADF; one trailing newline stripped.
    fd_write: (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number => {
      let level: number;
      if (fd === 1) level = 2;
      else if (fd === 2) level = 4;
      else return WasiErrno.Badf;
      const parts: Buffer[] = [];
      let total = 0;
      for (let i = 0; i < iovsLen >>> 0; i++) {
        const base = vm.mem.getU32(iovs + i * 8);
        const len = vm.mem.getU32(iovs + i * 8 + 4);
        if (base === null || len === null) return WasiErrno.Fault;
        if (len !== 0) {
          const v = vm.mem.view(base, len);
          if (v === null) return WasiErrno.Fault;
          parts.push(Buffer.from(v));
          total += len;
        }
      }
      if (total !== 0) {
        let s = Buffer.concat(parts, total).toString("utf8");
        if (s.endsWith("\n")) s = s.slice(0, -1);
        contextLog(vm, level, s);
      }
      return vm.mem.setU32(nwrittenPtr, total) ? WasiErrno.Success : WasiErrno.Fault;
    },
    fd_read: (): number => WasiErrno.Nosys,
    fd_seek: (): number => {
      trace("wasi_unstable fd_seek");
      return WasiErrno.Success;
    },
    fd_close: (): number => {
      trace("wasi_unstable fd_close");
      return WasiErrno.Success;
    },
    fd_fdstat_get: (fd: number, statOut: number): number => {
      if (fd !== 1 && fd !== 2) return WasiErrno.Badf;
      // 24-byte fdstat: zero except fs_rights_base = __WASI_RIGHTS_FD_WRITE (64).
      const b = Buffer.alloc(24);
      b.writeBigUInt64LE(64n, 8);
      vm.mem.setBytes(statOut, b);
      return WasiErrno.Success;
    },
    environ_get: (arrayPtr: number, bufPtr: number): number => {
      for (const [k, v] of vm.env.environment) {
        if (!vm.mem.setU32(arrayPtr, bufPtr)) return WasiErrno.Fault;
        const data = Buffer.from(`${k}=${v}\0`, "utf8");
        if (!vm.mem.setBytes(bufPtr, data)) return WasiErrno.Fault;
        bufPtr += data.length;
        arrayPtr += 4;
      }
      return WasiErrno.Success;
    },
    environ_sizes_get: (countPtr: number, sizePtr: number): number => {
      const env = vm.env.environment;
      if (!vm.mem.setU32(countPtr, env.length)) return WasiErrno.Fault;
      let size = 0;
      for (const [k, v] of env) size += Buffer.byteLength(k) + Buffer.byteLength(v) + 2;
      return vm.mem.setU32(sizePtr, size) ? WasiErrno.Success : WasiErrno.Fault;
    },
    args_get: (): number => WasiErrno.Success,
    args_sizes_get: (argcPtr: number, bufSizePtr: number): number =>
      vm.mem.setU32(argcPtr, 0) && vm.mem.setU32(bufSizePtr, 0) ? WasiErrno.Success : WasiErrno.Fault,
    clock_time_get: (id: number, _precision: bigint, resultPtr: number): number => {
      let t: bigint;
      if (id === 0) t = wallClockNs();
      else if (id === 1) t = monotonicNs();
      else return WasiErrno.Notsup; // process/thread CPU clocks are not supported.
      return vm.mem.setU64(resultPtr, t) ? WasiErrno.Success : WasiErrno.Fault;
    },
    random_get: (ptr: number, len: number): number => {
      len >>>= 0;
      if (len > RANDOM_GET_MAX) return WasiErrno.Inval;
      if (len === 0) return WasiErrno.Success;
      return vm.mem.setBytes(ptr, randomBytes(len)) ? WasiErrno.Success : WasiErrno.Fault;
    },
    // proc_exit only logs (Context::error) and returns: execution continues.
    proc_exit: (): void => {
      trace("wasi_unstable proc_exit");
    },
    path_open: (): number => WasiErrno.Noent,
    fd_prestat_get: (): number => WasiErrno.Badf,
    fd_prestat_dir_name: (): number => WasiErrno.Nosys,
  };
  if (version !== "1.30") {
    // Additions in the Dec 2024 cpp-host (Envoy 1.33+).
    fns.clock_res_get = (id: number, resPtr: number): number => {
      if (id !== 0 && id !== 1) return WasiErrno.Notsup;
      return vm.mem.setU64(resPtr, 1n) ? WasiErrno.Success : WasiErrno.Fault;
    };
    fns.poll_oneoff = (_in: number, _out: number, _n: number, neventsPtr: number): number =>
      vm.mem.setU32(neventsPtr, 0) ? WasiErrno.Success : WasiErrno.Fault;
    fns.fd_fdstat_set_flags = (): number => WasiErrno.Notsup;
    fns.sched_yield = (): number => WasiErrno.Success;
  }
  return fns;
}

export function wasiImports(vm: WasmVm): HostFunctions {
  const out: HostFunctions = {};
  const fns = wasiFunctions(vm, vm.env.envoyVersion);
  for (const m of WASI_MODULES) for (const [name, fn] of Object.entries(fns)) out[`${m}.${name}`] = fn;
  return out;
}

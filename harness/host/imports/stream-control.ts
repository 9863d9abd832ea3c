/**
 * Stream control hostcalls (Envoy context.cc continueStream/closeStream/sendLocalResponse;
 * cpp-host exports.cc). Effects are deferred until the outermost VM call returns.
 */
import { STREAM_TYPE_MAX, StreamType, WasmResult } from "../abi/status.js";
import { StreamContext } from "../contexts.js";
import { parsePairs } from "../pairs.js";
import type { WasmVm } from "../vm.js";
import type { HostFunctions } from "./types.js";

/** Envoy StringUtil::replaceAllEmptySpace (used for response code details). */
export function replaceAllEmptySpace(s: string): string {
  return s.replace(/[ \t\f\v\n\r]/g, "_");
}

function continueStream(vm: WasmVm, type: number): number {
  const ctx = vm.ctx();
  const stream = ctx instanceof StreamContext ? ctx : null;
  switch (type) {
    case StreamType.Request:
      if (stream) vm.addAfterCallAction(() => stream.callbacks.continueDecoding());
      break;
    case StreamType.Response:
      if (stream) vm.addAfterCallAction(() => stream.callbacks.continueEncoding());
      break;
    case StreamType.Downstream:
      return WasmResult.Ok;
    case StreamType.Upstream:
      return WasmResult.Unimplemented;
    default:
      return WasmResult.BadArgument;
  }
  // Envoy forgets the request pointers for both Request and Response continues.
  if (stream) {
    stream.requestHeaders = null;
    stream.requestBodyBuffer = null;
    stream.requestTrailers = null;
  }
  return WasmResult.Ok;
}

export function streamControlImports(vm: WasmVm): HostFunctions {
  return {
    "env.proxy_continue_stream": (type: number): number => {
      type >>>= 0;
      if (type > STREAM_TYPE_MAX) return WasmResult.BadArgument;
      return continueStream(vm, type);
    },
    "env.proxy_close_stream": (type: number): number => {
      type >>>= 0;
      if (type > STREAM_TYPE_MAX) return WasmResult.BadArgument;
      const ctx = vm.ctx();
      if ((type === StreamType.Request || type === StreamType.Response) && ctx instanceof StreamContext) {
        const info = ctx.callbacks.info;
        if (info.responseCodeDetails === undefined) info.responseCodeDetails = "wasm_close_stream";
        vm.addAfterCallAction(() => ctx.callbacks.resetStream("wasm_close_stream"));
      }
      return WasmResult.Ok;
    },
    "env.proxy_send_local_response": (
      code: number, dp: number, ds: number, bp: number, bs: number, hp: number, hs: number, grpcStatus: number,
    ): number => {
      const ctx = vm.ctx();
      const details = vm.mem.latin1(dp, ds);
      const body = vm.mem.copy(bp, bs);
      const hdrs = vm.mem.view(hp, hs);
      if (details === null || body === null || hdrs === null) return WasmResult.InvalidMemoryAccess;
      const pairs = parsePairs(hdrs).map(([k, v]) => [k.toLowerCase(), v] as [string, string]);
      if (ctx instanceof StreamContext) {
        // gRPC status outside 0..16 (the SDKs' -1) means "none".
        const g = grpcStatus >>> 0;
        const grpc = g <= 16 ? g : null;
        const d = replaceAllEmptySpace(details);
        const cb = ctx.callbacks;
        vm.addAfterCallAction(() => cb.sendLocalReply(code >>> 0, body, pairs, grpc, d));
      }
      vm.stopIteration = true;
      return WasmResult.Ok;
    },
    // ABI 0.1.0 only.
    "env.proxy_continue_request": (): number => continueStream(vm, StreamType.Request),
    "env.proxy_continue_response": (): number => continueStream(vm, StreamType.Response),
    "env.proxy_clear_route_cache": (): number => {
      const ctx = vm.ctx();
      if (ctx instanceof StreamContext) ctx.callbacks.clearRouteCache();
      return WasmResult.Ok;
    },
    "env.proxy_get_configuration": (pp: number, sp: number): number => {
      const ctx = vm.ctx();
      const cfg = ctx.tempPluginConfiguration() ?? vm.env.vmConfiguration;
      return vm.mem.copyToPointerSize(cfg, pp, sp) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}

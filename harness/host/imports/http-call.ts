/**
 * Callout hostcalls: proxy_http_call (Envoy context.cc httpCall) and the gRPC family
 * (Envoy context.cc grpcCall/grpcStream/grpcSend/grpcClose/grpcCancel). gRPC callouts are not
 * emulated: an unknown cluster answers ParseFailure like Envoy, a known one Unimplemented.
 */
import protobuf from "protobufjs";
import { CALLOUT_TYPE_MASK, CalloutType, WasmResult } from "../abi/status.js";
import { httpCall } from "../http-callout.js";
import { parsePairs } from "../pairs.js";
import type { WasmVm } from "../vm.js";
import type { HostFunctions } from "./types.js";

/** The cluster a GrpcService names: envoy.config.core.v3.GrpcService{envoy_grpc(1){cluster_name(1)}} or the raw bytes. */
function grpcClusterName(service: Buffer): string {
  try {
    const r = protobuf.Reader.create(service);
    let cluster: string | null = null;
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 === 1 && (tag & 7) === 2) {
        const sub = protobuf.Reader.create(r.bytes());
        while (sub.pos < sub.len) {
          const t2 = sub.uint32();
          if (t2 >>> 3 === 1 && (t2 & 7) === 2) cluster = sub.string();
          else sub.skipType(t2 & 7);
        }
      } else r.skipType(tag & 7);
    }
    if (cluster !== null) return cluster;
  } catch {
    // not a GrpcService: Envoy treats the bytes as a cluster name
  }
  return service.toString("latin1");
}

function grpcStart(vm: WasmVm, service: Buffer): number {
  const cluster = grpcClusterName(service);
  if (vm.env.clusters.get(cluster) === undefined) return WasmResult.ParseFailure;
  vm.env.logger.warn("wasm", `gRPC callout to cluster ${cluster} is not emulated: returning Unimplemented`, vm.label);
  return WasmResult.Unimplemented;
}

export function httpCallImports(vm: WasmVm): HostFunctions {
  return {
    "env.proxy_http_call": (
      up: number, us: number, hp: number, hs: number, bp: number, bs: number, tp: number, ts: number, timeout: number, tokenPtr: number,
    ): number => {
      const root = vm.ctx().rootContext();
      const uri = vm.mem.latin1(up, us);
      const body = vm.mem.copy(bp, bs);
      const hdrs = vm.mem.view(hp, hs);
      const trls = vm.mem.view(tp, ts);
      if (uri === null || body === null || hdrs === null || trls === null) return WasmResult.InvalidMemoryAccess;
      const headers = parsePairs(hdrs);
      const trailers = parsePairs(trls);
      // cpp-host writes token 0 first to validate the pointer before starting the call.
      if (!vm.mem.setU32(tokenPtr, 0)) return WasmResult.InvalidMemoryAccess;
      if (root === null) return WasmResult.BadArgument;
      // The timeout is an int in Envoy: negative → BadArgument.
      const r = httpCall(vm, root, uri, headers, body, trailers, timeout | 0);
      vm.mem.setU32(tokenPtr, r.token);
      return r.status;
    },
    "env.proxy_grpc_call": (
      sp: number, ss: number, snp: number, sns: number, mp: number, ms: number, imp: number, ims: number, rp: number, rs: number, _timeout: number, tokenPtr: number,
    ): number => {
      const service = vm.mem.copy(sp, ss);
      if (service === null || vm.mem.view(snp, sns) === null || vm.mem.view(mp, ms) === null || vm.mem.view(imp, ims) === null || vm.mem.view(rp, rs) === null) {
        return WasmResult.InvalidMemoryAccess;
      }
      void tokenPtr;
      return grpcStart(vm, service);
    },
    "env.proxy_grpc_stream": (sp: number, ss: number, snp: number, sns: number, mp: number, ms: number, imp: number, ims: number, tokenPtr: number): number => {
      const service = vm.mem.copy(sp, ss);
      if (service === null || vm.mem.view(snp, sns) === null || vm.mem.view(mp, ms) === null || vm.mem.view(imp, ims) === null) {
        return WasmResult.InvalidMemoryAccess;
      }
      void tokenPtr;
      return grpcStart(vm, service);
    },
    "env.proxy_grpc_send": (token: number, mp: number, ms: number): number => {
      if (vm.mem.view(mp, ms) === null) return WasmResult.InvalidMemoryAccess;
      if (((token >>> 0) & CALLOUT_TYPE_MASK) !== CalloutType.GrpcStream) return WasmResult.BadArgument;
      return WasmResult.NotFound;
    },
    "env.proxy_grpc_close": (token: number): number => grpcLookup(token),
    "env.proxy_grpc_cancel": (token: number): number => grpcLookup(token),
  };
}

/** No gRPC callout is ever live: call/stream ids → NotFound, anything else → BadArgument. */
function grpcLookup(token: number): number {
  const type = (token >>> 0) & CALLOUT_TYPE_MASK;
  return type === CalloutType.GrpcCall || type === CalloutType.GrpcStream ? WasmResult.NotFound : WasmResult.BadArgument;
}

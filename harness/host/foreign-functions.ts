/**
 * proxy_call_foreign_function registry. Envoy registers compress, uncompress (zlib),
 * declare_property, set_envoy_filter_state, clear_route_cache, expr_create/expr_evaluate/
 * expr_delete (CEL) and verify_signature (Envoy source/extensions/common/wasm/foreign.cc).
 * Unknown names → NotFound (cpp-host exports.cc). The CEL/signature/filter-state ones are not
 * emulated and answer Unimplemented rather than pretending to work.
 */
import { deflateSync, inflateSync } from "node:zlib";
import protobuf from "protobufjs";
import { WasmResult } from "./abi/status.js";
import { RootContext, StreamContext, type Context } from "./contexts.js";
import type { WasmVm } from "./vm.js";

export interface ForeignResult {
  status: WasmResult;
  data?: Uint8Array;
}

type ForeignFn = (vm: WasmVm, ctx: Context, args: Buffer) => ForeignResult;

/** Declared property schemas per root context (Envoy Context::state_prototypes_). */
export const declaredProperties = new WeakMap<RootContext, Map<string, { readonly: boolean }>>();

function decodeDeclareProperty(args: Buffer): { name: string; readonly: boolean } | null {
  // envoy.source.extensions.common.wasm.DeclarePropertyArguments: name=1, type=2, span=3, schema=4, readonly=5.
  try {
    const r = protobuf.Reader.create(args);
    let name = "";
    let readonly = false;
    while (r.pos < r.len) {
      const tag = r.uint32();
      switch (tag >>> 3) {
        case 1: name = r.string(); break;
        case 5: readonly = r.bool(); break;
        default: r.skipType(tag & 7);
      }
    }
    return { name, readonly };
  } catch {
    return null;
  }
}

const REGISTRY: Record<string, ForeignFn> = {
  compress: (_vm, _ctx, args) => {
    try {
      return { status: WasmResult.Ok, data: deflateSync(args) };
    } catch {
      return { status: WasmResult.SerializationFailure };
    }
  },
  uncompress: (_vm, _ctx, args) => {
    try {
      return { status: WasmResult.Ok, data: inflateSync(args) };
    } catch {
      return { status: WasmResult.SerializationFailure };
    }
  },
  clear_route_cache: (_vm, ctx) => {
    if (ctx instanceof StreamContext) ctx.callbacks.clearRouteCache();
    return { status: WasmResult.Ok };
  },
  declare_property: (_vm, ctx, args) => {
    const decl = decodeDeclareProperty(args);
    if (decl === null) return { status: WasmResult.BadArgument };
    const root = ctx.rootContext();
    if (root === null) return { status: WasmResult.BadArgument };
    let map = declaredProperties.get(root);
    if (!map) {
      map = new Map();
      declaredProperties.set(root, map);
    }
    // Envoy Context::declareProperty: an existing schema is never replaced.
    if (map.has(decl.name)) return { status: WasmResult.BadArgument };
    map.set(decl.name, { readonly: decl.readonly });
    return { status: WasmResult.Ok };
  },
  set_envoy_filter_state: () => ({ status: WasmResult.Unimplemented }),
  expr_create: () => ({ status: WasmResult.Unimplemented }),
  expr_evaluate: () => ({ status: WasmResult.Unimplemented }),
  expr_delete: () => ({ status: WasmResult.Unimplemented }),
  verify_signature: () => ({ status: WasmResult.Unimplemented }),
};

/** null → unknown function (NotFound). */
export function callForeignFunction(vm: WasmVm, ctx: Context, name: string, args: Buffer): ForeignResult | null {
  const f = Object.prototype.hasOwnProperty.call(REGISTRY, name) ? REGISTRY[name] : undefined;
  if (!f) return null;
  const r = f(vm, ctx, args);
  if (r.status === WasmResult.Unimplemented) {
    vm.env.logger.debug("wasm", `foreign function ${name} is not emulated: Unimplemented`, vm.label);
  }
  return r;
}

/**
 * Property resolution (Envoy context.cc Context::getProperty/findValue and
 * filters/common/expr/context.cc wrappers). The path is NUL-separated; the first segment is a
 * CEL activation root, a Wasm property token or a filter-state name ("wasm.<name>" written by
 * proxy_set_property); further segments index maps, messages (by proto field name) and lists.
 */
import type protobuf from "protobufjs";
import { WasmResult } from "./abi/status.js";
import { StreamContext, type Context } from "./contexts.js";
import type { HeaderMap } from "./header-map.js";
import { MetadataType, NodeType, nodeObject } from "./node-proto.js";
import { bstr, int64, str, uint64, type CelMap, type CelValue, type Serialized, serializeValue } from "./property-encoding.js";
import { addressString, type StreamInfo } from "./stream-info.js";

const FILTER_STATE_PREFIX = "wasm.";
const NOT_LISTABLE = (): null => null;

function headerValue(h: HeaderMap | null, key: string): CelValue | undefined {
  if (h === null) return undefined;
  const v = h.get(key);
  return v === undefined ? undefined : bstr(v);
}

/** Envoy HeadersWrapper: lookup joins repeated values with ","; keys listed once each. */
function headersMap(h: HeaderMap | null): CelMap {
  return {
    t: "map",
    get: (k) => {
      if (h === null) return undefined;
      const v = h.getAll(k.toLowerCase());
      return v === undefined ? undefined : bstr(v);
    },
    keys: () => (h === null ? [] : [...new Set(h.keys)]),
  };
}

function stripQuery(path: string): string {
  const q = path.search(/[?#]/);
  return q < 0 ? path : path.slice(0, q);
}

function requestWrapper(ctx: PropertyContext, info: StreamInfo): CelMap {
  const h = ctx.requestHeaders;
  return {
    t: "map",
    keys: NOT_LISTABLE,
    get(key) {
      switch (key) {
        case "path": return headerValue(h, ":path");
        case "url_path": {
          const p = h?.get(":path");
          return p === undefined ? undefined : bstr(stripQuery(p));
        }
        case "host": return headerValue(h, ":authority");
        case "scheme": return headerValue(h, ":scheme");
        case "method": return headerValue(h, ":method");
        case "referer": return headerValue(h, "referer");
        case "headers": return headersMap(h);
        case "time": return { t: "timestamp", ns: info.startTimeNs };
        case "id": return headerValue(h, "x-request-id");
        case "useragent": return headerValue(h, "user-agent");
        case "query": {
          if (h === null) return undefined;
          const p = h.get(":path") ?? "";
          const q = p.indexOf("?");
          if (q < 0) return bstr("");
          const rest = p.slice(q + 1);
          const f = rest.indexOf("#");
          return bstr(f < 0 ? rest : rest.slice(0, f));
        }
        case "protocol": return str(info.protocol);
        case "duration": {
          const d = info.durationNs();
          return d === undefined ? undefined : { t: "duration", ns: d };
        }
        case "size": {
          const cl = h?.get("content-length");
          if (cl !== undefined && /^\d+$/.test(cl)) return int64(BigInt(cl));
          return int64(info.bytesReceived);
        }
        case "total_size": return int64(info.bytesReceived + (h?.byteSize() ?? 0));
        default: return undefined;
      }
    },
  };
}

function responseWrapper(ctx: PropertyContext, info: StreamInfo): CelMap {
  return {
    t: "map",
    keys: NOT_LISTABLE,
    get(key) {
      switch (key) {
        case "code": return info.responseCode === undefined ? undefined : int64(info.responseCode);
        case "code_details": return info.responseCodeDetails === undefined ? undefined : str(info.responseCodeDetails);
        case "flags": return int64(info.responseFlags);
        case "grpc_status": {
          const g = ctx.responseTrailers?.get("grpc-status") ?? ctx.responseHeaders?.get("grpc-status");
          return g === undefined || !/^\d+$/.test(g) ? undefined : int64(Number(g));
        }
        case "headers": return headersMap(ctx.responseHeaders);
        case "trailers": return headersMap(ctx.responseTrailers);
        case "size": return int64(info.bytesSent);
        case "total_size": return int64(info.bytesSent + (ctx.responseHeaders?.byteSize() ?? 0));
        case "backend_latency": {
          if (info.upstreamRequestStartMono === undefined || info.upstreamFirstByteMono === undefined) return undefined;
          return { t: "duration", ns: BigInt(Math.round((info.upstreamFirstByteMono - info.upstreamRequestStartMono) * 1e6)) };
        }
        default: return undefined;
      }
    },
  };
}

function addressWrapper(addr: { ip: string; port: number } | undefined): CelMap {
  return {
    t: "map",
    keys: NOT_LISTABLE,
    get(key) {
      if (addr === undefined) return undefined;
      if (key === "address") return str(addressString(addr));
      if (key === "port") return int64(addr.port);
      return undefined;
    },
  };
}

function connectionWrapper(info: StreamInfo): CelMap {
  return {
    t: "map",
    keys: NOT_LISTABLE,
    get(key) {
      switch (key) {
        case "id": return uint64(info.connectionId);
        case "mtls": return { t: "bool", v: false };
        case "requested_server_name": return str("");
        default: return undefined; // TLS-only attributes and termination details: not on plain TCP.
      }
    },
  };
}

function upstreamWrapper(info: StreamInfo): CelMap {
  return {
    t: "map",
    keys: NOT_LISTABLE,
    get(key) {
      const u = info.upstreamHost;
      if (u === undefined) return undefined;
      if (key === "address") return str(addressString(u));
      if (key === "port") return int64(u.port);
      return undefined;
    },
  };
}

function message(type: protobuf.Type, obj: Record<string, unknown>): CelValue {
  return { t: "message", type, msg: obj };
}

function xdsWrapper(ctx: PropertyContext, info: StreamInfo | null): CelMap {
  return {
    t: "map",
    keys: NOT_LISTABLE,
    get(key) {
      switch (key) {
        case "node": return message(NodeType, ctx.nodeObject());
        case "cluster_name": return info?.clusterName === undefined ? undefined : str(info.clusterName);
        case "route_name": return info?.routeName === undefined ? undefined : str(info.routeName);
        case "virtual_host_name": return info?.virtualHostName === undefined ? undefined : str(info.virtualHostName);
        case "filter_chain_name": return info ? str("") : undefined;
        case "listener_direction": return info ? int64(0) : undefined;
        case "cluster_metadata":
        case "route_metadata":
        case "upstream_host_metadata":
        case "listener_metadata":
          return info ? message(MetadataType, {}) : undefined;
        default: return undefined;
      }
    },
  };
}

function filterStateWrapper(info: StreamInfo): CelMap {
  return {
    t: "map",
    keys: NOT_LISTABLE,
    get(key) {
      const v = info.filterState.get(key);
      return v === undefined ? undefined : { t: "bytes", v };
    },
  };
}

/** What the resolver needs from a context (the activation of Envoy's findValue). */
export interface PropertyContext {
  info: StreamInfo | null;
  requestHeaders: HeaderMap | null;
  responseHeaders: HeaderMap | null;
  responseTrailers: HeaderMap | null;
  pluginName: string | null;
  rootId: string;
  vmId: string;
  legacyNames: boolean;
  nodeObject(): Record<string, unknown>;
}

export function propertyContext(ctx: Context): PropertyContext {
  const vm = ctx.vm;
  const root = ctx.rootContext();
  const info = ctx.streamInfo();
  let requestHeaders: HeaderMap | null = null;
  let responseHeaders: HeaderMap | null = null;
  let responseTrailers: HeaderMap | null = null;
  if (ctx instanceof StreamContext) {
    // Envoy findValue: the live maps if held, else the access-log maps.
    requestHeaders = ctx.requestHeaders ?? (ctx.inAccessLogPhase ? info!.requestHeaders : null);
    responseHeaders = ctx.responseHeaders ?? (ctx.inAccessLogPhase ? info!.responseHeaders : null);
    responseTrailers = ctx.responseTrailers ?? (ctx.inAccessLogPhase ? info!.responseTrailers : null);
  }
  const env = vm.env;
  return {
    info,
    requestHeaders,
    responseHeaders,
    responseTrailers,
    pluginName: root?.plugin.name ?? null,
    rootId: root?.plugin.rootId ?? "",
    vmId: env.vmId,
    legacyNames: env.envoyVersion === "1.30",
    nodeObject: () => nodeObject(env.node, env.envoyVersion === "1.30" ? 30 : 33),
  };
}

/** Envoy Context::findValue for the first path segment. */
function findValue(pc: PropertyContext, name: string): CelValue | undefined {
  const info = pc.info;
  switch (name) {
    case "request": return info ? requestWrapper(pc, info) : undefined;
    case "response": return info ? responseWrapper(pc, info) : undefined;
    case "connection": return info ? connectionWrapper(info) : undefined;
    case "upstream": return info ? upstreamWrapper(info) : undefined;
    case "source": return info ? addressWrapper(info.downstreamRemote) : undefined;
    case "destination": return info ? addressWrapper(info.downstreamLocal) : undefined;
    case "metadata": return info ? message(MetadataType, {}) : undefined;
    case "filter_state": return info ? filterStateWrapper(info) : undefined;
    case "upstream_filter_state": return info ? { t: "map", get: () => undefined, keys: NOT_LISTABLE } : undefined;
    case "xds": return xdsWrapper(pc, info);
    // Wasm-specific tokens.
    case "plugin_name": return pc.pluginName === null ? undefined : str(pc.pluginName);
    case "plugin_root_id": return str(pc.rootId);
    case "plugin_vm_id": return str(pc.vmId);
    case "connection_id": return info ? uint64(info.connectionId) : undefined;
  }
  if (pc.legacyNames) {
    // Top-level names Envoy resolved up to 1.32 (removed in 1.33).
    switch (name) {
      case "node": return message(NodeType, pc.nodeObject());
      case "cluster_name": return info?.clusterName === undefined ? undefined : str(info.clusterName);
      case "route_name": return info?.routeName === undefined ? undefined : str(info.routeName);
      case "listener_direction": return int64(0);
      case "cluster_metadata":
      case "route_metadata":
      case "listener_metadata":
      case "upstream_host_metadata":
        return info ? message(MetadataType, {}) : undefined;
    }
  }
  if (info) {
    const v = info.filterState.get(FILTER_STATE_PREFIX + name);
    if (v !== undefined) return { t: "bytes", v };
  }
  return undefined;
}

const INT_TYPES = new Set(["int32", "int64", "sint32", "sint64", "sfixed32", "sfixed64"]);
const UINT_TYPES = new Set(["uint32", "uint64", "fixed32", "fixed64"]);

function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function fieldValue(field: protobuf.Field, raw: unknown): CelValue {
  const t = field.type;
  if (t === "string") return str(typeof raw === "string" ? raw : "");
  if (t === "bytes") return { t: "bytes", v: Buffer.from((raw as Uint8Array | undefined) ?? []) };
  if (t === "bool") return { t: "bool", v: Boolean(raw) };
  if (t === "double" || t === "float") return { t: "double", v: Number(raw ?? 0) };
  if (INT_TYPES.has(t)) return int64(BigInt(String(raw ?? 0)));
  if (UINT_TYPES.has(t)) return uint64(BigInt(String(raw ?? 0)));
  const rt = field.resolvedType;
  if (rt && "values" in rt) return int64(Number(raw ?? 0)); // enum
  if (rt && rt.fullName === ".google.protobuf.Struct") return structToMap((raw as Record<string, unknown>) ?? {});
  return message(rt as protobuf.Type, (raw as Record<string, unknown>) ?? {});
}

function structToMap(obj: Record<string, unknown>): CelValue {
  const fields = (obj.fields ?? {}) as Record<string, Record<string, unknown>>;
  const m = new Map<string, CelValue>();
  for (const [k, v] of Object.entries(fields)) m.set(k, protoValue(v));
  return { t: "map", get: (k) => m.get(k), keys: () => [...m.keys()] };
}

function protoValue(v: Record<string, unknown>): CelValue {
  if (typeof v.stringValue === "string") return str(v.stringValue);
  if (typeof v.numberValue === "number") return { t: "double", v: v.numberValue };
  if (typeof v.boolValue === "boolean") return { t: "bool", v: v.boolValue };
  if (v.structValue) return structToMap(v.structValue as Record<string, unknown>);
  if (v.listValue) return { t: "list", items: (((v.listValue as Record<string, unknown>).values ?? []) as Record<string, unknown>[]).map(protoValue) };
  return { t: "null" };
}

/** Descends one path segment; undefined = NotFound; "internal" = InternalFailure. */
function step(value: CelValue, part: string): CelValue | undefined {
  if (value.t === "map") return value.get(part);
  if (value.t === "message") {
    const field = value.type.fields[camel(part)];
    if (!field) return undefined;
    field.resolve();
    const raw = (value.msg as Record<string, unknown>)[field.name];
    if (field.map) {
      const obj = (raw ?? {}) as Record<string, unknown>;
      const m = new Map<string, CelValue>();
      for (const [k, v] of Object.entries(obj)) m.set(k, fieldValue(field, v));
      return { t: "map", get: (k) => m.get(k), keys: () => [...m.keys()] };
    }
    if (field.repeated) return { t: "list", items: ((raw ?? []) as unknown[]).map((x) => fieldValue(field, x)) };
    return fieldValue(field, raw);
  }
  if (value.t === "list") {
    if (!/^-?\d+$/.test(part)) return undefined;
    const idx = Number(part);
    return idx < 0 || idx >= value.items.length ? undefined : value.items[idx];
  }
  return undefined;
}

// ---------------------------------------------------------------- fast paths
// The common leaf properties resolved without building the CEL wrappers (same results as the
// generic path below, which the tests exercise as well).

const NOT_FOUND: Serialized = Object.freeze({ status: WasmResult.NotFound }) as Serialized;

function okLatin1(v: string | undefined): Serialized {
  return v === undefined ? NOT_FOUND : { status: WasmResult.Ok, latin1: v };
}
function okUtf8(v: string | undefined): Serialized {
  if (v === undefined) return NOT_FOUND;
  // ASCII (route and cluster names, addresses): its UTF-8 bytes are its latin1 bytes, written
  // straight into the guest allocation without an intermediate Buffer.
  return isAscii(v) ? { status: WasmResult.Ok, latin1: v } : { status: WasmResult.Ok, bytes: Buffer.from(v, "utf8") };
}
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
function okInt64(v: bigint | number | undefined): Serialized {
  if (v === undefined) return NOT_FOUND;
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64LE(BigInt(v));
  return { status: WasmResult.Ok, bytes: b };
}
function okUint64(v: number): Serialized {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64LE(BigInt(v));
  return { status: WasmResult.Ok, bytes: b };
}

/** The request map findValue would use (live map, else the access-log map). */
function activeRequestHeaders(ctx: Context): HeaderMap | null {
  if (!(ctx instanceof StreamContext)) return null;
  return ctx.requestHeaders ?? (ctx.inAccessLogPhase ? ctx.callbacks.info.requestHeaders : null);
}
function reqHeader(key: string): (ctx: Context) => Serialized {
  return (ctx) => {
    if (ctx.streamInfo() === null) return NOT_FOUND;
    const h = activeRequestHeaders(ctx);
    return h === null ? NOT_FOUND : okLatin1(h.get(key));
  };
}
function info(ctx: Context): StreamInfo | null {
  return ctx.streamInfo();
}

const FAST = new Map<string, (ctx: Context) => Serialized>([
  ["request\0path", reqHeader(":path")],
  ["request\0host", reqHeader(":authority")],
  ["request\0method", reqHeader(":method")],
  ["request\0scheme", reqHeader(":scheme")],
  ["request\0id", reqHeader("x-request-id")],
  ["request\0useragent", reqHeader("user-agent")],
  ["request\0referer", reqHeader("referer")],
  ["request\0url_path", (ctx) => {
    if (ctx.streamInfo() === null) return NOT_FOUND;
    const p = activeRequestHeaders(ctx)?.get(":path");
    return p === undefined ? NOT_FOUND : okLatin1(stripQuery(p));
  }],
  ["request\0protocol", (ctx) => okUtf8(info(ctx)?.protocol)],
  ["request\0time", (ctx) => okInt64(info(ctx)?.startTimeNs)],
  ["request\0duration", (ctx) => okInt64(info(ctx)?.durationNs())],
  ["response\0code", (ctx) => okInt64(info(ctx)?.responseCode)],
  ["response\0code_details", (ctx) => okUtf8(info(ctx)?.responseCodeDetails)],
  ["source\0address", (ctx) => {
    const i = info(ctx);
    return i === null ? NOT_FOUND : okUtf8(addressString(i.downstreamRemote));
  }],
  ["source\0port", (ctx) => okInt64(info(ctx)?.downstreamRemote.port)],
  ["destination\0address", (ctx) => {
    const i = info(ctx);
    return i === null ? NOT_FOUND : okUtf8(addressString(i.downstreamLocal));
  }],
  ["destination\0port", (ctx) => okInt64(info(ctx)?.downstreamLocal.port)],
  ["connection\0id", (ctx) => {
    const i = info(ctx);
    return i === null ? NOT_FOUND : okUint64(i.connectionId);
  }],
  ["connection_id", (ctx) => {
    const i = info(ctx);
    return i === null ? NOT_FOUND : okUint64(i.connectionId);
  }],
  ["xds\0route_name", (ctx) => okUtf8(info(ctx)?.routeName)],
  ["xds\0cluster_name", (ctx) => okUtf8(info(ctx)?.clusterName)],
  ["plugin_name", (ctx) => okUtf8(ctx.rootContext()?.plugin.name)],
  ["plugin_root_id", (ctx) => okUtf8(ctx.rootContext()?.plugin.rootId ?? "")],
  ["plugin_vm_id", (ctx) => okUtf8(ctx.vm.env.vmId)],
]);

/** Envoy Context::getProperty. */
export function getProperty(ctx: Context, path: string): Serialized {
  // A trailing NUL is tolerated (Envoy's segment loop ignores it).
  const fast = FAST.get(path.charCodeAt(path.length - 1) === 0 ? path.slice(0, -1) : path);
  if (fast !== undefined) return fast(ctx);
  const pc = propertyContext(ctx);
  let value: CelValue = { t: "null" };
  let first = true;
  let start = 0;
  while (start < path.length) {
    let end = path.indexOf("\0", start);
    if (end < 0) end = path.length;
    // Property names are UTF-8 on the wire; path arrives as a byte string.
    const part = Buffer.from(path.slice(start, end), "latin1").toString("utf8");
    start = end + 1;
    const next: CelValue | undefined = first ? findValue(pc, part) : step(value, part);
    first = false;
    if (next === undefined) return { status: WasmResult.NotFound };
    value = next;
  }
  return serializeValue(value);
}

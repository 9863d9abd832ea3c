/**
 * CEL value model for properties and Envoy's serializeValue (context.cc): strings/bytes raw,
 * int64/uint64/double 8 bytes LE, bool 1 byte, timestamp/duration int64 ns, messages as binary
 * protobuf, maps/lists in the pairs format with each key/value serialized by these rules.
 */
import type protobuf from "protobufjs";
import { WasmResult } from "./abi/status.js";
import { serializePairs } from "./pairs.js";

export type CelValue =
  | { t: "string"; v: string; latin1?: boolean }
  | { t: "bytes"; v: Buffer }
  | { t: "int"; v: bigint }
  | { t: "uint"; v: bigint }
  | { t: "double"; v: number }
  | { t: "bool"; v: boolean }
  | { t: "timestamp"; ns: bigint }
  | { t: "duration"; ns: bigint }
  | CelMap
  | { t: "list"; items: CelValue[] }
  | { t: "message"; type: protobuf.Type; msg: protobuf.Message | Record<string, unknown> }
  | { t: "null" };

export interface CelMap {
  t: "map";
  get(key: string): CelValue | undefined;
  /** null when the map cannot list its keys (Envoy wrappers): serializing it fails. */
  keys(): string[] | null;
}

export const str = (v: string): CelValue => ({ t: "string", v });
export const bstr = (v: string): CelValue => ({ t: "string", v, latin1: true });
export const int64 = (v: number | bigint): CelValue => ({ t: "int", v: BigInt(v) });
export const uint64 = (v: number | bigint): CelValue => ({ t: "uint", v: BigInt(v) });

export function mapOf(entries: Iterable<readonly [string, CelValue]>): CelMap {
  const m = new Map(entries);
  return { t: "map", get: (k) => m.get(k), keys: () => [...m.keys()] };
}

function int64Bytes(v: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64LE(BigInt.asIntN(64, v));
  return b;
}

export interface Serialized {
  status: WasmResult;
  /** Byte string (latin1) result, to avoid a Buffer for plain strings. */
  latin1?: string;
  bytes?: Uint8Array;
}

/** Serialized bytes of a value, or null on SerializationFailure. */
export function serializeToBuffer(value: CelValue): Buffer | null {
  const r = serializeValue(value);
  if (r.status !== WasmResult.Ok) return null;
  if (r.latin1 !== undefined) return Buffer.from(r.latin1, "latin1");
  return Buffer.from(r.bytes!.buffer, r.bytes!.byteOffset, r.bytes!.byteLength);
}

export function serializeValue(value: CelValue): Serialized {
  switch (value.t) {
    case "string":
      return value.latin1 ? { status: WasmResult.Ok, latin1: value.v } : { status: WasmResult.Ok, bytes: Buffer.from(value.v, "utf8") };
    case "bytes":
      return { status: WasmResult.Ok, bytes: value.v };
    case "int":
      return { status: WasmResult.Ok, bytes: int64Bytes(value.v) };
    case "uint": {
      const b = Buffer.allocUnsafe(8);
      b.writeBigUInt64LE(BigInt.asUintN(64, value.v));
      return { status: WasmResult.Ok, bytes: b };
    }
    case "double": {
      const b = Buffer.allocUnsafe(8);
      b.writeDoubleLE(value.v);
      return { status: WasmResult.Ok, bytes: b };
    }
    case "bool":
      return { status: WasmResult.Ok, bytes: Buffer.from([value.v ? 1 : 0]) };
    case "timestamp":
    case "duration":
      return { status: WasmResult.Ok, bytes: int64Bytes(value.ns) };
    case "message": {
      const msg = value.type.fromObject(value.msg as Record<string, unknown>);
      return { status: WasmResult.Ok, bytes: value.type.encode(msg).finish() };
    }
    case "map": {
      const keys = value.keys();
      if (keys === null) return { status: WasmResult.SerializationFailure };
      const ks: string[] = [];
      const vs: string[] = [];
      for (const k of keys) {
        const v = value.get(k);
        const sv = v === undefined ? null : serializeToBuffer(v);
        if (sv === null) return { status: WasmResult.SerializationFailure };
        ks.push(Buffer.from(k, "utf8").toString("latin1"));
        vs.push(sv.toString("latin1"));
      }
      return { status: WasmResult.Ok, bytes: serializePairs(ks, vs) };
    }
    case "list": {
      const ks: string[] = [];
      for (const item of value.items) {
        const sv = serializeToBuffer(item);
        if (sv === null) return { status: WasmResult.SerializationFailure };
        ks.push(sv.toString("latin1"));
      }
      return { status: WasmResult.Ok, bytes: serializePairs(ks, ks.map(() => "")) };
    }
    default:
      return { status: WasmResult.SerializationFailure };
  }
}

/**
 * Minimal Wasm binary reader: function types, imports (with signatures) and exports (with
 * signatures). Node's WebAssembly.Module.imports() does not report signatures, and JS host
 * functions accept any signature, so the host checks imports/exports itself like cpp-host's
 * V8 link step does.
 */
import { WasmInvalidModuleError } from "./errors.js";

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";
export interface FuncSig {
  params: ValType[];
  results: ValType[];
}
export interface ModuleImport {
  module: string;
  name: string;
  kind: "function" | "table" | "memory" | "global";
  sig?: FuncSig;
}
export interface ModuleExport {
  name: string;
  kind: "function" | "table" | "memory" | "global";
  sig?: FuncSig;
}
export interface ModuleInfo {
  imports: ModuleImport[];
  exports: ModuleExport[];
}

const VALTYPES: Record<number, ValType> = {
  0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref",
};
const KINDS = ["function", "table", "memory", "global"] as const;

export function sigToString(types: readonly ValType[]): string {
  return types.length === 0 ? "void" : types.join(" ");
}

export function sameSig(a: FuncSig, b: FuncSig): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((t, i) => t === b.params[i]) && a.results.every((t, i) => t === b.results[i]);
}

class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array, readonly end = b.length) {}
  byte(): number {
    if (this.pos >= this.end) throw new Error("unexpected end");
    return this.b[this.pos++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
      if (shift > 35) throw new Error("bad leb128");
    }
    return result >>> 0;
  }
  name(): string {
    const len = this.u32();
    if (this.pos + len > this.end) throw new Error("unexpected end");
    const s = Buffer.from(this.b.buffer, this.b.byteOffset + this.pos, len).toString("utf8");
    this.pos += len;
    return s;
  }
  valtype(): ValType {
    const t = VALTYPES[this.byte()];
    if (!t) throw new Error("bad value type");
    return t;
  }
  limits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}

export function readModuleInfo(bytes: Uint8Array): ModuleInfo {
  try {
    return read(bytes);
  } catch (e) {
    // cpp-host BytecodeUtil failures surface as this message.
    throw new WasmInvalidModuleError(`Failed to parse corrupted Wasm module: ${(e as Error).message}`, e);
  }
}

function read(bytes: Uint8Array): ModuleInfo {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error("bad magic number");
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw new Error("unsupported version");
  const r = new Reader(bytes);
  r.pos = 8;
  const types: FuncSig[] = [];
  const imports: ModuleImport[] = [];
  const funcTypes: number[] = [];
  const importedFuncSigs: FuncSig[] = [];
  const rawExports: Array<{ name: string; kind: number; index: number }> = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) throw new Error("section out of bounds");
    const s = new Reader(bytes, end);
    s.pos = r.pos;
    if (id === 1) {
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        const form = s.byte();
        if (form !== 0x60) throw new Error("bad func type");
        const np = s.u32();
        const params: ValType[] = [];
        for (let j = 0; j < np; j++) params.push(s.valtype());
        const nr = s.u32();
        const results: ValType[] = [];
        for (let j = 0; j < nr; j++) results.push(s.valtype());
        types.push({ params, results });
      }
    } else if (id === 2) {
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        const module = s.name();
        const name = s.name();
        const kind = s.byte();
        if (kind === 0) {
          const ti = s.u32();
          const sig = types[ti];
          if (!sig) throw new Error("bad type index");
          imports.push({ module, name, kind: "function", sig });
          importedFuncSigs.push(sig);
        } else if (kind === 1) {
          s.byte();
          s.limits();
          imports.push({ module, name, kind: "table" });
        } else if (kind === 2) {
          s.limits();
          imports.push({ module, name, kind: "memory" });
        } else if (kind === 3) {
          s.valtype();
          s.byte();
          imports.push({ module, name, kind: "global" });
        } else throw new Error("bad import kind");
      }
    } else if (id === 3) {
      const n = s.u32();
      for (let i = 0; i < n; i++) funcTypes.push(s.u32());
    } else if (id === 7) {
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        const name = s.name();
        const kind = s.byte();
        const index = s.u32();
        rawExports.push({ name, kind, index });
      }
    }
    r.pos = end;
  }
  const exports: ModuleExport[] = rawExports.map((e) => {
    const kind = KINDS[e.kind];
    if (!kind) throw new Error("bad export kind");
    if (kind !== "function") return { name: e.name, kind };
    let sig: FuncSig | undefined;
    if (e.index < importedFuncSigs.length) sig = importedFuncSigs[e.index];
    else sig = types[funcTypes[e.index - importedFuncSigs.length]];
    if (!sig) throw new Error("bad function index");
    return { name: e.name, kind, sig };
  });
  return { imports, exports };
}

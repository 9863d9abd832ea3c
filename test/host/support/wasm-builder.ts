/**
 * A tiny Wasm binary assembler for load-error tests: typed imports, exported functions with
 * trivial bodies (return 0 / nothing) and an exported memory.
 */
type ValType = "i32" | "i64" | "f32" | "f64";
const VT: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c };

export interface FuncSpec {
  name: string;
  params?: ValType[];
  results?: ValType[];
  /** Body: call these imports (by import index) with i32 constant arguments, dropping results… */
  calls?: Array<{ import: number; args: number[] }>;
  /** …then return this i32 constant (default 0). */
  returns?: number;
}
export interface ImportSpec extends FuncSpec {
  module: string;
}
export interface ModuleSpec {
  imports?: ImportSpec[];
  /** Adds an imported memory env.memory (Envoy cannot satisfy non-function imports). */
  importMemory?: boolean;
  exports?: FuncSpec[];
  /** Export a 1-page memory as "memory" (default true). */
  memory?: boolean;
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}
function name(s: string): number[] {
  const b = [...Buffer.from(s, "utf8")];
  return [...leb(b.length), ...b];
}
function vec(items: number[][]): number[] {
  return [...leb(items.length), ...items.flat()];
}
function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

export function buildModule(spec: ModuleSpec): Uint8Array {
  const imports = spec.imports ?? [];
  const exports = spec.exports ?? [];
  const types: string[] = [];
  const typeIndex = (f: FuncSpec): number => {
    const key = `${(f.params ?? []).join(",")}->${(f.results ?? []).join(",")}`;
    let i = types.indexOf(key);
    if (i < 0) {
      types.push(key);
      i = types.length - 1;
    }
    return i;
  };
  const importEntries = imports.map((imp) => [...name(imp.module), ...name(imp.name), 0x00, ...leb(typeIndex(imp))]);
  if (spec.importMemory) importEntries.push([...name("env"), ...name("memory"), 0x02, 0x00, 0x01]);
  const funcTypes = exports.map((f) => leb(typeIndex(f)));
  const typeEntries = types.map((key) => {
    const [p, r] = key.split("->");
    const ps = p ? p.split(",").map((t) => VT[t as ValType]) : [];
    const rs = r ? r.split(",").map((t) => VT[t as ValType]) : [];
    return [0x60, ...leb(ps.length), ...ps, ...leb(rs.length), ...rs];
  });
  const exportEntries = exports.map((f, i) => [...name(f.name), 0x00, ...leb(imports.length + i)]);
  const withMemory = spec.memory !== false && !spec.importMemory;
  if (withMemory) exportEntries.push([...name("memory"), 0x02, 0x00]);
  const sleb = (n: number): number[] => {
    const out: number[] = [];
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
        out.push(b);
        return out;
      }
      out.push(b | 0x80);
    }
  };
  const code = exports.map((f) => {
    const r = f.results ?? [];
    const calls: number[] = [];
    for (const c of f.calls ?? []) {
      for (const a of c.args) calls.push(0x41, ...sleb(a));
      calls.push(0x10, ...leb(c.import));
      if ((imports[c.import].results ?? []).length > 0) calls.push(0x1a);
    }
    const ret = r.length === 0 ? [] : r[0] === "i64" ? [0x42, ...sleb(f.returns ?? 0)] : [0x41, ...sleb(f.returns ?? 0)];
    const fn = [0x00, ...calls, ...ret, 0x0b];
    return [...leb(fn.length), ...fn];
  });
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(typeEntries)),
    ...(importEntries.length ? section(2, vec(importEntries)) : []),
    ...section(3, vec(funcTypes)),
    ...(withMemory ? section(5, vec([[0x00, 0x01]])) : []),
    ...section(7, vec(exportEntries)),
    ...section(10, vec(code)),
  ];
  return new Uint8Array(bytes);
}

/** A minimal loadable proxy-wasm module: ABI marker + malloc (+ extra exports/imports). */
export function minimalPluginModule(extra: ModuleSpec = {}): Uint8Array {
  return buildModule({
    ...extra,
    exports: [
      { name: "proxy_abi_version_0_2_1" },
      { name: "malloc", params: ["i32"], results: ["i32"] },
      ...(extra.exports ?? []),
    ],
  });
}

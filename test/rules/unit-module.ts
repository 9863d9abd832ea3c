/**
 * Compiles an AssemblyScript unit/bench entry (test/filters-unit/*.ts) with the filter's compiler
 * settings (release optimisation, incremental runtime, wasi-shim) through the `asc` API into a temp
 * dir (cached by a hash of every AssemblyScript source), and instantiates it with stub host imports:
 * proxy_* calls answer NotFound/Ok with nothing, WASI gets real clocks and randomness.
 * No vitest globalSetup needed; also used by bench/reload.ts.
 */
import { createHash, randomFillSync } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function listTs(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) listTs(p, out);
    else if (name.endsWith(".ts")) out.push(p);
  }
}

export async function compileUnit(entry: string): Promise<Uint8Array<ArrayBuffer>> {
  const entryPath = resolve(ROOT, entry);
  const files: string[] = [];
  listTs(join(ROOT, "assembly"), files);
  // The entries share test/filters-unit/unit-io.ts: every file there is part of the cache key.
  listTs(join(ROOT, "test/filters-unit"), files);
  files.push(entryPath, join(ROOT, "test/filters-unit/asconfig.json"), fileURLToPath(import.meta.url));
  const h = createHash("sha256");
  for (const f of [...new Set(files)].sort()) h.update(f).update(readFileSync(f));
  const key = h.digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "edgewatch-unit");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${entry.replace(/[^a-z0-9]+/gi, "_")}-${key}.wasm`);
  if (existsSync(out)) return new Uint8Array(readFileSync(out));
  const asc = (await import("assemblyscript/asc")).default;
  const stderr: string[] = [];
  const { error } = await asc.main(
    [
      entryPath,
      // Own config: asc would otherwise pick up ./asconfig.json (the product entry and abort handler).
      "--config", join(ROOT, "test/filters-unit/asconfig.json"),
      "--outFile", out,
    ],
    {
      stderr: { write: (s: string | Uint8Array) => { stderr.push(String(s)); return true; } } as never,
      stdout: { write: () => true } as never,
    },
  );
  if (error) throw new Error(`asc failed for ${entry}: ${error.message}\n${stderr.join("")}`);
  return new Uint8Array(readFileSync(out));
}

export interface UnitInstance {
  exports: Record<string, (...args: never[]) => unknown> & { memory: WebAssembly.Memory };
  /** Copy bytes/text into the module's scratch buffer; returns the length. */
  put(data: string | Uint8Array): number;
  /** The module's output buffer as text. */
  out(): string;
  outBytes(): Uint8Array;
  logs: Array<{ level: number; message: string }>;
}

export async function instantiateUnit(entry: string): Promise<UnitInstance> {
  const bytes = await compileUnit(entry);
  const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  let memory: WebAssembly.Memory | undefined;
  const logs: Array<{ level: number; message: string }> = [];
  const dec = new TextDecoder();
  const env: Record<string, (...a: number[]) => number> = {
    proxy_log: (level: number, ptr: number, size: number) => {
      logs.push({ level, message: dec.decode(new Uint8Array(memory!.buffer, ptr >>> 0, size)) });
      return 0;
    },
    proxy_get_current_time_nanoseconds: (ptr: number) => {
      new DataView(memory!.buffer).setBigUint64(ptr >>> 0, BigInt(Date.now()) * 1_000_000n, true);
      return 0;
    },
  };
  const wasi: Record<string, (...a: number[]) => number> = {
    random_get: (ptr: number, len: number) => { randomFillSync(new Uint8Array(memory!.buffer, ptr >>> 0, len)); return 0; },
    clock_time_get: (id: number, _prec: bigint | number, ptr: number) => {
      let t: bigint;
      if (id === 0) t = BigInt(Date.now()) * 1_000_000n;
      else if (id === 2 || id === 3) { const c = process.cpuUsage(); t = BigInt(c.user + c.system) * 1000n; } // process CPU time (µs resolution)
      else t = process.hrtime.bigint();
      new DataView(memory!.buffer).setBigUint64(ptr >>> 0, t, true);
      return 0;
    },
    fd_write: () => 0,
    proc_exit: () => 0,
  };
  const imports: WebAssembly.Imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const ns = (imports[imp.module] ??= {}) as Record<string, unknown>;
    if (imp.kind !== "function") continue;
    const table = imp.module === "env" ? env : wasi;
    // Unknown host calls answer NotFound (1) without touching memory.
    ns[imp.name] = table[imp.name] ?? (() => (imp.module === "env" ? 1 : 0));
  }
  const instance = await WebAssembly.instantiate(module, imports);
  const exports = instance.exports as UnitInstance["exports"];
  memory = exports.memory;
  (exports._start as () => void)();
  const enc = new TextEncoder();
  const inst: UnitInstance = {
    exports,
    logs,
    put(data) {
      const b = typeof data === "string" ? enc.encode(data) : data;
      const ptr = (exports.scratch as (n: number) => number)(b.length) >>> 0;
      new Uint8Array(memory!.buffer, ptr, b.length).set(b);
      return b.length;
    },
    out() {
      return dec.decode(inst.outBytes());
    },
    outBytes() {
      const ptr = (exports.outPtr as () => number)() >>> 0;
      const len = (exports.outLen as () => number)();
      return new Uint8Array(memory!.buffer, ptr, len).slice();
    },
  };
  return inst;
}

/** Typed wrapper over test/filters-unit/rules-unit.ts. */
export class RulesUnit {
  private constructor(readonly u: UnitInstance) {}

  static async create(): Promise<RulesUnit> {
    return new RulesUnit(await instantiateUnit("test/filters-unit/rules-unit.ts"));
  }

  private call(name: string, ...args: Array<number | bigint>): number {
    return (this.u.exports[name] as unknown as (...a: Array<number | bigint>) => number)(...args);
  }

  json(text: string | Uint8Array): { ok: boolean; kind: number; message: string } {
    const n = this.u.put(text);
    const k = this.call("jsonParse", n);
    return { ok: k === 0, kind: k, message: this.u.out() };
  }

  jsonString(text: string): string | null {
    const n = this.u.put(text);
    return this.call("jsonString", n) ? this.u.out() : null;
  }

  jsonNumber(text: string): number {
    return this.call("jsonNumber", this.u.put(text));
  }

  cidr(text: string): string | null {
    return this.call("cidr", this.u.put(text)) ? this.u.out() : null;
  }

  client(text: string): string | null {
    return this.call("clientAddress", this.u.put(text)) ? this.u.out() : null;
  }

  load(doc: string | Uint8Array | object, maxBytes = 16 * 1024 * 1024):
    | { ok: true; version: number; cidrs: number; rules: number; tableBytes: number; entries: number }
    | { ok: false; reason: string; message: string } {
    const text = typeof doc === "string" || doc instanceof Uint8Array ? doc : JSON.stringify(doc);
    const n = this.u.put(text);
    if (this.call("loadRules", n, maxBytes)) {
      const [version, cidrs, rules, tableBytes, entries] = this.u.out().split(" ").map(Number);
      return { ok: true, version, cidrs, rules, tableBytes, entries };
    }
    const [reason, message] = this.u.out().split("\t");
    return { ok: false, reason, message };
  }

  /** Action (0 allow, 1 deny, 2 log; -1 bad address) and rule id for a client address. */
  decide(addr: string): { action: number; rule: string } {
    const a = this.call("decide", this.u.put(addr));
    return { action: a, rule: a >= 0 ? this.u.out() : "" };
  }

  snapshotRoundTrip(): number { return this.call("snapshotRoundTrip"); }
  snapshotEncode(): Uint8Array { this.call("snapshotEncode"); return this.u.outBytes(); }
  snapshotDecode(b: Uint8Array): boolean { return this.call("snapshotDecode", this.u.put(b)) === 1; }

  config(text: string): { ok: true; summary: any } | { ok: false; reason: string; message: string } {
    const n = text.length === 0 ? 0 : this.u.put(text);
    if (this.call("config", n)) return { ok: true, summary: JSON.parse(this.u.out()) };
    const [reason, message] = this.u.out().split("\t");
    return { ok: false, reason, message };
  }

  /**
   * scanCidrText on `raw` (cidrs_text bytes as they stand in the JSON) for rule 3, with `pad` after
   * the text in the same buffer (the scan must not read it): the count (or -1), the IPv4 keys in
   * order, the IPv6 count and the error text.
   */
  scanText(raw: string | Uint8Array, pad: string | Uint8Array = ""): { n: number; keys4: bigint[]; n6: number; error: string } {
    const enc = new TextEncoder();
    const a = typeof raw === "string" ? enc.encode(raw) : raw;
    const b = typeof pad === "string" ? enc.encode(pad) : pad;
    const all = new Uint8Array(a.length + b.length);
    all.set(a);
    all.set(b, a.length);
    this.u.put(all);
    const n = this.call("scanText", a.length);
    const lines = this.u.out().split("\n");
    const [n4, n6] = lines[0]!.split(" ").map(Number) as [number, number];
    return { n, keys4: lines.slice(1, 1 + n4).map((h) => BigInt("0x" + h)), n6, error: lines.slice(1 + n4).join("\n") };
  }
  benchLookups4(n: number, seed: bigint): number { return this.call("benchLookups4", n, seed); }
  benchEvaluate4(n: number, seed: bigint): number { return this.call("benchEvaluate4", n, seed); }
  heapBytes(): number { return this.call("heapBytes"); }
}

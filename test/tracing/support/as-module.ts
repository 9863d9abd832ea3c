/**
 * Compile an AssemblyScript test entry (pure filter modules, no proxy-wasm imports) with the asc API
 * into a temp dir and instantiate it with a minimal import object. Results are cached per source
 * content so a test file compiles its entry once.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, statSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

function hashTree(dir: string, h: ReturnType<typeof createHash>): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) hashTree(p, h);
    else if (name.endsWith(".ts")) {
      h.update(p);
      h.update(readFileSync(p));
    }
  }
}

export interface AsModule {
  exports: Record<string, any>;
  memory: WebAssembly.Memory;
  /** Copy bytes to the entry's input area; returns the length. */
  writeInput(s: string | Uint8Array): number;
  /** Read `len` bytes of the entry's output area as a latin1/UTF-8 string. */
  readOutput(len: number, offset?: number): string;
  readBytes(ptr: number, len: number): Uint8Array;
}

/** Compile `entry` (path relative to the repo) and instantiate it. */
export async function loadAsEntry(entry: string): Promise<AsModule> {
  const h = createHash("sha256");
  hashTree(join(REPO_ROOT, "assembly"), h);
  const key = h.digest("hex").slice(0, 16);
  const outDir = join(tmpdir(), "edgewatch-as-tests", key);
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, entry.replace(/[\\/]/g, "_").replace(/\.ts$/, ".wasm"));
  if (!existsSync(outFile)) {
    const asc = (await import("assemblyscript/asc")).default;
    // An explicit empty config: otherwise asc picks up the repo's asconfig.json (filter entry + WASI shim).
    const configFile = join(outDir, "asconfig.json");
    writeFileSync(configFile, JSON.stringify({ options: {} }));
    let stderr = "";
    const result = await asc.main(
      [
        join(REPO_ROOT, entry),
        "--outFile", outFile,
        "--optimizeLevel", "3",
        "--runtime", "incremental",
        "--noAssert",
        "--config", configFile,
      ],
      {
        stdout: { write: () => true } as any,
        stderr: { write: (s: string | Uint8Array) => { stderr += String(s); return true; } } as any,
      },
    );
    if (result.error) throw new Error(`asc failed for ${entry}: ${result.error.message}\n${stderr}`);
  }
  const bytes = readFileSync(outFile);
  const { instance } = await WebAssembly.instantiate(bytes, {
    env: {
      abort: (_m: number, _f: number, line: number, col: number) => {
        throw new Error(`abort at ${line}:${col}`);
      },
      seed: () => 42,
    },
  });
  const exports = instance.exports as Record<string, any>;
  const memory = exports.memory as WebAssembly.Memory;
  return {
    exports,
    memory,
    writeInput(s) {
      const b = typeof s === "string" ? Buffer.from(s, "latin1") : s;
      const ptr = Number(exports.inputPtr());
      new Uint8Array(memory.buffer, ptr, b.length).set(b);
      return b.length;
    },
    readOutput(len, offset = 0) {
      const ptr = Number(exports.outputPtr()) + offset;
      return Buffer.from(new Uint8Array(memory.buffer, ptr, len)).toString("latin1");
    },
    readBytes(ptr, len) {
      return new Uint8Array(memory.buffer, ptr, len).slice();
    },
  };
}

/**
 * Compiles every test/filters/*.ts AssemblyScript test filter to build/test-filters/<name>.wasm
 * with the asc API (in-process, so the compiler is loaded once). Uses the wasi-shim asconfig
 * (like asconfig.json, whose `entries` is the product filter and is therefore not reused) with
 * the incremental runtime and debug names (for Envoy-style in-VM backtraces).
 * A filter is rebuilt only when it, test/filters/lib/* or this script is newer than its .wasm.
 * Usage: tsx harness/build/test-filters.ts [--force] [name ...]
 */
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SRC = join(ROOT, "test/filters");
const LIB = join(SRC, "lib");
const OUT = join(ROOT, "build/test-filters");
// Relative to ROOT: asc resolves the config's "lib" against the working directory.
const SHIM_CONFIG = "node_modules/@assemblyscript/wasi-shim/asconfig.json";

function mtime(p: string): number {
  return existsSync(p) ? statSync(p).mtimeMs : 0;
}

export function testFilterNames(): string[] {
  return readdirSync(SRC).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3)).sort();
}

export function testFilterPath(name: string): string {
  return join(OUT, `${name}.wasm`);
}

export async function buildTestFilters(opts: { force?: boolean; only?: string[]; quiet?: boolean } = {}): Promise<string[]> {
  mkdirSync(OUT, { recursive: true });
  if (process.cwd() !== ROOT) process.chdir(ROOT);
  const libTime = Math.max(
    mtime(fileURLToPath(import.meta.url)),
    ...readdirSync(LIB).map((f) => mtime(join(LIB, f))),
  );
  const names = opts.only && opts.only.length > 0 ? opts.only : testFilterNames();
  const built: string[] = [];
  // Loaded lazily: importing the compiler is the slow part when nothing is stale.
  let asc: typeof import("assemblyscript/asc").default | null = null;
  for (const name of names) {
    const src = join(SRC, `${name}.ts`);
    const out = testFilterPath(name);
    if (!existsSync(src)) throw new Error(`no test filter ${src}`);
    if (!opts.force && mtime(out) > Math.max(mtime(src), libTime)) continue;
    const t0 = performance.now();
    asc ??= (await import("assemblyscript/asc")).default;
    const { error, stderr } = await asc.main([
      src,
      "--config", SHIM_CONFIG,
      "--runtime", "incremental",
      "--debug",
      "--outFile", out,
    ]);
    if (error) throw new Error(`asc failed for ${name}: ${error.message}\n${stderr.toString()}`);
    built.push(name);
    if (!opts.quiet) process.stdout.write(`test filter ${name}.wasm (${Math.round(performance.now() - t0)} ms)\n`);
  }
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const force = args.includes("--force");
  const only = args.filter((a) => !a.startsWith("--"));
  const t0 = performance.now();
  buildTestFilters({ force, only }).then(
    // Quiet when everything is current (npm start / npm test run this every time).
    (built) => {
      if (built.length > 0) process.stdout.write(`test filters: ${built.length} built, ${Math.round(performance.now() - t0)} ms\n`);
    },
    (err) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}

/**
 * Builds the product filter (build/edgewatch.wasm, release; build/edgewatch.debug.wasm, debug) only
 * when something it is made from changed, and quietly.
 *
 * The build key is a SHA-256 over: every file under assembly/ (path and content), asconfig.json, this
 * script, and the name@version of the compiler and of the packages compiled into the module
 * (assemblyscript, @assemblyscript/wasi-shim, @gcoredev/proxy-wasm-sdk-as). The key and the outputs'
 * SHA-256 are kept in build/.filter-build.json; when the key matches and both outputs are the ones
 * that build wrote, nothing is compiled. Contents, not timestamps: a checkout or `touch` that changes
 * nothing rebuilds nothing, and a replaced .wasm is rebuilt.
 *
 * Both targets compile in one process with the asc API (the compiler loads once). The compiler's
 * notes (INFO / WARNING) are printed once, not once per target, and only with --verbose; a summary
 * line counts them. Errors are always printed in full (exit 1).
 *
 * Usage: tsx harness/build/build-filter.ts [--force] [--verbose] [--check]
 *   --check  exit 0 when up to date, 1 when a build is needed (builds nothing)
 * Used by npm run build (so npm start, npm test, check and bench) and by the test suite's global setup.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const STAMP = join(ROOT, "build/.filter-build.json");
const TARGETS = [
  { name: "release", out: "build/edgewatch.wasm" },
  { name: "debug", out: "build/edgewatch.debug.wasm" },
] as const;
/** Packages whose code or compiler ends up in the module. */
const PACKAGES = ["assemblyscript", "@assemblyscript/wasi-shim", "@gcoredev/proxy-wasm-sdk-as"];

interface Stamp {
  key: string;
  outputs: Record<string, string>;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The build key for a source tree rooted at `root` (exported for tests). */
export function buildKey(root: string = ROOT): string {
  const h = createHash("sha256");
  const add = (label: string, data: Uint8Array | string) => {
    h.update(`${label}\0${data.length}\0`);
    h.update(data);
  };
  for (const f of listFiles(join(root, "assembly")).map((p) => relative(root, p)).sort()) add(f, readFileSync(join(root, f)));
  add("asconfig.json", readFileSync(join(root, "asconfig.json")));
  add("build-filter.ts", readFileSync(fileURLToPath(import.meta.url)));
  for (const pkg of PACKAGES) {
    const pj = join(root, "node_modules", pkg, "package.json");
    const version = existsSync(pj) ? (JSON.parse(readFileSync(pj, "utf8")) as { version?: string }).version : "missing";
    add(`package ${pkg}`, String(version));
  }
  return h.digest("hex");
}

function readStamp(): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(STAMP, "utf8")) as Stamp;
  } catch {
    return undefined;
  }
}

/** Why a build is needed, or undefined when the outputs are current. */
export function staleReason(key: string = buildKey()): string | undefined {
  const stamp = readStamp();
  if (!stamp) return "no previous build record";
  if (stamp.key !== key) return "sources, asconfig.json or compiler changed";
  for (const t of TARGETS) {
    const p = join(ROOT, t.out);
    if (!existsSync(p)) return `${t.out} is missing`;
    if (sha256(readFileSync(p)) !== stamp.outputs[t.out]) return `${t.out} is not the one this build wrote`;
  }
  return undefined;
}

interface Diagnostic {
  severity: "ERROR" | "WARNING" | "INFO";
  text: string;
}

/** Split asc's stderr into diagnostics ("ERROR|WARNING|INFO ASnnn: …" plus its indented excerpt, or a plain notice). */
function diagnostics(stderr: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  let cur: Diagnostic | undefined;
  for (const line of stderr.split("\n")) {
    const m = /^(ERROR|WARNING|INFO) /.exec(line);
    if (m) {
      cur = { severity: m[1] as Diagnostic["severity"], text: line };
      out.push(cur);
    } else if (line.trim() === "") continue;
    else if (cur && /^\s/.test(line)) cur.text += `\n${line}`; // the source excerpt under a diagnostic
    else out.push((cur = { severity: "INFO", text: line })); // a notice of its own ("Last converge was suboptimal.")
  }
  return out;
}

export async function buildFilter(opts: { force?: boolean; verbose?: boolean } = {}): Promise<{ built: boolean; reason?: string }> {
  const key = buildKey();
  const reason = opts.force ? "--force" : staleReason(key);
  if (reason === undefined) return { built: false };
  if (process.cwd() !== ROOT) process.chdir(ROOT); // asc reads asconfig.json and its "lib" from the cwd
  mkdirSync(join(ROOT, "build"), { recursive: true });
  const t0 = performance.now();
  const asc = (await import("assemblyscript/asc")).default;
  const seen = new Map<string, Diagnostic>();
  for (const t of TARGETS) {
    const { error, stderr } = await asc.main(["assembly/index.ts", "--target", t.name]);
    const diags = diagnostics(stderr.toString());
    if (error) {
      process.stderr.write(`${stderr.toString()}\n`);
      throw new Error(`asc failed for the ${t.name} target: ${error.message}`);
    }
    for (const d of diags) if (!seen.has(d.text)) seen.set(d.text, d);
  }
  const outputs: Record<string, string> = {};
  for (const t of TARGETS) outputs[t.out] = sha256(readFileSync(join(ROOT, t.out)));
  writeFileSync(STAMP, `${JSON.stringify({ key, outputs } satisfies Stamp, null, 2)}\n`);
  const notes = [...seen.values()];
  const warnings = notes.filter((d) => d.severity === "WARNING").length;
  if (opts.verbose) for (const d of notes) process.stderr.write(`${d.text}\n`);
  const noteText =
    notes.length === 0
      ? ""
      : `; ${notes.length} compiler note(s)${warnings ? ` (${warnings} warning(s))` : ""}${opts.verbose ? "" : ": npm run build:filter -- --force --verbose shows them"}`;
  process.stdout.write(`filter: built ${TARGETS.map((t) => t.out).join(" and ")} in ${((performance.now() - t0) / 1000).toFixed(1)} s (${reason})${noteText}\n`);
  return { built: true, reason };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => !["--force", "--verbose", "--check", "-h", "--help"].includes(a));
  if (args.includes("-h") || args.includes("--help") || unknown.length > 0) {
    if (unknown.length > 0) process.stderr.write(`build-filter: unknown argument ${unknown.join(" ")}\n`);
    process.stdout.write("usage: tsx harness/build/build-filter.ts [--force] [--verbose] [--check]\n");
    process.exit(unknown.length > 0 ? 2 : 0);
  }
  if (args.includes("--check")) {
    const why = staleReason();
    process.stdout.write(why === undefined ? "filter: up to date\n" : `filter: build needed (${why})\n`);
    process.exit(why === undefined ? 0 : 1);
  }
  buildFilter({ force: args.includes("--force"), verbose: args.includes("--verbose") }).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}

/** Environment probes shared by the commands: repo paths, the filter build, target availability. */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { envError, usageError } from "./exit-codes.js";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const DEFAULT_WASM = resolve(REPO_ROOT, "build/edgewatch.wasm");

export const TARGET_NAMES = ["embedded", "envoy", "envoy-local"] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/**
 * Check a filter module before handing it to a host: present, a valid wasm binary, and exporting a
 * proxy-wasm ABI version. Throws a CliError naming the cause (exit 3 when the default build is
 * missing, 2 when a given file is bad).
 */
export async function checkWasm(path: string = DEFAULT_WASM): Promise<{ path: string; abi: string }> {
  const isDefault = resolve(path) === DEFAULT_WASM;
  if (!existsSync(path)) {
    if (isDefault) throw envError(`filter build missing: ${path}`, "run `npm run build` first");
    throw usageError(`wasm module not found: ${path}`);
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw usageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let mod: WebAssembly.Module;
  try {
    mod = await WebAssembly.compile(new Uint8Array(bytes));
  } catch (err) {
    throw usageError(`${path} is not a valid WebAssembly module: ${(err as Error).message}`, isDefault ? "rebuild with `npm run build`" : undefined);
  }
  const abi = WebAssembly.Module.exports(mod)
    .map((e) => e.name)
    .find((n) => n.startsWith("proxy_abi_version_"));
  if (!abi) {
    throw usageError(`${path} is not a proxy-wasm filter: it exports no proxy_abi_version_* function`);
  }
  return { path, abi };
}

export interface Availability {
  available: boolean;
  reason?: string;
  hint?: string;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 127) : 0;
      res({ code, out: `${stdout}${stderr}` });
    });
  });
}

/**
 * Is a target usable here? Uses the target registry (harness/targets/registry.ts) when present,
 * otherwise probes directly (Docker daemon for envoy, an `envoy` binary for envoy-local).
 */
export async function checkTargetAvailable(name: TargetName): Promise<Availability> {
  const registryPath = resolve(REPO_ROOT, "harness/targets/registry.ts");
  if (existsSync(registryPath)) {
    try {
      const reg = (await import(pathToFileURL(registryPath).href)) as {
        getTarget?: (n: string) => { availability?: () => Promise<unknown> | unknown };
      };
      const target = reg.getTarget?.(name);
      if (target?.availability) {
        const a = (await target.availability()) as { available?: boolean; ok?: boolean; reason?: string } | boolean;
        if (typeof a === "boolean") return { available: a, reason: a ? undefined : "target reports unavailable" };
        const ok = a.available ?? a.ok ?? false;
        return { available: ok, reason: a.reason, hint: hintFor(name) };
      }
    } catch (err) {
      return { available: false, reason: `target registry failed: ${(err as Error).message}`, hint: hintFor(name) };
    }
  }
  if (name === "embedded") return { available: true };
  if (name === "envoy") {
    const r = await run("docker", ["info", "--format", "{{.ServerVersion}}"], 10_000);
    return r.code === 0 ? { available: true } : { available: false, reason: `docker daemon not reachable (${r.out.trim().split("\n")[0] || `exit ${r.code}`})`, hint: hintFor(name) };
  }
  const r = await run("envoy", ["--version"], 10_000);
  return r.code === 0 ? { available: true } : { available: false, reason: "no `envoy` binary on PATH", hint: hintFor(name) };
}

function hintFor(name: TargetName): string | undefined {
  if (name === "envoy") return "start Docker (the envoy target runs Envoy with testcontainers), or use --target embedded";
  if (name === "envoy-local") return "install an Envoy binary (1.30+) on PATH or set ENVOY_BIN, or use --target embedded";
  return undefined;
}

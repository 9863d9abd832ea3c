/** Environment probes shared by the commands: repo paths, the filter build, target availability. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { envError, usageError } from "./exit-codes.js";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The filter build (EDGEWATCH_WASM overrides it, e.g. to try another build). */
export const DEFAULT_WASM = process.env.EDGEWATCH_WASM ? resolve(process.env.EDGEWATCH_WASM) : resolve(REPO_ROOT, "build/edgewatch.wasm");

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

/**
 * Is a target usable here? Asks the target registry (harness/targets/registry.ts), whose probes the
 * test suite uses too, so `check` and the tests agree.
 */
export async function checkTargetAvailable(name: TargetName): Promise<Availability> {
  try {
    const reg = await import("../targets/registry.js");
    const a = await reg.getTarget(name).availability();
    return { available: a.available, reason: a.reason, hint: a.available ? undefined : hintFor(name) };
  } catch (err) {
    return { available: false, reason: `target registry failed: ${(err as Error).message.split("\n")[0]}`, hint: hintFor(name) };
  }
}

function hintFor(name: TargetName): string | undefined {
  if (name === "envoy") return "start Docker (the envoy target runs Envoy with testcontainers), or use --target embedded";
  if (name === "envoy-local") return "install an Envoy binary (1.30+) on PATH or set ENVOY_BIN, or use --target embedded";
  return undefined;
}

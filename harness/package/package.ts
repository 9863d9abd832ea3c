/**
 * `edgewatch package`: the filter module as OCI images Istio can pull, without Docker.
 *
 *   OUT/oci/, OUT/oci.tar         Wasm artifact image (solo-io "oci" variant), the one to push
 *   OUT/compat/, OUT/compat.tar   compat variant (one tar+gzip layer with plugin.wasm)
 *   OUT/wasmplugin.yaml           envoy/istio/wasmplugin.yaml with url and sha256 of OUT/oci
 *
 * Each directory is an OCI image layout holding one image tagged with the version, so
 * `skopeo copy oci:OUT/oci docker://…` needs no tag. Everything is staged in a temporary
 * directory inside OUT and moved into place only once written and validated; existing outputs
 * are replaced only when they are earlier outputs of this command.
 */
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { exampleProxyConfig } from "../envoy-config/defaults.js";
import { renderWasmPluginYaml } from "../envoy-config/write-examples.js";
import { writeLayout, sha256Hex, type BuiltImage, type Descriptor } from "./oci.js";
import { validateLayout } from "./oci-validate.js";
import { readSourceInfo, type SourceInfo } from "./source-info.js";
import { buildArtifactImage, buildCompatImage, type WasmImageInput } from "./wasm-image.js";

export const DEFAULT_IMAGE_REPOSITORY = "ghcr.io/your-org/edgewatch";

export interface PackageOptions {
  /** Repository root: package.json and git metadata are read from here. */
  root: string;
  wasmPath: string;
  outDir: string;
  /** Tag recorded in the layouts and the WasmPlugin url (default: package.json version). */
  tag?: string;
  /** Repository for the WasmPlugin url (no scheme, no tag). */
  image?: string;
  env?: NodeJS.ProcessEnv;
}

export interface VariantResult {
  dir: string;
  tar: string;
  manifestDigest: string;
  manifestSize: number;
  layers: Descriptor[];
}

export interface PackageResult {
  source: SourceInfo;
  tag: string;
  module: { path: string; size: number; sha256: string; abiVersions: string[]; rootIds: string[] };
  oci: VariantResult;
  compat: VariantResult;
  wasmPlugin: { path: string; url: string; sha256: string };
}

/** Thrown for bad input (the CLI maps it to exit 2). */
export class PackageInputError extends Error {}

const OUTPUTS = ["oci", "oci.tar", "compat", "compat.tar", "wasmplugin.yaml"] as const;

/** OCI tag grammar (distribution-spec): [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. */
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** A repository reference without tag or digest: host[:port]/path, lowercase path components. */
const REPO_RE = /^[a-zA-Z0-9.-]+(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$/;

function proxyWasmAbiVersions(module: Buffer, path: string): string[] {
  let mod: WebAssembly.Module;
  try {
    mod = new WebAssembly.Module(new Uint8Array(module));
  } catch (err) {
    throw new PackageInputError(`${path} is not a valid WebAssembly module: ${(err as Error).message}`);
  }
  const abis = WebAssembly.Module.exports(mod).map((e) => e.name).filter((n) => n.startsWith("proxy_abi_version_"));
  if (abis.length === 0) throw new PackageInputError(`${path} is not a proxy-wasm filter: it exports no proxy_abi_version_* function`);
  return abis.sort();
}

/** Refuse to replace something this command did not write. */
function checkReplaceable(outDir: string): void {
  for (const name of OUTPUTS) {
    const p = join(outDir, name);
    if (!existsSync(p)) continue;
    const st = lstatSync(p);
    const ours = name === "oci" || name === "compat" ? st.isDirectory() && existsSync(join(p, "oci-layout")) : st.isFile();
    if (!ours) throw new PackageInputError(`${p} exists and is not an earlier output of edgewatch package; choose another --out`);
  }
}

function variantResult(image: BuiltImage, dir: string, tar: string): VariantResult {
  return { dir, tar, manifestDigest: image.manifestDigest, manifestSize: image.manifestBytes.length, layers: image.manifest.layers };
}

export async function packagePlugin(opts: PackageOptions): Promise<PackageResult> {
  let source: SourceInfo;
  try {
    source = readSourceInfo(opts.root, opts.env);
  } catch (err) {
    throw new PackageInputError((err as Error).message);
  }
  const tag = opts.tag ?? source.version;
  if (!TAG_RE.test(tag)) throw new PackageInputError(`invalid tag ${JSON.stringify(tag)}: tags are [A-Za-z0-9_][A-Za-z0-9._-]{0,127}`);
  const image = opts.image ?? DEFAULT_IMAGE_REPOSITORY;
  if (!REPO_RE.test(image)) {
    throw new PackageInputError(`invalid image repository ${JSON.stringify(image)}: expected host/path without scheme, tag or digest (e.g. ghcr.io/acme/edgewatch)`);
  }
  const module = readFileSync(opts.wasmPath);
  const abiVersions = proxyWasmAbiVersions(module, opts.wasmPath);
  const rootIds = [exampleProxyConfig().plugin.rootId];
  const input: WasmImageInput = { module, moduleTitle: basename(opts.wasmPath), abiVersions, rootIds, source };

  const outDir = resolve(opts.outDir);
  await mkdir(outDir, { recursive: true });
  checkReplaceable(outDir);

  const oci = buildArtifactImage(input);
  const compat = await buildCompatImage(input);
  const mtime = source.createdEpoch ?? 0;
  const url = `oci://${image}:${tag}`;
  const pinSha = oci.manifestDigest.slice("sha256:".length);

  const stage = await mkdtemp(join(outDir, ".edgewatch-package-"));
  try {
    await writeLayout(oci, tag, join(stage, "oci"), join(stage, "oci.tar"), mtime);
    await writeLayout(compat, tag, join(stage, "compat"), join(stage, "compat.tar"), mtime);
    await writeFile(join(stage, "wasmplugin.yaml"), renderWasmPluginYaml({ url, sha256: pinSha }));
    for (const v of ["oci", "compat"]) {
      const report = validateLayout(join(stage, v));
      if (report.problems.length) throw new Error(`internal error: the ${v} layout does not validate:\n  ${report.problems.join("\n  ")}`);
    }
    for (const name of OUTPUTS) {
      await rm(join(outDir, name), { recursive: true, force: true });
      await rename(join(stage, name), join(outDir, name));
    }
  } finally {
    await rm(stage, { recursive: true, force: true });
  }

  return {
    source,
    tag,
    module: { path: opts.wasmPath, size: module.length, sha256: sha256Hex(module), abiVersions, rootIds },
    oci: variantResult(oci, join(outDir, "oci"), join(outDir, "oci.tar")),
    compat: variantResult(compat, join(outDir, "compat"), join(outDir, "compat.tar")),
    wasmPlugin: { path: join(outDir, "wasmplugin.yaml"), url, sha256: pinSha },
  };
}

import { relative } from "node:path";
import type { Command } from "commander";
import { DEFAULT_WASM, REPO_ROOT, checkWasm } from "../env.js";
import { usageError } from "../exit-codes.js";
// The packaging code loads inside the action so `--help` stays fast.

export interface PackageCommandOptions {
  out: string;
  wasm: string;
  tag?: string;
  image?: string;
  json?: boolean;
}

export function registerPackage(program: Command): void {
  program
    .command("package")
    .description(
      "package the filter as OCI images Istio's WasmPlugin can pull (no Docker needed): the Wasm artifact image and the compat image, " +
        "each as an OCI image layout directory and a tar, plus a WasmPlugin manifest pinned to the image digest",
    )
    .requiredOption("--out <dir>", "output directory (created; earlier outputs of this command in it are replaced)")
    .option("--wasm <path>", "filter module", DEFAULT_WASM)
    .option("--tag <tag>", "image tag recorded in the layouts and the WasmPlugin url (default: package.json version)")
    .option("--image <repository>", "repository for the WasmPlugin url, without scheme or tag (default: ghcr.io/your-org/edgewatch)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `
Writes, in --out:
  oci/, oci.tar          the Wasm artifact image: layers runtime-config.json (application/vnd.module.wasm.config.v1+json)
                         and the module itself (application/vnd.module.wasm.content.layer.v1+wasm)
  compat/, compat.tar    the compat image: one tar+gzip layer holding plugin.wasm, as \`COPY plugin.wasm\` builds
  wasmplugin.yaml        envoy/istio/wasmplugin.yaml with url and sha256 of oci/
Annotations: org.opencontainers.image.{version,revision,created,title,description}. created is SOURCE_DATE_EPOCH
or the commit time, so the same tree gives the same digests.

WasmPlugin.spec.sha256: for an oci:// url, the image's MANIFEST digest (Istio compares it with the manifest it
pulls); for file:// or https:// urls of the bare module, the module's sha256. Both are printed.

Exit codes: 0 written, 2 bad option or module, 3 the filter build is missing.

Examples:
  edgewatch package --out dist/image
  skopeo inspect --raw oci:dist/image/oci          # the artifact image (skopeo inspect needs --raw for artifacts)
  skopeo inspect oci:dist/image/compat
  skopeo copy --preserve-digests oci:dist/image/oci docker://ghcr.io/acme/edgewatch:0.1.0`,
    )
    .action(async (opts: PackageCommandOptions) => {
      process.exitCode = await runPackageCommand(opts);
    });
}

const rel = (p: string) => {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
};

export async function runPackageCommand(opts: PackageCommandOptions): Promise<number> {
  await checkWasm(opts.wasm);
  const { packagePlugin, PackageInputError } = await import("../../package/package.js");
  let r: Awaited<ReturnType<typeof packagePlugin>>;
  try {
    r = await packagePlugin({ root: REPO_ROOT, wasmPath: opts.wasm, outDir: opts.out, tag: opts.tag, image: opts.image });
  } catch (err) {
    if (err instanceof PackageInputError) throw usageError(err.message);
    throw err;
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + "\n");
    return 0;
  }
  const s = r.source;
  const created = s.createdEpoch !== undefined ? `${new Date(s.createdEpoch * 1000).toISOString().replace(".000Z", "Z")} (${s.createdFrom})` : "not recorded (no SOURCE_DATE_EPOCH, no git)";
  const lines = [
    `edgewatch ${s.version}  revision ${s.revision ?? "unknown (not a git checkout)"}  created ${created}`,
    `module  ${rel(r.module.path)}  ${r.module.size} bytes  sha256:${r.module.sha256}`,
    `oci     ${rel(r.oci.dir)}/ and ${rel(r.oci.tar)}  tag ${r.tag}  manifest ${r.oci.manifestDigest}`,
    `compat  ${rel(r.compat.dir)}/ and ${rel(r.compat.tar)}  tag ${r.tag}  manifest ${r.compat.manifestDigest}`,
    "",
    "WasmPlugin.spec.sha256 (hex, no sha256: prefix):",
    `  url oci://… (the pushed oci/ image)     sha256: ${r.oci.manifestDigest.slice(7)}   (manifest digest of oci/)`,
    `  url oci://… (the pushed compat/ image)  sha256: ${r.compat.manifestDigest.slice(7)}   (manifest digest of compat/)`,
    `  url file:// or https:// (bare module)   sha256: ${r.module.sha256}   (the module's sha256)`,
    `  written: ${rel(r.wasmPlugin.path)} (url ${r.wasmPlugin.url}, sha256 of oci/)`,
    "",
    "Next:",
    `  skopeo inspect --raw oci:${rel(r.oci.dir)}      skopeo inspect oci:${rel(r.compat.dir)}`,
    `  skopeo copy --preserve-digests oci:${rel(r.oci.dir)} docker://${r.wasmPlugin.url.slice("oci://".length)}`,
    `  kubectl apply -f ${rel(r.wasmPlugin.path)}`,
  ];
  if (s.dirty) {
    lines.push("", `warning: the working tree has uncommitted changes; the revision annotation says ${s.revision}`);
  }
  process.stdout.write(lines.join("\n") + "\n");
  return 0;
}

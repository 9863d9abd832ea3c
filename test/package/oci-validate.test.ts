// The OCI layout checker catches what a registry or Istio would choke on: a blob whose bytes do not
// hash to its digest, a wrong size, a missing blob, a malformed media type, a diff_id that does not
// match the layer. (It runs inside `edgewatch package` before anything is moved into place.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { jsonBytes, sha256Hex, writeLayout, type BuiltImage } from "../../harness/package/oci.js";
import { validateLayout } from "../../harness/package/oci-validate.js";
import type { SourceInfo } from "../../harness/package/source-info.js";
import { buildArtifactImage, buildCompatImage, type WasmImageInput } from "../../harness/package/wasm-image.js";

const tmp = mkdtempSync(join(tmpdir(), "edgewatch-oci-validate-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const source: SourceInfo = { name: "edgewatch", version: "9.9.9", description: "test", revision: "abc", dirty: false, createdEpoch: 1_700_000_000, createdFrom: "SOURCE_DATE_EPOCH" };
const input: WasmImageInput = {
  module: Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 42]),
  moduleTitle: "x.wasm",
  abiVersions: ["proxy_abi_version_0_2_1"],
  rootIds: ["edgewatch"],
  source,
};

let n = 0;
async function layout(image: BuiltImage): Promise<string> {
  const dir = join(tmp, `l${n++}`);
  await writeLayout(image, "t", dir, `${dir}.tar`, 0);
  return dir;
}
const blobPath = (dir: string, digest: string) => join(dir, "blobs", "sha256", digest.slice(7));

/** Replace the manifest of a one-image layout (re-pointing index.json at it). */
function rewriteManifest(dir: string, edit: (m: any) => void): void {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const m = JSON.parse(readFileSync(blobPath(dir, index.manifests[0].digest), "utf8"));
  edit(m);
  const bytes = jsonBytes(m);
  const digest = `sha256:${sha256Hex(bytes)}`;
  writeFileSync(blobPath(dir, digest), bytes);
  index.manifests[0] = { ...index.manifests[0], digest, size: bytes.length };
  writeFileSync(join(dir, "index.json"), JSON.stringify(index));
}

describe("validateLayout", () => {
  it("accepts both images as written", async () => {
    expect(validateLayout(await layout(buildArtifactImage(input))).problems).toEqual([]);
    expect(validateLayout(await layout(await buildCompatImage(input))).problems).toEqual([]);
  });

  it("reports a blob whose content does not hash to its digest, and a size that lies", async () => {
    const image = buildArtifactImage(input);
    const dir = await layout(image);
    const wasm = image.manifest.layers[1];
    writeFileSync(blobPath(dir, wasm.digest), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 43]));
    expect(validateLayout(dir).problems).toEqual([expect.stringMatching(/\$\.layers\[1\]\.digest: blob content hashes to sha256:/)]);
    rewriteManifest(dir, (m) => {
      m.layers[1].size = 8;
    });
    expect(validateLayout(dir).problems.join("\n")).toMatch(/\$\.layers\[1\]\.size: says 8 bytes, blob has 9/);
  });

  it("reports a missing blob, a malformed media type and digest, a wrong schemaVersion", async () => {
    const image = buildArtifactImage(input);
    const dir = await layout(image);
    rmSync(blobPath(dir, image.manifest.layers[1].digest));
    expect(validateLayout(dir).problems.join("\n")).toMatch(/\$\.layers\[1\]\.digest: blob blobs\/sha256\/[0-9a-f]{64} is missing/);
    rewriteManifest(dir, (m) => {
      m.schemaVersion = 1;
      m.layers[0].mediaType = "wasm";
      m.config.digest = "sha256:ABC";
    });
    const problems = validateLayout(dir).problems.join("\n");
    expect(problems).toMatch(/\$\.schemaVersion: must be 2/);
    expect(problems).toMatch(/\$\.layers\[0\]\.mediaType: not an RFC 6838 media type: "wasm"/);
    expect(problems).toMatch(/\$\.config\.digest: sha256 digests are 64 lowercase hex digits/);
  });

  it("reports a compat image whose rootfs.diff_ids do not match its layer, and a non-RFC-3339 created annotation", async () => {
    const image = await buildCompatImage(input);
    const dir = await layout(image);
    const cfg = JSON.parse(readFileSync(blobPath(dir, image.manifest.config.digest), "utf8"));
    cfg.rootfs.diff_ids = [`sha256:${"0".repeat(64)}`];
    const cfgBytes = jsonBytes(cfg);
    writeFileSync(blobPath(dir, `sha256:${sha256Hex(cfgBytes)}`), cfgBytes);
    rewriteManifest(dir, (m) => {
      m.config = { ...m.config, digest: `sha256:${sha256Hex(cfgBytes)}`, size: cfgBytes.length };
      m.annotations["org.opencontainers.image.created"] = "last tuesday";
    });
    const problems = validateLayout(dir).problems.join("\n");
    expect(problems).toMatch(/\$\.rootfs\.diff_ids\[0\]: does not match the sha256 of the uncompressed layer/);
    expect(problems).toMatch(/org\.opencontainers\.image\.created"\]: not RFC 3339: last tuesday/);
  });

  it("reports a missing oci-layout and index.json", () => {
    const problems = validateLayout(join(tmp, "nothing-here")).problems;
    expect(problems).toEqual(["oci-layout $: missing", "index.json $: missing"]);
  });
});

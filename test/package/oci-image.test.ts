// `edgewatch package`: the OCI images a user pushes for Istio, checked with the real skopeo and GNU
// tar — the module that comes out of each image is byte-identical to build/edgewatch.wasm, and the
// digests the command prints are the ones the tools (and Istio) see.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { MEDIA_TYPE } from "../../harness/package/oci.js";
import { validateLayout } from "../../harness/package/oci-validate.js";
import { packagePlugin } from "../../harness/package/package.js";
import { runEdgewatch, ROOT } from "../cli/helpers.js";
import { requireSkopeo, run, skopeo } from "./support.js";

const WASM = resolve(ROOT, "build/edgewatch.wasm");
const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const VERSION = (JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")) as { version: string }).version;

function gitRevision(): string {
  const head = execFileSync("git", ["-C", ROOT, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  const dirty = execFileSync("git", ["-C", ROOT, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim() !== "";
  return dirty ? `${head}-dirty` : head;
}

/** The digests the command printed, read back from its output. */
function printed(stdout: string) {
  const grab = (re: RegExp) => {
    const m = re.exec(stdout);
    if (!m) throw new Error(`not in the output (${re}):\n${stdout}`);
    return m[1];
  };
  return {
    module: grab(/^module .* sha256:([0-9a-f]{64})$/m),
    oci: grab(/^oci .* manifest sha256:([0-9a-f]{64})$/m),
    compat: grab(/^compat .* manifest sha256:([0-9a-f]{64})$/m),
    pinOci: grab(/^ {2}url oci:\/\/… \(the pushed oci\/ image\) +sha256: ([0-9a-f]{64})/m),
    pinCompat: grab(/^ {2}url oci:\/\/… \(the pushed compat\/ image\) +sha256: ([0-9a-f]{64})/m),
    pinModule: grab(/^ {2}url file:\/\/ or https:\/\/ \(bare module\) +sha256: ([0-9a-f]{64})/m),
  };
}

describe("edgewatch package → OCI images checked with skopeo", () => {
  let tmp: string;
  let out: string;
  let stdout: string;
  let digests: ReturnType<typeof printed>;
  const module = readFileSync(WASM);

  beforeAll(async () => {
    requireSkopeo();
    tmp = mkdtempSync(join(tmpdir(), "edgewatch-package-"));
    out = join(tmp, "image");
    const r = await runEdgewatch(["package", "--out", out], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    stdout = r.stdout;
    digests = printed(stdout);
  }, 90_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("prints the module's sha256 (= build/edgewatch.wasm) and says which digest WasmPlugin.spec.sha256 takes for which url", () => {
    expect(digests.module).toBe(sha256(module));
    expect(digests.pinModule).toBe(sha256(module));
    expect(digests.pinOci).toBe(digests.oci);
    expect(digests.pinCompat).toBe(digests.compat);
    expect(stdout).toMatch(/^WasmPlugin\.spec\.sha256 \(hex, no sha256: prefix\):$/m);
    expect(stdout).toContain(`skopeo copy --preserve-digests oci:`);
  });

  it("the artifact image (oci/): skopeo copies it to a dir:, the module layer is build/edgewatch.wasm and the manifest digest is the WasmPlugin pin", async () => {
    const raw = (await skopeo(["inspect", "--raw", `oci:${out}/oci`])).stdout;
    expect(sha256(raw)).toBe(digests.oci);
    const m = JSON.parse(raw);
    // Istio's "oci" variant: exactly two layers, the module one read as raw bytes
    expect(m.config.mediaType).toBe(MEDIA_TYPE.wasmConfig);
    expect(m.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([MEDIA_TYPE.wasmConfig, MEDIA_TYPE.wasmContent]);
    expect(m.annotations["org.opencontainers.image.version"]).toBe(VERSION);
    expect(m.annotations["org.opencontainers.image.revision"]).toBe(gitRevision());
    expect(m.annotations["org.opencontainers.image.created"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const cfg = JSON.parse((await skopeo(["inspect", "--raw", "--config", `oci:${out}/oci`])).stdout);
    expect(cfg).toEqual({ type: "envoy_proxy", abiVersions: ["proxy_abi_version_0_2_1"], config: { root_ids: ["edgewatch"] } });

    const dir = join(tmp, "copied-oci");
    await skopeo(["copy", `oci:${out}/oci`, `dir:${dir}`]);
    const manifest = readFileSync(join(dir, "manifest.json"));
    expect(sha256(manifest)).toBe(digests.pinOci);
    const wasmLayer = JSON.parse(manifest.toString()).layers[1];
    const extracted = readFileSync(join(dir, wasmLayer.digest.slice(7)));
    expect(sha256(extracted)).toBe(sha256(module));
    expect(Buffer.compare(extracted, module)).toBe(0);
  });

  it("the compat image (compat/): skopeo inspect shows version and revision; plugin.wasm inside its one tar+gzip layer is build/edgewatch.wasm", async () => {
    const info = JSON.parse((await skopeo(["inspect", `oci:${out}/compat`])).stdout);
    expect(info.Digest).toBe(`sha256:${digests.compat}`);
    expect(info.Layers).toHaveLength(1);
    expect(info.Labels["org.opencontainers.image.version"]).toBe(VERSION);
    expect(info.Labels["org.opencontainers.image.revision"]).toBe(gitRevision());
    const raw = JSON.parse((await skopeo(["inspect", "--raw", `oci:${out}/compat`])).stdout);
    expect(raw.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([MEDIA_TYPE.layerTarGzip]);
    expect(raw.annotations["module.wasm.image/variant"]).toBe("compat");

    const dir = join(tmp, "copied-compat");
    await skopeo(["copy", `oci:${out}/compat`, `dir:${dir}`]);
    expect(sha256(readFileSync(join(dir, "manifest.json")))).toBe(digests.pinCompat);
    const layer = join(dir, raw.layers[0].digest.slice(7));
    const x = join(tmp, "compat-layer");
    mkdirSync(x);
    const listing = await run("tar", ["-tzf", layer]);
    expect(listing.stdout.split("\n").filter(Boolean).sort()).toEqual(["plugin.wasm", "runtime-config.json"]);
    const untar = await run("tar", ["-xzf", layer, "-C", x]);
    expect(untar.code, untar.stderr).toBe(0);
    const extracted = readFileSync(join(x, "plugin.wasm"));
    expect(sha256(extracted)).toBe(digests.module);
    expect(Buffer.compare(extracted, module)).toBe(0);
  });

  it("the tars are the same images: skopeo reads oci-archive:DIR/oci.tar and compat.tar with the same digests", async () => {
    for (const [v, d] of [["oci", digests.oci], ["compat", digests.compat]] as const) {
      const raw = (await skopeo(["inspect", "--raw", `oci-archive:${out}/${v}.tar`])).stdout;
      expect(sha256(raw), v).toBe(d);
      const dir = join(tmp, `copied-${v}-tar`);
      await skopeo(["copy", `oci-archive:${out}/${v}.tar`, `dir:${dir}`]);
      expect(sha256(readFileSync(join(dir, "manifest.json"))), v).toBe(d);
    }
  });

  it("both layouts satisfy the OCI image-spec shapes, with every blob's size and digest and the compat diff_id checked", () => {
    for (const v of ["oci", "compat"]) {
      const report = validateLayout(join(out, v));
      expect(report.problems, v).toEqual([]);
      expect(report.manifests).toHaveLength(1);
      expect(report.manifests[0].refName).toBe(VERSION);
    }
  });

  it("wasmplugin.yaml is the shipped envoy/istio/wasmplugin.yaml with url and sha256 = the artifact image's manifest digest", () => {
    const shipped = YAML.parse(readFileSync(resolve(ROOT, "envoy/istio/wasmplugin.yaml"), "utf8"));
    const written = YAML.parse(readFileSync(join(out, "wasmplugin.yaml"), "utf8"));
    expect(written.spec.sha256).toBe(digests.pinOci);
    expect(written.spec.url).toBe(`oci://ghcr.io/your-org/edgewatch:${VERSION}`);
    // the shipped manifest names the same tag and pins nothing (a literal digest would be stale at the next commit)
    expect(shipped.spec.url).toBe(`oci://ghcr.io/your-org/edgewatch:${VERSION}`);
    expect(shipped.spec.sha256).toBeUndefined();
    delete written.spec.sha256;
    expect(written).toEqual(shipped);
  });

  it("two runs on the same tree give the same digests and identical tars (created = commit time); SOURCE_DATE_EPOCH changes only the metadata", async () => {
    const again = await packagePlugin({ root: ROOT, wasmPath: WASM, outDir: join(tmp, "again") });
    expect(again.oci.manifestDigest).toBe(`sha256:${digests.oci}`);
    expect(again.compat.manifestDigest).toBe(`sha256:${digests.compat}`);
    for (const t of ["oci.tar", "compat.tar"]) expect(sha256(readFileSync(join(tmp, "again", t))), t).toBe(sha256(readFileSync(join(out, t))));
    expect(again.source.createdFrom).toBe("commit time");

    const epoch = await packagePlugin({ root: ROOT, wasmPath: WASM, outDir: join(tmp, "epoch"), env: { SOURCE_DATE_EPOCH: "1700000000" } });
    expect(epoch.source.createdFrom).toBe("SOURCE_DATE_EPOCH");
    expect(epoch.oci.manifestDigest).not.toBe(again.oci.manifestDigest);
    expect(epoch.oci.layers[1].digest).toBe(again.oci.layers[1].digest); // the module layer is the module
    const m = JSON.parse((await skopeo(["inspect", "--raw", `oci:${join(tmp, "epoch", "oci")}`])).stdout);
    expect(m.annotations["org.opencontainers.image.created"]).toBe("2023-11-14T22:13:20Z");
  });

  it("--tag and --image set the layout tag and the WasmPlugin url; running again over the same --out replaces the earlier output", async () => {
    const r = await runEdgewatch(["package", "--out", out, "--tag", "1.2.3-rc.1", "--image", "registry.example.com:5000/team/edgewatch"]);
    expect(r.code, r.stderr).toBe(0);
    const wp = YAML.parse(readFileSync(join(out, "wasmplugin.yaml"), "utf8"));
    expect(wp.spec.url).toBe("oci://registry.example.com:5000/team/edgewatch:1.2.3-rc.1");
    const raw = (await skopeo(["inspect", "--raw", `oci:${out}/oci:1.2.3-rc.1`])).stdout;
    expect(sha256(raw)).toBe(wp.spec.sha256);
    expect(readdirSync(out).sort()).toEqual(["compat", "compat.tar", "oci", "oci.tar", "wasmplugin.yaml"]);
  });
});

describe("edgewatch package: bad input is refused with a reason, nothing is overwritten", () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "edgewatch-package-bad-"));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("a missing, non-wasm or non-proxy-wasm module is exit 2 naming the file", async () => {
    const missing = await runEdgewatch(["package", "--out", join(tmp, "a"), "--wasm", join(tmp, "nope.wasm")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/wasm module not found: .*nope\.wasm/);
    const text = join(tmp, "text.wasm");
    writeFileSync(text, "not wasm");
    const notWasm = await runEdgewatch(["package", "--out", join(tmp, "b"), "--wasm", text]);
    expect(notWasm.code).toBe(2);
    expect(notWasm.stderr).toMatch(/text\.wasm is not a valid WebAssembly module/);
    const empty = join(tmp, "empty.wasm");
    writeFileSync(empty, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const notFilter = await runEdgewatch(["package", "--out", join(tmp, "c"), "--wasm", empty]);
    expect(notFilter.code).toBe(2);
    expect(notFilter.stderr).toMatch(/not a proxy-wasm filter/);
  });

  it("a bad tag, image repository or SOURCE_DATE_EPOCH is exit 2 with the rule", async () => {
    const tag = await runEdgewatch(["package", "--out", join(tmp, "d"), "--tag", "v1/x"]);
    expect(tag.code).toBe(2);
    expect(tag.stderr).toMatch(/invalid tag "v1\/x"/);
    const image = await runEdgewatch(["package", "--out", join(tmp, "d"), "--image", "oci://ghcr.io/x/y:1"]);
    expect(image.code).toBe(2);
    expect(image.stderr).toMatch(/invalid image repository/);
    const epoch = await runEdgewatch(["package", "--out", join(tmp, "d")], { env: { SOURCE_DATE_EPOCH: "yesterday" } });
    expect(epoch.code).toBe(2);
    expect(epoch.stderr).toMatch(/SOURCE_DATE_EPOCH must be a whole number of seconds/);
  });

  it("an --out whose oci/ is something else is refused and left untouched", async () => {
    const out = join(tmp, "occupied");
    mkdirSync(join(out, "oci"), { recursive: true });
    writeFileSync(join(out, "oci", "notes.txt"), "mine");
    const r = await runEdgewatch(["package", "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/oci exists and is not an earlier output of edgewatch package/);
    expect(readFileSync(join(out, "oci", "notes.txt"), "utf8")).toBe("mine");
    expect(readdirSync(out)).toEqual(["oci"]);
  });
});

/**
 * Checks an OCI image layout on disk against the image-spec's rules (image-layout.md, descriptor.md,
 * manifest.md, image-index.md, config.md): JSON shapes and required fields, media-type and digest
 * grammar, and that every referenced blob exists with the size and sha256 its descriptor states.
 * For image configurations it also checks rootfs.diff_ids against the decompressed layers.
 * Returns problems as "<file> <json path>: <what>"; an empty list means valid.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { MEDIA_TYPE, sha256Hex, type Descriptor, type ImageManifest } from "./oci.js";

/** RFC 6838 restricted-name "type/subtype" (descriptor.md: mediaType MUST comply with RFC 6838). */
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
/** descriptor.md digest grammar: algorithm ":" encoded. */
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** RFC 3339 date-time (config.md `created`, annotations `org.opencontainers.image.created`). */
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

export interface ValidatedManifest {
  descriptor: Descriptor;
  manifest: ImageManifest;
  refName?: string;
}

export interface LayoutReport {
  problems: string[];
  manifests: ValidatedManifest[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function validateLayout(dir: string): LayoutReport {
  const problems: string[] = [];
  const manifests: ValidatedManifest[] = [];
  const p = (file: string, path: string, what: string) => problems.push(`${file} ${path}: ${what}`);

  const readJson = (file: string): unknown => {
    const f = join(dir, file);
    if (!existsSync(f)) {
      p(file, "$", "missing");
      return undefined;
    }
    try {
      return JSON.parse(readFileSync(f, "utf8"));
    } catch (err) {
      p(file, "$", `not JSON: ${(err as Error).message}`);
      return undefined;
    }
  };

  const checkAnnotations = (file: string, path: string, a: unknown) => {
    if (a === undefined) return;
    if (!isObject(a)) return p(file, path, "annotations must be an object of strings");
    for (const [k, v] of Object.entries(a)) {
      if (typeof v !== "string") p(file, `${path}["${k}"]`, "annotation values must be strings");
    }
    const created = a["org.opencontainers.image.created"];
    if (typeof created === "string" && !RFC3339_RE.test(created)) p(file, `${path}["org.opencontainers.image.created"]`, `not RFC 3339: ${created}`);
  };

  /** Check a descriptor's shape and its blob; returns the blob bytes when both are fine. */
  const checkDescriptor = (file: string, path: string, d: unknown): Buffer | undefined => {
    if (!isObject(d)) {
      p(file, path, "descriptor must be an object");
      return undefined;
    }
    let ok = true;
    if (typeof d.mediaType !== "string" || !MEDIA_TYPE_RE.test(d.mediaType)) {
      p(file, `${path}.mediaType`, `not an RFC 6838 media type: ${JSON.stringify(d.mediaType)}`);
      ok = false;
    }
    if (typeof d.digest !== "string" || !DIGEST_RE.test(d.digest)) {
      p(file, `${path}.digest`, `not a digest: ${JSON.stringify(d.digest)}`);
      ok = false;
    } else if (d.digest.startsWith("sha256:") && !/^sha256:[a-f0-9]{64}$/.test(d.digest)) {
      p(file, `${path}.digest`, "sha256 digests are 64 lowercase hex digits");
      ok = false;
    } else if (!d.digest.startsWith("sha256:")) {
      p(file, `${path}.digest`, `unsupported algorithm (only sha256 is written here): ${d.digest}`);
      ok = false;
    }
    if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) {
      p(file, `${path}.size`, `must be a non-negative integer: ${JSON.stringify(d.size)}`);
      ok = false;
    }
    checkAnnotations(file, `${path}.annotations`, d.annotations);
    if (!ok) return undefined;
    const hex = (d.digest as string).slice("sha256:".length);
    const blobPath = join(dir, "blobs", "sha256", hex);
    if (!existsSync(blobPath)) {
      p(file, `${path}.digest`, `blob blobs/sha256/${hex} is missing`);
      return undefined;
    }
    const bytes = readFileSync(blobPath);
    if (bytes.length !== d.size) p(file, `${path}.size`, `says ${d.size} bytes, blob has ${bytes.length}`);
    if (sha256Hex(bytes) !== hex) p(file, `${path}.digest`, `blob content hashes to sha256:${sha256Hex(bytes)}`);
    return bytes;
  };

  const layout = readJson("oci-layout");
  if (layout !== undefined && (!isObject(layout) || layout.imageLayoutVersion !== "1.0.0")) {
    p("oci-layout", "$.imageLayoutVersion", `must be "1.0.0"`);
  }

  const index = readJson("index.json");
  if (index === undefined) return { problems, manifests };
  if (!isObject(index)) {
    p("index.json", "$", "must be an object");
    return { problems, manifests };
  }
  if (index.schemaVersion !== 2) p("index.json", "$.schemaVersion", "must be 2");
  if (index.mediaType !== undefined && index.mediaType !== MEDIA_TYPE.index) p("index.json", "$.mediaType", `must be ${MEDIA_TYPE.index}`);
  if (!Array.isArray(index.manifests)) {
    p("index.json", "$.manifests", "must be an array");
    return { problems, manifests };
  }
  checkAnnotations("index.json", "$.annotations", index.annotations);

  index.manifests.forEach((md: unknown, i: number) => {
    const path = `$.manifests[${i}]`;
    const bytes = checkDescriptor("index.json", path, md);
    if (!bytes) return;
    const desc = md as Descriptor;
    const file = `manifest ${desc.digest.slice(0, 19)}…`;
    if (desc.mediaType !== MEDIA_TYPE.manifest) {
      p("index.json", `${path}.mediaType`, `only image manifests are expected here, got ${desc.mediaType}`);
      return;
    }
    let m: unknown;
    try {
      m = JSON.parse(bytes.toString("utf8"));
    } catch (err) {
      p(file, "$", `not JSON: ${(err as Error).message}`);
      return;
    }
    if (!isObject(m)) return p(file, "$", "must be an object");
    if (m.schemaVersion !== 2) p(file, "$.schemaVersion", "must be 2");
    if (m.mediaType !== MEDIA_TYPE.manifest) p(file, "$.mediaType", `must be ${MEDIA_TYPE.manifest} (the descriptor's type)`);
    checkAnnotations(file, "$.annotations", m.annotations);
    const configBytes = checkDescriptor(file, "$.config", m.config);
    if (!Array.isArray(m.layers)) {
      p(file, "$.layers", "must be an array");
      return;
    }
    if (m.layers.length === 0) p(file, "$.layers", "an image needs at least one layer");
    const layerBytes = m.layers.map((l: unknown, j: number) => checkDescriptor(file, `$.layers[${j}]`, l));
    const cfgDesc = m.config as Descriptor;
    if (configBytes && cfgDesc.mediaType.endsWith("+json")) {
      let cfg: unknown;
      try {
        cfg = JSON.parse(configBytes.toString("utf8"));
      } catch (err) {
        p(file, "$.config", `config blob is not JSON: ${(err as Error).message}`);
      }
      if (cfg !== undefined && cfgDesc.mediaType === MEDIA_TYPE.imageConfig) {
        checkImageConfig(`config ${cfgDesc.digest.slice(0, 19)}…`, cfg, m.layers as Descriptor[], layerBytes, p);
      }
    }
    const refName = isObject(desc.annotations) ? (desc.annotations["org.opencontainers.image.ref.name"] as string | undefined) : undefined;
    manifests.push({ descriptor: desc, manifest: m as unknown as ImageManifest, refName });
  });
  return { problems, manifests };
}

function checkImageConfig(
  file: string,
  cfg: unknown,
  layers: Descriptor[],
  layerBytes: Array<Buffer | undefined>,
  p: (file: string, path: string, what: string) => void,
): void {
  if (!isObject(cfg)) return p(file, "$", "must be an object");
  if (typeof cfg.architecture !== "string" || cfg.architecture === "") p(file, "$.architecture", "required string");
  if (typeof cfg.os !== "string" || cfg.os === "") p(file, "$.os", "required string");
  if (cfg.created !== undefined && (typeof cfg.created !== "string" || !RFC3339_RE.test(cfg.created))) p(file, "$.created", "must be RFC 3339");
  if (cfg.config !== undefined) {
    if (!isObject(cfg.config)) p(file, "$.config", "must be an object");
    else if (cfg.config.Labels !== undefined) {
      if (!isObject(cfg.config.Labels) || Object.values(cfg.config.Labels).some((v) => typeof v !== "string")) {
        p(file, "$.config.Labels", "must be an object of strings");
      }
    }
  }
  const rootfs = cfg.rootfs;
  if (!isObject(rootfs)) return p(file, "$.rootfs", "required object");
  if (rootfs.type !== "layers") p(file, "$.rootfs.type", `must be "layers"`);
  if (!Array.isArray(rootfs.diff_ids)) return p(file, "$.rootfs.diff_ids", "required array");
  if (rootfs.diff_ids.length !== layers.length) {
    p(file, "$.rootfs.diff_ids", `${rootfs.diff_ids.length} diff_ids for ${layers.length} layers`);
    return;
  }
  rootfs.diff_ids.forEach((id: unknown, i: number) => {
    if (typeof id !== "string" || !/^sha256:[a-f0-9]{64}$/.test(id)) return p(file, `$.rootfs.diff_ids[${i}]`, "must be a sha256 digest");
    const bytes = layerBytes[i];
    if (!bytes) return;
    let uncompressed = bytes;
    if (layers[i].mediaType.endsWith("+gzip")) {
      try {
        uncompressed = gunzipSync(bytes);
      } catch (err) {
        return p(file, `$.rootfs.diff_ids[${i}]`, `layer ${i} is not gzip: ${(err as Error).message}`);
      }
    }
    if (`sha256:${sha256Hex(uncompressed)}` !== id) p(file, `$.rootfs.diff_ids[${i}]`, "does not match the sha256 of the uncompressed layer");
  });
  if (cfg.history !== undefined && !Array.isArray(cfg.history)) p(file, "$.history", "must be an array");
}

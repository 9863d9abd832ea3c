/**
 * OCI image-layout primitives (opencontainers/image-spec v1.1): media types, descriptors, content
 * addressing, and writing an image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`)
 * plus a tar of it, byte-for-byte reproducible for the same inputs.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tarArchive, type TarEntry } from "./tar.js";

export const MEDIA_TYPE = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  imageConfig: "application/vnd.oci.image.config.v1+json",
  layerTarGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  /** solo-io Wasm artifact image spec ("oci" variant): the runtime configuration. */
  wasmConfig: "application/vnd.module.wasm.config.v1+json",
  /** solo-io Wasm artifact image spec ("oci" variant): the raw module, uncompressed. */
  wasmContent: "application/vnd.module.wasm.content.layer.v1+wasm",
} as const;

/** Pre-defined annotation keys (image-spec annotations.md) and the compat-variant marker. */
export const ANNOTATION = {
  created: "org.opencontainers.image.created",
  version: "org.opencontainers.image.version",
  revision: "org.opencontainers.image.revision",
  title: "org.opencontainers.image.title",
  description: "org.opencontainers.image.description",
  refName: "org.opencontainers.image.ref.name",
  /** solo-io spec-compat.md: required on a compat image whose layer is the OCI tar+gzip type. */
  wasmVariant: "module.wasm.image/variant",
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPE.manifest;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPE.index;
  manifests: Descriptor[];
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function digestOf(bytes: Uint8Array): string {
  return `sha256:${sha256Hex(bytes)}`;
}

/** Serialize JSON content exactly once: the digest covers these bytes, not the object. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}

/** Content-addressed blobs of one image (same content stored once). */
export class BlobSet {
  private readonly blobs = new Map<string, Buffer>();

  /** Store `bytes` and return its descriptor. */
  add(mediaType: string, bytes: Buffer, annotations?: Record<string, string>): Descriptor {
    const digest = digestOf(bytes);
    this.blobs.set(digest, bytes);
    return annotations ? { mediaType, digest, size: bytes.length, annotations } : { mediaType, digest, size: bytes.length };
  }

  entries(): Array<[digest: string, bytes: Buffer]> {
    return [...this.blobs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

export interface BuiltImage {
  blobs: BlobSet;
  manifest: ImageManifest;
  /** The manifest as stored (its digest is the image digest). */
  manifestBytes: Buffer;
  manifestDigest: string;
}

/** Finish an image: serialize the manifest and store it as a blob. */
export function buildImage(blobs: BlobSet, manifest: ImageManifest): BuiltImage {
  const manifestBytes = jsonBytes(manifest);
  const desc = blobs.add(MEDIA_TYPE.manifest, manifestBytes);
  return { blobs, manifest, manifestBytes, manifestDigest: desc.digest };
}

/** The files of an image layout holding one image tagged `refName`, paths relative to the layout root. */
export function layoutFiles(image: BuiltImage, refName: string): TarEntry[] {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.index,
    manifests: [
      { mediaType: MEDIA_TYPE.manifest, digest: image.manifestDigest, size: image.manifestBytes.length, annotations: { [ANNOTATION.refName]: refName } },
    ],
  };
  return [
    { name: "oci-layout", data: jsonBytes({ imageLayoutVersion: "1.0.0" }) },
    { name: "index.json", data: jsonBytes(index) },
    { name: "blobs/", dir: true },
    { name: "blobs/sha256/", dir: true },
    ...image.blobs.entries().map(([digest, data]) => ({ name: `blobs/sha256/${digest.slice("sha256:".length)}`, data })),
  ];
}

/** Write the layout directory `dir` (created; must not hold another layout) and `tarPath`. */
export async function writeLayout(image: BuiltImage, refName: string, dir: string, tarPath: string, mtimeSeconds: number): Promise<void> {
  const files = layoutFiles(image, refName);
  for (const f of files) {
    const p = join(dir, f.name);
    if (f.dir) await mkdir(p, { recursive: true });
    else {
      await mkdir(join(p, ".."), { recursive: true });
      await writeFile(p, f.data!);
    }
  }
  await writeFile(tarPath, await tarArchive(files, mtimeSeconds));
}

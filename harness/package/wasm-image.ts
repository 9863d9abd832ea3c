/**
 * The two image formats Istio's Wasm image fetcher accepts (istio/istio pkg/wasm/imagefetcher.go;
 * solo-io/wasm spec/spec.md and spec/spec-compat.md). Istio fetches the manifest, then tries, in
 * this order:
 *
 *  1. Docker schema-2 manifest → "compat" with a docker tar.gzip layer (not produced here);
 *  2. "compat": exactly ONE layer of type application/vnd.oci.image.layer.v1.tar+gzip, a gzip'd tar
 *     holding a file whose base name is `plugin.wasm` (what `FROM scratch` + `COPY plugin.wasm ./`
 *     produces). The spec asks for the manifest annotation module.wasm.image/variant=compat;
 *  3. "oci" (Wasm artifact image): exactly TWO layers, one of type
 *     application/vnd.module.wasm.content.layer.v1+wasm whose blob is the raw module (read as is,
 *     not decompressed) and the runtime configuration (application/vnd.module.wasm.config.v1+json).
 *     A single-layer artifact (e.g. `oras push x.wasm:…+wasm` alone) is rejected by Istio with
 *     "number of layers must be 2 but got 1".
 *
 * Envoy itself has no OCI fetcher: Istio's agent (and Envoy Gateway, whose fetcher is a copy) pulls
 * the image and hands Envoy a local file.
 */
import { ANNOTATION, BlobSet, buildImage, digestOf, jsonBytes, MEDIA_TYPE, type BuiltImage } from "./oci.js";
import { gzipReproducible, tarArchive } from "./tar.js";
import { rfc3339, type SourceInfo } from "./source-info.js";

export const COMPAT_MODULE_NAME = "plugin.wasm";
export const RUNTIME_CONFIG_NAME = "runtime-config.json";

export interface WasmImageInput {
  module: Buffer;
  /** File name recorded for the module layer of the artifact variant (org.opencontainers.image.title). */
  moduleTitle: string;
  /** proxy-wasm ABI versions the module exports (proxy_abi_version_* names). */
  abiVersions: string[];
  /** Root ids the module serves (Envoy root_id / Istio pluginName). */
  rootIds: string[];
  source: SourceInfo;
}

/**
 * solo-io runtime configuration: `type` envoy_proxy, the ABI versions, and `config.root_ids`.
 * Key order fixed (the bytes are hashed).
 */
export function runtimeConfig(input: WasmImageInput): Buffer {
  return jsonBytes({ type: "envoy_proxy", abiVersions: input.abiVersions, config: { root_ids: input.rootIds } });
}

/** Manifest annotations shared by both variants (pre-defined OCI keys). */
export function sourceAnnotations(s: SourceInfo): Record<string, string> {
  const a: Record<string, string> = {};
  if (s.createdEpoch !== undefined) a[ANNOTATION.created] = rfc3339(s.createdEpoch);
  a[ANNOTATION.title] = s.name;
  if (s.description) a[ANNOTATION.description] = s.description;
  a[ANNOTATION.version] = s.version;
  if (s.revision) a[ANNOTATION.revision] = s.revision;
  return a;
}

/** The "oci" variant: runtime configuration as the config and first layer, the raw module as the second. */
export function buildArtifactImage(input: WasmImageInput): BuiltImage {
  const blobs = new BlobSet();
  const cfg = runtimeConfig(input);
  const config = blobs.add(MEDIA_TYPE.wasmConfig, cfg);
  const cfgLayer = blobs.add(MEDIA_TYPE.wasmConfig, cfg, { [ANNOTATION.title]: RUNTIME_CONFIG_NAME });
  const wasmLayer = blobs.add(MEDIA_TYPE.wasmContent, input.module, { [ANNOTATION.title]: input.moduleTitle });
  return buildImage(blobs, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.manifest,
    config,
    layers: [cfgLayer, wasmLayer],
    annotations: sourceAnnotations(input.source),
  });
}

/**
 * The "compat" variant: a standard OCI image with one tar+gzip layer holding plugin.wasm and
 * runtime-config.json at the root, and an image configuration (platform wasip1/wasm, the Go
 * GOOS/GOARCH names the image-spec recommends; labels repeat the annotations so `skopeo inspect`
 * shows them).
 */
export async function buildCompatImage(input: WasmImageInput): Promise<BuiltImage> {
  const blobs = new BlobSet();
  const mtime = input.source.createdEpoch ?? 0;
  const tar = await tarArchive(
    [
      { name: COMPAT_MODULE_NAME, data: input.module },
      { name: RUNTIME_CONFIG_NAME, data: runtimeConfig(input) },
    ],
    mtime,
  );
  const layer = blobs.add(MEDIA_TYPE.layerTarGzip, gzipReproducible(tar));
  const annotations = sourceAnnotations(input.source);
  const created = input.source.createdEpoch !== undefined ? rfc3339(input.source.createdEpoch) : undefined;
  const imageConfig = {
    ...(created ? { created } : {}),
    architecture: "wasm",
    os: "wasip1",
    config: { Labels: annotations },
    rootfs: { type: "layers", diff_ids: [digestOf(tar)] },
    history: [{ ...(created ? { created } : {}), created_by: `edgewatch package: COPY ${COMPAT_MODULE_NAME} ${RUNTIME_CONFIG_NAME} /` }],
  };
  const config = blobs.add(MEDIA_TYPE.imageConfig, jsonBytes(imageConfig));
  return buildImage(blobs, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.manifest,
    config,
    layers: [layer],
    annotations: { ...annotations, [ANNOTATION.wasmVariant]: "compat" },
  });
}

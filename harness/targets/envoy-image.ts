/**
 * Which Envoy image the container target runs: the default pinned in envoy/Dockerfile
 * (`ARG ENVOY_IMAGE=...`, the single place the version lives), overridable with
 * EDGEWATCH_ENVOY_IMAGE.
 */
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";

export const ENVOY_DOCKERFILE = fileURLToPath(new URL("../../envoy/Dockerfile", import.meta.url));
export const ENVOY_IMAGE_ENV = "EDGEWATCH_ENVOY_IMAGE";

/** The image named by `ARG ENVOY_IMAGE=<image>` in envoy/Dockerfile. */
export function pinnedEnvoyImage(dockerfile = ENVOY_DOCKERFILE): string {
  const text = fs.readFileSync(dockerfile, "utf8");
  const m = /^ARG\s+ENVOY_IMAGE=(\S+)\s*$/m.exec(text);
  if (!m) throw new Error(`${dockerfile}: no "ARG ENVOY_IMAGE=<image>" line`);
  return m[1]!;
}

export function envoyImage(env: NodeJS.ProcessEnv = process.env): string {
  const override = env[ENVOY_IMAGE_ENV]?.trim();
  return override ? override : pinnedEnvoyImage();
}

/** Version in an envoyproxy image tag (`v1.32.13`, `v1.31-latest`, `distroless-v1.32.2`). */
export function envoyImageVersion(image: string): { major: number; minor: number; patch?: number } | undefined {
  const tag = image.slice(image.lastIndexOf(":") + 1);
  const m = /v(\d+)\.(\d+)(?:\.(\d+))?/.exec(tag);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? undefined : Number(m[3]) };
}

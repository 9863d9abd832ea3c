/**
 * Envoy's own v3 API protos, loaded with protobufjs from the copies shipped in
 * node_modules/@grpc/grpc-js-xds/deps (envoy-api, xds, protoc-gen-validate, googleapis; the
 * google/protobuf descriptor from protobufjs itself). That snapshot predates Envoy 1.33
 * (PluginConfig has `fail_open`, not `failure_policy`), which matches the pinned Envoy 1.32.
 *
 * One Root per process: loading takes ~0.2 s, so it is built once and reused by every validation.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import protobuf from "protobufjs";

const require = createRequire(import.meta.url);

/** Top-level files that pull in everything a bootstrap, an HCM, the wasm filter and ECDS need. */
export const ROOT_PROTO_FILES = [
  "envoy/config/bootstrap/v3/bootstrap.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/http/wasm/v3/wasm.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/extensions/wasm/v3/wasm.proto",
  "envoy/service/discovery/v3/discovery.proto",
  "envoy/config/core/v3/extension.proto",
  "xds/type/v3/typed_struct.proto",
  "udpa/type/v1/typed_struct.proto",
  "google/protobuf/wrappers.proto",
] as const;

export function protoIncludeDirs(): string[] {
  const xdsPkg = path.dirname(require.resolve("@grpc/grpc-js-xds/package.json"));
  const pbjsPkg = path.dirname(require.resolve("protobufjs/package.json"));
  const deps = path.join(xdsPkg, "deps");
  return [
    path.join(deps, "envoy-api"),
    path.join(deps, "xds"),
    path.join(deps, "protoc-gen-validate"),
    path.join(deps, "googleapis"),
    // google/protobuf/descriptor.proto (imported by validate.proto and the udpa annotations).
    pbjsPkg,
  ];
}

let cached: { root: protobuf.Root; dirs: string[] } | undefined;

export function loadEnvoyProtos(): protobuf.Root {
  if (cached) return cached.root;
  const dirs = protoIncludeDirs();
  for (const d of dirs) {
    if (!fs.existsSync(d)) throw new Error(`Envoy API protos not found: ${d} (is @grpc/grpc-js-xds installed?)`);
  }
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string | null => {
    if (path.isAbsolute(target)) return target;
    for (const d of dirs) {
      const candidate = path.join(d, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    return null;
  };
  root.loadSync([...ROOT_PROTO_FILES], { keepCase: true });
  cached = { root, dirs };
  return root;
}

/** Strip protobufjs's leading dot: ".google.protobuf.Any" → "google.protobuf.Any". */
export function fullName(t: protobuf.ReflectionObject): string {
  return t.fullName.startsWith(".") ? t.fullName.slice(1) : t.fullName;
}

/**
 * Find a message type by full name. A type outside the preloaded closure (say an access logger
 * referenced from a hand-written config) is loaded on demand: Envoy's proto packages map onto
 * directories, so every .proto in the package's directory is loaded and the lookup retried.
 */
export function lookupMessageType(name: string): protobuf.Type | undefined {
  const root = loadEnvoyProtos();
  const found = tryLookup(root, name);
  if (found) return found;
  const pkg = packageOf(name);
  if (!pkg || !cached) return undefined;
  const rel = pkg.split(".").join("/");
  for (const d of cached.dirs) {
    const dir = path.join(d, rel);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) continue;
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".proto")).map((f) => path.join(dir, f));
    if (files.length === 0) continue;
    try {
      root.loadSync(files, { keepCase: true });
    } catch {
      return undefined;
    }
    return tryLookup(root, name);
  }
  return undefined;
}

function tryLookup(root: protobuf.Root, name: string): protobuf.Type | undefined {
  try {
    const t = root.lookup(name);
    return t instanceof protobuf.Type ? t : undefined;
  } catch {
    return undefined;
  }
}

/** Package part of a full message name: the leading lower-case components (proto style guide). */
function packageOf(name: string): string | undefined {
  const parts = name.split(".");
  const firstType = parts.findIndex((p) => /^[A-Z]/.test(p));
  if (firstType <= 0) return undefined;
  return parts.slice(0, firstType).join(".");
}

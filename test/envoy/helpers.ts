// Shared builders for the Envoy config tests (not a test file).
import type { ProxyConfig } from "../../harness/config/proxy-config.js";
import { defaultStatsConfig } from "../../harness/envoy-config/defaults.js";

/** A small ProxyConfig with loopback fixtures, as the tests and benches build them. */
export function testProxyConfig(overrides: Partial<ProxyConfig> = {}): ProxyConfig {
  return {
    node: { id: "t", cluster: "t" },
    listener: { address: "127.0.0.1", port: 18000 },
    admin: { address: "127.0.0.1", port: 18001 },
    workers: 2,
    routes: [
      { name: "api", match: { prefix: "/api/" }, cluster: "upstream", timeoutMs: 2500 },
      { name: "exact", match: { path: "/healthz" }, cluster: "upstream", timeoutMs: 0 },
      { name: "default", match: { prefix: "/" }, cluster: "upstream" },
    ],
    clusters: [
      { name: "upstream", address: "127.0.0.1", port: 18080 },
      { name: "rules", address: "localhost", port: 18081, connectTimeoutMs: 250 },
    ],
    plugin: {
      name: "edgewatch",
      rootId: "edgewatch",
      vmId: "edgewatch-vm",
      wasmPath: "build/edgewatch.wasm",
      configuration: JSON.stringify({ rules_service: { cluster: "rules" } }),
      failOpen: false,
    },
    stats: defaultStatsConfig(),
    xffNumTrustedHops: 2,
    ...overrides,
  };
}

export type Json = Record<string, any>;

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** The HttpConnectionManager of the first listener's first filter chain. */
export function hcmOf(bootstrap: Json): Json {
  return bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
}

export const HCM_PATH = "$.static_resources.listeners[0].filter_chains[0].filters[0].typed_config";

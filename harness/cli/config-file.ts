/**
 * `edgewatch serve --config proxy.yaml`: a ProxyConfig-shaped YAML or JSON document, with every
 * field optional except the routes and clusters. The plugin configuration is given inline
 * (`plugin.configuration`, an object or a JSON string) or in a file (`plugin.configuration_file`,
 * relative to the config file). Rules files (`--rules`) are merged into it under "rules".
 * A configuration_file that is a snapshot configuration (binary, starts with "EWPC":
 * harness/rules/snapshot-configuration.ts) is recognised by its content and passed to the filter
 * byte for byte.
 *
 * Example (YAML):
 *   listener: { address: 127.0.0.1, port: 10000 }
 *   admin: { address: 127.0.0.1, port: 9901 }
 *   workers: 2
 *   routes:
 *     - { name: api, match: { prefix: /api/ }, cluster: app }
 *     - { name: default, match: { prefix: / }, cluster: app }
 *   clusters:
 *     - { name: app, address: 127.0.0.1, port: 8080 }
 *   plugin:
 *     configuration:
 *       client_address: { source: xff, xff_trusted_hops: 1 }
 *   xffNumTrustedHops: 1
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { ClusterConfig, ProxyConfig, RouteConfig, StatsConfig } from "../config/proxy-config.js";
import { defaultStatsConfig } from "../envoy-config/defaults.js";
import { DEFAULT_WASM } from "./env.js";
import { isSnapshotConfiguration, readSnapshotConfiguration } from "../rules/snapshot-configuration.js";
import { usageError } from "./exit-codes.js";

export interface CliOverrides {
  port?: number;
  adminPort?: number;
  workers?: number;
  wasm?: string;
}

export interface LoadedConfig {
  config: ProxyConfig;
  /**
   * The plugin configuration as an object (rules are merged into it). For a snapshot configuration:
   * its settings ({} when the frame or the settings do not read; the filter says why at start).
   */
  plugin: Record<string, unknown>;
  /** The configuration_file is a snapshot configuration: its exact bytes are config.plugin.configuration. */
  snapshotConfiguration?: Buffer;
  path: string;
  /** Where the plugin configuration's text came from (to place the filter's errors in it). */
  pluginSource: PluginSource;
}

/** The file a plugin configuration was read from, and where it sits in that file's document. */
export interface PluginSource {
  /** plugin.configuration_file, or the proxy config itself for an inline configuration. */
  path: string;
  /** Path of the configuration inside that document: [] for a configuration_file. */
  base: Array<string | number>;
  /** True for a configuration_file (a JSON document of its own). */
  ownFile: boolean;
}

function readBytes(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw usageError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function readText(path: string, what: string): string {
  return readBytes(path, what).toString("utf8");
}

/** The settings of a snapshot configuration as an object, or {} when the frame or the settings do not read. */
export function snapshotSettings(bytes: Uint8Array): Record<string, unknown> {
  const parts = readSnapshotConfiguration(bytes);
  if ("error" in parts) return {};
  try {
    const v: unknown = JSON.parse(parts.settingsText);
    return isObj(v) ? v : {};
  } catch {
    return {};
  }
}

/** Parse YAML or JSON text (YAML is a superset); `what` names the file in errors. */
export function parseDocument(text: string, path: string): unknown {
  try {
    if (/\.json$/i.test(path)) return JSON.parse(text);
    return parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw usageError(`${path}: ${(err as Error).message.split("\n")[0]}`);
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function num(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw usageError(`${where}: expected an integer between ${min} and ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function str(v: unknown, where: string): string {
  if (typeof v !== "string" || v.length === 0) throw usageError(`${where}: expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function addr(v: unknown, where: string): { address: string; port: number } {
  if (!isObj(v)) throw usageError(`${where}: expected { address, port }`);
  return { address: v.address === undefined ? "127.0.0.1" : str(v.address, `${where}.address`), port: v.port === undefined ? 0 : num(v.port, `${where}.port`, 0, 65535) };
}

/** Plugin configuration given inline (object or JSON string) → object. */
export function pluginObject(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined || v === null || v === "") return {};
  if (typeof v === "string") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch (err) {
      throw usageError(`${where}: not JSON: ${(err as Error).message}`);
    }
    if (!isObj(parsed)) throw usageError(`${where}: the plugin configuration must be a JSON object`);
    return parsed;
  }
  if (!isObj(v)) throw usageError(`${where}: the plugin configuration must be an object`);
  return v;
}

export function loadProxyConfigFile(path: string, overrides: CliOverrides = {}): LoadedConfig {
  const abs = resolve(path);
  const raw = parseDocument(readText(abs, "config file"), abs);
  if (!isObj(raw)) throw usageError(`${path}: expected a mapping at the top level`);
  return buildProxyConfig(raw, dirname(abs), abs, overrides);
}

export function buildProxyConfig(raw: Record<string, unknown>, baseDir: string, path: string, overrides: CliOverrides = {}): LoadedConfig {
  const known = new Set(["node", "listener", "admin", "workers", "routes", "clusters", "plugin", "stats", "xffNumTrustedHops", "xff_num_trusted_hops"]);
  for (const k of Object.keys(raw)) if (!known.has(k)) throw usageError(`${path}: unknown field '${k}' (known: ${[...known].join(", ")})`);

  const clustersRaw = raw.clusters ?? [];
  if (!Array.isArray(clustersRaw)) throw usageError(`${path}: clusters must be a list`);
  const clusters: ClusterConfig[] = clustersRaw.map((c, i) => {
    const w = `clusters[${i}]`;
    if (!isObj(c)) throw usageError(`${path}: ${w} must be a mapping`);
    return {
      name: str(c.name, `${w}.name`),
      address: c.address === undefined ? "127.0.0.1" : str(c.address, `${w}.address`),
      port: num(c.port, `${w}.port`, 1, 65535),
      connectTimeoutMs: c.connectTimeoutMs === undefined ? undefined : num(c.connectTimeoutMs, `${w}.connectTimeoutMs`, 1, 600_000),
    };
  });
  const names = new Set<string>();
  for (const c of clusters) {
    if (names.has(c.name)) throw usageError(`${path}: duplicate cluster '${c.name}'`);
    names.add(c.name);
  }

  const routesRaw = raw.routes;
  if (!Array.isArray(routesRaw) || routesRaw.length === 0) throw usageError(`${path}: routes must be a non-empty list`);
  const routes: RouteConfig[] = routesRaw.map((r, i) => {
    const w = `routes[${i}]`;
    if (!isObj(r)) throw usageError(`${path}: ${w} must be a mapping`);
    const m = r.match;
    if (!isObj(m) || (typeof m.prefix !== "string" && typeof m.path !== "string")) {
      throw usageError(`${path}: ${w}.match needs prefix or path`);
    }
    const cluster = str(r.cluster, `${w}.cluster`);
    if (!names.has(cluster)) throw usageError(`${path}: ${w}.cluster '${cluster}' is not a defined cluster`);
    return {
      name: str(r.name, `${w}.name`),
      match: typeof m.prefix === "string" ? { prefix: m.prefix } : { path: m.path as string },
      cluster,
      timeoutMs: r.timeoutMs === undefined ? undefined : num(r.timeoutMs, `${w}.timeoutMs`, 0, 3_600_000),
    };
  });

  const pluginRaw = raw.plugin === undefined ? {} : raw.plugin;
  if (!isObj(pluginRaw)) throw usageError(`${path}: plugin must be a mapping`);
  let plugin: Record<string, unknown>;
  let pluginSource: PluginSource;
  let snapshotConfiguration: Buffer | undefined;
  const cfgFile = pluginConfigurationFile(raw, baseDir, path);
  if (cfgFile !== undefined) {
    const bytes = readBytes(cfgFile, "plugin configuration file");
    if (isSnapshotConfiguration(bytes)) {
      // Binary: the filter gets these exact bytes (and judges the frame, settings and snapshot).
      snapshotConfiguration = bytes;
      plugin = snapshotSettings(bytes);
    } else plugin = pluginObject(bytes.toString("utf8"), cfgFile);
    pluginSource = { path: cfgFile, base: [], ownFile: true };
  } else {
    plugin = pluginObject(pluginRaw.configuration, `${path}: plugin.configuration`);
    pluginSource = { path, base: ["plugin", "configuration"], ownFile: false };
  }
  const wasmPath = overrides.wasm
    ? resolve(overrides.wasm)
    : pluginRaw.wasmPath !== undefined
      ? resolvePath(baseDir, str(pluginRaw.wasmPath, "plugin.wasmPath"))
      : DEFAULT_WASM;

  const stats: StatsConfig = { ...defaultStatsConfig(), ...(isObj(raw.stats) ? (raw.stats as Partial<StatsConfig>) : {}) };
  const xff = raw.xffNumTrustedHops ?? raw.xff_num_trusted_hops ?? 0;
  const listener = raw.listener === undefined ? { address: "127.0.0.1", port: 10000 } : addr(raw.listener, "listener");
  const admin = raw.admin === undefined ? { address: "127.0.0.1", port: 9901 } : addr(raw.admin, "admin");
  if (overrides.port !== undefined) listener.port = overrides.port;
  if (overrides.adminPort !== undefined) admin.port = overrides.adminPort;
  const workers = overrides.workers ?? (raw.workers === undefined ? 2 : num(raw.workers, "workers", 1, 64));
  const node = isObj(raw.node) ? { id: String(raw.node.id ?? "edgewatch-dev"), cluster: String(raw.node.cluster ?? "edgewatch") } : { id: "edgewatch-dev", cluster: "edgewatch" };

  const config: ProxyConfig = {
    node,
    listener,
    admin,
    workers,
    routes,
    clusters,
    plugin: {
      name: typeof pluginRaw.name === "string" ? pluginRaw.name : "edgewatch",
      rootId: typeof pluginRaw.rootId === "string" ? pluginRaw.rootId : "edgewatch",
      vmId: typeof pluginRaw.vmId === "string" ? pluginRaw.vmId : "edgewatch",
      wasmPath,
      configuration: snapshotConfiguration ?? JSON.stringify(plugin),
      vmConfiguration: typeof pluginRaw.vmConfiguration === "string" ? pluginRaw.vmConfiguration : undefined,
      failOpen: pluginRaw.failOpen === true,
    },
    stats,
    xffNumTrustedHops: num(xff, "xffNumTrustedHops", 0, 16),
  };
  return { config, plugin, path, pluginSource, snapshotConfiguration };
}

/** The absolute path of plugin.configuration_file (or configurationFile), if the config names one. */
export function pluginConfigurationFile(raw: Record<string, unknown>, baseDir: string, path: string): string | undefined {
  const pluginRaw = raw.plugin;
  if (!isObj(pluginRaw)) return undefined;
  const cfgFile = pluginRaw.configuration_file ?? pluginRaw.configurationFile;
  if (cfgFile === undefined) return undefined;
  if (pluginRaw.configuration !== undefined) throw usageError(`${path}: plugin: give configuration or configuration_file, not both`);
  return resolvePath(baseDir, str(cfgFile, "plugin.configuration_file"));
}

/** A proxy config file read and parsed, not yet checked (for `rules validate --config`). */
export function readProxyConfigDocument(path: string): { abs: string; text: string; raw: unknown } {
  const abs = resolve(path);
  const text = readText(abs, "config file");
  return { abs, text, raw: parseDocument(text, abs) };
}

function resolvePath(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

/**
 * Read a rules document for the filter. Returns the raw text (passed to the filter verbatim, so
 * duplicate keys and number spellings reach its validator unchanged) after checking it is exactly
 * one JSON value — otherwise splicing it into {"rules": …} could change the surrounding document.
 */
export function readRulesText(path: string): { text: string; parsed: unknown } | { error: string } {
  const text = readText(resolve(path), "rules file");
  try {
    return { text: text.trim(), parsed: JSON.parse(text) };
  } catch (err) {
    return { error: `malformed JSON: ${(err as Error).message}` };
  }
}

/** The plugin configuration with `rules` replaced by the raw rules text. */
export function withRules(plugin: Record<string, unknown>, rulesText: string): string {
  const { rules: _old, ...rest } = plugin;
  const base = JSON.stringify(rest);
  return base === "{}" ? `{"rules":${rulesText}}` : `${base.slice(0, -1)},"rules":${rulesText}}`;
}

/**
 * Offline validation of Envoy configs against Envoy's own v3 API protos (proto-schema.ts), then the
 * semantic rules Envoy (or edgewatch) enforces that the schema cannot express:
 *  - every cluster a route, weighted cluster or the edgewatch plugin configuration names
 *    (`rules_service.cluster`, `tracing.collector.cluster`, `rules_cluster`, `collector_cluster`)
 *    exists; cluster names are unique;
 *  - route names unique within a route configuration, virtual host names and domains unique;
 *  - in each HCM the router is present and last, and the wasm filter comes before it;
 *  - listener and admin addresses do not clash on a port; listener names unique;
 *  - a `node` with id and cluster when any xDS (even file-based ECDS) is used;
 *  - stats tag regexes compile and have a capture group, tag names unique;
 *  - STATIC clusters use IP literals; the wasm plugin names a known runtime and has code.
 *
 * Paths in issues are JSON paths into the object as written (`$.static_resources.clusters[1].name`).
 */
import * as net from "node:net";
import { isSnapshotConfiguration, readSnapshotConfiguration } from "../rules/snapshot-configuration.js";
import { TYPE_URL } from "./bootstrap.js";
import { fullName } from "./proto-schema.js";
import {
  checkAgainstType,
  isPlainObject,
  joinPath,
  resolveTypeUrl,
  type Origin,
  type SchemaCheckResult,
  type ValidationIssue,
} from "./schema-check.js";

export type { ValidationIssue } from "./schema-check.js";
export { loadEnvoyProtos } from "./proto-schema.js";

export interface ValidateOptions {
  /**
   * Check the edgewatch plugin configuration (JSON syntax, cluster references). Default true.
   * The targets turn it off so a test can hand Envoy a deliberately bad plugin configuration.
   */
  checkPluginConfiguration?: boolean;
}

export interface ValidationResult {
  ok: boolean;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
}

export const BOOTSTRAP_TYPE = "envoy.config.bootstrap.v3.Bootstrap";
export const DISCOVERY_RESPONSE_TYPE = "envoy.service.discovery.v3.DiscoveryResponse";
export const TYPED_EXTENSION_CONFIG_TYPE = "envoy.config.core.v3.TypedExtensionConfig";

const WASM_TYPE = "envoy.extensions.filters.http.wasm.v3.Wasm";
const ROUTER_TYPE = "envoy.extensions.filters.http.router.v3.Router";
const HCM_TYPE = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
/** Keys (at any depth) in the edgewatch plugin JSON whose value must name a cluster. */
export const PLUGIN_CLUSTER_KEYS = ["rules_cluster", "collector_cluster"] as const;
/** Settings paths of the filter (assembly/config/settings.ts) that name proxy_http_call clusters. */
export const PLUGIN_CLUSTER_PATHS: ReadonlyArray<readonly string[]> = [
  ["rules_service", "cluster"],
  ["tracing", "collector", "cluster"],
];
const KNOWN_WASM_RUNTIMES = new Set([
  "envoy.wasm.runtime.v8",
  "envoy.wasm.runtime.wamr",
  "envoy.wasm.runtime.wasmtime",
  "envoy.wasm.runtime.wavm",
  "envoy.wasm.runtime.null",
]);
const WILDCARDS = new Set(["0.0.0.0", "::", ""]);

export class EnvoyConfigValidationError extends Error {
  readonly code = "EDGEWATCH_ENVOY_CONFIG_INVALID";
  constructor(
    readonly what: string,
    readonly errors: ValidationIssue[],
  ) {
    super(`${what} is invalid:\n${errors.map((e) => `  ${e.path}: ${e.message}`).join("\n")}`);
    this.name = "EnvoyConfigValidationError";
  }
}

// ------------------------------------------------------------------------------------------------
// Public API

/** Schema-only check of obj as the given v3 message type (full name, no type URL prefix). */
export function validateMessage(obj: unknown, typeName: string): ValidationResult {
  const r = checkAgainstType(obj, typeName);
  return result(r.errors, r.warnings);
}

/** A full Bootstrap: schema + semantic checks. */
export function validateBootstrap(obj: unknown, opts: ValidateOptions = {}): ValidationResult {
  const schema = checkAgainstType(obj, BOOTSTRAP_TYPE);
  const sem = new Semantics(schema, opts);
  sem.bootstrap(schema.normalized);
  return result([...schema.errors, ...sem.errors], [...schema.warnings, ...sem.warnings]);
}

/**
 * A DiscoveryResponse as written to a file watched by path_config_source. With `clusters`, plugin
 * cluster references are checked against them (they live in the bootstrap, not in the resource).
 */
export function validateDiscoveryResponse(obj: unknown, opts: ValidateOptions & { clusters?: string[] } = {}): ValidationResult {
  const schema = checkAgainstType(obj, DISCOVERY_RESPONSE_TYPE);
  const sem = new Semantics(schema, opts);
  sem.discoveryResponse(schema.normalized, opts.clusters ? new Set(opts.clusters) : undefined);
  return result([...schema.errors, ...sem.errors], [...schema.warnings, ...sem.warnings]);
}

/** A TypedExtensionConfig (with or without its own "@type"). */
export function validateTypedExtensionConfig(obj: unknown, opts: ValidateOptions & { clusters?: string[] } = {}): ValidationResult {
  const input = isPlainObject(obj) && "@type" in obj ? obj : { "@type": TYPE_URL.typedExtensionConfig, ...(obj as object) };
  const schema = checkAgainstType({ resources: [input] }, DISCOVERY_RESPONSE_TYPE);
  // Report paths relative to the extension config itself.
  const rebase = (i: ValidationIssue): ValidationIssue => ({ ...i, path: i.path.replace(/^\$\.resources\[0\]/, "$") });
  const sem = new Semantics(schema, opts);
  sem.discoveryResponse(schema.normalized, opts.clusters ? new Set(opts.clusters) : undefined);
  return result([...schema.errors, ...sem.errors].map(rebase), [...schema.warnings, ...sem.warnings].map(rebase));
}

/**
 * Cross-checks a bootstrap that uses ECDS with the DiscoveryResponse it watches: each resource must
 * be subscribed to by a filter of the same name, with a matching type URL, and the plugin cluster
 * references must exist in the bootstrap.
 */
export function validateEcdsPair(bootstrap: unknown, response: unknown, opts: ValidateOptions = {}): ValidationResult {
  const b = validateBootstrap(bootstrap, opts);
  const clusters = clusterNamesOf(bootstrap);
  const r = validateDiscoveryResponse(response, { ...opts, clusters });
  const errors = [...b.errors.map((e) => ({ ...e, path: `bootstrap${e.path.slice(1)}` })), ...r.errors.map((e) => ({ ...e, path: `resource${e.path.slice(1)}` }))];
  const warnings = [...b.warnings, ...r.warnings];
  if (b.ok && r.ok) {
    const subs = ecdsSubscriptions(bootstrap);
    const resources = isPlainObject(response) && Array.isArray(response.resources) ? response.resources : [];
    // FilterConfigSubscription::onConfigUpdate: "Unexpected number of resources in ExtensionConfigDS response".
    if (resources.length !== 1) {
      errors.push({ path: "resource.resources", message: `an ECDS file must hold exactly one resource, got ${resources.length}` });
    }
    resources.forEach((res, i) => {
      if (!isPlainObject(res)) return;
      const name = res.name;
      const p = `resource.resources[${i}]`;
      const sub = subs.find((s) => s.name === name);
      if (!sub) {
        errors.push({ path: `${p}.name`, message: `no filter subscribes to ECDS resource ${JSON.stringify(name)} (subscribed: ${subs.map((s) => s.name).join(", ") || "none"})` });
        return;
      }
      const t = isPlainObject(res.typed_config) ? res.typed_config["@type"] : undefined;
      if (typeof t === "string" && !sub.typeUrls.includes(t)) {
        errors.push({ path: `${p}.typed_config["@type"]`, message: `${t} is not in the filter's type_urls [${sub.typeUrls.join(", ")}]` });
      }
    });
  }
  return result(errors, warnings);
}

export function assertValidBootstrap(obj: unknown, opts: ValidateOptions = {}): void {
  const r = validateBootstrap(obj, opts);
  if (!r.ok) throw new EnvoyConfigValidationError("Envoy bootstrap", r.errors);
}

export function assertValidDiscoveryResponse(obj: unknown, opts: ValidateOptions & { clusters?: string[] } = {}): void {
  const r = validateDiscoveryResponse(obj, opts);
  if (!r.ok) throw new EnvoyConfigValidationError("ECDS DiscoveryResponse", r.errors);
}

export function assertValidEcdsPair(bootstrap: unknown, response: unknown, opts: ValidateOptions = {}): void {
  const r = validateEcdsPair(bootstrap, response, opts);
  if (!r.ok) throw new EnvoyConfigValidationError("ECDS bootstrap/resource pair", r.errors);
}

function result(errors: ValidationIssue[], warnings: ValidationIssue[]): ValidationResult {
  return { ok: errors.length === 0, errors, warnings };
}

// ------------------------------------------------------------------------------------------------
// Semantic checks on the normalized tree (canonical proto field names, Any contents expanded)

type Obj = Record<string, unknown>;

class Semantics {
  readonly errors: ValidationIssue[] = [];
  readonly warnings: ValidationIssue[] = [];
  private usesXds = false;

  constructor(
    private readonly schema: SchemaCheckResult,
    private readonly opts: ValidateOptions = {},
  ) {}

  private at(obj: object | undefined, key?: string | number): string {
    const o: Origin | undefined = obj ? this.schema.origin.get(obj) : undefined;
    const base = o?.path ?? "$";
    if (key === undefined) return base;
    if (typeof key === "number") return joinPath(base, key);
    return joinPath(base, o?.keys[key] ?? key);
  }

  private err(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  private warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }

  bootstrap(root: unknown): void {
    if (!isPlainObject(root)) return;
    const sr = obj(root.static_resources);
    const clusters = arr(sr?.clusters).filter(isPlainObject);
    const clusterNames = this.clusters(clusters);
    if (root.dynamic_resources !== undefined) this.usesXds = true;

    const endpoints: Array<{ path: string; what: string; address: string; port: number }> = [];
    const admin = obj(root.admin);
    const adminSa = obj(obj(admin?.address)?.socket_address);
    if (adminSa && typeof adminSa.port_value === "number") {
      endpoints.push({ path: this.at(adminSa, "port_value"), what: "admin", address: String(adminSa.address ?? ""), port: adminSa.port_value });
    }
    const listenerNames = new Map<string, string>();
    arr(sr?.listeners).forEach((l) => {
      if (!isPlainObject(l)) return;
      if (typeof l.name === "string" && l.name !== "") {
        const prev = listenerNames.get(l.name);
        if (prev) this.err(this.at(l, "name"), `duplicate listener name ${JSON.stringify(l.name)} (also at ${prev})`);
        else listenerNames.set(l.name, this.at(l, "name"));
      }
      const sa = obj(obj(l.address)?.socket_address);
      if (sa && typeof sa.port_value === "number") {
        endpoints.push({ path: this.at(sa, "port_value"), what: `listener ${JSON.stringify(l.name ?? "")}`, address: String(sa.address ?? ""), port: sa.port_value });
      }
      for (const fc of arr(l.filter_chains).filter(isPlainObject)) {
        for (const f of arr(fc.filters).filter(isPlainObject)) {
          const tc = obj(f.typed_config);
          if (tc && typeName(tc["@type"]) === HCM_TYPE) this.hcm(tc, clusterNames);
          if (f.config_discovery !== undefined) this.usesXds = true;
        }
      }
    });
    this.portClashes(endpoints);
    this.statsConfig(obj(root.stats_config));

    if (this.usesXds) {
      const node = obj(root.node);
      if (!node || typeof node.id !== "string" || node.id === "" || typeof node.cluster !== "string" || node.cluster === "") {
        this.err(node ? this.at(node) : "$.node", "node.id and node.cluster are required when any xDS (including file-based ECDS) is used");
      }
    }
  }

  discoveryResponse(root: unknown, clusterNames: Set<string> | undefined): void {
    if (!isPlainObject(root)) return;
    const typeUrl = typeof root.type_url === "string" && root.type_url !== "" ? root.type_url : undefined;
    const names = new Map<string, string>();
    arr(root.resources).forEach((res) => {
      if (!isPlainObject(res)) return;
      const t = res["@type"];
      if (typeUrl && t !== typeUrl) this.err(joinPath(this.at(res), "@type"), `resource @type ${String(t)} differs from the response type_url ${typeUrl}`);
      if (typeName(t) !== TYPED_EXTENSION_CONFIG_TYPE) return;
      const name = res.name;
      // A missing name is a PGV error (min_len 1) already.
      if (typeof name !== "string" || name === "") return;
      if (names.has(name)) this.err(this.at(res, "name"), `duplicate resource name ${JSON.stringify(name)} (also at ${names.get(name)})`);
      else names.set(name, this.at(res, "name"));
      const tc = obj(res.typed_config);
      // A missing typed_config is a PGV error (message.required) already.
      if (tc && typeName(tc["@type"]) === WASM_TYPE) this.wasmFilter(tc, clusterNames);
    });
  }

  private clusters(clusters: Obj[]): Set<string> {
    const names = new Map<string, string>();
    for (const c of clusters) {
      const name = c.name;
      if (typeof name !== "string" || name === "") continue; // PGV reports the missing name
      if (names.has(name)) this.err(this.at(c, "name"), `duplicate cluster name ${JSON.stringify(name)} (also at ${names.get(name)})`);
      else names.set(name, this.at(c, "name"));
      const la = obj(c.load_assignment);
      if (la && typeof la.cluster_name === "string" && la.cluster_name !== name) {
        this.warn(this.at(la, "cluster_name"), `load_assignment.cluster_name ${JSON.stringify(la.cluster_name)} differs from the cluster name ${JSON.stringify(name)}`);
      }
      // An invalid `type` is already reported; only an absent one defaults to STATIC.
      const typeWritten = this.schema.origin.get(c)?.keys.type !== undefined;
      if (c.type === "STATIC" || c.type === 0 || (c.type === undefined && !typeWritten)) {
        for (const ep of arr(la?.endpoints).filter(isPlainObject)) {
          for (const lb of arr(ep.lb_endpoints).filter(isPlainObject)) {
            const sa = obj(obj(obj(lb.endpoint)?.address)?.socket_address);
            if (sa && typeof sa.address === "string" && net.isIP(sa.address) === 0) {
              this.err(this.at(sa, "address"), `STATIC cluster ${JSON.stringify(name)} needs an IP address, got ${JSON.stringify(sa.address)} (use STRICT_DNS for hostnames)`);
            }
          }
        }
      }
    }
    return new Set(names.keys());
  }

  private portClashes(endpoints: Array<{ path: string; what: string; address: string; port: number }>): void {
    for (let i = 0; i < endpoints.length; i++) {
      for (let j = 0; j < i; j++) {
        const a = endpoints[i]!;
        const b = endpoints[j]!;
        if (a.port === 0 || a.port !== b.port) continue;
        if (a.address === b.address || WILDCARDS.has(a.address) || WILDCARDS.has(b.address)) {
          this.err(a.path, `${a.what} port ${a.port} clashes with ${b.what} on ${b.address || "*"}:${b.port} (${b.path})`);
        }
      }
    }
  }

  private statsConfig(sc: Obj | undefined): void {
    if (!sc) return;
    const seen = new Map<string, string>();
    for (const t of arr(sc.stats_tags).filter(isPlainObject)) {
      const name = t.tag_name;
      if (typeof name === "string") {
        if (seen.has(name)) this.err(this.at(t, "tag_name"), `duplicate stats tag ${JSON.stringify(name)} (also at ${seen.get(name)})`);
        else seen.set(name, this.at(t, "tag_name"));
      }
      if (typeof t.regex !== "string") continue;
      let re: RegExp;
      try {
        re = new RegExp(t.regex);
      } catch (e) {
        this.err(this.at(t, "regex"), `regex does not compile: ${(e as Error).message}`);
        continue;
      }
      // Envoy removes the first capture group from the name and uses the second (or first) as value.
      if (new RegExp(`${re.source}|`).exec("")!.length < 2) this.err(this.at(t, "regex"), "tag regex needs at least one capture group");
    }
  }

  private hcm(hcm: Obj, clusterNames: Set<string>): void {
    const rc = obj(hcm.route_config);
    if (rc) this.routeConfig(rc, clusterNames);
    if (hcm.rds !== undefined || hcm.scoped_routes !== undefined) this.usesXds = true;

    const filters = arr(hcm.http_filters).filter(isPlainObject);
    const kinds = filters.map((f) => this.httpFilterKind(f));
    const routerIdx = kinds.indexOf("router");
    const filtersPath = this.at(hcm, "http_filters");
    // A filter whose typed_config did not pass the schema check has an unknown kind: do not pile a
    // "no router" error on top of the error already reported for it.
    if (filters.length > 0 && routerIdx < 0 && !kinds.includes("unknown")) {
      this.err(filtersPath, `no ${ROUTER_TYPE} filter: the last HTTP filter must be the terminal router`);
    } else if (routerIdx >= 0 && routerIdx !== filters.length - 1) {
      const after = filters[routerIdx + 1]!;
      this.err(this.at(after), `HTTP filter ${JSON.stringify(after.name)} comes after the router, which must be the last (terminal) filter`);
    }
    kinds.forEach((k, i) => {
      const f = filters[i]!;
      if (k === "wasm" && routerIdx >= 0 && i > routerIdx) {
        this.err(this.at(f), `wasm filter ${JSON.stringify(f.name)} must come before the router (index ${routerIdx}), found at index ${i}`);
      }
      if (k === "wasm") {
        const tc = obj(f.typed_config);
        if (tc) this.wasmFilter(tc, clusterNames);
        const cd = obj(f.config_discovery);
        const def = obj(cd?.default_config);
        if (def && typeName(def["@type"]) === WASM_TYPE) this.wasmFilter(def, clusterNames);
      }
      if (f.config_discovery !== undefined) this.configDiscovery(f);
      // Judge by what was written: a typed_config whose @type failed to resolve is already reported.
      const written = this.schema.origin.get(f)?.keys ?? {};
      if (written.typed_config === undefined && written.config_discovery === undefined && f.is_optional !== true) {
        this.err(this.at(f), `HTTP filter ${JSON.stringify(f.name)} needs typed_config or config_discovery`);
      }
    });
  }

  private httpFilterKind(f: Obj): "router" | "wasm" | "other" | "unknown" {
    const written = this.schema.origin.get(f)?.keys ?? {};
    if (written.typed_config !== undefined && f.typed_config === undefined) return "unknown";
    const tc = obj(f.typed_config);
    const t = tc ? typeName(tc["@type"]) : undefined;
    const inner = tc && isTypedStruct(t) ? typeName(tc.type_url) : t;
    if (inner === ROUTER_TYPE) return "router";
    if (inner === WASM_TYPE) return "wasm";
    const urls = arr(obj(f.config_discovery)?.type_urls).map(typeName);
    if (urls.includes(WASM_TYPE)) return "wasm";
    if (urls.includes(ROUTER_TYPE)) return "router";
    return "other";
  }

  private configDiscovery(f: Obj): void {
    this.usesXds = true;
    const cd = obj(f.config_discovery)!;
    const urls = arr(cd.type_urls).filter((u): u is string => typeof u === "string");
    urls.forEach((u, i) => {
      if (!resolveTypeUrl(u)) this.err(joinPath(this.at(cd, "type_urls"), i), `type URL ${JSON.stringify(u)} does not resolve to a message in Envoy's v3 API protos`);
    });
    const def = obj(cd.default_config);
    if (cd.apply_default_config_without_warming === true && !def) {
      this.err(this.at(cd, "apply_default_config_without_warming"), "apply_default_config_without_warming needs a default_config");
    }
    if (def && typeof def["@type"] === "string" && !urls.includes(def["@type"])) {
      this.err(joinPath(this.at(cd, "default_config"), "@type"), `default_config type ${def["@type"]} is not in type_urls [${urls.join(", ")}]`);
    }
  }

  private routeConfig(rc: Obj, clusterNames: Set<string>): void {
    const vhostNames = new Map<string, string>();
    const domains = new Map<string, string>();
    const routeNames = new Map<string, string>();
    for (const vh of arr(rc.virtual_hosts).filter(isPlainObject)) {
      if (typeof vh.name === "string") {
        if (vhostNames.has(vh.name)) this.err(this.at(vh, "name"), `duplicate virtual host name ${JSON.stringify(vh.name)} (also at ${vhostNames.get(vh.name)})`);
        else vhostNames.set(vh.name, this.at(vh, "name"));
      }
      arr(vh.domains).forEach((d, i) => {
        if (typeof d !== "string") return;
        const p = joinPath(this.at(vh, "domains"), i);
        const key = d.toLowerCase();
        if (domains.has(key)) this.err(p, `domain ${JSON.stringify(d)} is used by more than one virtual host (also at ${domains.get(key)})`);
        else domains.set(key, p);
      });
      for (const r of arr(vh.routes).filter(isPlainObject)) {
        if (typeof r.name === "string" && r.name !== "") {
          if (routeNames.has(r.name)) this.err(this.at(r, "name"), `duplicate route name ${JSON.stringify(r.name)} (also at ${routeNames.get(r.name)})`);
          else routeNames.set(r.name, this.at(r, "name"));
        }
        const action = obj(r.route);
        if (!action) continue;
        if (typeof action.cluster === "string" && action.cluster !== "" && !clusterNames.has(action.cluster)) {
          this.err(this.at(action, "cluster"), `route ${JSON.stringify(r.name ?? "")} targets unknown cluster ${JSON.stringify(action.cluster)} (known: ${[...clusterNames].join(", ") || "none"})`);
        }
        for (const wc of arr(obj(action.weighted_clusters)?.clusters).filter(isPlainObject)) {
          if (typeof wc.name === "string" && wc.name !== "" && !clusterNames.has(wc.name)) {
            this.err(this.at(wc, "name"), `weighted cluster ${JSON.stringify(wc.name)} does not exist`);
          }
        }
      }
    }
  }

  /** Checks one envoy.extensions.filters.http.wasm.v3.Wasm (normalized Any). */
  private wasmFilter(wasm: Obj, clusterNames: Set<string> | undefined): void {
    const config = obj(wasm.config);
    if (!config) {
      this.err(this.at(wasm), "Wasm filter without config (PluginConfig)");
      return;
    }
    const vm = obj(config.vm_config);
    if (vm) {
      const runtime = vm.runtime;
      if (typeof runtime === "string" && runtime !== "" && !KNOWN_WASM_RUNTIMES.has(runtime)) {
        this.err(this.at(vm, "runtime"), `unknown wasm runtime ${JSON.stringify(runtime)} (release images ship envoy.wasm.runtime.v8)`);
      }
      if (runtime !== "envoy.wasm.runtime.null") {
        const code = obj(vm.code);
        const local = obj(code?.local);
        const hasCode = code && (code.remote !== undefined || (local && Object.keys(local).some((k) => k !== "watched_directory")));
        if (!hasCode) this.err(this.at(vm, "code"), "vm_config.code must name the module (local.filename, inline_bytes or remote)");
      }
    }
    const cfgAny = obj(config.configuration);
    if (!cfgAny || this.opts.checkPluginConfiguration === false) return;
    const t = typeName(cfgAny["@type"]);
    let pluginJson: unknown;
    const valuePath = this.at(cfgAny, "value");
    let text: string | undefined;
    if (t === "google.protobuf.StringValue" && typeof cfgAny.value === "string") text = cfgAny.value;
    else if (t === "google.protobuf.BytesValue" && typeof cfgAny.value === "string") {
      // The filter gets the decoded bytes: a snapshot configuration's settings are JSON, other bytes are text.
      const bytes = Buffer.from(cfgAny.value, "base64");
      if (isSnapshotConfiguration(bytes)) {
        const parts = readSnapshotConfiguration(bytes);
        if ("error" in parts) {
          this.err(valuePath, `plugin configuration is a snapshot configuration with a bad frame: ${parts.error}`);
          return;
        }
        text = parts.settingsText;
      } else text = bytes.toString("utf8");
    }
    if (text !== undefined) {
      text = text.trim();
      if (!text.startsWith("{") && !text.startsWith("[")) return; // not JSON: another plugin's format
      try {
        pluginJson = JSON.parse(text);
      } catch (e) {
        this.err(valuePath, `plugin configuration is not valid JSON: ${(e as Error).message}`);
        return;
      }
    } else if (t === "google.protobuf.Struct") {
      pluginJson = cfgAny.value;
    } else return;
    if (!clusterNames) return;
    for (const ref of findClusterRefs(pluginJson)) {
      if (!clusterNames.has(ref.value)) {
        this.err(`${valuePath}#${ref.jsonPath}`, `plugin configuration ${ref.key} ${JSON.stringify(ref.value)} names no cluster (known: ${[...clusterNames].join(", ") || "none"})`);
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------
// helpers

function obj(v: unknown): Obj | undefined {
  return isPlainObject(v) ? v : undefined;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function typeName(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  return url.slice(url.lastIndexOf("/") + 1);
}

function isTypedStruct(t: string | undefined): boolean {
  return t === "xds.type.v3.TypedStruct" || t === "udpa.type.v1.TypedStruct";
}

/**
 * Cluster names the edgewatch plugin JSON refers to: the filter's own settings paths
 * (`rules_service.cluster`, `tracing.collector.cluster`, assembly/config/settings.ts) and the flat
 * `rules_cluster` / `collector_cluster` keys at any depth. "" means "disabled" and is skipped. Each
 * comes with a JSON path inside the plugin JSON (`$.rules_service.cluster`); issues about them use
 * the path of the configuration string, then `#`, then this inner path.
 */
export function findClusterRefs(json: unknown): Array<{ key: string; value: string; jsonPath: string }> {
  const out: Array<{ key: string; value: string; jsonPath: string }> = [];
  for (const p of PLUGIN_CLUSTER_PATHS) {
    let node: unknown = json;
    for (const k of p) node = isPlainObject(node) ? node[k] : undefined;
    if (typeof node === "string" && node !== "") {
      out.push({ key: p.join("."), value: node, jsonPath: p.reduce<string>((acc, k) => joinPath(acc, k), "$") });
    }
  }
  const walk = (v: unknown, jsonPath: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, joinPath(jsonPath, i)));
    else if (isPlainObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        const p = joinPath(jsonPath, k);
        if ((PLUGIN_CLUSTER_KEYS as readonly string[]).includes(k) && typeof x === "string") {
          if (x !== "") out.push({ key: k, value: x, jsonPath: p });
        } else walk(x, p);
      }
    }
  };
  walk(json, "$");
  return out;
}

/** Cluster names in static_resources (either naming style), for cross-checks. */
export function clusterNamesOf(bootstrap: unknown): string[] {
  const sr = obj(obj(bootstrap)?.static_resources) ?? obj(obj(bootstrap)?.staticResources);
  return arr(sr?.clusters)
    .map((c) => obj(c)?.name)
    .filter((n): n is string => typeof n === "string");
}

/** Filters that subscribe to ECDS: name and type_urls (either naming style). */
export function ecdsSubscriptions(bootstrap: unknown): Array<{ name: string; typeUrls: string[] }> {
  const out: Array<{ name: string; typeUrls: string[] }> = [];
  const schema = checkAgainstType(bootstrap, BOOTSTRAP_TYPE);
  const root = obj(schema.normalized);
  for (const l of arr(obj(root?.static_resources)?.listeners)) {
    for (const fc of arr(obj(l)?.filter_chains)) {
      for (const f of arr(obj(fc)?.filters)) {
        const hcm = obj(obj(f)?.typed_config);
        if (!hcm || typeName(hcm["@type"]) !== HCM_TYPE) continue;
        for (const hf of arr(hcm.http_filters)) {
          const cd = obj(obj(hf)?.config_discovery);
          if (cd) out.push({ name: String(obj(hf)!.name), typeUrls: arr(cd.type_urls).map(String) });
        }
      }
    }
  }
  return out;
}

/** Name of the message a type URL points at, if it resolves (for callers that want to check). */
export function resolvedTypeName(url: string): string | undefined {
  const t = resolveTypeUrl(url);
  return t ? fullName(t) : undefined;
}

/**
 * The one builder of a ProxyConfig for tests, benches and the fuzz drivers, in the spirit of
 * proxy-wasm-go-sdk's proxytest options (`NewEmulatorOption().With…`) and Envoy's integration-test
 * ConfigHelper: a scenario says what it needs, the builder owns every other field.
 *
 *   const opts = proxyOptions()
 *     .withWorkers(2)
 *     .withPlugin({ client_address: { source: "xff", xff_trusted_hops: 1 } })
 *     .withRulesService()          // start the rules-service fixture, cluster "rules"
 *     .withCollector();            // start the OTLP collector fixture, cluster "otel"
 *   const stack = await startStack(target, opts);       // harness/stack/stack.ts
 *
 * Options are immutable: every `with…` returns a new ProxyOptions, so a base can be shared.
 * `toProxyConfig(ports)` renders the ProxyConfig once the fixtures' ports are known; startStack
 * starts the fixtures the options ask for, then the target.
 *
 * Cluster names are fixed (CLUSTER): "upstream" (echo fixture, always), "rules" (rules service),
 * "otel" (collector); plugin configurations refer to them by these names.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClusterConfig, ProxyConfig, RouteConfig, StatsConfig, WasmPluginConfig } from "../config/proxy-config.js";
import { defaultStatsConfig } from "../envoy-config/defaults.js";
import type { OtlpCollector } from "../fixtures/otlp-collector.js";
import type { RulesService, RulesServiceOptions } from "../fixtures/rules-service.js";

export const REPO_ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
/** The product filter; EDGEWATCH_WASM overrides it (e.g. a build with a names section for profiling). */
export const FILTER_WASM = process.env.EDGEWATCH_WASM || resolve(REPO_ROOT, "build/edgewatch.wasm");

export const CLUSTER = { upstream: "upstream", rules: "rules", collector: "otel" } as const;

/** A route; the cluster defaults to the upstream echo. */
export type RouteSpec = Omit<RouteConfig, "cluster"> & { cluster?: string };

/** Default routes: `api` (prefix /api) and `default` (prefix /), both to the upstream echo. */
export const DEFAULT_ROUTES: readonly RouteSpec[] = Object.freeze([
  { name: "api", match: { prefix: "/api" } },
  { name: "default", match: { prefix: "/" } },
]);

export type FixtureRequest<Options, Instance> = { start: Options } | { shared: Instance };

/** Ports of the fixtures the config points at (loopback). */
export interface FixturePorts {
  upstream: number;
  rules?: number;
  collector?: number;
}

interface State {
  workers: number;
  plugin: string | Uint8Array;
  routes: readonly RouteSpec[];
  extraClusters: readonly ClusterConfig[];
  xffTrustedHops: number;
  failOpen: boolean;
  wasmPath: string;
  identity: Pick<WasmPluginConfig, "name" | "rootId" | "vmId">;
  vmConfiguration?: string;
  node: { id: string; cluster: string };
  stats: StatsConfig;
  routeTimeoutMs: number;
  rulesService?: FixtureRequest<RulesServiceOptions, RulesService>;
  collector?: FixtureRequest<Record<string, never>, OtlpCollector>;
  listener: { address: string; port: number };
  admin: { address: string; port: number };
  baselineListener?: { address: string; port: number };
}

export class ProxyOptions {
  private constructor(private readonly s: State) {}

  static defaults(): ProxyOptions {
    return new ProxyOptions({
      workers: 2,
      plugin: "{}",
      routes: DEFAULT_ROUTES,
      extraClusters: [],
      xffTrustedHops: 0,
      failOpen: false,
      wasmPath: FILTER_WASM,
      identity: { name: "edgewatch", rootId: "edgewatch", vmId: "edgewatch" },
      node: { id: "edgewatch-test", cluster: "edgewatch" },
      // Flush on every admin request: histograms are readable right after the traffic.
      stats: defaultStatsConfig({ flushOnAdmin: true }),
      routeTimeoutMs: 10_000,
      listener: { address: "127.0.0.1", port: 0 },
      admin: { address: "127.0.0.1", port: 0 },
    });
  }

  private with(patch: Partial<State>): ProxyOptions {
    return new ProxyOptions({ ...this.s, ...patch });
  }

  /** Envoy --concurrency: worker threads, each with its own VM. Default 2. */
  withWorkers(n: number): ProxyOptions {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`workers must be an integer ≥ 1, got ${n}`);
    return this.with({ workers: n });
  }

  /**
   * The plugin configuration (PluginConfig.configuration): an object is JSON-encoded, a string or
   * bytes (e.g. a snapshot configuration, harness/rules/snapshot-configuration.ts) are sent verbatim.
   */
  withPlugin(configuration: object | string | Uint8Array): ProxyOptions {
    return this.with({ plugin: typeof configuration === "string" || configuration instanceof Uint8Array ? configuration : JSON.stringify(configuration) });
  }

  /** Start the rules-service fixture (cluster "rules"), or use a running one (not closed with the stack). */
  withRulesService(opts: RulesServiceOptions | { shared: RulesService } = {}): ProxyOptions {
    return this.with({ rulesService: "shared" in opts ? { shared: opts.shared } : { start: opts } });
  }

  /** Start the OTLP collector fixture (cluster "otel"), or share one between stacks (not closed with a stack). */
  withCollector(opts: { shared?: OtlpCollector } = {}): ProxyOptions {
    return this.with({ collector: opts.shared ? { shared: opts.shared } : { start: {} } });
  }

  /** Replace the routes (first match wins); a route without cluster goes to the upstream echo. */
  withRoutes(routes: readonly RouteSpec[]): ProxyOptions {
    return this.with({ routes: [...routes] });
  }

  /** Add a cluster (e.g. a fault upstream) the routes or the plugin can name. */
  withCluster(cluster: ClusterConfig): ProxyOptions {
    return this.with({ extraClusters: [...this.s.extraClusters, cluster] });
  }

  /** HCM xff_num_trusted_hops (also decides x-envoy-external-address). Default 0. */
  withXffTrustedHops(n: number): ProxyOptions {
    return this.with({ xffTrustedHops: n });
  }

  withFailOpen(failOpen = true): ProxyOptions {
    return this.with({ failOpen });
  }

  /** Another .wasm (the host's test filters); default build/edgewatch.wasm. */
  withWasm(path: string): ProxyOptions {
    return this.with({ wasmPath: path });
  }

  /** PluginConfig.name / root_id / VmConfig.vm_id. */
  withPluginIdentity(identity: Partial<State["identity"]>): ProxyOptions {
    return this.with({ identity: { ...this.s.identity, ...identity } });
  }

  /** VmConfig.configuration (buffer 6 in on_vm_start). */
  withVmConfiguration(configuration: string): ProxyOptions {
    return this.with({ vmConfiguration: configuration });
  }

  withNode(node: { id: string; cluster: string }): ProxyOptions {
    return this.with({ node });
  }

  withStats(stats: StatsConfig): ProxyOptions {
    return this.with({ stats });
  }

  /** Route timeout for routes that do not set one. Default 10 s. */
  withRouteTimeout(ms: number): ProxyOptions {
    return this.with({ routeTimeoutMs: ms });
  }

  withListener(listener: { address: string; port: number }): ProxyOptions {
    return this.with({ listener });
  }

  withAdmin(admin: { address: string; port: number }): ProxyOptions {
    return this.with({ admin });
  }

  /**
   * Add a listener with the same routes but without the Wasm filter (StartedTarget.baselineUrl on
   * the Envoy targets): the overhead bench's "same proxy without the filter" in one process.
   */
  withBaselineListener(listener: { address: string; port: number } = { address: "127.0.0.1", port: 0 }): ProxyOptions {
    return this.with({ baselineListener: listener });
  }

  // -- read by startStack ----------------------------------------------------------------------

  get workers(): number {
    return this.s.workers;
  }

  get plugin(): string | Uint8Array {
    return this.s.plugin;
  }

  get rulesService(): State["rulesService"] {
    return this.s.rulesService;
  }

  get collector(): State["collector"] {
    return this.s.collector;
  }

  /** The ProxyConfig for these options, with the fixtures at `ports` on 127.0.0.1. */
  toProxyConfig(ports: FixturePorts): ProxyConfig {
    const s = this.s;
    if (s.rulesService && ports.rules === undefined) throw new Error("withRulesService() needs the rules service's port");
    if (s.collector && ports.collector === undefined) throw new Error("withCollector() needs the collector's port");
    const clusters: ClusterConfig[] = [{ name: CLUSTER.upstream, address: "127.0.0.1", port: ports.upstream }];
    if (ports.rules !== undefined) clusters.push({ name: CLUSTER.rules, address: "127.0.0.1", port: ports.rules, connectTimeoutMs: 500 });
    if (ports.collector !== undefined) clusters.push({ name: CLUSTER.collector, address: "127.0.0.1", port: ports.collector, connectTimeoutMs: 500 });
    for (const c of s.extraClusters) {
      if (clusters.some((x) => x.name === c.name)) throw new Error(`cluster ${c.name} defined twice`);
      clusters.push({ ...c });
    }
    return {
      node: { ...s.node },
      listener: { ...s.listener },
      admin: { ...s.admin },
      workers: s.workers,
      routes: s.routes.map((r) => ({ timeoutMs: s.routeTimeoutMs, ...r, match: { ...r.match }, cluster: r.cluster ?? CLUSTER.upstream })),
      clusters,
      plugin: {
        ...s.identity,
        wasmPath: s.wasmPath,
        configuration: s.plugin,
        ...(s.vmConfiguration !== undefined ? { vmConfiguration: s.vmConfiguration } : {}),
        failOpen: s.failOpen,
      },
      stats: { ...s.stats, histogramBucketSettings: s.stats.histogramBucketSettings.map((h) => ({ match: { ...h.match }, buckets: [...h.buckets] })), statsTags: s.stats.statsTags.map((t) => ({ ...t })) },
      xffNumTrustedHops: s.xffTrustedHops,
      ...(s.baselineListener ? { baselineListener: { ...s.baselineListener } } : {}),
    };
  }
}

/** Start building: 2 workers, empty plugin configuration, routes api + default, upstream echo. */
export function proxyOptions(): ProxyOptions {
  return ProxyOptions.defaults();
}

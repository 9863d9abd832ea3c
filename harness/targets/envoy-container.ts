/**
 * Envoy in a container, as a testcontainers module: EnvoyContainer (configure, then start) and
 * StartedEnvoyContainer (typed accessors, ECDS pushes), the way testcontainers-node pairs
 * MockserverContainer with StartedMockserverContainer.
 *
 * The container always runs the ECDS variant of the bootstrap, so the plugin configuration can be
 * replaced at runtime: updatePluginConfiguration() writes a temp file next to the watched one and
 * renames it inside the container (Envoy only reacts to a move), then waits for
 * extension_config_discovery.http_filter.<name>.config_reload to grow.
 *
 * Fixtures listening on the host's loopback are reached from the container as
 * host.testcontainers.internal: their ports are exposed with TestContainers.exposeHostPorts() before
 * the container is created, which also adds that host name to the container.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { AbstractStartedContainer, GenericContainer, TestContainers, Wait, type StartedTestContainer } from "testcontainers";
import type { ProxyConfig } from "../config/proxy-config.js";
import { envoyCommandArgs, envoyConfigurationValue, isLoopbackAddress, renderEcdsBootstrap, renderEcdsResource, toYaml } from "../envoy-config/bootstrap.js";
import { assertValidEcdsPair } from "../envoy-config/validate.js";
import { awaitEcdsApplied, readEcdsCounters } from "./envoy-admin.js";
import { envoyImage } from "./envoy-image.js";
import { LogBuffer } from "./log-buffer.js";
import { sameConfiguration, type StartedTarget, type Target, type TargetAvailability } from "./target.js";

export const CONTAINER_PATHS = {
  bootstrap: "/etc/envoy/envoy.yaml",
  wasm: "/etc/envoy/edgewatch.wasm",
  ecds: "/etc/envoy/ecds/edgewatch-filter.yaml",
  ecdsTemp: "/etc/envoy/ecds/.edgewatch-filter.yaml.next",
} as const;
/** Ports inside the container when the config asks for 0 (a container cannot publish port 0). */
export const DEFAULT_CONTAINER_PORTS = { listener: 10000, admin: 9901, baseline: 10001 } as const;
export const HOST_ALIAS = "host.testcontainers.internal";

export interface EnvoyContainerOptions {
  /** Image to run; default EDGEWATCH_ENVOY_IMAGE or the one pinned in envoy/Dockerfile. */
  image?: string;
  /** Envoy -l level (default info). */
  logLevel?: string;
  /** Level for the wasm component (default debug: the filter's proxy_log output shows in logs). */
  wasmLogLevel?: string;
  startupTimeoutMs?: number;
}

export class EnvoyContainer extends GenericContainer {
  private readonly cfg: ProxyConfig;
  private readonly listenerPort: number;
  private readonly adminPort: number;
  /** The filter-less baseline listener's port in the container (0: none configured). */
  private readonly baselinePort: number;
  private readonly hostPorts: number[];
  private readonly logBuffer = new LogBuffer();

  constructor(cfg: ProxyConfig, opts: EnvoyContainerOptions = {}) {
    super(opts.image ?? envoyImage());
    this.cfg = cfg;
    this.listenerPort = cfg.listener.port || DEFAULT_CONTAINER_PORTS.listener;
    this.adminPort = cfg.admin.port || DEFAULT_CONTAINER_PORTS.admin;
    if (this.listenerPort === this.adminPort) throw new Error(`listener and admin both use port ${this.adminPort}`);
    this.baselinePort = cfg.baselineListener ? cfg.baselineListener.port || DEFAULT_CONTAINER_PORTS.baseline : 0;
    if (this.baselinePort !== 0 && (this.baselinePort === this.listenerPort || this.baselinePort === this.adminPort)) {
      throw new Error(`the baseline listener's port ${this.baselinePort} is taken by the listener or admin`);
    }
    this.hostPorts = [...new Set(cfg.clusters.filter((c) => isLoopbackAddress(c.address)).map((c) => c.port))];

    const wasmSource = path.resolve(cfg.plugin.wasmPath);
    if (!fs.existsSync(wasmSource)) throw new Error(`wasm module not found: ${wasmSource} (run npm run build:filter)`);

    const bootstrap = renderEcdsBootstrap(cfg, {
      wasmPathInContainer: CONTAINER_PATHS.wasm,
      hostAddressForClusters: HOST_ALIAS,
      ecds: { path: CONTAINER_PATHS.ecds },
      bindAddress: "0.0.0.0",
      ports: { listener: this.listenerPort, admin: this.adminPort, ...(this.baselinePort ? { baseline: this.baselinePort } : {}) },
    });
    const resource = renderEcdsResource(cfg, { wasmPathInContainer: CONTAINER_PATHS.wasm, versionInfo: "1" });
    // Envoy would refuse a bad config with a log line; failing here names the field instead. The
    // plugin's own JSON is left to the filter, so tests can start with deliberately bad settings.
    assertValidEcdsPair(bootstrap, resource, { checkPluginConfiguration: false });

    this.withExposedPorts(...[this.listenerPort, this.adminPort, ...(this.baselinePort ? [this.baselinePort] : [])])
      .withCommand(
        envoyCommandArgs(cfg, CONTAINER_PATHS.bootstrap, ["-l", opts.logLevel ?? "info", "--component-log-level", `wasm:${opts.wasmLogLevel ?? "debug"}`]),
      )
      .withCopyContentToContainer([
        { content: toYaml(bootstrap), target: CONTAINER_PATHS.bootstrap, mode: 0o644 },
        { content: toYaml(resource), target: CONTAINER_PATHS.ecds, mode: 0o644 },
      ])
      .withCopyFilesToContainer([{ source: wasmSource, target: CONTAINER_PATHS.wasm, mode: 0o644 }])
      .withWaitStrategy(Wait.forHttp("/ready", this.adminPort).forStatusCode(200))
      .withStartupTimeout(opts.startupTimeoutMs ?? 60_000)
      .withLogConsumer((stream) => this.logBuffer.attach(stream));
  }

  // Runs before the container is created: the port forwarder must exist by then for testcontainers
  // to add host.testcontainers.internal to this container.
  protected override async beforeContainerCreated(): Promise<void> {
    if (this.hostPorts.length > 0) await TestContainers.exposeHostPorts(...this.hostPorts);
  }

  override async start(): Promise<StartedEnvoyContainer> {
    try {
      const started = await super.start();
      return new StartedEnvoyContainer(started, this.cfg, this.listenerPort, this.adminPort, this.logBuffer, this.baselinePort);
    } catch (e) {
      const tail = this.logBuffer.tail(40);
      (e as Error).message += tail ? `\nLast Envoy log lines:\n${tail}` : "";
      throw e;
    }
  }
}

export class StartedEnvoyContainer extends AbstractStartedContainer {
  private version = 1;
  private configuration: string | Uint8Array;

  constructor(
    started: StartedTestContainer,
    private readonly cfg: ProxyConfig,
    private readonly listenerPort: number,
    private readonly adminPort: number,
    private readonly logBuffer: LogBuffer,
    private readonly baselinePort = 0,
  ) {
    super(started);
    this.configuration = envoyConfigurationValue(cfg.plugin.configuration);
  }

  get listenerUrl(): string {
    return `http://${hostForUrl(this.getHost())}:${this.getMappedPort(this.listenerPort)}`;
  }

  get adminUrl(): string {
    return `http://${hostForUrl(this.getHost())}:${this.getMappedPort(this.adminPort)}`;
  }

  /** The filter-less baseline listener (ProxyConfig.baselineListener), if configured. */
  get baselineUrl(): string | undefined {
    return this.baselinePort ? `http://${hostForUrl(this.getHost())}:${this.getMappedPort(this.baselinePort)}` : undefined;
  }

  /** CPU time (user + system) of the container so far, µs (Docker stats: cpu_stats.cpu_usage.total_usage, ns). */
  async cpuUsageUs(): Promise<number> {
    const { getContainerRuntimeClient } = await import("testcontainers");
    const client = await getContainerRuntimeClient();
    const stats = (await client.container.getById(this.getId()).stats({ stream: false })) as { cpu_stats?: { cpu_usage?: { total_usage?: number } } };
    const ns = stats.cpu_stats?.cpu_usage?.total_usage;
    if (typeof ns !== "number") throw new Error("container stats carry no cpu_stats.cpu_usage.total_usage");
    return ns / 1000;
  }

  /** Envoy's stdout/stderr so far (last 2000 lines), including the filter's proxy_log output. */
  logText(): string {
    return this.logBuffer.text();
  }

  logMark(): number {
    return this.logBuffer.mark();
  }

  logsSince(mark: number): string {
    return this.logBuffer.since(mark);
  }

  /**
   * Push a new plugin configuration through the watched ECDS file and wait until Envoy applied it.
   * An unchanged configuration is a no-op, as in Envoy (an update with the same typed_config hash
   * is skipped without touching config_reload).
   */
  async updatePluginConfiguration(given: string | Uint8Array): Promise<void> {
    const configuration = envoyConfigurationValue(given);
    if (sameConfiguration(configuration, this.configuration)) return;
    const versionInfo = String(++this.version);
    const cfg: ProxyConfig = { ...this.cfg, plugin: { ...this.cfg.plugin, configuration } };
    const resource = renderEcdsResource(cfg, { wasmPathInContainer: CONTAINER_PATHS.wasm, versionInfo });
    const before = await readEcdsCounters(this.adminUrl, this.cfg.plugin.name);
    await this.copyContentToContainer([{ content: toYaml(resource), target: CONTAINER_PATHS.ecdsTemp, mode: 0o644 }]);
    const mv = await this.exec(["mv", "-f", CONTAINER_PATHS.ecdsTemp, CONTAINER_PATHS.ecds]);
    if (mv.exitCode !== 0) throw new Error(`mv onto ${CONTAINER_PATHS.ecds} failed (${mv.exitCode}): ${mv.output}`);
    await awaitEcdsApplied(this.adminUrl, this.cfg.plugin.name, before, 10_000, () => this.logBuffer.tail(20));
    this.configuration = configuration;
  }
}

function hostForUrl(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** The `envoy` target: the pinned Envoy image under testcontainers. */
export const envoyContainerTarget: Target = {
  name: "envoy",
  async availability(): Promise<TargetAvailability> {
    try {
      const { getContainerRuntimeClient } = await import("testcontainers");
      await getContainerRuntimeClient();
      return { available: true };
    } catch (e) {
      return { available: false, reason: `no container runtime found (Docker/Podman socket): ${(e as Error).message}` };
    }
  },
  async start(cfg: ProxyConfig): Promise<StartedTarget> {
    const container = await new EnvoyContainer(cfg).start();
    return {
      target: "envoy",
      listenerUrl: container.listenerUrl,
      adminUrl: container.adminUrl,
      baselineUrl: container.baselineUrl,
      cpuUsageUs: () => container.cpuUsageUs(),
      updatePluginConfiguration: (configuration) => container.updatePluginConfiguration(configuration),
      logs: () => container.logText(),
      logMark: () => container.logMark(),
      logsSince: (mark) => container.logsSince(mark),
      stop: async () => {
        await container.stop();
      },
    };
  },
};

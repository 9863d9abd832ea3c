/**
 * The one interface every test and bench drives a proxy through. A scenario written against
 * Target runs unchanged on the embedded proxy-wasm host and on a real Envoy (container or local
 * binary); registry.ts picks the targets and skips the ones this machine cannot run.
 */
import type { ProxyConfig } from "../config/proxy-config.js";
import type { UpdateTiming } from "../host/plugin-host.js";
import type { VmMemory } from "../host/vm-memory.js";

export type TargetName = "embedded" | "envoy" | "envoy-local";

export const TARGET_NAMES: readonly TargetName[] = ["embedded", "envoy", "envoy-local"];

export interface TargetAvailability {
  available: boolean;
  /** Why the target cannot run here (one line, shown in the skip message). */
  reason?: string;
}

export interface Target {
  readonly name: TargetName;
  /** Cheap probe: can this target start on this machine? Never throws. */
  availability(): Promise<TargetAvailability>;
  /** Start a proxy for cfg; resolves once it serves traffic (Envoy: admin /ready is 200). */
  start(cfg: ProxyConfig): Promise<StartedTarget>;
}

export interface StartedTarget {
  /** Which target runs this proxy. */
  readonly target: TargetName;
  /** Base URL of the HTTP listener, e.g. http://127.0.0.1:10000 (no trailing slash). */
  readonly listenerUrl: string;
  /** Base URL of the admin interface (/ready, /stats, /stats/prometheus). */
  readonly adminUrl: string;
  /** Base URL of the filter-less baseline listener (ProxyConfig.baselineListener), when configured and supported. */
  readonly baselineUrl?: string;
  /** CPU time (user + system) the proxy process has used, in µs, when the target can measure it. */
  cpuUsageUs?(): Promise<number>;
  /**
   * CPU time (µs) and minor page faults (fresh memory touched) of the proxy process so far, read
   * together, when the proxy runs in a process of its own on this machine.
   */
  processUsage?(): Promise<{ cpuUs: number; minorPageFaults: number }>;
  /**
   * Where the last accepted plugin configuration update spent its time inside the proxy (canary,
   * then each VM), on the embedded host; null before the first update.
   */
  lastUpdateTiming?(): Promise<UpdateTiming | null>;
  /** Each VM's linear memory and the pages written in it (main, then the workers), on the embedded host in this process. */
  vmMemory?(): Promise<VmMemory[]>;
  /** The proxy's process id, when it runs in a process of its own on this machine. */
  readonly pid?: number;
  /**
   * Replace the plugin configuration (PluginConfig.configuration) the way ECDS does: new streams
   * get a new root context configured with it. Resolves once applied (embedded: every worker VM
   * runs it; Envoy: extension_config_discovery.http_filter.<name>.config_reload grew, the workers
   * pick it up for new streams right after). Rejects with a ConfigRejectedError when the proxy
   * refused it (the previous configuration then stays active). An unchanged configuration is a
   * no-op on every target. Bytes are the configuration as the proxy receives it (xDS carries
   * bytes): the embedded host hands them to the filter without a conversion of its own; the Envoy
   * targets send a snapshot configuration (binary) as a BytesValue, other bytes as their UTF-8 text.
   */
  updatePluginConfiguration(configuration: string | Uint8Array): Promise<void>;
  /** Recent proxy output (Envoy's log incl. the filter's proxy_log lines), for failure messages. */
  logs?(): string;
  /** A position in the log (lines seen so far), for logsSince(). */
  logMark?(): number;
  /** The log after a logMark() (robust to the buffer dropping old lines). */
  logsSince?(mark: number): string;
  stop(): Promise<void>;
}

/** Thrown (or reported as a failing test) when a target is required but cannot run. */
export class TargetUnavailableError extends Error {
  readonly code = "EDGEWATCH_TARGET_UNAVAILABLE";
  constructor(
    readonly target: TargetName,
    readonly reason: string,
  ) {
    super(`target ${target} is required (EDGEWATCH_REQUIRE_TARGET) but unavailable: ${reason}`);
    this.name = "TargetUnavailableError";
  }
}

/**
 * A plugin configuration the proxy refused (the filter's on_configure returned false, or Envoy
 * counted config_fail). The previous configuration stays active. One class and code for every
 * target, so a scenario asserts the rejection the same way on the embedded host and on Envoy.
 */
export class ConfigRejectedError extends Error {
  readonly code = "EDGEWATCH_CONFIG_REJECTED";
  constructor(
    readonly target: TargetName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ConfigRejectedError";
  }
}

/**
 * Envoy skips an update whose typed_config is unchanged: the same text, or the same bytes (a
 * configuration as envoyConfigurationValue() in envoy-config/bootstrap.ts gives it).
 */
export function sameConfiguration(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

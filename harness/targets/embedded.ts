/**
 * The `embedded` target: the in-process proxy-wasm host (harness/proxy/embedded-proxy.ts).
 * Imported lazily, so this file compiles and the other targets work while that module is missing.
 *
 * Like the Envoy targets it keeps the proxy's log (Envoy-style lines, the filter's proxy_log output
 * included) for logs(), and reports a refused plugin configuration as a ConfigRejectedError.
 */
import type { ProxyConfig } from "../config/proxy-config.js";
import type { HostLogger, HostLoggerOptions, LogEntry } from "../host/logger.js";
import type { UpdateTiming } from "../host/plugin-host.js";
import type { VmMemory } from "../host/vm-memory.js";
import { LogBuffer } from "./log-buffer.js";
import { ConfigRejectedError, type StartedTarget, type Target, type TargetAvailability } from "./target.js";

/** What harness/proxy/embedded-proxy.ts exports (its contract). */
export interface EmbeddedProxyHandle {
  listenerUrl: string;
  adminUrl: string;
  updatePluginConfiguration(configuration: string | Uint8Array): Promise<void>;
  /** The plugin host (its timing of the last configuration update, its VMs' memory). */
  readonly host: { readonly lastUpdate: UpdateTiming | null; memory(): VmMemory[] };
  close(): Promise<void>;
}
type StartEmbeddedProxy = (config: ProxyConfig, opts: { logger: HostLogger }) => Promise<EmbeddedProxyHandle>;

// Variable specifiers keep tsc from resolving modules that may not exist yet.
const EMBEDDED_PROXY_MODULE = "../proxy/embedded-proxy.js";
const LOGGER_MODULE = "../host/logger.js";

async function loadStartEmbeddedProxy(): Promise<StartEmbeddedProxy> {
  const mod = (await import(/* @vite-ignore */ EMBEDDED_PROXY_MODULE)) as { startEmbeddedProxy?: unknown };
  if (typeof mod.startEmbeddedProxy !== "function") {
    throw new Error("harness/proxy/embedded-proxy.ts does not export startEmbeddedProxy()");
  }
  return mod.startEmbeddedProxy as StartEmbeddedProxy;
}

/**
 * The proxy's logger options as the embedded targets run it: Envoy run with -l info
 * --component-log-level wasm:debug (the filter's own lines included), never to the test's stderr,
 * every line to `sink` formatted as Envoy prints it.
 */
export function targetLoggerOptions(sink: (line: string) => void): HostLoggerOptions {
  return { level: "info", componentLogLevel: "wasm:debug", stderrLevel: "off", capacity: 2000, sink: (e) => sink(`${formatLogEntry(e)}\n`) };
}

/** One Envoy-like log line: `[time][level][component] message`. */
export function formatLogEntry(e: LogEntry): string {
  return `[${new Date(e.time).toISOString()}][${e.level}][${e.component}]${e.vm ? ` [${e.vm}]` : ""} ${e.message}`;
}

export const embeddedTarget: Target = {
  name: "embedded",
  async availability(): Promise<TargetAvailability> {
    try {
      await loadStartEmbeddedProxy();
      return { available: true };
    } catch (e) {
      return { available: false, reason: `embedded proxy not loadable (harness/proxy/embedded-proxy.ts): ${(e as Error).message.split("\n")[0]}` };
    }
  },
  async start(cfg: ProxyConfig): Promise<StartedTarget> {
    const startEmbeddedProxy = await loadStartEmbeddedProxy();
    const { HostLogger } = (await import(/* @vite-ignore */ LOGGER_MODULE)) as typeof import("../host/logger.js");
    // Envoy's log goes to its own output, never to the test's stderr; the filter logs at wasm:debug
    // like the Envoy targets run it (-l info --component-log-level wasm:debug).
    const buffer = new LogBuffer(5000);
    const logger = new HostLogger(targetLoggerOptions((line) => buffer.push(line)));
    const proxy = await startEmbeddedProxy(cfg, { logger });
    return {
      target: "embedded",
      listenerUrl: proxy.listenerUrl,
      adminUrl: proxy.adminUrl,
      async updatePluginConfiguration(configuration) {
        try {
          await proxy.updatePluginConfiguration(configuration);
        } catch (e) {
          if ((e as { code?: string }).code === "PLUGIN_CONFIG_REJECTED") {
            throw new ConfigRejectedError("embedded", `${(e as Error).message}.\nLast log lines:\n${buffer.tail(20)}`, { cause: e });
          }
          throw e;
        }
      },
      lastUpdateTiming: async () => proxy.host.lastUpdate,
      vmMemory: async () => proxy.host.memory(),
      logs: () => buffer.text(),
      logMark: () => buffer.mark(),
      logsSince: (mark) => buffer.since(mark),
      stop: () => proxy.close(),
    };
  },
};

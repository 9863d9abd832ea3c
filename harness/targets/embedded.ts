/**
 * The `embedded` target: the in-process proxy-wasm host (harness/proxy/embedded-proxy.ts).
 * Imported lazily, so this file compiles and the other targets work while that module is missing.
 */
import type { ProxyConfig } from "../config/proxy-config.js";
import type { StartedTarget, Target, TargetAvailability } from "./target.js";

/** What harness/proxy/embedded-proxy.ts exports (its contract). */
export interface EmbeddedProxyHandle {
  listenerUrl: string;
  adminUrl: string;
  updatePluginConfiguration(configuration: string): Promise<void>;
  close(): Promise<void>;
}
type StartEmbeddedProxy = (config: ProxyConfig) => Promise<EmbeddedProxyHandle>;

// A variable specifier keeps tsc from resolving a module that may not exist yet.
const EMBEDDED_PROXY_MODULE = "../proxy/embedded-proxy.js";

async function loadStartEmbeddedProxy(): Promise<StartEmbeddedProxy> {
  const mod = (await import(/* @vite-ignore */ EMBEDDED_PROXY_MODULE)) as { startEmbeddedProxy?: unknown };
  if (typeof mod.startEmbeddedProxy !== "function") {
    throw new Error("harness/proxy/embedded-proxy.ts does not export startEmbeddedProxy()");
  }
  return mod.startEmbeddedProxy as StartEmbeddedProxy;
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
    const proxy = await startEmbeddedProxy(cfg);
    return {
      listenerUrl: proxy.listenerUrl,
      adminUrl: proxy.adminUrl,
      updatePluginConfiguration: (configuration) => proxy.updatePluginConfiguration(configuration),
      stop: () => proxy.close(),
    };
  },
};

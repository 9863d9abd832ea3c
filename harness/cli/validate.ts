/**
 * Rules validation through the filter's own .wasm: the document is handed to the filter exactly as
 * a push delivers it (plugin configuration `{"rules": <document>}`), on the embedded host's plugin
 * loader (base VM, canary, one worker — no listener), and the verdict is the filter's: accepted, or
 * rejected with the reason it logged. The CLI and the filter therefore cannot disagree.
 */
import type { WasmPluginConfig } from "../config/proxy-config.js";
import { defaultStatsConfig } from "../envoy-config/defaults.js";
import { HostError } from "../host/errors.js";
import { HostLogger } from "../host/logger.js";
import { PluginHost } from "../host/plugin-host.js";
import { StatsStore } from "../stats/stats-store.js";
import { envError, usageError } from "./exit-codes.js";

export interface FilterVerdict {
  accepted: boolean;
  /** Reason class the filter reported (json, schema, cidr, size, …) when rejected. */
  reason?: string;
  /** The filter's message (or the host's, if the filter logged nothing). */
  message: string;
  /** Filter log lines from the validation run (info and above). */
  log: string[];
}

const REJECT_LINE = /configuration rejected \(reason=([a-z_]+)\): (.*)$/;

/**
 * Load `configuration` into the filter (canary + one worker, as Envoy would) and report the
 * verdict. Throws CliError for environment problems (missing/invalid module).
 */
export async function validateWithFilter(wasmPath: string, configuration: string | Uint8Array): Promise<FilterVerdict> {
  const logger = new HostLogger({ level: "info", stderrLevel: "off" });
  const stats = new StatsStore(defaultStatsConfig());
  const plugin: WasmPluginConfig = {
    name: "edgewatch",
    rootId: "edgewatch",
    vmId: "edgewatch-validate",
    wasmPath,
    // Text or bytes (a snapshot configuration), as ProxyConfig carries them: no decoding here, so the
    // CLI and the filter cannot disagree.
    configuration,
    failOpen: false,
  };
  const wasmLines = () => logger.entries({ component: "wasm" }).map((e) => `[${e.level}]${e.vm ? `[${e.vm}]` : ""} ${e.message}`);
  let host: PluginHost | undefined;
  try {
    host = await PluginHost.load(plugin, { stats, logger, workers: 1 });
  } catch (err) {
    if (err instanceof HostError && err.code === "PLUGIN_CONFIG_REJECTED") {
      const line = logger.find(REJECT_LINE, "wasm")[0];
      const m = line ? REJECT_LINE.exec(line.message) : null;
      return {
        accepted: false,
        reason: m?.[1],
        message: m ? m[2].replace(/; keeping .*$/, "") : err.message,
        log: wasmLines(),
      };
    }
    if (err instanceof HostError) {
      const code = err.code;
      if (code === "WASM_FILE_NOT_FOUND") throw envError(err.message, "run `npm run build` (or pass --wasm)");
      throw usageError(`${wasmPath}: ${err.message}`);
    }
    throw err;
  } finally {
    await host?.close();
  }
  const applied = logger.find(/rules version .* applied/, "wasm")[0];
  const text = applied ? /(rules version .*)$/.exec(applied.message)?.[1] : undefined;
  return { accepted: true, message: text ?? "accepted by the filter", log: wasmLines() };
}

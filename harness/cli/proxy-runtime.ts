/**
 * Starting the embedded proxy from the CLI: loads harness/proxy/embedded-proxy.ts, maps host
 * errors to CLI exit codes with a clear message, and reads the filter's rejection reasons from the
 * host's captured log.
 */
import type { ProxyConfig } from "../config/proxy-config.js";
import type { HostLogger } from "../host/logger.js";
import { CliError, EXIT, envError, usageError } from "./exit-codes.js";

/** What the CLI uses of the embedded proxy (harness/proxy/embedded-proxy.ts). */
export interface RunningProxy {
  listenerUrl: string;
  adminUrl: string;
  /** Text (Envoy: StringValue) or the bytes of a snapshot configuration (BytesValue). */
  updatePluginConfiguration(configuration: string | Uint8Array): Promise<void>;
  /** An update that never reaches the filter (Envoy could not decode it): update_failure + config_fail. */
  configurationUpdateFailed(reason: string): void;
  close(): Promise<void>;
  /** The host's logger (captured filter log lines), when the proxy exposes it. */
  logger?: HostLogger;
  /** Raw handle for bench instrumentation. */
  raw: unknown;
}

/** The filter's rejection log lines: a pushed configuration, or a pulled rules document. */
const REJECT_LINE = /(?:configuration|pulled rules) rejected \(reason=([a-z_]+)\): (.*?)(?:; keeping .*)?$/;

export interface Rejection {
  reason?: string;
  message: string;
}

/** The newest "configuration rejected" line the filter logged after `since` (epoch ms). */
export function lastRejection(logger: HostLogger | undefined, since: number): Rejection | undefined {
  if (!logger) return undefined;
  const lines = logger.find(REJECT_LINE, "wasm").filter((e) => e.time >= since);
  const last = lines[lines.length - 1];
  if (!last) return undefined;
  const m = REJECT_LINE.exec(last.message)!;
  return { reason: m[1], message: m[2] };
}

// A variable specifier: the CLI still loads when the module is missing, and says so clearly.
const EMBEDDED_PROXY_MODULE = "../proxy/embedded-proxy.js";

type StartFn = (config: ProxyConfig, opts?: Record<string, unknown>) => Promise<Record<string, unknown>>;

async function loadStart(): Promise<StartFn> {
  let mod: { startEmbeddedProxy?: unknown };
  try {
    mod = (await import(/* @vite-ignore */ EMBEDDED_PROXY_MODULE)) as { startEmbeddedProxy?: unknown };
  } catch (err) {
    throw envError(`embedded proxy unavailable (harness/proxy/embedded-proxy.ts): ${(err as Error).message.split("\n")[0]}`);
  }
  if (typeof mod.startEmbeddedProxy !== "function") throw envError("harness/proxy/embedded-proxy.ts does not export startEmbeddedProxy()");
  return mod.startEmbeddedProxy as StartFn;
}

function findLogger(handle: Record<string, unknown>): HostLogger | undefined {
  const cands = [handle.logger, (handle.host as Record<string, unknown> | undefined)?.logger];
  for (const c of cands) if (c && typeof (c as HostLogger).find === "function") return c as HostLogger;
  return undefined;
}

/**
 * Start the embedded proxy. A configuration the filter rejects is exit 1 with the filter's reason;
 * a bad module is exit 2; a missing module/build is exit 3.
 */
export async function startProxy(config: ProxyConfig, opts: Record<string, unknown> = {}): Promise<RunningProxy> {
  const start = await loadStart();
  const since = Date.now();
  let handle: Record<string, unknown>;
  try {
    handle = await start(config, opts);
  } catch (err) {
    throw mapHostError(err, config, (opts.logger as HostLogger | undefined) ?? undefined, since);
  }
  return {
    listenerUrl: handle.listenerUrl as string,
    adminUrl: handle.adminUrl as string,
    updatePluginConfiguration: (c: string | Uint8Array) => (handle.updatePluginConfiguration as (c: string | Uint8Array) => Promise<void>)(c),
    configurationUpdateFailed: (reason: string) => (handle.configurationUpdateFailed as (r: string) => void)(reason),
    close: () => (handle.close as () => Promise<void>)(),
    logger: findLogger(handle),
    raw: handle,
  };
}

export function mapHostError(err: unknown, config: ProxyConfig, logger: HostLogger | undefined, since: number): Error {
  const e = err as { code?: string; message?: string };
  const msg = e?.message ?? String(err);
  switch (e?.code) {
    case "WASM_FILE_NOT_FOUND":
      return envError(`filter module not found: ${config.plugin.wasmPath}`, "run `npm run build` first (or pass --wasm)");
    case "WASM_ABI_VERSION_MISSING":
      return usageError(`${config.plugin.wasmPath} is not a proxy-wasm filter: ${msg} (no proxy_abi_version_* export)`);
    case "WASM_INVALID_MODULE":
    case "WASM_MISSING_IMPORT":
    case "WASM_IMPORT_TYPE_MISMATCH":
    case "WASM_BAD_EXPORT_SIGNATURE":
    case "WASM_MISSING_MALLOC":
    case "WASM_START_FAILED":
    case "WASM_RUNTIME_ERROR":
      return usageError(`${config.plugin.wasmPath}: ${msg}`);
    case "PLUGIN_CONFIG_REJECTED":
    case "PLUGIN_VM_START_REJECTED": {
      const r = lastRejection(logger, since);
      return new CliError(
        `the filter rejected its configuration${r ? `: [${r.reason}] ${r.message}` : `: ${msg}`}`,
        EXIT.CHECK_FAILED,
        "check the plugin configuration / rules (edgewatch rules validate FILE)",
      );
    }
    case "PROXY_CONFIG_INVALID":
      return usageError(`proxy configuration: ${msg}`);
  }
  if (/EADDRINUSE/.test(msg)) return usageError(`${msg}`, "choose another --port / --admin-port (0 picks a free one)");
  return err instanceof Error ? err : new Error(msg);
}

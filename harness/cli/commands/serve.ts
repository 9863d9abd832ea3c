import { existsSync, readFileSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { Command } from "commander";
import { parseIntOption } from "../args.js";
import { EXIT, usageError } from "../exit-codes.js";

export interface ServeOptions {
  config: string;
  rules?: string;
  port?: number;
  adminPort?: number;
  workers?: number;
  wasm?: string;
  debounce: number;
  logLevel: string;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description(
      "run a local dev proxy: the embedded proxy-wasm host with the filter, routes/clusters/plugin configuration from a file, " +
        "rules from a watched file (each change is pushed like ECDS) or from a rules service; runs until SIGINT/SIGTERM",
    )
    .requiredOption("-c, --config <file>", "proxy config (YAML or JSON, ProxyConfig-shaped; plugin configuration inline or plugin.configuration_file)")
    .option("-r, --rules <file>", "rules document (JSON) merged into the plugin configuration under \"rules\"; watched for changes")
    .option("-p, --port <port>", "listener port (overrides the config; 0 = any free port)", parseIntOption("--port", 0, 65535))
    .option("--admin-port <port>", "admin port (overrides the config; 0 = any free port)", parseIntOption("--admin-port", 0, 65535))
    .option("-w, --workers <n>", "worker VMs (Envoy --concurrency)", parseIntOption("--workers", 1, 64))
    .option("--wasm <path>", "filter module (default: build/edgewatch.wasm or the config's plugin.wasmPath)")
    .option("--debounce <ms>", "wait this long after a rules file change before reloading", parseIntOption("--debounce", 0, 60_000), 150)
    .option("--log-level <level>", "filter log lines printed to stderr at or above: trace|debug|info|warn|error|off", "warn")
    .addHelpText(
      "after",
      `
Rules from a file: every change is validated by the filter (the new configuration goes to a canary
VM first, as Envoy's ECDS does); an invalid document is reported with the filter's reason and the
previous rules keep serving. Rules from a service: set plugin.configuration.rules_service.cluster to
a cluster of the config; the filter pulls by itself.

Exit codes: 0 stopped by SIGINT/SIGTERM, 1 the filter rejected the initial configuration,
2 bad config file / options / port in use, 3 the filter build or the embedded host is missing.

Example:
  edgewatch serve --config examples/proxy.yaml --rules rules.json --port 10000 --admin-port 9901`,
    )
    .action(async (opts: ServeOptions) => {
      process.exitCode = await runServe(opts);
    });
}

export async function runServe(opts: ServeOptions): Promise<number> {
  const { loadProxyConfigFile, readRulesText, withRules } = await import("../config-file.js");
  const { checkWasm } = await import("../env.js");
  const { HostLogger } = await import("../../host/logger.js");
  const { startProxy, lastRejection } = await import("../proxy-runtime.js");
  const levels = ["trace", "debug", "info", "warn", "error", "critical", "off"];
  if (!levels.includes(opts.logLevel)) throw usageError(`--log-level must be one of ${levels.join(", ")}`);

  const loaded = loadProxyConfigFile(opts.config, {
    port: opts.port,
    adminPort: opts.adminPort,
    workers: opts.workers,
    wasm: opts.wasm,
  });
  await checkWasm(loaded.config.plugin.wasmPath);

  let rulesText: string | undefined;
  const rulesPath = opts.rules ? resolve(opts.rules) : undefined;
  if (rulesPath) {
    if (!existsSync(rulesPath)) throw usageError(`rules file not found: ${rulesPath}`);
    const r = readRulesText(rulesPath);
    if ("error" in r) throw usageError(`${rulesPath}: ${r.error}`);
    rulesText = r.text;
    loaded.config.plugin.configuration = withRules(loaded.plugin, rulesText);
  }

  const logger = new HostLogger({ level: "info", stderrLevel: opts.logLevel as "info" });
  const proxy = await startProxy(loaded.config, { logger });
  const cfg = loaded.config;
  process.stdout.write(
    [
      `edgewatch serve: ${cfg.workers} worker VM(s), filter ${cfg.plugin.wasmPath}`,
      `  listener  ${proxy.listenerUrl}`,
      `  admin     ${proxy.adminUrl}  (GET /ready, /stats/prometheus, /stats?format=json)`,
      `  routes    ${cfg.routes.map((r) => `${r.name}:${r.match.prefix ?? r.match.path}→${r.cluster}`).join(", ")}`,
      rulesPath ? `  rules     ${rulesPath} (watched)` : pullLine(loaded.plugin),
      "  Ctrl-C to stop",
      "",
    ].join("\n"),
  );

  // --- rules file watch ---------------------------------------------------------------------------
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reloading = Promise.resolve();
  const reload = async () => {
    if (!rulesPath) return;
    let text: string;
    try {
      text = readFileSync(rulesPath, "utf8").trim();
    } catch (err) {
      process.stderr.write(`rules: cannot read ${rulesPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; keeping the current rules\n`);
      return;
    }
    if (text === rulesText) return; // an editor touched the file without changing it
    try {
      JSON.parse(text);
    } catch (err) {
      process.stderr.write(`rules rejected: [json] malformed JSON: ${(err as Error).message}; keeping the current rules\n`);
      return;
    }
    const since = Date.now();
    const t0 = performance.now();
    try {
      await proxy.updatePluginConfiguration(withRules(loaded.plugin, text));
      rulesText = text;
      const ms = (performance.now() - t0).toFixed(1);
      const version = (/"version"\s*:\s*(\d+)/.exec(text) ?? [])[1];
      process.stdout.write(`rules reloaded: version ${version ?? "?"} applied on every worker in ${ms} ms\n`);
    } catch (err) {
      const r = lastRejection(proxy.logger, since);
      process.stderr.write(
        `rules rejected: ${r ? `[${r.reason}] ${r.message}` : (err as Error).message}; keeping the current rules\n`,
      );
    }
  };
  if (rulesPath) {
    // Watch the directory: editors replace files by rename, which ends a watch on the file itself.
    const name = basename(rulesPath);
    watcher = watch(dirname(rulesPath), (_event, file) => {
      if (file !== null && file !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        reloading = reloading.then(reload);
      }, opts.debounce);
    });
  }

  // --- run until a signal --------------------------------------------------------------------------
  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`edgewatch serve: ${sig} again, exiting now\n`);
        process.exit(EXIT.OK);
      }
      stopping = true;
      process.stdout.write(`edgewatch serve: ${sig}, shutting down\n`);
      resolveStop();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  if (timer) clearTimeout(timer);
  watcher?.close();
  await reloading;
  await proxy.close();
  process.stdout.write("edgewatch serve: stopped\n");
  return EXIT.OK;
}

function pullLine(plugin: Record<string, unknown>): string {
  const rs = plugin.rules_service as { cluster?: string } | undefined;
  if (rs?.cluster) return `  rules     pulled from cluster ${rs.cluster} by the filter`;
  const inline = plugin.rules !== undefined;
  return `  rules     ${inline ? "inline in the plugin configuration" : "none (no --rules, no rules_service)"}`;
}

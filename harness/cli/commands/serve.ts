import { existsSync, readFileSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { Command } from "commander";
import { parseIntOption } from "../args.js";
import { EXIT, checkFailed, usageError } from "../exit-codes.js";
import type { Delivery } from "../rules-splice.js";

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
    .requiredOption(
      "-c, --config <file>",
      "proxy config (YAML or JSON, ProxyConfig-shaped; plugin configuration inline or plugin.configuration_file, JSON or a binary snapshot configuration)",
    )
    .option("-r, --rules <file>", "rules document (JSON) merged into the plugin configuration under \"rules\" (a snapshot configuration: built into its snapshot); watched for changes")
    .option("-p, --port <port>", "listener port (overrides the config; 0 = any free port)", parseIntOption("--port", 0, 65535))
    .option("--admin-port <port>", "admin port (overrides the config; 0 = any free port)", parseIntOption("--admin-port", 0, 65535))
    .option("-w, --workers <n>", "worker VMs (Envoy --concurrency)", parseIntOption("--workers", 1, 64))
    .option("--wasm <path>", "filter module (default: build/edgewatch.wasm or the config's plugin.wasmPath)")
    .option("--debounce <ms>", "wait this long after a rules file change before reloading", parseIntOption("--debounce", 0, 60_000), 150)
    .option("--log-level <level>", "filter log lines printed to stderr at or above: trace|debug|info|warn|error|off", "warn")
    .addHelpText(
      "after",
      `
Rules from a file: the file is this proxy's ECDS resource (the plugin configuration with the file as
its "rules"). Every change goes to a canary VM first, as Envoy's ECDS does; a document the filter
rejects is reported with the filter's reason and position, counted by the filter
(edgewatch_rules_reload_failures_total{reason}) and by the proxy (config_fail, update_rejected), and the
previous rules keep serving. A file that is not UTF-8 (or cannot be read) never reaches the filter, as
in Envoy: it is counted in config_fail and update_failure only. Rules from a service: set
plugin.configuration.rules_service.cluster to a cluster of the config; the filter pulls by itself and
serve prints each pulled version and each rejected document.
A plugin.configuration_file that is a snapshot configuration (binary, from \`rules snapshot --plugin\`;
recognised by its content) is the plugin configuration byte for byte. With --rules, each version of the
file is built into a snapshot by the filter's own .wasm and pushed as a snapshot configuration with the
same settings; a document the builder rejects (not UTF-8 included) is reported with its position and
never pushed. Settings with rules_signing cannot take --rules: serve holds no key, so the filter rejects
the rebuilt snapshot (exit 1 at start).
The CLI's own lines carry an ISO 8601 timestamp; the proxy's log lines (--log-level) are shown as
"<time> filter[<vm>] <level>: <message>" or "<time> proxy[<vm>] <level>: <message>".

Exit codes: 0 stopped by SIGINT/SIGTERM, 1 the filter rejected the initial configuration (or the rules
file is not UTF-8), 2 bad config file / options / port in use, 3 the filter build or the embedded host
is missing.

Examples:
  edgewatch serve --config harness/cli/examples/serve.yaml --rules harness/cli/examples/rules.json
  edgewatch serve --config proxy.yaml --rules rules.json --port 10000 --admin-port 9901`,
    )
    .action(async (opts: ServeOptions) => {
      process.exitCode = await runServe(opts);
    });
}

export async function runServe(opts: ServeOptions): Promise<number> {
  const { loadProxyConfigFile } = await import("../config-file.js");
  const { checkWasm } = await import("../env.js");
  const { HostLogger } = await import("../../host/logger.js");
  const { startProxy, lastRejection } = await import("../proxy-runtime.js");
  const { firstInvalidUtf8, locateByteOffset } = await import("../document-location.js");
  const { spliceRules } = await import("../rules-splice.js");
  const { frameSnapshotConfiguration, readSnapshotConfiguration } = await import("../../rules/snapshot-configuration.js");
  const { SnapshotBuilder } = await import("../../rules/snapshot-builder.js");
  const { placeRulesVerdict } = await import("../rules-validate.js");
  const { cliLine, logView, filterMessage, CANARY_REJECTED, CONFIG_REJECTED } = await import("../log-view.js");
  const { escapeTerminal } = await import("../terminal-text.js");
  const levels = ["trace", "debug", "info", "warn", "error", "critical", "off"];
  if (!levels.includes(opts.logLevel)) throw usageError(`--log-level must be one of ${levels.join(", ")}`);

  const loaded = loadProxyConfigFile(opts.config, {
    port: opts.port,
    adminPort: opts.adminPort,
    workers: opts.workers,
    wasm: opts.wasm,
  });
  await checkWasm(loaded.config.plugin.wasmPath);
  const rulesPath = opts.rules ? resolve(opts.rules) : undefined;
  const shown = rulesPath ? escapeTerminal(opts.rules!) : "";

  /**
   * The rules file is this proxy's ECDS resource: the plugin configuration with the file's bytes as
   * its "rules". Envoy carries the configuration as a protobuf string, so bytes that are not UTF-8
   * never reach the filter (the subscription cannot decode them); everything else is the filter's
   * to judge.
   */
  const notUtf8 = (bytes: Uint8Array): string | undefined => {
    const bad = firstInvalidUtf8(bytes);
    if (bad < 0) return undefined;
    const at = locateByteOffset(bytes, bad);
    return `${shown}:${at.line}:${at.column}: not valid UTF-8 (an ECDS resource is UTF-8 text)`;
  };
  const configurationWith = (bytes: Uint8Array) => spliceRules(loaded.plugin, bytes);

  /**
   * A snapshot configuration (binary) carries its rules as a snapshot: with --rules, each version of
   * the file is built into a snapshot by the filter's own .wasm (as `rules snapshot --plugin` does)
   * and framed with the configuration's own settings bytes; that new snapshot configuration is
   * pushed. A document the builder rejects is never pushed.
   */
  let snapshotSettings: Uint8Array | undefined;
  let builder: import("../../rules/snapshot-builder.js").SnapshotBuilder | undefined;
  if (rulesPath && loaded.snapshotConfiguration) {
    const frame = readSnapshotConfiguration(loaded.snapshotConfiguration);
    if ("error" in frame) {
      throw checkFailed(`${escapeTerminal(loaded.pluginSource.path)}: the snapshot configuration does not read (${frame.error}); its settings cannot take --rules`, "edgewatch rules validate --config PROXY_CONFIG");
    }
    snapshotSettings = frame.settings;
    try {
      builder = await SnapshotBuilder.load(loaded.config.plugin.wasmPath);
    } catch (err) {
      throw usageError((err as Error).message);
    }
  }
  /** The filter's complaint about the rules file (`bytes`, delivered as `d`), placed in the file. */
  const complaint = (bytes: Uint8Array, d: Delivery, r: { reason?: string; message: string }): string => {
    const v = placeRulesVerdict({ name: shown }, bytes, d, { reason: r.reason, message: r.message, log: [] });
    const where = v.line !== undefined ? `${shown}:${v.line}:${v.column}: ` : "";
    return `${where}[${v.reason}] ${escapeTerminal(v.message)}${v.hint ? ` (${v.hint})` : ""}`;
  };
  /** The rules file as a snapshot configuration with the same settings, or the builder's complaint. */
  const snapshotWith = (bytes: Uint8Array): { configuration: Buffer } | { complaint: string } => {
    const r = builder!.build(bytes);
    if (r.ok) return { configuration: frameSnapshotConfiguration(snapshotSettings!, r.snapshot!) };
    return { complaint: complaint(bytes, { configuration: bytes, offset: 0, spliced: false }, { reason: r.reason, message: r.message ?? "" }) };
  };

  let rulesBytes: Buffer | undefined;
  if (rulesPath) {
    if (!existsSync(rulesPath)) throw usageError(`rules file not found: ${rulesPath}`);
    rulesBytes = readFileSync(rulesPath);
    if (builder) {
      const s = snapshotWith(rulesBytes);
      if ("complaint" in s) throw checkFailed(`rules rejected by the filter (building the snapshot): ${s.complaint}`, "edgewatch rules validate FILE");
      loaded.config.plugin.configuration = s.configuration;
    } else {
      const bad = notUtf8(rulesBytes);
      if (bad) throw checkFailed(`rules rejected before the filter: ${bad}`, "save the rules file as UTF-8 (edgewatch rules validate FILE)");
      loaded.config.plugin.configuration = Buffer.from(configurationWith(rulesBytes).configuration).toString("utf8");
    }
  }

  // What serves now, for the "stays in force" part of a rejection.
  let inForce = rulesPath || loaded.plugin.rules !== undefined || loaded.snapshotConfiguration ? "the previous rules" : "the previous configuration";
  let updating = false;
  const cluster = (loaded.plugin.rules_service as { cluster?: string } | undefined)?.cluster;
  const handle = (e: import("../../host/logger.js").LogEntry): boolean => {
    const own = filterMessage(e);
    if (own !== undefined) {
      const applied = /^rules version (\d+) applied from plugin configuration/.exec(own);
      if (applied) inForce = `rules version ${applied[1]}`;
      // Pull: the fetcher VM publishes a new document to every VM (harness: one line, not one per VM).
      const pulled = /^rules version (\d+) published \(([^;]*)/.exec(own);
      if (pulled) {
        inForce = `rules version ${pulled[1]}`;
        cliLine(`rules reloaded: version ${pulled[1]} pulled from cluster ${cluster ?? "?"} and published to every worker (${pulled[2]})`);
        return true;
      }
      const rejectedPull = /^pulled rules rejected \(reason=([a-z_]+)\): (.*?)(?:; keeping (.*))?$/.exec(own);
      if (rejectedPull) {
        cliLine(`rules rejected by the filter (pulled from cluster ${cluster ?? "?"}): [${rejectedPull[1]}] ${escapeTerminal(rejectedPull[2])}; ${rejectedPull[3] ?? inForce} stays in force`, process.stderr);
        return true;
      }
      // A rejection of an update this command made is reported below, in one line.
      if (updating && CONFIG_REJECTED.test(own)) return true;
    } else if (updating && CANARY_REJECTED.test(e.message)) return true;
    // Updates that never reached the filter: reported below with the file position.
    else if (e.component === "config" && /^Filesystem config update failure/.test(e.message)) return true;
    return false;
  };
  const logger = new HostLogger({ level: "info", stderrLevel: "off", sink: logView({ level: opts.logLevel as "warn", handle }) });
  // A rejected initial configuration is reported once, by the CLI error below (exit 1).
  updating = true;
  const proxy = await startProxy(loaded.config, { logger }).finally(() => {
    updating = false;
  });
  const cfg = loaded.config;
  // Signal handlers before the ready lines: a SIGTERM sent as soon as they are read must find its
  // handler (without one, Node's default ends the process at once, with no exit code).
  let stopping = false;
  let resolveStop = () => {};
  const stopped = new Promise<void>((r) => (resolveStop = r));
  const stop = (sig: NodeJS.Signals) => {
    if (stopping) {
      cliLine(`edgewatch serve: ${sig} again, exiting now`, process.stderr);
      process.exit(EXIT.OK);
    }
    stopping = true;
    cliLine(`edgewatch serve: ${sig}, shutting down`);
    resolveStop();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.stdout.write(
    [
      `edgewatch serve (started ${new Date().toISOString()}): ${cfg.workers} worker VM(s), filter ${cfg.plugin.wasmPath}`,
      `  listener  ${proxy.listenerUrl}`,
      `  admin     ${proxy.adminUrl}  (GET /ready, /stats/prometheus, /stats?format=json)`,
      `  routes    ${cfg.routes.map((r) => `${r.name}:${r.match.prefix ?? r.match.path}→${r.cluster}`).join(", ")}`,
      rulesPath
        ? `  rules     ${rulesPath} (watched; ${inForce === "the previous rules" ? "loaded" : inForce}${builder ? "; each version pushed as a snapshot configuration" : ""})`
        : pullLine(loaded.plugin, loaded.snapshotConfiguration !== undefined),
      "  Ctrl-C to stop",
      "",
    ].join("\n"),
  );

  // --- rules file watch ---------------------------------------------------------------------------
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reloading = Promise.resolve();
  const rejected = (why: string) => cliLine(`rules rejected ${why}; ${inForce} stays in force`, process.stderr);
  const reload = async () => {
    if (!rulesPath) return;
    let bytes: Buffer;
    try {
      bytes = readFileSync(rulesPath);
    } catch (err) {
      const why = `cannot read ${shown}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      proxy.configurationUpdateFailed(why);
      rejected(`before the filter: ${why} (counted in config_fail, update_failure)`);
      return;
    }
    if (rulesBytes && bytes.equals(rulesBytes)) {
      cliLine(`rules file ${shown} saved without changes; ${inForce} stays in force`);
      return;
    }
    if (builder) {
      const s = snapshotWith(bytes);
      if ("complaint" in s) {
        rejected(`by the filter (building the snapshot; nothing pushed): ${s.complaint}`);
        return;
      }
      await push(bytes, s.configuration, (r) => `by the filter: [${r.reason}] ${escapeTerminal(r.message)}`);
      return;
    }
    const bad = notUtf8(bytes);
    if (bad) {
      proxy.configurationUpdateFailed(bad);
      rejected(`before the filter: ${bad} (counted in config_fail, update_failure)`);
      return;
    }
    const d = configurationWith(bytes);
    await push(bytes, Buffer.from(d.configuration).toString("utf8"), (r) => `by the filter: ${complaint(bytes, d, r)}`);
  };
  /** Push `configuration` (from the rules file's `bytes`); `filterSays` words the filter's rejection. */
  const push = async (bytes: Buffer, configuration: string | Uint8Array, filterSays: (r: import("../proxy-runtime.js").Rejection) => string) => {
    const since = Date.now();
    const t0 = performance.now();
    updating = true;
    try {
      await proxy.updatePluginConfiguration(configuration);
      rulesBytes = bytes;
      const ms = (performance.now() - t0).toFixed(1);
      const applied = logger.find(/rules version \d+ applied from plugin configuration/, "wasm").filter((e) => e.time >= since)[0];
      const what = applied ? /rules version (\d+) applied from plugin configuration \(([^)]*)\)/.exec(applied.message) : null;
      cliLine(`rules reloaded: version ${what?.[1] ?? "?"} applied on every worker in ${ms} ms${what ? ` (${what[2]})` : ""}`);
    } catch (err) {
      const r = lastRejection(proxy.logger, since);
      rejected(r ? filterSays(r) : `by the proxy: ${escapeTerminal((err as Error).message)}`);
    } finally {
      updating = false;
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
  await stopped;
  if (timer) clearTimeout(timer);
  watcher?.close();
  await reloading;
  await proxy.close();
  cliLine("edgewatch serve: stopped");
  return EXIT.OK;
}

function pullLine(plugin: Record<string, unknown>, snapshot: boolean): string {
  const rs = plugin.rules_service as { cluster?: string } | undefined;
  if (rs?.cluster) return `  rules     pulled from cluster ${rs.cluster} by the filter`;
  if (snapshot) return "  rules     the snapshot of the snapshot configuration (plugin.configuration_file)";
  const inline = plugin.rules !== undefined;
  return `  rules     ${inline ? "inline in the plugin configuration" : "none (no --rules, no rules_service)"}`;
}

/**
 * The `envoy-local` target: an `envoy` binary from PATH (or EDGEWATCH_ENVOY_BIN) run as a child
 * process with the same generated config as the container target, in a temp directory.
 *
 * Ports 0 in the ProxyConfig are allowed: Envoy writes the admin address to --admin-address-path
 * and the listener's bound port is read from /listeners?format=json. --disable-hot-restart lets
 * several instances run side by side without shared-memory base-id clashes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ProxyConfig } from "../config/proxy-config.js";
import { BASELINE_LISTENER_NAME, envoyCommandArgs, envoyConfigurationValue, LISTENER_NAME, renderEcdsBootstrap, renderEcdsResource, toYaml } from "../envoy-config/bootstrap.js";

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on Linux x86-64 and arm64). */
const CLOCK_TICKS_PER_SECOND = 100;
import { assertValidEcdsPair } from "../envoy-config/validate.js";
import { awaitEcdsApplied, listenerPort, readEcdsCounters, sleep, waitForReady } from "./envoy-admin.js";
import { LogBuffer } from "./log-buffer.js";
import { sameConfiguration, type StartedTarget, type Target, type TargetAvailability } from "./target.js";

export const ENVOY_BIN_ENV = "EDGEWATCH_ENVOY_BIN";
const STARTUP_TIMEOUT_MS = 30_000;

/** EDGEWATCH_ENVOY_BIN, else the first executable `envoy` on PATH. */
export function findEnvoyBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env[ENVOY_BIN_ENV]?.trim();
  if (explicit) return isExecutable(explicit) ? path.resolve(explicit) : undefined;
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, "envoy");
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** `envoy --version` output, or an Error describing why it did not run. */
function envoyVersion(bin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["--version"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else reject(new Error(`${bin} --version exited with ${code}: ${out.trim().slice(0, 200)}`));
    });
  });
}

// Children still running when the test process exits are killed, never left behind.
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

class LocalEnvoy implements StartedTarget {
  readonly target = "envoy-local" as const;
  private version = 1;
  private configuration: string | Uint8Array;

  constructor(
    readonly listenerUrl: string,
    readonly adminUrl: string,
    private readonly cfg: ProxyConfig,
    private readonly child: ChildProcess,
    /** Temp directory with envoy.yaml and ecds/ (removed by stop()). */
    readonly dir: string,
    private readonly ecdsPath: string,
    private readonly logBuffer: LogBuffer,
    /** The filter-less baseline listener (ProxyConfig.baselineListener), if configured. */
    readonly baselineUrl?: string,
  ) {
    this.configuration = envoyConfigurationValue(cfg.plugin.configuration);
  }

  /** CPU time (user + system) of the Envoy process so far, µs (/proc/<pid>/stat utime + stime). */
  async cpuUsageUs(): Promise<number> {
    const stat = await fs.promises.readFile(`/proc/${this.child.pid}/stat`, "utf8");
    // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(f[11]) + Number(f[12]);
    return (ticks / CLOCK_TICKS_PER_SECOND) * 1e6;
  }

  /** As StartedEnvoyContainer.updatePluginConfiguration: an unchanged configuration is a no-op. */
  async updatePluginConfiguration(given: string | Uint8Array): Promise<void> {
    const configuration = envoyConfigurationValue(given);
    if (sameConfiguration(configuration, this.configuration)) return;
    const versionInfo = String(++this.version);
    const cfg: ProxyConfig = { ...this.cfg, plugin: { ...this.cfg.plugin, configuration } };
    const resource = renderEcdsResource(cfg, { versionInfo });
    const before = await readEcdsCounters(this.adminUrl, this.cfg.plugin.name);
    // Same directory, then rename: Envoy's file watch only reacts to a move onto the path.
    const tmp = path.join(path.dirname(this.ecdsPath), `.${path.basename(this.ecdsPath)}.${versionInfo}`);
    await fs.promises.writeFile(tmp, toYaml(resource));
    await fs.promises.rename(tmp, this.ecdsPath);
    await awaitEcdsApplied(this.adminUrl, this.cfg.plugin.name, before, 10_000, () => this.logBuffer.tail(20), "envoy-local");
    this.configuration = configuration;
  }

  logs(): string {
    return this.logBuffer.text();
  }

  logMark(): number {
    return this.logBuffer.mark();
  }

  logsSince(mark: number): string {
    return this.logBuffer.since(mark);
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    live.delete(this.child);
    await fs.promises.rm(this.dir, { recursive: true, force: true });
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timedOut = await Promise.race([exited.then(() => false), sleep(5000).then(() => true)]);
  if (timedOut) {
    child.kill("SIGKILL");
    await exited;
  }
}

function loopbackFor(address: string): string {
  if (address === "0.0.0.0" || address === "") return "127.0.0.1";
  if (address === "::") return "[::1]";
  return address.includes(":") ? `[${address}]` : address;
}

async function readAdminAddress(file: string, child: ChildProcess, logs: LogBuffer, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`envoy exited with ${child.exitCode} during startup:\n${logs.tail(40)}`);
    try {
      const text = (await fs.promises.readFile(file, "utf8")).trim();
      if (text) return text;
    } catch {
      // not written yet
    }
    await sleep(50);
  }
  throw new Error(`envoy did not write its admin address within ${timeoutMs} ms:\n${logs.tail(40)}`);
}

export const envoyLocalTarget: Target = {
  name: "envoy-local",
  async availability(): Promise<TargetAvailability> {
    const bin = findEnvoyBinary();
    if (!bin) {
      const where = process.env[ENVOY_BIN_ENV] ? `${ENVOY_BIN_ENV}=${process.env[ENVOY_BIN_ENV]} is not an executable file` : "which envoy: not found";
      return { available: false, reason: `no envoy binary on PATH (${where})` };
    }
    try {
      await envoyVersion(bin);
      return { available: true };
    } catch (e) {
      return { available: false, reason: `${bin} does not run: ${(e as Error).message}` };
    }
  },

  async start(cfg: ProxyConfig): Promise<StartedTarget> {
    const bin = findEnvoyBinary();
    if (!bin) throw new Error("no envoy binary on PATH");
    const wasm = path.resolve(cfg.plugin.wasmPath);
    if (!fs.existsSync(wasm)) throw new Error(`wasm module not found: ${wasm} (run npm run build:filter)`);

    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "edgewatch-envoy-"));
    const ecdsPath = path.join(dir, "ecds", "edgewatch-filter.yaml");
    const configPath = path.join(dir, "envoy.yaml");
    const adminFile = path.join(dir, "admin-address");
    await fs.promises.mkdir(path.dirname(ecdsPath));
    const bootstrap = renderEcdsBootstrap(cfg, { ecds: { path: ecdsPath } });
    const resource = renderEcdsResource(cfg, { versionInfo: "1" });
    assertValidEcdsPair(bootstrap, resource, { checkPluginConfiguration: false });
    await fs.promises.writeFile(configPath, toYaml(bootstrap));
    await fs.promises.writeFile(ecdsPath, toYaml(resource));

    const args = envoyCommandArgs(cfg, configPath, [
      "-l", "info",
      "--component-log-level", "wasm:debug",
      "--disable-hot-restart",
      "--admin-address-path", adminFile,
    ]);
    const logs = new LogBuffer();
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    logs.attach(child.stdout!);
    logs.attach(child.stderr!);
    try {
      const adminAddress = await readAdminAddress(adminFile, child, logs, STARTUP_TIMEOUT_MS);
      const sep = adminAddress.lastIndexOf(":");
      const adminUrl = `http://${loopbackFor(adminAddress.slice(0, sep))}:${adminAddress.slice(sep + 1)}`;
      await waitForReady(adminUrl, STARTUP_TIMEOUT_MS, () => (child.exitCode !== null ? `exit ${child.exitCode}\n${logs.tail(40)}` : undefined));
      const port = cfg.listener.port || (await listenerPort(adminUrl, LISTENER_NAME));
      const listenerUrl = `http://${loopbackFor(cfg.listener.address)}:${port}`;
      let baselineUrl: string | undefined;
      if (cfg.baselineListener) {
        const bport = cfg.baselineListener.port || (await listenerPort(adminUrl, BASELINE_LISTENER_NAME));
        baselineUrl = `http://${loopbackFor(cfg.baselineListener.address)}:${bport}`;
      }
      return new LocalEnvoy(listenerUrl, adminUrl, cfg, child, dir, ecdsPath, logs, baselineUrl);
    } catch (e) {
      await stopChild(child);
      live.delete(child);
      await fs.promises.rm(dir, { recursive: true, force: true });
      throw e;
    }
  },
};

// `edgewatch serve` as a user runs it, for tests: writes a proxy config in a temp folder, spawns the
// real executable (node harness/cli/bin.mjs serve …), waits for the listener and admin URLs, keeps
// the combined output, and kills the process (SIGKILL past a bound) on stop().
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = resolve(ROOT, "harness/cli/bin.mjs");

export interface ServeProcess {
  dir: string;
  listenerUrl: string;
  adminUrl: string;
  /** stdout + stderr so far. */
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface ServeOptions {
  upstreamPort: number;
  /** Plugin configuration (object, merged into the config file). */
  plugin?: Record<string, unknown>;
  /** A plugin configuration file instead (written to plugin.bin, named by plugin.configuration_file). */
  pluginFile?: Uint8Array;
  /** Initial rules document text (written to rules.json and passed as --rules). */
  rules?: string;
  workers?: number;
  /** More clusters (e.g. a rules service the plugin configuration pulls from). */
  clusters?: Array<{ name: string; address?: string; port: number }>;
  extraArgs?: string[];
}

export async function startServe(opts: ServeOptions): Promise<ServeProcess> {
  const dir = mkdtempSync(join(tmpdir(), "ew-serve-"));
  const cfg = join(dir, "proxy.json");
  if (opts.pluginFile !== undefined) writeFileSync(join(dir, "plugin.bin"), opts.pluginFile);
  writeFileSync(
    cfg,
    JSON.stringify({
      listener: { address: "127.0.0.1", port: 0 },
      admin: { address: "127.0.0.1", port: 0 },
      workers: opts.workers ?? 2,
      xffNumTrustedHops: 1,
      routes: [{ name: "api", match: { prefix: "/" }, cluster: "app" }],
      clusters: [{ name: "app", address: "127.0.0.1", port: opts.upstreamPort }, ...(opts.clusters ?? [])],
      plugin:
        opts.pluginFile !== undefined
          ? { configuration_file: "plugin.bin" }
          : { configuration: opts.plugin ?? { client_address: { source: "xff", xff_trusted_hops: 1 }, tracing: { enabled: false } } },
      stats: { flushIntervalMs: 1000, flushOnAdmin: true },
    }),
  );
  const args = [BIN, "serve", "--config", cfg, "--debounce", "50"];
  if (opts.rules !== undefined) {
    writeFileSync(join(dir, "rules.json"), opts.rules);
    args.push("--rules", join(dir, "rules.json"));
  }
  args.push(...(opts.extraArgs ?? []));
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const waitFor = (pattern: RegExp, timeoutMs = 20_000) => {
    const started = Date.now();
    return new Promise<RegExpMatchArray>((res, rej) => {
      const tick = () => {
        const m = out.match(pattern);
        if (m) return res(m);
        if (child.exitCode !== null) return rej(new Error(`serve exited (${child.exitCode}) before ${pattern}; output:\n${out}`));
        if (Date.now() - started > timeoutMs) return rej(new Error(`timed out waiting for ${pattern}; output so far:\n${out}`));
        setTimeout(tick, 25);
      };
      tick();
    });
  };
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    }
    return child.exitCode;
  };
  try {
    const listenerUrl = (await waitFor(/listener\s+(http:\/\/127\.0\.0\.1:\d+)/))[1];
    const adminUrl = (await waitFor(/admin\s+(http:\/\/127\.0\.0\.1:\d+)/))[1];
    return { dir, listenerUrl, adminUrl, output: () => out, waitFor, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The `embedded` target with the proxy in a process of its own (embedded-process-child.ts), as Envoy
 * is: the benches' probes, rules service and upstream then share neither the proxy's JS thread nor
 * its heap, so a reload's latency holds the proxy's work only, not the probe client's parsing and
 * garbage collections (in-process, every HTTP exchange of a probe runs client, proxy and upstream
 * on one event loop). The proxy is the same startEmbeddedProxy; what differs is how a configuration
 * reaches it and where CPU time is read (the proxy process only). A pushed configuration travels
 * the way the Envoy targets send theirs (ECDS from a file): written to a file, whose path goes over
 * IPC, read by the proxy process (through the IPC pipe itself, a 700 KB snapshot configuration took
 * the proxy ~4 ms more CPU than reading the file). The test suite keeps the in-process target (embedded.ts) for speed and
 * in-process inspection; this one is for measurements.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import type { ProxyConfig } from "../config/proxy-config.js";
import { forkChild } from "../process/child-lifetime.js";
import { embeddedTarget } from "./embedded.js";
import { LogBuffer } from "./log-buffer.js";
import { ConfigRejectedError, type StartedTarget, type Target } from "./target.js";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "embedded-process-child.ts");

interface Reply {
  id: number;
  ok: boolean;
  code?: string;
  message?: string;
  stack?: string;
  [k: string]: unknown;
}

/**
 * Node flags for the child: this process's (V8 flags, the TypeScript loader), plus tsx when absent,
 * plus EDGEWATCH_PROXY_NODE_FLAGS (space-separated, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p" to
 * profile the proxy alone).
 */
function childExecArgv(): string[] {
  const own = process.execArgv;
  const extra = (process.env.EDGEWATCH_PROXY_NODE_FLAGS ?? "").split(/\s+/).filter((f) => f !== "");
  return [...own, ...(own.some((a) => a.includes("tsx")) ? [] : ["--import", "tsx"]), ...extra];
}

class ProxyProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { res: (r: Reply) => void; rej: (e: Error) => void }>();
  private exitError: Error | null = null;
  readonly ready: Promise<void>;

  constructor(
    readonly proc: ChildProcess,
    readonly log: LogBuffer,
  ) {
    let readyRes!: () => void;
    let readyRej!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      readyRes = res;
      readyRej = rej;
    });
    proc.on("message", (raw) => {
      const m = raw as Reply & { ready?: boolean; log?: string[] };
      if (m.ready) return readyRes();
      if (m.log) {
        for (const l of m.log) this.log.push(l);
        return;
      }
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      w.res(m);
    });
    proc.on("exit", (code, signal) => {
      this.exitError = new Error(`embedded proxy process exited (${signal ?? code})`);
      readyRej(this.exitError);
      for (const w of this.waiting.values()) w.rej(this.exitError);
      this.waiting.clear();
    });
  }

  request(msg: object, timeoutMs = 120_000): Promise<Reply> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    return new Promise((res, rej) => {
      const t = setTimeout(() => {
        this.waiting.delete(id);
        rej(new Error(`embedded proxy process: no answer to ${JSON.stringify({ ...msg, config: undefined, configuration: undefined })} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        res: (r) => {
          clearTimeout(t);
          res(r);
        },
        rej: (e) => {
          clearTimeout(t);
          rej(e);
        },
      });
      this.proc.send({ ...msg, id });
    });
  }
}

/** A host error from the child, with its code kept (mapHostError and the tests match on it). */
function childError(r: Reply): Error {
  const e = new Error(r.message ?? "embedded proxy process failed") as Error & { code?: string };
  if (r.code) e.code = r.code;
  if (r.stack) e.stack = r.stack;
  return e;
}

export const embeddedProcessTarget: Target = {
  name: "embedded",
  availability: () => embeddedTarget.availability(),
  async start(cfg: ProxyConfig): Promise<StartedTarget> {
    const log = new LogBuffer(5000);
    const dir = mkdtempSync(join(tmpdir(), "edgewatch-ecds-"));
    let pushes = 0;
    // advanced serialization: a ProxyConfig may hold a snapshot configuration's bytes.
    const proc = forkChild(CHILD, [], { execArgv: childExecArgv(), serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const child = new ProxyProcess(proc, log);
    const stop = async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      await child.request({ cmd: "stop" }, 10_000).catch(() => proc.kill("SIGKILL"));
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      await child.ready;
      const started = await child.request({ cmd: "start", config: cfg });
      if (!started.ok) throw childError(started);
      const usage = async () => {
        const r = await child.request({ cmd: "usage" });
        if (!r.ok) throw childError(r);
        return r as Reply & { cpuUs: number; minorPageFaults: number };
      };
      return {
        target: "embedded",
        listenerUrl: started.listenerUrl as string,
        adminUrl: started.adminUrl as string,
        pid: proc.pid,
        async updatePluginConfiguration(configuration) {
          // A new file per push (Envoy's file subscription reacts to a move onto its path; here the path is the message).
          const path = join(dir, `configuration-${++pushes}`);
          writeFileSync(path, configuration);
          const r = await child.request({ cmd: "push", path });
          rmSync(path, { force: true });
          if (r.ok) return;
          if (r.code === "PLUGIN_CONFIG_REJECTED") throw new ConfigRejectedError("embedded", `${r.message}.\nLast log lines:\n${log.tail(20)}`, { cause: childError(r) });
          throw childError(r);
        },
        cpuUsageUs: async () => (await usage()).cpuUs,
        minorPageFaults: async () => (await usage()).minorPageFaults,
        logs: () => log.text(),
        logMark: () => log.mark(),
        logsSince: (mark) => log.since(mark),
        stop,
      };
    } catch (e) {
      await stop();
      throw e;
    }
  },
};

/**
 * The `embedded` target with the proxy in a process of its own (embedded-process-child.ts), as Envoy
 * is: the benches' probes, rules service and upstream then share neither the proxy's JS thread nor
 * its heap, so a reload's latency holds the proxy's work only, not the probe client's parsing and
 * garbage collections (in-process, every HTTP exchange of a probe runs client, proxy and upstream
 * on one event loop). The proxy is the same startEmbeddedProxy; what differs is how a configuration
 * reaches it and where CPU time is read (the proxy process only). A pushed configuration travels
 * the way the Envoy targets send theirs (ECDS from a file): written to a file, whose path goes over
 * IPC, read by the proxy process (through the IPC pipe itself, a 700 KB snapshot configuration took
 * the proxy ~4 ms more CPU than reading the file). The test suite keeps the in-process target
 * (embedded.ts) for speed and in-process inspection; this one is for measurements.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProxyConfig } from "../config/proxy-config.js";
import type { UpdateTiming } from "../host/plugin-host.js";
import { IpcChild, type Answer } from "../process/ipc-child.js";
import { embeddedTarget } from "./embedded.js";
import { LogBuffer } from "./log-buffer.js";
import { ConfigRejectedError, type StartedTarget, type Target } from "./target.js";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "embedded-process-child.ts");

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

/** A host error from the child, with its code kept (mapHostError and the tests match on it). */
function childError(a: Answer): Error {
  const e = new Error(String(a.message ?? "embedded proxy process failed")) as Error & { code?: string };
  if (typeof a.code === "string") e.code = a.code;
  if (typeof a.error === "string") e.stack = a.error;
  return e;
}

export const embeddedProcessTarget: Target = {
  name: "embedded",
  availability: () => embeddedTarget.availability(),
  async start(cfg: ProxyConfig): Promise<StartedTarget> {
    const log = new LogBuffer(5000);
    // advanced serialization: a ProxyConfig may hold a snapshot configuration's bytes.
    const child = await IpcChild.start(CHILD, [], {
      name: "embedded proxy process",
      execArgv: childExecArgv(),
      serialization: "advanced",
      onEvent: (m) => {
        for (const l of (m.log as string[] | undefined) ?? []) log.push(l);
      },
    });
    const dir = mkdtempSync(join(tmpdir(), "edgewatch-ecds-"));
    let pushes = 0;
    let lastUpdate: UpdateTiming | null = null;
    const stop = async () => {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      const started = await child.request({ cmd: "start", config: cfg }, 120_000);
      if (!started.ok) throw childError(started);
      const processUsage = async () => {
        const r = await child.request({ cmd: "usage" });
        if (!r.ok) throw childError(r);
        return { cpuUs: r.cpuUs as number, minorPageFaults: r.minorPageFaults as number };
      };
      return {
        target: "embedded",
        listenerUrl: started.listenerUrl as string,
        adminUrl: started.adminUrl as string,
        pid: child.proc.pid,
        async updatePluginConfiguration(configuration) {
          // A new file per push (Envoy's file subscription reacts to a move onto its path; here the path is the message).
          const path = join(dir, `configuration-${++pushes}`);
          writeFileSync(path, configuration);
          const r = await child.request({ cmd: "push", path }, 120_000);
          rmSync(path, { force: true });
          if (r.ok) {
            lastUpdate = (r.timing as UpdateTiming | null | undefined) ?? lastUpdate;
            return;
          }
          if (r.code === "PLUGIN_CONFIG_REJECTED") throw new ConfigRejectedError("embedded", `${r.message}.\nLast log lines:\n${log.tail(20)}`, { cause: childError(r) });
          throw childError(r);
        },
        cpuUsageUs: async () => (await processUsage()).cpuUs,
        processUsage,
        lastUpdateTiming: async () => lastUpdate,
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

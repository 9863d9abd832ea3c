/**
 * The child side of the `embedded` target in a process of its own (embedded-process.ts): one
 * embedded proxy, driven over the IPC channel. Started by fork(); ends with its parent.
 *
 *   parent → child  { id, cmd: "start", config } | { id, cmd: "push", path }   (the configuration's bytes in a file)
 *                   | { id, cmd: "usage" } | { id, cmd: "stop" }
 *   child → parent  { id, ok: true, ... } | { id, ok: false, code, message, error }
 *                   | { log: string[] }   (log lines, batched; always sent before a reply)
 * (harness/process/ipc-child.ts matches answers to requests by id.)
 */
import { readFileSync } from "node:fs";
import type { ProxyConfig } from "../config/proxy-config.js";
import { exitWithParent } from "../process/child-lifetime.js";
import { serveRequests } from "../process/ipc-child.js";
import { targetLoggerOptions } from "./embedded.js";

type Msg =
  | { cmd: "start"; config: ProxyConfig }
  | { cmd: "push"; path: string }
  | { cmd: "usage" }
  | { cmd: "stop" };

async function main(): Promise<void> {
  exitWithParent();
  const { startEmbeddedProxy } = await import("../proxy/embedded-proxy.js");
  const { HostLogger } = await import("../host/logger.js");
  let lines: string[] = [];
  let flushTimer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (flushTimer !== null) clearTimeout(flushTimer);
    flushTimer = null;
    if (lines.length === 0) return;
    process.send!({ log: lines });
    lines = [];
  };
  // The same logger as the in-process target; lines go to the parent in batches.
  const logger = new HostLogger(
    targetLoggerOptions((line) => {
      lines.push(line);
      flushTimer ??= setTimeout(flush, 20);
    }),
  );
  let proxy: Awaited<ReturnType<typeof startEmbeddedProxy>> | null = null;
  serveRequests(async (raw) => {
    const m = raw as Msg;
    try {
      switch (m.cmd) {
        case "start":
          proxy = await startEmbeddedProxy(m.config, { logger });
          return { listenerUrl: proxy.listenerUrl, adminUrl: proxy.adminUrl };
        case "push":
          if (proxy === null) throw new Error("not started");
          // Bytes, as xDS delivers them (the host hands them to the filter as they are).
          await proxy.updatePluginConfiguration(readFileSync(m.path));
          return { timing: proxy.host.lastUpdate };
        case "usage": {
          const c = process.cpuUsage();
          return { cpuUs: c.user + c.system, minorPageFaults: process.resourceUsage().minorPageFault };
        }
        case "stop":
          await proxy?.close();
          setTimeout(() => process.exit(0), 20); // after the answer is on its way
          return {};
      }
      throw new Error(`unknown command ${(m as { cmd?: string }).cmd}`);
    } finally {
      flush(); // the log lines of a request reach the parent before its answer
    }
  });
}

void main();

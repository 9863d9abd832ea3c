/**
 * The child side of the `embedded` target in a process of its own (embedded-process.ts): one
 * embedded proxy, driven over the IPC channel. Started by fork(); ends with its parent.
 *
 *   parent → child  { id, cmd: "start", config } | { id, cmd: "push", path }   (the configuration's bytes in a file)
 *                   | { id, cmd: "usage" } | { id, cmd: "stop" }
 *   child → parent  { id, ok: true, ... } | { id, ok: false, code, message }
 *                   | { log: string[] }   (log lines, batched; always sent before a reply)
 */
import { readFileSync } from "node:fs";
import type { ProxyConfig } from "../config/proxy-config.js";
import { exitWithParent } from "../process/child-lifetime.js";
import { formatLogEntry } from "./embedded.js";

type Msg =
  | { id: number; cmd: "start"; config: ProxyConfig }
  | { id: number; cmd: "push"; path: string }
  | { id: number; cmd: "usage" }
  | { id: number; cmd: "stop" };

async function main(): Promise<void> {
  exitWithParent();
  const { startEmbeddedProxy } = await import("../proxy/embedded-proxy.js");
  const { HostLogger } = await import("../host/logger.js");
  const send = (m: object) => process.send!(m);
  let lines: string[] = [];
  let flushTimer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (flushTimer !== null) clearTimeout(flushTimer);
    flushTimer = null;
    if (lines.length === 0) return;
    send({ log: lines });
    lines = [];
  };
  // The same levels as the in-process target (Envoy run with -l info --component-log-level wasm:debug).
  const logger = new HostLogger({
    level: "info",
    componentLogLevel: "wasm:debug",
    stderrLevel: "off",
    capacity: 2000,
    sink: (e) => {
      lines.push(`${formatLogEntry(e)}\n`);
      flushTimer ??= setTimeout(flush, 20);
    },
  });
  let proxy: Awaited<ReturnType<typeof startEmbeddedProxy>> | null = null;
  process.on("message", async (raw) => {
    const m = raw as Msg;
    try {
      if (m.cmd === "start") {
        proxy = await startEmbeddedProxy(m.config, { logger });
        flush();
        send({ id: m.id, ok: true, listenerUrl: proxy.listenerUrl, adminUrl: proxy.adminUrl });
      } else if (m.cmd === "push") {
        if (proxy === null) throw new Error("not started");
        // Bytes, as xDS delivers them (the host hands them to the filter as they are).
        await proxy.updatePluginConfiguration(readFileSync(m.path));
        flush();
        send({ id: m.id, ok: true });
      } else if (m.cmd === "usage") {
        const c = process.cpuUsage();
        send({ id: m.id, ok: true, cpuUs: c.user + c.system, minorPageFaults: process.resourceUsage().minorPageFault });
      } else if (m.cmd === "stop") {
        await proxy?.close();
        flush();
        send({ id: m.id, ok: true });
        process.exit(0);
      }
    } catch (err) {
      flush();
      const e = err as { code?: string; message?: string; stack?: string };
      send({ id: m.id, ok: false, code: e?.code, message: e?.message ?? String(err), stack: e?.stack });
    }
  });
  send({ ready: true });
}

void main();

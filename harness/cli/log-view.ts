/**
 * How the CLI shows log lines: its own event lines and the embedded proxy's log, each with a
 * timestamp, on stderr.
 *
 * The proxy's log keeps Envoy's format (`wasm log <plugin> <root_id> <vm_id>: <message>`, and the
 * filter starts its messages with "edgewatch: "), which reads as `wasm log edgewatch edgewatch:
 * edgewatch: …` on a terminal. Here a filter line is shown as `filter[<vm>] <level> <message>` and a
 * line of the proxy itself as `proxy[<vm>] <level> <message>`; the proxy's ring buffer keeps the
 * Envoy-format text for tests and tools.
 */
import { LOG_LEVELS, logLevelNumber, type LogEntry, type LogLevelName } from "../host/logger.js";
import { escapeTerminal } from "./terminal-text.js";

/** ISO 8601 UTC with milliseconds, the same clock as the proxy's log entries. */
export function timestamp(ms = Date.now()): string {
  return new Date(ms).toISOString();
}

/** One timestamped CLI line. */
export function cliLine(text: string, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(`${timestamp()} ${text}\n`);
}

const WASM_PREFIX = /^wasm log[^:]*: /;
const FILTER_PREFIX = /^edgewatch: /;

/** The filter's own words of a proxy log entry (Envoy's and the filter's prefixes removed), or undefined. */
export function filterMessage(e: LogEntry): string | undefined {
  if (e.component !== "wasm" || !WASM_PREFIX.test(e.message)) return undefined;
  return e.message.replace(WASM_PREFIX, "").replace(FILTER_PREFIX, "");
}

export function formatEntry(e: LogEntry): string {
  const own = filterMessage(e);
  const who = own !== undefined ? "filter" : e.component === "wasm" ? "proxy" : `proxy:${e.component}`;
  return `${timestamp(e.time)} ${who}${e.vm ? `[${e.vm}]` : ""} ${e.level}: ${escapeTerminal(own ?? e.message)}`;
}

export interface LogViewOptions {
  /** Show entries at or above this level. */
  level: LogLevelName;
  stream?: NodeJS.WritableStream;
  /**
   * Entries the CLI reports itself in its own words (return true to keep them off the terminal).
   * Called for every entry, shown or not, so a caller can also react to events.
   */
  handle?: (e: LogEntry) => boolean;
}

/** A HostLogger sink printing entries the CLI way (use with stderrLevel "off"). */
export function logView(opts: LogViewOptions): (e: LogEntry) => void {
  const min = logLevelNumber(opts.level);
  const stream = opts.stream ?? process.stderr;
  return (e) => {
    if (opts.handle?.(e)) return;
    if (LOG_LEVELS.indexOf(e.level) < min) return;
    stream.write(`${formatEntry(e)}\n`);
  };
}

/** Envoy's log line for a configuration the canary VM rejected (harness/host/plugin-host.ts runCanary). */
export const CANARY_REJECTED = /^Wasm VM failed: unable to configure Wasm plugin /;
/** The filter's line for a configuration it rejected. */
export const CONFIG_REJECTED = /^configuration rejected \(reason=([a-z_]+)\): (.*?)(?:; keeping (.*))?$/;

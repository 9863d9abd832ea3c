/**
 * Host logger: Envoy's per-component spdlog loggers reduced to what the emulator needs.
 * proxy_log lines go to component "wasm" formatted as Envoy's Context::log does
 * ("wasm log<prefix>: <msg>"). Entries are kept in a bounded in-memory ring so tests can read
 * them; lines at or above `stderrLevel` (default warn) are also written to stderr.
 */

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "critical", "off"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export interface LogEntry {
  /** ms since epoch */
  time: number;
  level: LogLevelName;
  component: string;
  message: string;
  /** Which VM instance produced it ("base", "canary-1", "main", "worker-0", ...), when known. */
  vm?: string;
}

export interface HostLoggerOptions {
  /** Default level for every component (Envoy default: info). */
  level?: LogLevelName;
  /** Like Envoy's --component-log-level "wasm:debug,http:info" (string) or an object. */
  componentLogLevel?: string | Record<string, LogLevelName>;
  /** Entries at or above this level are also written to stderr (default warn; "off" disables). */
  stderrLevel?: LogLevelName;
  /** Ring capacity (default 10000 entries). */
  capacity?: number;
  /** Extra sink called for every kept entry. */
  sink?: (entry: LogEntry) => void;
}

export function logLevelNumber(level: LogLevelName): number {
  const n = LOG_LEVELS.indexOf(level);
  if (n < 0) throw new Error(`unknown log level: ${level}`);
  return n;
}

/** Parses Envoy's --component-log-level syntax ("wasm:debug,http:info"). */
export function parseComponentLogLevel(spec: string): Record<string, LogLevelName> {
  const out: Record<string, LogLevelName> = {};
  for (const part of spec.split(",")) {
    const trimmed = part.trim();
    if (trimmed === "") continue;
    const [component, level] = trimmed.split(":");
    if (!component || !level || !(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new Error(`invalid component log level entry: ${trimmed}`);
    }
    out[component] = level as LogLevelName;
  }
  return out;
}

export class HostLogger {
  private readonly ring: LogEntry[] = [];
  private ringStart = 0;
  private readonly capacity: number;
  private defaultLevel: number;
  private readonly componentLevels = new Map<string, number>();
  private stderrLevel: number;
  private readonly sink?: (entry: LogEntry) => void;
  private waiters: Array<{ test: (e: LogEntry) => boolean; resolve: (e: LogEntry) => void }> = [];

  constructor(opts: HostLoggerOptions = {}) {
    this.capacity = opts.capacity ?? 10_000;
    this.defaultLevel = logLevelNumber(opts.level ?? "info");
    this.stderrLevel = logLevelNumber(opts.stderrLevel ?? "warn");
    this.sink = opts.sink;
    const comp = typeof opts.componentLogLevel === "string" ? parseComponentLogLevel(opts.componentLogLevel) : opts.componentLogLevel;
    if (comp) for (const [c, l] of Object.entries(comp)) this.componentLevels.set(c, logLevelNumber(l));
  }

  /** Numeric level (ABI numbering) of a component; what proxy_get_log_level reports for "wasm". */
  levelOf(component: string): number {
    return this.componentLevels.get(component) ?? this.defaultLevel;
  }

  setLevel(component: string, level: LogLevelName): void {
    this.componentLevels.set(component, logLevelNumber(level));
  }

  setStderrLevel(level: LogLevelName): void {
    this.stderrLevel = logLevelNumber(level);
  }

  enabled(component: string, level: number): boolean {
    return level >= this.levelOf(component);
  }

  log(component: string, level: number, message: string, vm?: string): void {
    if (level < this.levelOf(component)) return;
    const entry: LogEntry = { time: Date.now(), level: LOG_LEVELS[level] ?? "info", component, message, vm };
    if (this.ring.length < this.capacity) {
      this.ring.push(entry);
    } else {
      this.ring[this.ringStart] = entry;
      this.ringStart = (this.ringStart + 1) % this.capacity;
    }
    if (level >= this.stderrLevel) {
      process.stderr.write(`[${new Date(entry.time).toISOString()}][${entry.level}][${component}]${vm ? `[${vm}]` : ""} ${message}\n`);
    }
    this.sink?.(entry);
    if (this.waiters.length > 0) {
      const still: typeof this.waiters = [];
      for (const w of this.waiters) {
        if (w.test(entry)) w.resolve(entry);
        else still.push(w);
      }
      this.waiters = still;
    }
  }

  trace(component: string, message: string, vm?: string): void { this.log(component, 0, message, vm); }
  debug(component: string, message: string, vm?: string): void { this.log(component, 1, message, vm); }
  info(component: string, message: string, vm?: string): void { this.log(component, 2, message, vm); }
  warn(component: string, message: string, vm?: string): void { this.log(component, 3, message, vm); }
  error(component: string, message: string, vm?: string): void { this.log(component, 4, message, vm); }
  critical(component: string, message: string, vm?: string): void { this.log(component, 5, message, vm); }

  /** All kept entries, oldest first. */
  entries(filter?: { component?: string; level?: LogLevelName; vm?: string }): LogEntry[] {
    const all = this.ring.length < this.capacity ? this.ring.slice() : [...this.ring.slice(this.ringStart), ...this.ring.slice(0, this.ringStart)];
    if (!filter) return all;
    return all.filter(
      (e) =>
        (filter.component === undefined || e.component === filter.component) &&
        (filter.level === undefined || e.level === filter.level) &&
        (filter.vm === undefined || e.vm === filter.vm),
    );
  }

  /** Entries whose message contains / matches the pattern. */
  find(pattern: string | RegExp, component?: string): LogEntry[] {
    return this.entries(component ? { component } : undefined).filter((e) =>
      typeof pattern === "string" ? e.message.includes(pattern) : pattern.test(e.message),
    );
  }

  /** Messages only (convenience for assertions). */
  messages(component = "wasm"): string[] {
    return this.entries({ component }).map((e) => e.message);
  }

  /** Resolves with the first entry (already logged or future) matching; rejects after timeoutMs. */
  waitFor(pattern: string | RegExp, timeoutMs = 5000, component?: string): Promise<LogEntry> {
    const test = (e: LogEntry) =>
      (component === undefined || e.component === component) &&
      (typeof pattern === "string" ? e.message.includes(pattern) : pattern.test(e.message));
    const existing = this.entries().find(test);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for log line ${String(pattern)}`));
      }, timeoutMs);
      const done = (e: LogEntry) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ test, resolve: done });
    });
  }

  clear(): void {
    this.ring.length = 0;
    this.ringStart = 0;
  }
}

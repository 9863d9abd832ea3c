/**
 * Progress display for long runs: one updating line on a TTY (carriage return, cleared on finish),
 * plain periodic lines otherwise (CI logs), at most one every `intervalMs`.
 */
export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Minimum time between non-TTY lines. */
  intervalMs?: number;
  /** Force a mode (tests); default: the stream's isTTY. */
  tty?: boolean;
  /** Print nothing (e.g. --quiet). */
  silent?: boolean;
}

export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly silent: boolean;
  private lastPlainAt = 0;
  private lastLen = 0;
  private readonly startedAt = Date.now();

  constructor(
    private readonly label: string,
    opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.intervalMs = opts.intervalMs ?? 5000;
    this.silent = opts.silent ?? false;
  }

  /** Report progress; `done`/`total` are optional counts, `detail` free text. */
  update(detail: string, done?: number, total?: number): void {
    if (this.silent) return;
    const pct = done !== undefined && total ? ` ${Math.min(100, Math.floor((done / total) * 100))}%` : "";
    const counts = done !== undefined ? ` ${done}${total !== undefined ? `/${total}` : ""}` : "";
    const elapsed = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    const line = `[${this.label}]${pct}${counts} ${detail} (${elapsed}s)`;
    if (this.tty) {
      const cols = this.stream.columns ?? 120;
      const text = line.length > cols - 1 ? line.slice(0, cols - 1) : line;
      this.stream.write(`\r${text}${" ".repeat(Math.max(0, this.lastLen - text.length))}`);
      this.lastLen = text.length;
    } else {
      const now = Date.now();
      if (now - this.lastPlainAt < this.intervalMs) return;
      this.lastPlainAt = now;
      this.stream.write(`${line}\n`);
    }
  }

  /** Print a permanent line (clears the updating line first on a TTY). */
  log(text: string): void {
    if (this.silent) return;
    this.clear();
    this.stream.write(`${text}\n`);
  }

  done(summary?: string): void {
    if (this.silent) return;
    this.clear();
    if (summary) this.stream.write(`[${this.label}] ${summary}\n`);
  }

  private clear(): void {
    if (this.tty && this.lastLen > 0) {
      this.stream.write(`\r${" ".repeat(this.lastLen)}\r`);
      this.lastLen = 0;
    }
  }
}

import type { Readable } from "node:stream";

/** Keeps the last `maxLines` lines of a process's or container's output, for error messages. */
export class LogBuffer {
  private readonly lines: string[] = [];
  private partial = "";
  /** Complete lines dropped from the front so far (the buffer keeps the newest maxLines). */
  private dropped = 0;

  constructor(private readonly maxLines = 2000) {}

  attach(stream: Readable | NodeJS.ReadableStream): void {
    stream.on("data", (chunk: Buffer | string) => this.push(chunk.toString()));
  }

  push(text: string): void {
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    for (const p of parts) this.lines.push(p.replace(/\r$/, ""));
    if (this.lines.length > this.maxLines) {
      const n = this.lines.length - this.maxLines;
      this.lines.splice(0, n);
      this.dropped += n;
    }
  }

  /** A position in the log: the number of complete lines seen so far (dropped ones included). */
  mark(): number {
    return this.dropped + this.lines.length;
  }

  /**
   * What was logged after `mark` (complete lines, then the unterminated tail). Lines already dropped
   * from the buffer are replaced by one line saying how many, so a reader never mistakes it for all.
   */
  since(mark: number): string {
    const start = mark - this.dropped;
    const head = start < 0 ? [`[log-buffer: ${-start} line(s) after the mark were dropped]`] : [];
    return [...head, ...this.lines.slice(Math.max(0, start)), ...(this.partial ? [this.partial] : [])].join("\n");
  }

  text(): string {
    return [...this.lines, ...(this.partial ? [this.partial] : [])].join("\n");
  }

  tail(n = 30): string {
    return this.text().split("\n").slice(-n).join("\n");
  }
}

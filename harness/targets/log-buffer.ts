import type { Readable } from "node:stream";

/** Keeps the last `maxLines` lines of a process's or container's output, for error messages. */
export class LogBuffer {
  private readonly lines: string[] = [];
  private partial = "";

  constructor(private readonly maxLines = 2000) {}

  attach(stream: Readable | NodeJS.ReadableStream): void {
    stream.on("data", (chunk: Buffer | string) => this.push(chunk.toString()));
  }

  push(text: string): void {
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    for (const p of parts) this.lines.push(p.replace(/\r$/, ""));
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }

  text(): string {
    return [...this.lines, ...(this.partial ? [this.partial] : [])].join("\n");
  }

  tail(n = 30): string {
    return this.text().split("\n").slice(-n).join("\n");
  }
}

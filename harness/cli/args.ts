/** Option parsers shared by the commands (each throws a usage CliError on bad input). */
import { usageError } from "./exit-codes.js";

/** "30s", "500ms", "2m", "1h", or a bare number of seconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw usageError(`invalid duration '${text}'`, "use e.g. 500ms, 30s, 2m or a number of seconds");
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  const factor = unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}

export function parseIntOption(name: string, min: number, max: number): (text: string) => number {
  return (text: string) => {
    if (!/^\s*-?\d+\s*$/.test(text)) throw usageError(`${name} must be an integer, got '${text}'`);
    const n = Number(text);
    if (n < min || n > max) throw usageError(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export function parseFloatOption(name: string, min: number, max: number): (text: string) => number {
  return (text: string) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n)) throw usageError(`${name} must be a number, got '${text}'`);
    if (n < min || n > max) throw usageError(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

/** An http(s) URL; returns it without a trailing slash. */
export function parseHttpUrl(name: string): (text: string) => string {
  return (text: string) => {
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      throw usageError(`${name} is not a URL: '${text}'`, "e.g. http://127.0.0.1:9901");
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw usageError(`${name} must be an http(s) URL, got '${text}'`);
    }
    return text.replace(/\/+$/, "");
  };
}

/** Comma-separated list, trimmed, empties dropped. */
export function parseList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Where in a user's file the filter's complaint points: a byte offset (JSON syntax and UTF-8
 * errors: "… at byte N") or a JSON path (schema errors: "$.rules.access[0].cidrs[0]: …") becomes
 * line:column in the file the text came from. Paths are looked up with the `yaml` package's
 * positions (YAML 1.2 reads JSON), which works for JSON documents and YAML proxy configs alike.
 */
import { parseDocument } from "yaml";

export interface Location {
  /** 1-based. */
  line: number;
  /** 1-based, in characters (code points). */
  column: number;
}

/** Documents larger than this are not parsed again just to place a schema error (seconds of CPU). */
const MAX_PATH_LOOKUP_BYTES = 8 * 1024 * 1024;

/** line:column of a byte offset in raw bytes (columns count UTF-8 characters; invalid bytes count one each). */
export function locateByteOffset(bytes: Uint8Array, offset: number): Location {
  const end = Math.max(0, Math.min(offset, bytes.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  let column = 1;
  for (let i = lineStart; i < end; i++) {
    const b = bytes[i];
    // Count every byte that does not continue a UTF-8 sequence (10xxxxxx after a lead byte).
    if ((b & 0xc0) !== 0x80 || i === lineStart) column++;
  }
  return { line, column };
}

/** line:column of a string index. */
export function locateTextIndex(text: string, index: number): Location {
  let line = 1;
  let column = 1;
  const end = Math.max(0, Math.min(index, text.length));
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      line++;
      column = 1;
    } else if (c < 0xdc00 || c > 0xdfff) {
      column++; // a low surrogate continues the previous character
    }
  }
  return { line, column };
}

/** "$.rules.access[0].cidrs[0]" → ["rules", "access", 0, "cidrs", 0]; undefined if not a path. */
export function parseFilterPath(path: string): Array<string | number> | undefined {
  if (!path.startsWith("$")) return undefined;
  const out: Array<string | number> = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const m = re.exec(path);
    if (!m) return undefined;
    out.push(m[1] !== undefined ? m[1] : Number(m[2]));
  }
  return out;
}

/**
 * Position of the value at `path` (or of its deepest existing ancestor) in a JSON or YAML text.
 * `base` is where that text's document sits (e.g. ["plugin", "configuration"] inside a proxy
 * config). Undefined when the text does not parse or is too large to look through.
 */
export function locateJsonPath(text: string, path: ReadonlyArray<string | number>, base: ReadonlyArray<string | number> = []): Location | undefined {
  if (text.length > MAX_PATH_LOOKUP_BYTES) return undefined;
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0) return undefined;
  const full = [...base, ...path];
  for (let n = full.length; n >= base.length; n--) {
    const node = doc.getIn(full.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === "object" && node.range) return locateTextIndex(text, node.range[0]);
  }
  return undefined;
}

/**
 * Index of the first byte that is not part of valid UTF-8 (overlong forms, surrogates and code
 * points above U+10FFFF are invalid, as for protobuf strings), or -1 when all of it is valid.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) [n, min, cp] = [1, 0x80, b & 0x1f];
    else if (b >= 0xe0 && b <= 0xef) [n, min, cp] = [2, 0x800, b & 0x0f];
    else if (b >= 0xf0 && b <= 0xf4) [n, min, cp] = [3, 0x10000, b & 0x07];
    else return i;
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

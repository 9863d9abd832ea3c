/**
 * Reference JSON reader for the fuzzing oracles: a strict RFC 8259 parser over BYTES, written
 * independently of the filter's parser (assembly/json/parser.ts) from the documented contract:
 *   - UTF-8 validated inside strings (no overlongs, no surrogates, ≤ U+10FFFF), no control
 *     characters in strings, no non-ASCII bytes outside strings;
 *   - nesting of arrays + objects ≤ maxDepth (32);
 *   - objects keep EVERY member in order (duplicates are the schema's business);
 *   - strings keep their raw (escaped) bytes and their decoded value (a lone surrogate escape
 *     decodes to U+FFFD);
 *   - numbers keep their literal text; "integer" means no fraction and no exponent.
 */

export type JsonErrorKind = "syntax" | "utf8" | "depth" | "size";

export class JsonRefError extends Error {
  constructor(readonly kind: JsonErrorKind, message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
  }
}

export interface JNull { t: "null" }
export interface JBool { t: "bool"; v: boolean }
export interface JNum { t: "num"; raw: string; integer: boolean; v: number }
export interface JStr {
  t: "str";
  /** Raw bytes between the quotes (escapes not decoded). */
  raw: Buffer;
  escaped: boolean;
  /** Decoded value (JS string; lone surrogate escapes → U+FFFD). */
  v: string;
  /** UTF-8 bytes of the decoded value. */
  bytes: Buffer;
}
export interface JArr { t: "arr"; items: JValue[] }
export interface JObj { t: "obj"; members: Array<[JStr, JValue]> }
export type JValue = JNull | JBool | JNum | JStr | JArr | JObj;

export const MAX_DEPTH = 32;
export const MAX_ELEMENTS = (1 << 22) - 1;

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);

export function parseJsonRef(input: Buffer, maxDepth = MAX_DEPTH): JValue {
  let pos = 0;
  const len = input.length;
  const fail = (kind: JsonErrorKind, msg: string): never => {
    throw new JsonRefError(kind, msg, pos);
  };
  const ws = () => {
    while (pos < len && WS.has(input[pos])) pos++;
  };

  const utf8Len = (i: number): number => {
    const b0 = input[i];
    const cont = (j: number, lo = 0x80, hi = 0xbf) => j < len && input[j] >= lo && input[j] <= hi;
    if (b0 >= 0xc2 && b0 <= 0xdf) return cont(i + 1) ? 2 : 0;
    if (b0 >= 0xe0 && b0 <= 0xef) {
      const lo = b0 === 0xe0 ? 0xa0 : 0x80;
      const hi = b0 === 0xed ? 0x9f : 0xbf;
      return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
    }
    if (b0 >= 0xf0 && b0 <= 0xf4) {
      const lo = b0 === 0xf0 ? 0x90 : 0x80;
      const hi = b0 === 0xf4 ? 0x8f : 0xbf;
      return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    }
    return 0;
  };

  const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

  const str = (): JStr => {
    pos++; // opening quote
    const start = pos;
    // Fast scan: plain printable ASCII up to the closing quote.
    let i = pos;
    while (i < len) {
      const c = input[i];
      if (c === 0x22 || c === 0x5c || c < 0x20 || c >= 0x80) break;
      i++;
    }
    if (i < len && input[i] === 0x22) {
      pos = i + 1;
      const raw = input.subarray(start, i);
      const v = raw.toString("latin1");
      return { t: "str", raw, escaped: false, v, bytes: raw };
    }
    let escaped = false;
    let out = input.toString("latin1", start, i);
    pos = i;
    for (;;) {
      if (pos >= len) fail("syntax", "unterminated string");
      const c = input[pos];
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        if (pos + 1 >= len) fail("syntax", "unterminated escape");
        const x = input[pos + 1];
        const simple: Record<number, string> = { 0x22: '"', 0x5c: "\\", 0x2f: "/", 0x62: "\b", 0x66: "\f", 0x6e: "\n", 0x72: "\r", 0x74: "\t" };
        if (simple[x] !== undefined) {
          out += simple[x];
          pos += 2;
        } else if (x === 0x75) {
          if (pos + 6 > len) fail("syntax", "truncated \\u escape");
          for (let k = 2; k < 6; k++) if (!isHex(input[pos + k])) fail("syntax", "invalid \\u escape");
          out += String.fromCharCode(parseInt(input.subarray(pos + 2, pos + 6).toString("latin1"), 16));
          pos += 6;
        } else fail("syntax", "invalid escape");
        continue;
      }
      if (c < 0x20) fail("syntax", "control character in string");
      if (c < 0x80) {
        let j = pos + 1;
        while (j < len && input[j] >= 0x20 && input[j] < 0x80 && input[j] !== 0x22 && input[j] !== 0x5c) j++;
        out += input.toString("latin1", pos, j);
        pos = j;
        continue;
      }
      const w = utf8Len(pos);
      if (w === 0) fail("utf8", "invalid UTF-8");
      out += input.subarray(pos, pos + w).toString("utf8");
      pos += w;
    }
    const raw = input.subarray(start, pos);
    pos++; // closing quote
    const v = wellFormed(out);
    return { t: "str", raw, escaped, v, bytes: Buffer.from(v, "utf8") };
  };

  const num = (): JNum => {
    const s = pos;
    let integer = true;
    if (input[pos] === 0x2d) pos++;
    const digit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
    if (!digit(input[pos])) fail("syntax", "invalid number");
    if (input[pos] === 0x30) pos++;
    else while (digit(input[pos])) pos++;
    if (input[pos] === 0x2e) {
      integer = false;
      pos++;
      if (!digit(input[pos])) fail("syntax", "invalid number");
      while (digit(input[pos])) pos++;
    }
    if (input[pos] === 0x65 || input[pos] === 0x45) {
      integer = false;
      pos++;
      if (input[pos] === 0x2b || input[pos] === 0x2d) pos++;
      if (!digit(input[pos])) fail("syntax", "invalid number");
      while (digit(input[pos])) pos++;
    }
    const raw = input.subarray(s, pos).toString("latin1");
    return { t: "num", raw, integer, v: Number(raw) };
  };

  const literal = (word: string): void => {
    if (input.subarray(pos, pos + word.length).toString("latin1") !== word) fail("syntax", "invalid literal");
    pos += word.length;
  };

  const value = (depth: number): JValue => {
    if (pos >= len) fail("syntax", "unexpected end of input");
    const c = input[pos];
    if (c === 0x7b || c === 0x5b) {
      if (depth + 1 > maxDepth) fail("depth", `nesting deeper than ${maxDepth}`);
      pos++;
      ws();
      if (c === 0x5b) {
        const items: JValue[] = [];
        if (input[pos] === 0x5d) { pos++; return { t: "arr", items }; }
        for (;;) {
          ws();
          items.push(value(depth + 1));
          if (items.length > MAX_ELEMENTS) fail("size", "too many elements");
          ws();
          if (pos >= len) fail("syntax", "unterminated array");
          if (input[pos] === 0x2c) { pos++; continue; }
          if (input[pos] === 0x5d) { pos++; return { t: "arr", items }; }
          fail("syntax", "expected ',' or ']'");
        }
      }
      const members: Array<[JStr, JValue]> = [];
      if (input[pos] === 0x7d) { pos++; return { t: "obj", members }; }
      for (;;) {
        ws();
        if (input[pos] !== 0x22) fail("syntax", "expected a string key");
        const k = str();
        ws();
        if (input[pos] !== 0x3a) fail("syntax", "expected ':'");
        pos++;
        ws();
        members.push([k, value(depth + 1)]);
        if (members.length > MAX_ELEMENTS) fail("size", "too many members");
        ws();
        if (pos >= len) fail("syntax", "unterminated object");
        if (input[pos] === 0x2c) { pos++; continue; }
        if (input[pos] === 0x7d) { pos++; return { t: "obj", members }; }
        fail("syntax", "expected ',' or '}'");
      }
    }
    if (c === 0x22) return str();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return num();
    if (c === 0x74) { literal("true"); return { t: "bool", v: true }; }
    if (c === 0x66) { literal("false"); return { t: "bool", v: false }; }
    if (c === 0x6e) { literal("null"); return { t: "null" }; }
    return fail("syntax", "unexpected character");
  };

  ws();
  if (pos >= len) fail("syntax", "empty document");
  const v = value(0);
  ws();
  if (pos < len) fail("syntax", "unexpected data after the top-level value");
  return v;
}

/** An integer literal whose magnitude is exactly representable (≤ 15 digits). */
export function integerOf(v: JValue): number | null {
  if (v.t !== "num" || !v.integer) return null;
  const digits = v.raw.replace(/^-/, "").length;
  if (digits > 15) return null;
  return Number(v.raw);
}

export function kindName(v: JValue): string {
  switch (v.t) {
    case "null": return "null";
    case "bool": return "boolean";
    case "num": return "number";
    case "str": return "string";
    case "arr": return "array";
    default: return "object";
  }
}

/** String.prototype.toWellFormed: lone surrogates → U+FFFD. */
export function wellFormed(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) { out += s[i] + s[i + 1]; i++; continue; }
      out += "\ufffd";
    } else if (c >= 0xdc00 && c <= 0xdfff) out += "\ufffd";
    else out += s[i];
  }
  return out;
}

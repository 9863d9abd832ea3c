/**
 * A rules document (raw bytes) put into a plugin configuration as {…,"rules":<bytes>}, the way a push
 * carries it, without decoding it. Bytes that are not exactly one JSON value are not spliced (what
 * follows the first value could add members to the surrounding configuration and change its
 * meaning): they become the whole configuration, which the filter then rejects as it would reject
 * them anywhere.
 */
/**
 * Where the first JSON value in `bytes` ends, by a lexical scan (strings, escapes, brackets) that
 * decides nothing about validity: the index after the value, or -1 when the bytes end first.
 * Used to know whether the bytes can be spliced into {"rules": …} without changing the meaning of
 * the surrounding document (they can when only whitespace follows the first value).
 */
export function firstValueEnd(bytes: Uint8Array): number {
  const ws = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
  let i = 0;
  while (i < bytes.length && ws(bytes[i])) i++;
  if (i >= bytes.length) return -1;
  let depth = 0;
  for (; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x22) {
      // String: skip to the closing quote, honouring backslash escapes.
      i++;
      while (i < bytes.length && bytes[i] !== 0x22) i += bytes[i] === 0x5c ? 2 : 1;
      if (i >= bytes.length) return -1;
      if (depth === 0) return i + 1;
    } else if (b === 0x7b || b === 0x5b) {
      depth++;
    } else if (b === 0x7d || b === 0x5d) {
      depth--;
      if (depth <= 0) return i + 1;
    } else if (depth === 0) {
      // A scalar at the top: it ends at whitespace or a structural character.
      while (i < bytes.length && !ws(bytes[i]) && ![0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x22].includes(bytes[i])) i++;
      return i;
    }
  }
  return -1;
}

/** True when nothing but JSON whitespace follows index `from`. */
export function onlyWhitespaceAfter(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  return true;
}

/** How a rules document travels to the filter, and how to map the filter's offsets back. */
export interface Delivery {
  configuration: Uint8Array;
  /** Offset of the document's first byte inside `configuration`. */
  offset: number;
  /** The document is under "rules" (spliced) or is the whole configuration (not one JSON value). */
  spliced: boolean;
}

export function spliceRules(plugin: Record<string, unknown>, bytes: Uint8Array): Delivery {
  const end = firstValueEnd(bytes);
  if (end < 0 || !onlyWhitespaceAfter(bytes, end)) {
    // Not one JSON value: splicing could make the configuration mean something else.
    return { configuration: bytes, offset: 0, spliced: false };
  }
  const { rules: _replaced, ...rest } = plugin;
  const base = JSON.stringify(rest);
  const prefix = Buffer.from(base === "{}" ? `{"rules":` : `${base.slice(0, -1)},"rules":`, "utf8");
  return { configuration: Buffer.concat([prefix, bytes, Buffer.from("}")]), offset: prefix.length, spliced: true };
}

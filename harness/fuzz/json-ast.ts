/**
 * A JSON value model that can express what JSON.stringify cannot: duplicate keys, literal number
 * text ("1.0", "1e3", "-0", 20-digit integers), raw splices (tokens that are not JSON at all), and a
 * serializer with random escaping and whitespace, so one logical document has many spellings.
 */

export type J =
  | null
  | boolean
  | string
  | number
  | { $num: string }
  | { $raw: string }
  | J[]
  | { $obj: Array<[string, J]> };

export const num = (text: string): J => ({ $num: text });
export const raw = (text: string): J => ({ $raw: text });
export const obj = (...members: Array<[string, J]>): J => ({ $obj: members });

export function isObj(v: J | undefined): v is { $obj: Array<[string, J]> } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && "$obj" in v;
}

/** Plain JS value → J (objects keep insertion order). */
export function fromJs(v: unknown): J {
  if (v === null || typeof v === "boolean" || typeof v === "string" || typeof v === "number") return v;
  if (Array.isArray(v)) return v.map(fromJs);
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("$obj" in o || "$num" in o || "$raw" in o) return o as J;
    return { $obj: Object.entries(o).filter(([, x]) => x !== undefined).map(([k, x]) => [k, fromJs(x)]) };
  }
  throw new Error(`not JSON: ${typeof v}`);
}

export interface StyleOptions {
  /** Per character probability of writing it as \uXXXX (or a short escape). */
  escapeRate?: number;
  /** Pretty-print with this many spaces, or sprinkle random whitespace with `wsRate`. */
  indent?: number;
  wsRate?: number;
  /** Deterministic randomness source in [0,1). */
  rand?: () => number;
}

const WS_CHARS = [" ", "\n", "\t", "\r\n", "  "];

function escapeString(s: string, o: StyleOptions): string {
  const r = o.rand ?? Math.random;
  const rate = o.escapeRate ?? 0;
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c < 0x20) {
      const short: Record<number, string> = { 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r" };
      out += short[c] ?? `\\u${c.toString(16).padStart(4, "0")}`;
    } else if (rate > 0 && r() < rate) {
      if (ch === "/" && r() < 0.5) out += "\\/";
      else if (c > 0xffff) {
        const hi = 0xd800 + ((c - 0x10000) >> 10);
        const lo = 0xdc00 + ((c - 0x10000) & 0x3ff);
        out += `\\u${hi.toString(16)}\\u${lo.toString(16)}`;
      } else {
        const hex = c.toString(16).padStart(4, "0");
        out += `\\u${r() < 0.5 ? hex : hex.toUpperCase()}`;
      }
    } else out += ch;
  }
  return out + '"';
}

export function serialize(v: J, o: StyleOptions = {}, depth = 0): string {
  const r = o.rand ?? Math.random;
  const ws = () => (o.wsRate && r() < o.wsRate ? WS_CHARS[Math.floor(r() * WS_CHARS.length)] : "");
  const nl = (d: number) => (o.indent ? "\n" + " ".repeat(o.indent * d) : "");
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return Number.isFinite(v) ? JSON.stringify(v) : String(v);
  if (typeof v === "string") return escapeString(v, o);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[" + ws() + "]";
    return "[" + v.map((x) => nl(depth + 1) + ws() + serialize(x, o, depth + 1) + ws()).join(",") + nl(depth) + "]";
  }
  if ("$num" in v) return v.$num;
  if ("$raw" in v) return v.$raw;
  const members = v.$obj;
  if (members.length === 0) return "{" + ws() + "}";
  return (
    "{" +
    members.map(([k, x]) => nl(depth + 1) + ws() + escapeString(k, o) + ws() + ":" + (o.indent ? " " : "") + ws() + serialize(x, o, depth + 1) + ws()).join(",") +
    nl(depth) +
    "}"
  );
}

/** Deep copy. */
export function clone(v: J): J {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(clone);
  if ("$obj" in v) return { $obj: v.$obj.map(([k, x]) => [k, clone(x)] as [string, J]) };
  return { ...v };
}

/** Member value by key (first occurrence) of an object node, or undefined. */
export function getMember(v: J, key: string): J | undefined {
  if (!isObj(v)) return undefined;
  const m = v.$obj.find(([k]) => k === key);
  return m ? m[1] : undefined;
}

export function setMember(v: J, key: string, value: J): void {
  if (!isObj(v)) return;
  const m = v.$obj.find(([k]) => k === key);
  if (m) m[1] = value;
  else v.$obj.push([key, value]);
}

export function removeMember(v: J, key: string): void {
  if (!isObj(v)) return;
  v.$obj = v.$obj.filter(([k]) => k !== key);
}

/** Every object / array node with its path, for picking mutation sites. */
export function nodes(v: J, path = "$"): Array<{ path: string; node: J }> {
  const out: Array<{ path: string; node: J }> = [{ path, node: v }];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...nodes(x, `${path}[${i}]`)));
  else if (isObj(v)) for (const [k, x] of v.$obj) out.push(...nodes(x, `${path}.${k}`));
  return out;
}

/**
 * Reference W3C Trace Context validators (https://www.w3.org/TR/trace-context-2/), written from the
 * specification for the fuzzing oracles (independent of assembly/tracing/*).
 */

const OWS = /^[ \t]+|[ \t]+$/g;

export interface TraceparentRef {
  version: string;
  traceId: string;
  parentId: string;
  flags: number;
}

/** A traceparent a receiver must accept (version 00 exactly; future versions by their prefix). */
export function parseTraceparentRef(value: string): TraceparentRef | null {
  const v = value.replace(OWS, "");
  if (v.length < 55) return null;
  const version = v.slice(0, 2);
  if (!/^[0-9a-f]{2}$/.test(version) || version === "ff") return null;
  if (version === "00" && v.length !== 55) return null;
  if (version !== "00" && v.length > 55 && v[55] !== "-") return null;
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/.exec(v);
  if (!m) return null;
  if (/^0+$/.test(m[2]) || /^0+$/.test(m[3])) return null;
  return { version: m[1], traceId: m[2], parentId: m[3], flags: parseInt(m[4], 16) };
}

/** What a proxy may SEND: version 00, exactly 55 lowercase characters, non-zero ids. */
export function isValidOutgoingTraceparent(value: string): boolean {
  return /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(value) && parseTraceparentRef(value) !== null;
}

const SIMPLE_KEY = /^[a-z][a-z0-9_\-*/]{0,255}$/;
const TENANT_KEY = /^[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13}$/;

function validValue(v: string): boolean {
  if (v.length < 1 || v.length > 256) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    const nblk = c >= 0x21 && c <= 0x7e && c !== 0x2c && c !== 0x3d;
    if (!(nblk || c === 0x20)) return false;
  }
  const last = v.charCodeAt(v.length - 1);
  return last !== 0x20;
}

export interface TracestateRef {
  members: Array<[string, string]>;
}

/** Parse a tracestate list; null when invalid (bad member, duplicate key, > 32 members). */
export function parseTracestateRef(value: string): TracestateRef | null {
  const members: Array<[string, string]> = [];
  const keys = new Set<string>();
  for (const raw of value.split(",")) {
    const m = raw.replace(OWS, "");
    if (m.length === 0) continue;
    const eq = m.indexOf("=");
    if (eq < 0) return null;
    const k = m.slice(0, eq);
    const v = m.slice(eq + 1);
    if (!(SIMPLE_KEY.test(k) || TENANT_KEY.test(k))) return null;
    if (!validValue(v)) return null;
    if (keys.has(k)) return null;
    keys.add(k);
    members.push([k, v]);
    if (members.length > 32) return null;
  }
  return { members };
}

/** What a proxy may SEND: a valid list, at most 512 characters, no empty members. */
export function isValidOutgoingTracestate(value: string): boolean {
  if (value.length === 0 || value.length > 512) return false;
  const p = parseTracestateRef(value);
  return p !== null && p.members.length === value.split(",").length;
}

// Label values for edgewatch metrics and spans: HTTP methods, status codes/classes and route names.
// Every label value is bounded: methods come from a fixed list, codes are exact codes from the
// configured set or a class, and route names are sanitized to [A-Za-z0-9_-] and ≤ 64 characters.
// The names are encoded the Istio way in stat names (`route=.=<v>;.;`), so a value must never
// contain ";", "=" or "." — sanitizing guarantees that.

export const METHOD_GET: i32 = 0;
export const METHOD_OTHER: i32 = 9;
export const METHOD_COUNT: i32 = 10;

/** Metric label values (index = method id). */
export const METHOD_NAMES: string[] = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "OTHER"];
/** OpenTelemetry semantic-convention values of http.request.method ("_OTHER" for the rest). */
export const METHOD_SEMCONV: string[] = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER"];

/** Method id of the `:method` bytes (case-sensitive, as HTTP method tokens are). */
export function methodIndex(p: usize, len: i32): i32 {
  const c0 = len > 0 ? load<u8>(p) : 0;
  switch (len) {
    case 3:
      if (c0 == 0x47 && load<u8>(p + 1) == 0x45 && load<u8>(p + 2) == 0x54) return 0; // GET
      if (c0 == 0x50 && load<u8>(p + 1) == 0x55 && load<u8>(p + 2) == 0x54) return 3; // PUT
      break;
    case 4:
      if (c0 == 0x48 && eq(p, "HEAD")) return 1;
      if (c0 == 0x50 && eq(p, "POST")) return 2;
      break;
    case 5:
      if (c0 == 0x54 && eq(p, "TRACE")) return 7;
      if (c0 == 0x50 && eq(p, "PATCH")) return 8;
      break;
    case 6:
      if (c0 == 0x44 && eq(p, "DELETE")) return 4;
      break;
    case 7:
      if (c0 == 0x43 && eq(p, "CONNECT")) return 5;
      if (c0 == 0x4f && eq(p, "OPTIONS")) return 6;
      break;
  }
  return METHOD_OTHER;
}

function eq(p: usize, s: string): bool {
  for (let i = 0; i < s.length; i++) {
    if (<i32>load<u8>(p + <usize>i) != s.charCodeAt(i)) return false;
  }
  return true;
}

/** Parse a 3-digit `:status` value; 0 when absent or malformed. */
export function parseStatus(p: usize, len: i32): i32 {
  if (len != 3) return 0;
  let v: i32 = 0;
  for (let i = 0; i < 3; i++) {
    const d = <i32>load<u8>(p + <usize>i) - 0x30;
    if (d < 0 || d > 9) return 0;
    v = v * 10 + d;
  }
  return v;
}

/** Status-code label key: the code itself when exact, 1000+class for "Nxx", 0 for none, 999 invalid. */
export const CODE_NONE: i32 = 0;
export const CODE_INVALID: i32 = 999;

export class CodeLabels {
  /** exact[code] = true for codes reported exactly (100..599). */
  private exact: StaticArray<bool> = new StaticArray<bool>(600);
  private names: Map<i32, string> = new Map<i32, string>();

  constructor(exactCodes: i32[]) {
    for (let i = 0; i < exactCodes.length; i++) {
      const c = exactCodes[i];
      if (c >= 100 && c < 600) unchecked(this.exact[c] = true);
    }
  }

  /** Label key of a status code (see CODE_*). */
  keyOf(status: i32): i32 {
    if (status == 0) return CODE_NONE;
    if (status < 100 || status >= 600) return CODE_INVALID;
    if (unchecked(this.exact[status])) return status;
    return 1000 + status / 100;
  }

  /** Label value of a key: "200", "4xx", "none", "invalid". Allocates only the first time per key. */
  nameOf(key: i32): string {
    if (this.names.has(key)) return this.names.get(key);
    let s: string;
    if (key == CODE_NONE) s = "none";
    else if (key == CODE_INVALID) s = "invalid";
    else if (key > 1000) s = (key - 1000).toString() + "xx";
    else s = key.toString();
    this.names.set(key, s);
    return s;
  }
}

export const MAX_LABEL_LEN: i32 = 64;

/**
 * Sanitize raw bytes into a label value: [A-Za-z0-9_-] kept, every other byte → "_", at most
 * MAX_LABEL_LEN characters. Returns "" for empty input (callers map that to "unknown").
 */
export function sanitizeLabel(p: usize, len: i32): string {
  const n = len < MAX_LABEL_LEN ? len : MAX_LABEL_LEN;
  if (n <= 0) return "";
  const out = new ArrayBuffer(n);
  const o = changetype<usize>(out);
  for (let i = 0; i < n; i++) {
    const c = <u32>load<u8>(p + <usize>i);
    const ok = (c - 0x30 < 10) || (c - 0x41 < 26) || (c - 0x61 < 26) || c == 0x5f || c == 0x2d;
    store<u8>(o + <usize>i, ok ? <u8>c : 0x5f);
  }
  return String.UTF8.decode(out);
}

/** Sanitize a configured string (path-route names). */
export function sanitizeString(s: string): string {
  const b = String.UTF8.encode(s);
  return sanitizeLabel(changetype<usize>(b), b.byteLength);
}

/**
 * Ordered header map with Envoy HeaderMapImpl semantics (source/common/http/header_map_impl.cc):
 * keys are lower-case byte strings (latin1 JS strings, one char per byte), duplicates are kept
 * in insertion order, pseudo headers (":x") are inserted before the first regular header,
 * addCopy on an existing *inline* header appends ",value" to it, setCopy removes every entry
 * of the key and adds one at the end, byteSize() is the sum of key and value lengths.
 */

export type HeaderMapKind = "request" | "response" | "request-trailers" | "response-trailers" | "other";

// Envoy INLINE_REQ_*/INLINE_REQ_RESP_* headers (envoy/http/header_map.h) plus the custom inline
// headers core Envoy registers. A second addCopy of these comma-appends instead of adding an entry.
const INLINE_REQ_RESP = [
  "connection", "content-length", "content-type", "x-envoy-decorator-operation", "keep-alive",
  "proxy-connection", "proxy-status", "x-request-id", "transfer-encoding", "upgrade", "via",
];
const INLINE_REQUEST = new Set([
  ...INLINE_REQ_RESP,
  ":authority", ":method", ":path", ":protocol", ":scheme", "x-client-trace-id",
  "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node", "x-envoy-expected-rq-timeout-ms",
  "x-envoy-external-address", "x-envoy-force-trace", "x-envoy-hedge-on-per-try-timeout", "x-envoy-internal",
  "x-envoy-ip-tags", "x-envoy-max-retries", "x-envoy-retry-on", "x-envoy-retry-grpc-on",
  "x-envoy-retriable-status-codes", "x-envoy-retriable-header-names", "x-envoy-original-path",
  "x-envoy-original-url", "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-alt-response",
  "x-envoy-upstream-rq-timeout-ms", "x-envoy-upstream-rq-per-try-timeout-ms", "expect",
  "x-forwarded-client-cert", "x-forwarded-for", "x-forwarded-host", "x-forwarded-port", "x-forwarded-proto",
  "grpc-timeout", "te", "user-agent", "referer", "authorization", "accept-encoding", "cache-control", "origin",
  "grpc-accept-encoding", "grpc-encoding",
]);
const INLINE_RESPONSE = new Set([
  ...INLINE_REQ_RESP,
  ":status", "date", "x-envoy-degraded", "x-envoy-immediate-health-check-fail", "x-envoy-ratelimited",
  "x-envoy-upstream-canary", "x-envoy-upstream-healthchecked-cluster", "x-envoy-upstream-service-time",
  "location", "server", "grpc-status", "grpc-message", "cache-control", "etag", "vary",
]);
const INLINE_RESPONSE_TRAILERS = new Set(["grpc-status", "grpc-message", "grpc-status-details-bin"]);
const NO_INLINE = new Set<string>();

function inlineSet(kind: HeaderMapKind): Set<string> {
  switch (kind) {
    case "request": return INLINE_REQUEST;
    case "response": return INLINE_RESPONSE;
    case "response-trailers": return INLINE_RESPONSE_TRAILERS;
    default: return NO_INLINE;
  }
}

export class HeaderMap {
  readonly keys: string[] = [];
  readonly values: string[] = [];
  private readonly inline: Set<string>;
  /** Bumped on every mutation (the route cache uses it to detect request header edits). */
  version = 0;

  constructor(readonly kind: HeaderMapKind = "other") {
    this.inline = inlineSet(kind);
  }

  static fromPairs(kind: HeaderMapKind, pairs: Iterable<readonly [string, string]>): HeaderMap {
    const m = new HeaderMap(kind);
    for (const [k, v] of pairs) m.addCopy(k.toLowerCase(), v);
    return m;
  }

  get size(): number {
    return this.keys.length;
  }

  /** First value of key (Envoy get()[0]); key must already be lower-case. */
  get(key: string): string | undefined {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return this.values[i];
    return undefined;
  }

  has(key: string): boolean {
    return this.keys.indexOf(key) >= 0;
  }

  /** Envoy HeaderUtility::getAllOfHeaderAsString: values joined with ",". */
  getAll(key: string): string | undefined {
    let out: string | undefined;
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === key) out = out === undefined ? this.values[i] : `${out},${this.values[i]}`;
    }
    return out;
  }

  /** Envoy addCopy. */
  addCopy(key: string, value: string): void {
    this.version++;
    if (this.inline.has(key)) {
      const i = this.keys.indexOf(key);
      if (i >= 0) {
        const cur = this.values[i];
        this.values[i] = cur.length === 0 ? value : `${cur},${value}`;
        return;
      }
    }
    this.insert(key, value);
  }

  /** Appends a new entry without the inline comma rule (codec parsing, tests). */
  append(key: string, value: string): void {
    this.version++;
    this.insert(key, value);
  }

  private insert(key: string, value: string): void {
    if (key.charCodeAt(0) === 58 /* ':' */) {
      // Pseudo headers always precede regular headers.
      const keys = this.keys;
      let i = 0;
      while (i < keys.length && keys[i].charCodeAt(0) === 58) i++;
      if (i < keys.length) {
        keys.splice(i, 0, key);
        this.values.splice(i, 0, value);
        return;
      }
    }
    this.keys.push(key);
    this.values.push(value);
  }

  /** Envoy setCopy: remove every entry of key, then addCopy. */
  setCopy(key: string, value: string): void {
    this.remove(key);
    this.addCopy(key, value);
  }

  /** Replaces the first value in place (codec/HCM helpers that must keep order), adds if absent. */
  setInPlace(key: string, value: string): void {
    const i = this.keys.indexOf(key);
    if (i < 0) this.addCopy(key, value);
    else {
      this.version++;
      this.values[i] = value;
    }
  }

  remove(key: string): void {
    const keys = this.keys;
    let w = 0;
    let removed = false;
    for (let r = 0; r < keys.length; r++) {
      if (keys[r] === key) {
        removed = true;
        continue;
      }
      if (w !== r) {
        keys[w] = keys[r];
        this.values[w] = this.values[r];
      }
      w++;
    }
    if (removed) {
      keys.length = w;
      this.values.length = w;
    }
    this.version++;
  }

  clear(): void {
    this.keys.length = 0;
    this.values.length = 0;
    this.version++;
  }

  /** Envoy HeaderMap::byteSize(): sum of key and value lengths (what proxy_get_header_map_size returns). */
  byteSize(): number {
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) n += this.keys[i].length + this.values[i].length;
    return n;
  }

  entries(): Array<[string, string]> {
    return this.keys.map((k, i) => [k, this.values[i]]);
  }

  clone(kind: HeaderMapKind = this.kind): HeaderMap {
    const m = new HeaderMap(kind);
    m.keys.push(...this.keys);
    m.values.push(...this.values);
    return m;
  }

  toObject(): Record<string, string> {
    const o: Record<string, string> = {};
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i];
      o[k] = o[k] === undefined ? this.values[i] : `${o[k]},${this.values[i]}`;
    }
    return o;
  }
}

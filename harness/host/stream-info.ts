/**
 * Per-request data Envoy keeps in StreamInfo and that Wasm properties read
 * (filters/common/expr/context.cc). Filled by the proxy front end.
 */
import type { HeaderMap } from "./header-map.js";

export interface SocketAddress {
  ip: string;
  port: number;
}

/** Envoy Address::asString: "ip:port", IPv6 in brackets. */
export function addressString(a: SocketAddress): string {
  return a.ip.includes(":") ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
}

const NS_PER_MS = 1_000_000n;

export class StreamInfo {
  /** performance.now() at stream start. */
  readonly startMono: number;
  private readonly startWallMs: number;
  protocol = "HTTP/1.1";
  connectionId = 0;
  downstreamRemote: SocketAddress = { ip: "127.0.0.1", port: 0 };
  downstreamLocal: SocketAddress = { ip: "127.0.0.1", port: 0 };
  routeName: string | undefined;
  clusterName: string | undefined;
  virtualHostName: string | undefined;
  responseCode: number | undefined;
  responseCodeDetails: string | undefined;
  responseFlags = 0;
  /** performance.now() when the stream completed (request.duration). */
  requestCompleteMono: number | undefined;
  upstreamHost: SocketAddress | undefined;
  upstreamRequestStartMono: number | undefined;
  upstreamFirstByteMono: number | undefined;
  bytesReceived = 0;
  bytesSent = 0;
  /** Filter state: "wasm.<path>" → value, written by proxy_set_property. */
  readonly filterState = new Map<string, Buffer>();
  /** What access logging sees (final maps). */
  requestHeaders: HeaderMap | null = null;
  responseHeaders: HeaderMap | null = null;
  responseTrailers: HeaderMap | null = null;

  constructor() {
    this.startMono = performance.now();
    this.startWallMs = Date.now();
  }

  /** Wall clock at stream start, ns since epoch (request.time). */
  get startTimeNs(): bigint {
    return BigInt(this.startWallMs) * NS_PER_MS + BigInt(Math.floor((this.startMono % 1) * 1e6));
  }

  durationNs(): bigint | undefined {
    if (this.requestCompleteMono === undefined) return undefined;
    return BigInt(Math.round((this.requestCompleteMono - this.startMono) * 1e6));
  }
}

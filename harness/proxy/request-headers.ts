/**
 * Builds the request header map an Envoy HTTP/1 listener hands to its filters and applies the
 * HCM header mutations (Envoy source/common/http/conn_manager_utility.cc mutateRequestHeaders
 * with use_remote_address: true and xff_num_trusted_hops):
 *  - Host becomes :authority; pseudo headers :authority, :path, :method, :scheme come first;
 *  - connection, upgrade, keep-alive, proxy-connection, transfer-encoding and x-envoy-internal are removed;
 *  - the trusted client address is the XFF entry xff_num_trusted_hops from the right (before
 *    appending), else the peer; the peer is appended to XFF (the node's own address when the peer
 *    is loopback); x-forwarded-proto is set;
 *  - a request is internal only if XFF was absent and the trusted address is internal (RFC 1918,
 *    loopback, fd00::/8): internal → x-envoy-internal: true; otherwise (edge) the x-envoy-* control
 *    headers are stripped and x-envoy-external-address is set to the trusted address;
 *  - x-request-id is generated for edge requests (unless preserved) or when absent.
 */
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { HeaderMap } from "../host/header-map.js";

const STRIPPED = new Set(["host", "connection", "upgrade", "keep-alive", "proxy-connection", "transfer-encoding", "x-envoy-internal"]);

/** cleanInternalHeaders: x-envoy-* headers an external client must not set. */
const EDGE_ONLY_STRIP = ["x-envoy-decorator-operation", "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node"];
const EXTERNAL_STRIP = [
  "x-envoy-retriable-status-codes", "x-envoy-retriable-header-names", "x-envoy-retry-on", "x-envoy-retry-grpc-on",
  "x-envoy-max-retries", "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-ms",
  "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-upstream-rq-timeout-alt-response", "x-envoy-expected-rq-timeout-ms",
  "x-envoy-force-trace", "x-envoy-ip-tags", "x-envoy-original-url", "x-envoy-hedge-on-per-try-timeout",
];

/** Strips the IPv4-mapped IPv6 prefix Node reports on dual-stack sockets. */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) return "0.0.0.0";
  return ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

export function isLoopbackIp(ip: string): boolean {
  return ip === "::1" || /^127\./.test(ip);
}

/** Envoy Network::Utility::isInternalAddress (legacy default internal address config). */
export function isInternalIp(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split(".").map(Number);
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  if (isIP(ip) === 6) {
    const lower = ip.toLowerCase();
    return lower === "::1" || /^fd[0-9a-f]{2}:/.test(lower);
  }
  return false;
}

/** Envoy LocalInfo address: the first non-internal-loopback interface address (IPv4 preferred). */
export function defaultLocalAddress(): string {
  const ifaces = networkInterfaces();
  for (const list of Object.values(ifaces)) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

/** Envoy Utility::getLastAddressFromXFF(headers, numToSkip). */
export function lastAddressFromXff(xff: string | undefined, numToSkip: number): string | undefined {
  if (xff === undefined || xff === "") return undefined;
  const parts = xff.split(",").map((s) => s.trim());
  if (numToSkip >= parts.length) return undefined;
  const candidate = parts[parts.length - 1 - numToSkip];
  return isIP(candidate) !== 0 ? candidate : undefined;
}

export interface HcmOptions {
  xffNumTrustedHops: number;
  /** Envoy's node address used in XFF when the peer is loopback. */
  localAddress: string;
  preserveExternalRequestId: boolean;
}

export interface HcmResult {
  headers: HeaderMap;
  /** The trusted client address (what Envoy logs as the downstream address). */
  clientAddress: string;
  internal: boolean;
}

export function buildRequestHeaders(
  method: string, url: string, rawHeaders: readonly string[], peerIp: string, opts: HcmOptions,
): HcmResult {
  const h = new HeaderMap("request");
  let host: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const k = rawHeaders[i].toLowerCase();
    if (k === "host") {
      if (host === undefined) host = rawHeaders[i + 1];
      continue;
    }
    if (STRIPPED.has(k)) continue;
    // HTTP/1 codec addViaMove: a repeated inline header is comma-joined, others kept as entries.
    h.addCopy(k, rawHeaders[i + 1]);
  }
  // HTTP/1 codec: Host → :authority; pseudo headers precede the rest.
  h.append(":authority", host ?? "");
  h.append(":path", url);
  h.append(":method", method);

  const hadXff = h.has("x-forwarded-for");
  let trusted: string | undefined;
  if (opts.xffNumTrustedHops > 0) trusted = lastAddressFromXff(h.get("x-forwarded-for"), opts.xffNumTrustedHops - 1);
  if (trusted === undefined) trusted = peerIp;
  const appended = isLoopbackIp(peerIp) ? opts.localAddress : peerIp;
  // Inline headers are updated in place (HeaderMapImpl); appendXff uses "," as delimiter.
  const xff = h.get("x-forwarded-for");
  h.setInPlace("x-forwarded-for", xff === undefined || xff === "" ? appended : `${xff},${appended}`);
  if (opts.xffNumTrustedHops === 0 || !h.has("x-forwarded-proto")) h.setInPlace("x-forwarded-proto", "http");
  if (!h.has(":scheme")) {
    const fp = h.get("x-forwarded-proto");
    h.append(":scheme", fp === "https" || fp === "http" ? fp : "http");
  }
  const internal = !hadXff && isInternalIp(trusted);
  const edge = !internal;
  if (internal) {
    h.setInPlace("x-envoy-internal", "true");
  } else {
    if (edge) for (const k of EDGE_ONLY_STRIP) h.remove(k);
    for (const k of EXTERNAL_STRIP) h.remove(k);
  }
  if (edge) h.setInPlace("x-envoy-external-address", trusted);
  if (!h.has("x-request-id") || (edge && !opts.preserveExternalRequestId)) h.setInPlace("x-request-id", randomUUID());
  return { headers: h, clientAddress: trusted, internal };
}

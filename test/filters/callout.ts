// Test filter: proxy_http_call from on_request_headers, pausing the request; on_http_call_response
// (delivered to the root) switches to the stream with proxy_set_effective_context, adds request
// headers describing the response and resumes with proxy_continue_stream(0).
// Request headers: x-callout (enables), x-call-cluster, x-call-path, x-call-timeout, x-call-omit
// (path|method|authority), x-call-deny (answer a local 403 instead of continuing).
import * as h from "./lib/hostcalls";
export { malloc } from "./lib/hostcalls";

const streamByToken = new Map<u32, u32>();
const denyByStream = new Set<u32>();

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_request_headers(id: u32, n: u32, eos: u32): u32 {
  if (h.getHeader(h.MAP_REQUEST, "x-callout") === null) return 0;
  const clusterH = h.getHeader(h.MAP_REQUEST, "x-call-cluster");
  const pathH = h.getHeader(h.MAP_REQUEST, "x-call-path");
  const timeoutH = h.getHeader(h.MAP_REQUEST, "x-call-timeout");
  const omit = h.getHeader(h.MAP_REQUEST, "x-call-omit");
  if (h.getHeader(h.MAP_REQUEST, "x-call-deny") !== null) denyByStream.add(id);
  const kv = new Array<string>();
  if (omit != "method") { kv.push(":method"); kv.push("POST"); }
  if (omit != "path") { kv.push(":path"); kv.push(pathH === null ? "/callout" : pathH); }
  if (omit != "authority") { kv.push(":authority"); kv.push("callout.local"); }
  kv.push("x-from-wasm"); kv.push("1");
  const timeout = timeoutH === null ? <u32>1000 : <u32>I32.parseInt(timeoutH);
  const s = h.httpCall(clusterH === null ? "upstream" : clusterH, kv, "ping", timeout);
  h.info("http_call status=" + s.toString() + " token=" + h.lastToken.toString());
  if (s != 0) {
    h.sendLocalResponse(500, "http_call_failed", "http_call status=" + s.toString(), []);
    return 1;
  }
  streamByToken.set(h.lastToken, id);
  return 1;
}

export function proxy_on_http_call_response(root: u32, token: u32, nh: u32, bodySize: u32, nt: u32): void {
  const kv = h.getHeaderPairs(h.MAP_CALL_RESPONSE);
  let status = "none";
  for (let i = 0; i < kv.length; i += 2) if (kv[i] == ":status") status = kv[i + 1];
  const body = h.getBuffer(h.BUF_CALL_RESPONSE_BODY, 0, bodySize);
  const bodyStr = body === null ? "" : h.str(body);
  const msg = h.getStatus();
  const code = h.lastStatusCode;
  h.info("http_call_response root=" + root.toString() + " token=" + token.toString() + " headers=" + nh.toString() + " body=" + bodySize.toString() +
    " trailers=" + nt.toString() + " status=" + status + " get_status=" + code.toString() + "/" + msg);
  if (!streamByToken.has(token)) return;
  const id = streamByToken.get(token);
  streamByToken.delete(token);
  const es = h.setEffectiveContext(id);
  if (es != 0) {
    h.info("set_effective_context failed " + es.toString());
    return;
  }
  if (denyByStream.has(id)) {
    denyByStream.delete(id);
    h.sendLocalResponse(403, "callout denied", "denied after callout", []);
    return;
  }
  h.addHeader(h.MAP_REQUEST, "x-callout-status", status);
  h.addHeader(h.MAP_REQUEST, "x-callout-counts", nh.toString() + "/" + bodySize.toString() + "/" + nt.toString());
  h.addHeader(h.MAP_REQUEST, "x-callout-body", bodyStr.length > 120 ? bodyStr.substring(0, 120) : bodyStr);
  h.addHeader(h.MAP_REQUEST, "x-callout-get-status", code.toString() + "/" + msg);
  h.addHeader(h.MAP_REQUEST, "x-callout-token", token.toString());
  h.continueStream(0);
}

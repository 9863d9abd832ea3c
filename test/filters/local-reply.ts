// Test filter: proxy_send_local_response. x-local-status/x-local-details/x-local-body/x-local-type
// → local reply from on_request_headers; x-local-in-response: <status> → from on_response_headers;
// x-close: request → proxy_close_stream(0). Every on_response_headers call adds x-saw-response-headers.
import * as h from "./lib/hostcalls";
export { malloc } from "./lib/hostcalls";

const inResponse = new Map<u32, u32>();

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_request_headers(id: u32, n: u32, eos: u32): u32 {
  const ir = h.getHeader(h.MAP_REQUEST, "x-local-in-response");
  if (ir !== null) inResponse.set(id, <u32>I32.parseInt(ir));
  if (h.getHeader(h.MAP_REQUEST, "x-close") == "request") {
    h.closeStream(0);
    return 1;
  }
  const status = h.getHeader(h.MAP_REQUEST, "x-local-status");
  if (status === null) return 0;
  const details = h.getHeader(h.MAP_REQUEST, "x-local-details");
  const body = h.getHeader(h.MAP_REQUEST, "x-local-body");
  const type = h.getHeader(h.MAP_REQUEST, "x-local-type");
  const kv = ["x-local", "1", "X-Upper", "v"];
  if (type !== null) {
    kv.push("content-type");
    kv.push(type);
  }
  const s = h.sendLocalResponse(<u32>I32.parseInt(status), details === null ? "" : details, body === null ? "" : body, kv);
  h.info("send_local_response status=" + s.toString());
  // Returning Continue on purpose: the host must still stop the stream.
  return 0;
}

export function proxy_on_response_headers(id: u32, n: u32, eos: u32): u32 {
  const st = h.getHeader(h.MAP_RESPONSE, ":status");
  h.addHeader(h.MAP_RESPONSE, "x-saw-response-headers", (st === null ? "null" : st) + "/" + eos.toString());
  const cl = h.getHeader(h.MAP_RESPONSE, "content-length");
  h.info("on_response_headers status=" + (st === null ? "null" : st) + " content-length=" + (cl === null ? "none" : cl));
  if (inResponse.has(id)) {
    h.sendLocalResponse(inResponse.get(id), "from response", "replaced", []);
    return 1;
  }
  return 0;
}

export function proxy_on_response_body(id: u32, size: u32, eos: u32): u32 {
  h.info("on_response_body size=" + size.toString() + " eos=" + eos.toString());
  return 0;
}

export function proxy_on_delete(id: u32): void {
  inResponse.delete(id);
}

// Test filter: header maps across phases. Request: records what it reads into request headers
// (seen by the upstream echo); response: checks that request maps are released after Continue
// and reports into response headers; on_log: reads maps read-only and tries a mutation.
import * as h from "./lib/hostcalls";
import * as imp from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
export { malloc } from "./lib/hostcalls";

const dumps = new Map<u32, string>();

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_request_headers(id: u32, n: u32, eos: u32): u32 {
  const kv = h.getHeaderPairs(h.MAP_REQUEST);
  let dump = "";
  for (let i = 0; i < kv.length; i += 2) dump += (i > 0 ? "|" : "") + kv[i] + "=" + kv[i + 1];
  dumps.set(id, dump);
  h.addHeader(h.MAP_REQUEST, "x-wasm-count", (kv.length / 2).toString() + "/" + n.toString() + "/" + eos.toString());
  h.addHeader(h.MAP_REQUEST, "x-wasm-pairs-size", h.lastPairsSize.toString());
  const path = h.getHeader(h.MAP_REQUEST, ":path");
  h.addHeader(h.MAP_REQUEST, "x-wasm-path", path === null ? "null" : path);
  const method = h.getHeader(h.MAP_REQUEST, ":method");
  h.addHeader(h.MAP_REQUEST, "x-wasm-method", method === null ? "null" : method);
  const auth = h.getHeader(h.MAP_REQUEST, ":authority");
  h.addHeader(h.MAP_REQUEST, "x-wasm-authority", auth === null ? "null" : auth);
  const scheme = h.getHeader(h.MAP_REQUEST, ":scheme");
  h.addHeader(h.MAP_REQUEST, "x-wasm-scheme", scheme === null ? "null" : scheme);
  h.getHeader(h.MAP_REQUEST, "x-definitely-missing");
  h.addHeader(h.MAP_REQUEST, "x-wasm-missing-status", h.lastStatus.toString());
  h.getHeader(9, "x");
  h.addHeader(h.MAP_REQUEST, "x-wasm-badtype-status", h.lastStatus.toString());
  // A repeated header: Envoy's get_header_map_value returns only the first line (context.cc).
  const dup = h.getHeader(h.MAP_REQUEST, "x-dup");
  h.addHeader(h.MAP_REQUEST, "x-wasm-dup-first", dup === null ? "null" : dup);
  const mixed = h.getHeader(h.MAP_REQUEST, "X-Mixed-Case");
  h.addHeader(h.MAP_REQUEST, "x-wasm-mixed", mixed === null ? "null" : mixed);
  h.replaceHeader(h.MAP_REQUEST, "user-agent", "wasm-agent");
  h.removeHeader(h.MAP_REQUEST, "x-remove-me");
  h.addHeader(h.MAP_REQUEST, "X-Upper-Added", "lowered");
  const newPath = h.getHeader(h.MAP_REQUEST, "x-set-path");
  if (newPath !== null) h.replaceHeader(h.MAP_REQUEST, ":path", newPath);
  const size = h.headerMapSize(h.MAP_REQUEST);
  const now = h.getHeaderPairs(h.MAP_REQUEST);
  let sum = 0;
  for (let i = 0; i < now.length; i++) sum += String.UTF8.byteLength(now[i]);
  h.addHeader(h.MAP_REQUEST, "x-wasm-size", size.toString() + "/" + sum.toString());
  const wipe = h.getHeader(h.MAP_REQUEST, "x-wipe");
  if (wipe == "bad") {
    // A malformed pairs buffer deserializes as empty: every header is removed (Envoy behaviour).
    const bad = new ArrayBuffer(3);
    imp.proxy_set_header_map_pairs(h.MAP_REQUEST, changetype<usize>(bad), 3);
  } else if (wipe !== null) {
    h.setHeaderPairs(h.MAP_REQUEST, [":method", "GET", ":path", "/wiped", ":authority", "wiped.local", "x-only", "1"]);
  }
  return 0;
}

export function proxy_on_response_headers(id: u32, n: u32, eos: u32): u32 {
  h.getHeader(h.MAP_REQUEST, ":path");
  h.addHeader(h.MAP_RESPONSE, "x-req-get-after-continue", h.lastStatus.toString());
  h.getHeaderPairs(h.MAP_REQUEST);
  h.addHeader(h.MAP_RESPONSE, "x-req-pairs-after-continue", h.lastStatus.toString() + "/" + h.lastPairsSize.toString());
  h.addHeader(h.MAP_REQUEST, "x-late", "1");
  h.addHeader(h.MAP_RESPONSE, "x-req-add-after-continue", h.lastStatus.toString());
  const status = h.getHeader(h.MAP_RESPONSE, ":status");
  h.addHeader(h.MAP_RESPONSE, "x-resp-status-seen", status === null ? "null" : status);
  h.addHeader(h.MAP_RESPONSE, "x-resp-count", n.toString() + "/" + eos.toString());
  h.addHeader(h.MAP_RESPONSE, "x-wasm-req-dump", dumps.has(id) ? dumps.get(id) : "");
  return 0;
}

export function proxy_on_log(id: u32): void {
  const p = h.getHeader(h.MAP_REQUEST, ":path");
  const s1 = h.lastStatus;
  const st = h.getHeader(h.MAP_RESPONSE, ":status");
  const s2 = h.lastStatus;
  h.addHeader(h.MAP_REQUEST, "x-log", "1");
  const s3 = h.lastStatus;
  h.getHeader(h.MAP_REQUEST_TRAILERS, "x");
  const s4 = h.lastStatus;
  h.headerMapSize(h.MAP_REQUEST);
  const s5 = h.lastStatus;
  h.info("on_log path=" + (p === null ? "null" : p) + "/" + s1.toString() + " status=" + (st === null ? "null" : st) + "/" + s2.toString() +
    " add=" + s3.toString() + " trailers=" + s4.toString() + " size=" + s5.toString());
}

export function proxy_on_delete(id: u32): void {
  dumps.delete(id);
}

// Test filter: property values. Paths use "/" between segments here and are sent NUL-separated.
// Request header x-props: comma-separated paths → local reply 200, body lines "<path> <status> <hex>".
// x-resp-props: dumped into response header x-props-dump from on_response_headers.
// x-log-props: dumped to the log from on_log. x-set-prop: "<name>=<value>" via proxy_set_property.
import * as h from "./lib/hostcalls";
export { malloc } from "./lib/hostcalls";

const respProps = new Map<u32, string>();
const logProps = new Map<u32, string>();

export function proxy_abi_version_0_2_1(): void {}

function nul(path: string): string {
  return path.replaceAll("/", "\0");
}

function dump(list: string, sep: string): string {
  let out = "";
  const paths = list.split(",");
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i].trim();
    if (p.length == 0) continue;
    const v = h.getProperty(nul(p));
    out += (out.length > 0 ? sep : "") + p + " " + h.lastStatus.toString() + " " + h.hex(v);
  }
  return out;
}

export function proxy_on_configure(root: u32, size: u32): bool {
  h.info("root props: " + dump("plugin_name,plugin_root_id,plugin_vm_id,xds/node/id,xds/node/cluster,request/path,source/address,node/id", "; "));
  const s = h.setProperty("root_prop", "x");
  h.info("root set_property status=" + s.toString());
  return true;
}

export function proxy_on_request_headers(id: u32, n: u32, eos: u32): u32 {
  const set = h.getHeader(h.MAP_REQUEST, "x-set-prop");
  if (set !== null) {
    const eq = set.indexOf("=");
    h.setProperty(set.substring(0, eq), set.substring(eq + 1));
    h.addHeader(h.MAP_REQUEST, "x-set-prop-status", h.lastStatus.toString());
  }
  const rp = h.getHeader(h.MAP_REQUEST, "x-resp-props");
  if (rp !== null) respProps.set(id, rp);
  const lp = h.getHeader(h.MAP_REQUEST, "x-log-props");
  if (lp !== null) logProps.set(id, lp);
  const props = h.getHeader(h.MAP_REQUEST, "x-props");
  if (props !== null) {
    h.sendLocalResponse(200, "props dump", dump(props, "\n") + "\n", ["content-type", "text/plain"]);
    return 1;
  }
  return 0;
}

export function proxy_on_response_headers(id: u32, n: u32, eos: u32): u32 {
  if (respProps.has(id)) h.addHeader(h.MAP_RESPONSE, "x-props-dump", dump(respProps.get(id), ";"));
  return 0;
}

export function proxy_on_log(id: u32): void {
  if (logProps.has(id)) h.info("log props: " + dump(logProps.get(id), "; "));
}

export function proxy_on_delete(id: u32): void {
  respProps.delete(id);
  logProps.delete(id);
}

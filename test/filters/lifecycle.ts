// Test filter: logs every callback (ids, sizes) so tests can check order. Plugin configuration is
// a list of words: "reject" (on_configure false), "tick=<ms>", "defer-done" (root on_done returns
// false; proxy_done on a later tick), "trap-configure"; VM configuration "reject-vm" (on_vm_start false).
// Request headers: x-trap: request-headers | response-headers | request-body;
// x-body-mode: buffer (buffer the request body, then replace it); x-pause: 1 (StopIteration).
import * as h from "./lib/hostcalls";
export { malloc } from "./lib/hostcalls";

let configureCount = 0;
let tickCounter: u32 = 0;
const rootConfig = new Map<u32, string>();
const streamRoot = new Map<u32, u32>();
const trapAt = new Map<u32, string>();
const bodyMode = new Map<u32, string>();
const pendingDone = new Set<u32>();

export function proxy_abi_version_0_2_1(): void {}

// Top-level code runs in _start (VM context: the log line has no prefix).
h.info("_start");

function hasWord(cfg: string, word: string): bool {
  const words = cfg.split(" ");
  for (let i = 0; i < words.length; i++) if (words[i] == word) return true;
  return false;
}

function tickOf(cfg: string): i32 {
  const words = cfg.split(" ");
  for (let i = 0; i < words.length; i++) if (words[i].startsWith("tick=")) return I32.parseInt(words[i].substring(5));
  return -1;
}

export function proxy_on_context_create(id: u32, parent: u32): void {
  h.info("on_context_create " + id.toString() + " " + parent.toString());
  if (parent != 0) streamRoot.set(id, parent);
}

export function proxy_on_vm_start(root: u32, size: u32): bool {
  const b = h.getBuffer(h.BUF_VM_CONFIG, 0, size);
  const cfg = b === null ? "" : h.str(b);
  h.info("on_vm_start " + root.toString() + " " + size.toString() + " vm_config=" + cfg);
  return cfg != "reject-vm";
}

export function proxy_on_configure(root: u32, size: u32): bool {
  configureCount++;
  const cfg = h.pluginConfig();
  rootConfig.set(root, cfg);
  h.info("on_configure " + root.toString() + " " + size.toString() + " config=" + cfg + " count=" + configureCount.toString());
  if (hasWord(cfg, "trap-configure")) unreachable();
  const ms = tickOf(cfg);
  if (ms >= 0) {
    tickCounter = h.defineMetric(0, "lifecycle.ticks");
    h.setTickPeriod(<u32>ms);
  }
  return !hasWord(cfg, "reject");
}

export function proxy_on_tick(root: u32): void {
  h.incrementMetric(tickCounter, 1);
  h.info("on_tick " + root.toString());
  const roots = pendingDone.values();
  for (let i = 0; i < roots.length; i++) {
    h.setEffectiveContext(roots[i]);
    const s = h.done();
    h.info("proxy_done " + roots[i].toString() + " status=" + s.toString());
    pendingDone.delete(roots[i]);
  }
}

export function proxy_on_request_headers(id: u32, n: u32, eos: u32): u32 {
  h.info("on_request_headers " + id.toString() + " " + n.toString() + " " + eos.toString());
  const trap = h.getHeader(h.MAP_REQUEST, "x-trap");
  if (trap !== null) trapAt.set(id, trap);
  const mode = h.getHeader(h.MAP_REQUEST, "x-body-mode");
  if (mode !== null) bodyMode.set(id, mode);
  if (trap == "request-headers") unreachable();
  if (h.getHeader(h.MAP_REQUEST, "x-pause") == "1") return 1;
  return 0;
}

export function proxy_on_request_body(id: u32, size: u32, eos: u32): u32 {
  h.info("on_request_body " + id.toString() + " " + size.toString() + " " + eos.toString());
  if (trapAt.has(id) && trapAt.get(id) == "request-body") unreachable();
  if (bodyMode.has(id) && bodyMode.get(id) == "buffer") {
    if (eos == 0) return 1;
    const b = h.getBuffer(h.BUF_REQUEST_BODY, 0, size);
    const body = b === null ? "" : h.str(b);
    h.info("request body=" + body);
    h.setBuffer(h.BUF_REQUEST_BODY, 0, size, "REPLACED:" + body);
    h.info("set_buffer_bytes status=" + h.lastStatus.toString());
  }
  return 0;
}

export function proxy_on_request_trailers(id: u32, n: u32): u32 {
  h.info("on_request_trailers " + id.toString() + " " + n.toString());
  return 0;
}

export function proxy_on_response_headers(id: u32, n: u32, eos: u32): u32 {
  h.info("on_response_headers " + id.toString() + " " + n.toString() + " " + eos.toString());
  if (trapAt.has(id) && trapAt.get(id) == "response-headers") unreachable();
  return 0;
}

export function proxy_on_response_body(id: u32, size: u32, eos: u32): u32 {
  h.info("on_response_body " + id.toString() + " " + size.toString() + " " + eos.toString());
  return 0;
}

export function proxy_on_response_trailers(id: u32, n: u32): u32 {
  h.info("on_response_trailers " + id.toString() + " " + n.toString());
  return 0;
}

export function proxy_on_log(id: u32): void {
  h.info("on_log " + id.toString());
}

export function proxy_on_done(id: u32): bool {
  h.info("on_done " + id.toString());
  if (rootConfig.has(id) && hasWord(rootConfig.get(id), "defer-done")) {
    pendingDone.add(id);
    return false;
  }
  return true;
}

export function proxy_on_delete(id: u32): void {
  h.info("on_delete " + id.toString());
  streamRoot.delete(id);
  trapAt.delete(id);
  bodyMode.delete(id);
}

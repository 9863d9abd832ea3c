// Test filter: assorted hostcall return codes, driven by request header x-op; each op answers a
// JSON local reply with the statuses it observed.
import * as imp from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import * as h from "./lib/hostcalls";
export { malloc } from "./lib/hostcalls";

// Envoy's 12-argument proxy_grpc_call / 9-argument proxy_grpc_stream (the SDK declares other arities).
// @ts-ignore: decorator
@external("env", "proxy_grpc_call")
declare function grpc_call(sp: usize, ss: usize, snp: usize, sns: usize, mp: usize, ms: usize, imp_: usize, ims: usize, rp: usize, rs: usize, timeout: u32, tokenPtr: usize): u32;

const OUT = memory.data(16);

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_configure(root: u32, size: u32): bool {
  if (h.pluginConfig() == "wasi") {
    process.stdout.write("stdout line\n");
    process.stderr.write("stderr line\n");
    console.log("via console");
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    h.info("wasi date=" + (Date.now() > 1600000000000 ? "ok" : "bad"));
  }
  return true;
}

function reply(json: string): u32 {
  h.sendLocalResponse(200, "misc", json, ["content-type", "application/json"]);
  return 1;
}

function enc(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

function foreign(name: string, args: ArrayBuffer): string | null {
  const n = enc(name);
  h.lastStatus = imp.proxy_call_foreign_function(changetype<usize>(n), n.byteLength, changetype<usize>(args), args.byteLength, OUT, OUT + 4);
  if (h.lastStatus != 0) return null;
  const p = load<usize>(OUT);
  const len = load<usize>(OUT + 4);
  const b = new ArrayBuffer(<i32>len);
  memory.copy(changetype<usize>(b), p, len);
  if (p != 0) heap.free(p);
  return h.hex(b);
}

export function proxy_on_request_headers(id: u32, n: u32, eos: u32): u32 {
  const op = h.getHeader(h.MAP_REQUEST, "x-op");
  if (op === null) return 0;
  if (op == "foreign") {
    foreign("nope", new ArrayBuffer(0));
    const unknown = h.lastStatus;
    const z = foreign("compress", enc("hello hello hello hello"));
    const zs = h.lastStatus;
    const back = foreign("uncompress", Uint8Array.wrap(z === null ? new ArrayBuffer(0) : hexToBytes(z)).buffer);
    const us = h.lastStatus;
    foreign("uncompress", enc("not zlib"));
    const bad = h.lastStatus;
    foreign("expr_create", new ArrayBuffer(0));
    const cel = h.lastStatus;
    return reply("{\"unknown\":" + unknown.toString() + ",\"compress\":" + zs.toString() + ",\"uncompress\":" + us.toString() +
      ",\"roundtrip\":" + (back == h.hex(enc("hello hello hello hello")) ? "true" : "false") + ",\"bad\":" + bad.toString() + ",\"cel\":" + cel.toString() + "}");
  }
  if (op == "grpc") {
    const c1 = enc("nope");
    const c2 = enc("upstream");
    const s = enc("svc");
    const m = enc("Method");
    const unknown = grpc_call(changetype<usize>(c1), c1.byteLength, changetype<usize>(s), s.byteLength, changetype<usize>(m), m.byteLength, 0, 0, 0, 0, 1000, OUT);
    const known = grpc_call(changetype<usize>(c2), c2.byteLength, changetype<usize>(s), s.byteLength, changetype<usize>(m), m.byteLength, 0, 0, 0, 0, 1000, OUT);
    const cancelCall = imp.proxy_grpc_cancel(5);
    const cancelHttp = imp.proxy_grpc_cancel(4);
    const closeStream = imp.proxy_grpc_close(6);
    const sendBad = imp.proxy_grpc_send(5, 0, 0, 0);
    return reply("{\"unknown\":" + unknown.toString() + ",\"known\":" + known.toString() + ",\"cancelCall\":" + cancelCall.toString() +
      ",\"cancelHttp\":" + cancelHttp.toString() + ",\"closeStream\":" + closeStream.toString() + ",\"sendBad\":" + sendBad.toString() + "}");
  }
  if (op == "stream-types") {
    const up = imp.proxy_continue_stream(3);
    const down = imp.proxy_continue_stream(2);
    const bad = imp.proxy_continue_stream(4);
    const closeBad = imp.proxy_close_stream(7);
    return reply("{\"upstream\":" + up.toString() + ",\"downstream\":" + down.toString() + ",\"bad\":" + bad.toString() + ",\"closeBad\":" + closeBad.toString() + "}");
  }
  if (op == "log") {
    store<u32>(OUT, 99);
    const ls = imp.proxy_get_log_level(OUT);
    const level = load<u32>(OUT);
    const m = enc("x");
    const badLevel = imp.proxy_log(9, changetype<usize>(m), 1);
    const badMem = imp.proxy_log(2, 0xfffffff0, 100);
    return reply("{\"status\":" + ls.toString() + ",\"level\":" + level.toString() + ",\"badLevel\":" + badLevel.toString() + ",\"badMem\":" + badMem.toString() + "}");
  }
  if (op == "buffers") {
    const len = h.bufferSize(h.BUF_REQUEST_BODY);
    const bs = h.lastStatus;
    h.getBuffer(9, 0, 10);
    const badType = h.lastStatus;
    h.getBuffer(h.BUF_PLUGIN_CONFIG, 0, 100);
    const pluginCfg = h.lastStatus;
    const vmCfg = h.getBuffer(h.BUF_VM_CONFIG, 0, 100);
    const vmStatus = h.lastStatus;
    const setVm = h.setBuffer(h.BUF_VM_CONFIG, 0, 0, "x");
    h.getBuffer(h.BUF_CALL_RESPONSE_BODY, 0, 10);
    const callBody = h.lastStatus;
    const vmPart = h.getBuffer(h.BUF_VM_CONFIG, 2, 3);
    const beyond = h.getBuffer(h.BUF_VM_CONFIG, 1000, 10);
    return reply("{\"bodyStatus\":" + bs.toString() + ",\"bodyLen\":" + len.toString() + ",\"badType\":" + badType.toString() +
      ",\"pluginCfg\":" + pluginCfg.toString() + ",\"vmStatus\":" + vmStatus.toString() + ",\"vmCfg\":" + h.jstr(vmCfg === null ? "" : h.str(vmCfg)) +
      ",\"setVm\":" + setVm.toString() + ",\"callBody\":" + callBody.toString() + ",\"vmPart\":" + h.jstr(vmPart === null ? "null" : h.str(vmPart)) +
      ",\"beyond\":" + (beyond === null ? "null" : beyond.byteLength.toString()) + "}");
  }
  if (op == "grow") {
    // Envoy's V8 engine caps linear memory at 1 GiB (cpp-host limits.h): grow to the cap, then one page past it.
    const before = memory.size();
    const toCap = memory.grow(16384 - before);
    const past = memory.grow(1);
    return reply("{\"before\":" + before.toString() + ",\"toCap\":" + toCap.toString() + ",\"past\":" + past.toString() + ",\"after\":" + memory.size().toString() + "}");
  }
  if (op == "context") {
    const eff = h.setEffectiveContext(99999);
    const done = h.done();
    const t = h.nowNs();
    return reply("{\"effective\":" + eff.toString() + ",\"done\":" + done.toString() + ",\"now\":\"" + t.toString() + "\"}");
  }
  return 0;
}

function hexToBytes(s: string): ArrayBuffer {
  const b = new ArrayBuffer(s.length / 2);
  for (let i = 0; i < s.length / 2; i++) store<u8>(changetype<usize>(b) + <usize>i, <u8>U32.parseInt(s.substr(i * 2, 2), 16));
  return b;
}

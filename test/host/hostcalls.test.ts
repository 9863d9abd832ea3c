// Return codes of assorted hostcalls as Envoy gives them (misc test filter): foreign functions,
// gRPC stubs, stream types, logging, buffers, effective context, proxy_done, WASI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestProxy, type TestProxy } from "./support/test-proxy.js";

describe("hostcall return codes", () => {
  let t: TestProxy;
  beforeAll(async () => {
    t = await startTestProxy("misc", { plugin: { configuration: "wasi", vmConfiguration: "vm-config-bytes" } });
  });
  afterAll(() => t.close());
  const op = async (name: string) => (await t.get("/api/op", { "x-op": name })).json<Record<string, unknown>>();

  it("call_foreign_function: unknown → NotFound; compress/uncompress round-trip; bad input → SerializationFailure; CEL → Unimplemented", async () => {
    expect(await op("foreign")).toEqual({ unknown: 1, compress: 0, uncompress: 0, roundtrip: true, bad: 3, cel: 12 });
  });

  it("gRPC: unknown cluster → ParseFailure, known cluster → Unimplemented (not emulated), no live callouts", async () => {
    expect(await op("grpc")).toEqual({ unknown: 4, known: 12, cancelCall: 1, cancelHttp: 2, closeStream: 1, sendBad: 2 });
  });

  it("continue_stream(Upstream) → Unimplemented, Downstream → Ok, > 3 → BadArgument", async () => {
    expect(await op("stream-types")).toEqual({ upstream: 12, downstream: 0, bad: 2, closeBad: 2 });
  });

  it("proxy_get_log_level reports the wasm logger level; bad level / bad pointer rejected", async () => {
    // The test logger runs wasm at debug (1).
    expect(await op("log")).toEqual({ status: 0, level: 1, badLevel: 2, badMem: 6 });
  });

  it("buffers: empty body outside body callbacks, plugin config only in on_configure, vm config always, immutables", async () => {
    expect(await op("buffers")).toEqual({
      bodyStatus: 0, bodyLen: 0, badType: 2, pluginCfg: 1, vmStatus: 0, vmCfg: "vm-config-bytes", setVm: 2, callBody: 1, vmPart: "-co", beyond: 0,
    });
  });

  it("set_effective_context to an unknown id → BadArgument; proxy_done from a stream → NotFound; live clock", async () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const r = await op("context");
    expect(r.effective).toBe(2);
    expect(r.done).toBe(1);
    const now = BigInt(r.now as string);
    expect(now >= before - 1_000_000_000n && now <= BigInt(Date.now()) * 1_000_000n + 1_000_000_000n).toBe(true);
  });

  it("accounts guest time on demand (outermost guest calls, hostcalls included)", async () => {
    t.proxy.host.setGuestTiming(true);
    await op("context");
    const g = t.proxy.host.guestTiming();
    t.proxy.host.setGuestTiming(false);
    expect(g.calls).toBeGreaterThanOrEqual(1);
    expect(g.ns).toBeGreaterThan(0);
  });

  it("WASI fd_write goes to the log (fd 1 info, fd 2 error, newline stripped); clock and random work", () => {
    const out = t.logger.find("wasm log test_root test_vm: stdout line");
    expect(out.length).toBeGreaterThan(0);
    expect(out.every((e) => e.level === "info")).toBe(true);
    const err = t.logger.find("wasm log test_root test_vm: stderr line");
    expect(err.length).toBeGreaterThan(0);
    expect(err.every((e) => e.level === "error")).toBe(true);
    // AssemblyScript's console.log writes the message and the newline separately (two fd_writes).
    expect(t.logger.find("wasm log test_root test_vm: via console").length).toBe(4);
    expect(t.logger.find("wasi date=ok").length).toBe(4);
  });
  // Last: it leaves this VM with 1 GiB of linear memory.
  it("memory.grow stops at Envoy's 1 GiB cap (cpp-host's V8 engine: wasm_max_mem_pages), where Node alone allows 4 GiB", async () => {
    const r = await op("grow");
    expect(r.toCap).toBe(r.before);
    expect(r.past).toBe(-1);
    expect(r.after).toBe(16384);
  });
});

// Bad inputs at load time fail with stable error codes and Envoy's messages.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { WasmPluginConfig } from "../../harness/config/proxy-config.js";
import { ErrorCodes } from "../../harness/host/errors.js";
import { HostLogger } from "../../harness/host/logger.js";
import { PluginHost } from "../../harness/host/plugin-host.js";
import { startEmbeddedProxy } from "../../harness/proxy/embedded-proxy.js";
import { StatsStore } from "../../harness/stats/stats-store.js";
import { baseConfig, testFilter } from "./support/test-proxy.js";
import { minimalPluginModule } from "./support/wasm-builder.js";

const dir = mkdtempSync(join(tmpdir(), "edgewatch-host-"));
const stats = new StatsStore();
const logger = new HostLogger({ stderrLevel: "off" });
const opened: PluginHost[] = [];
afterAll(async () => {
  for (const h of opened) await h.close();
});

function plugin(wasmPath: string, extra: Partial<WasmPluginConfig> = {}): WasmPluginConfig {
  return { name: "p", rootId: "r", vmId: "v", wasmPath, configuration: "", failOpen: false, ...extra };
}

async function loadError(p: WasmPluginConfig, opts: { envoyVersion?: "1.30" | "1.33" } = {}): Promise<{ code: string; message: string }> {
  try {
    opened.push(await PluginHost.load(p, { stats, logger, workers: 1, ...opts }));
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error("expected the load to fail");
}

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe("loading a plugin", () => {
  it("rejects a missing .wasm file with WASM_FILE_NOT_FOUND", async () => {
    const e = await loadError(plugin(join(dir, "nope.wasm")));
    expect(e.code).toBe(ErrorCodes.WASM_FILE_NOT_FOUND);
    expect(e.message).toContain("nope.wasm");
  });

  it("rejects the same way through startEmbeddedProxy (and listens on nothing)", async () => {
    const cfg = baseConfig(9, { wasmPath: join(dir, "nope.wasm") });
    await expect(startEmbeddedProxy(cfg, { logger })).rejects.toMatchObject({ code: ErrorCodes.WASM_FILE_NOT_FOUND });
  });

  it("rejects bytes that are not Wasm with WASM_INVALID_MODULE", async () => {
    const e = await loadError(plugin(file("garbage.wasm", Buffer.from("definitely not wasm"))));
    expect(e.code).toBe(ErrorCodes.WASM_INVALID_MODULE);
    expect(e.message).toContain("Failed to parse corrupted Wasm module");
  });

  it("rejects a truncated module with WASM_INVALID_MODULE", async () => {
    const bytes = readFileSync(testFilter("headers"));
    const e = await loadError(plugin(file("truncated.wasm", bytes.subarray(0, bytes.length - 100))));
    expect(e.code).toBe(ErrorCodes.WASM_INVALID_MODULE);
  });

  it("rejects a module without proxy_abi_version_* export", async () => {
    const e = await loadError(plugin(testFilter("no-abi")));
    expect(e.code).toBe(ErrorCodes.WASM_ABI_VERSION_MISSING);
    expect(e.message).toBe("Missing or unknown Proxy-Wasm ABI version");
  });

  it("rejects an import Envoy does not register for ABI 0.2.1 (proxy_clear_route_cache)", async () => {
    const e = await loadError(plugin(testFilter("bad-import")));
    expect(e.code).toBe(ErrorCodes.WASM_MISSING_IMPORT);
    expect(e.message).toBe("Failed to load Wasm module due to a missing import: env.proxy_clear_route_cache");
  });

  it("rejects an import with the wrong signature (the SDK's 10-argument proxy_grpc_call)", async () => {
    const bytes = minimalPluginModule({ imports: [{ module: "env", name: "proxy_grpc_call", params: Array(10).fill("i32"), results: ["i32"] }] });
    const e = await loadError(plugin(file("grpc10.wasm", bytes)));
    expect(e.code).toBe(ErrorCodes.WASM_IMPORT_TYPE_MISMATCH);
    expect(e.message).toContain("import type mismatch for function env.proxy_grpc_call");
    expect(e.message).toContain(`but host exports: ${Array(12).fill("i32").join(" ")} -> i32`);
  });

  it("rejects non-function imports (imported memory)", async () => {
    const bytes = minimalPluginModule({ importMemory: true, memory: false });
    const e = await loadError(plugin(file("memimport.wasm", bytes)));
    expect(e.code).toBe(ErrorCodes.WASM_MISSING_IMPORT);
    expect(e.message).toContain("env.memory");
  });

  it("selects the WASI import set by Envoy version (poll_oneoff is 1.33+)", async () => {
    const bytes = minimalPluginModule({ imports: [{ module: "wasi_snapshot_preview1", name: "poll_oneoff", params: ["i32", "i32", "i32", "i32"], results: ["i32"] }] });
    const path = file("poll.wasm", bytes);
    const e = await loadError(plugin(path));
    expect(e.message).toBe("Failed to load Wasm module due to a missing import: wasi_snapshot_preview1.poll_oneoff");
    const host = await PluginHost.load(plugin(path), { stats, logger, workers: 1, envoyVersion: "1.33" });
    opened.push(host);
    expect(host.workers).toHaveLength(1);
  });

  it("rejects a module without malloc / proxy_on_memory_allocate", async () => {
    const e = await loadError(plugin(file("nomalloc.wasm", new Uint8Array(
      (await import("./support/wasm-builder.js")).buildModule({ exports: [{ name: "proxy_abi_version_0_2_1" }] }),
    ))));
    expect(e.code).toBe(ErrorCodes.WASM_MISSING_MALLOC);
  });

  it("accepts proxy_on_memory_allocate as the allocator", async () => {
    const { buildModule } = await import("./support/wasm-builder.js");
    const bytes = buildModule({ exports: [{ name: "proxy_abi_version_0_2_1" }, { name: "proxy_on_memory_allocate", params: ["i32"], results: ["i32"] }] });
    const host = await PluginHost.load(plugin(file("alloc2.wasm", bytes)), { stats, logger, workers: 1 });
    opened.push(host);
    expect(host.stats.liveRootContexts).toBe(2);
  });

  it("rejects a proxy_on_* export with the wrong signature", async () => {
    const e = await loadError(plugin(testFilter("bad-signature")));
    expect(e.code).toBe(ErrorCodes.WASM_BAD_EXPORT_SIGNATURE);
    expect(e.message).toBe("Bad function signature for: proxy_on_request_headers");
  });

  it("traps a restricted hostcall made from _start (only logging and basic WASI are allowed)", async () => {
    const before = logger.entries().length;
    const e = await loadError(plugin(testFilter("restricted")));
    expect(e.code).toBe(ErrorCodes.WASM_START_FAILED);
    expect(e.message).toContain("Function: _start failed: Uncaught Error: restricted_callback");
    expect(e.message).toContain("Proxy-Wasm plugin in-VM backtrace:");
    // The log call before the restricted one went through.
    expect(logger.entries().slice(before).some((l) => l.message === "wasm log: in _start: logging is allowed")).toBe(true);
  });

  it("restricts hostcalls made from a host-initiated malloc (proxy_log allowed, others trap)", async () => {
    const { buildModule } = await import("./support/wasm-builder.js");
    const I4 = ["i32", "i32", "i32", "i32"] as const;
    const mod = (mallocCalls: number) =>
      buildModule({
        imports: [
          { module: "env", name: "proxy_get_buffer_bytes", params: [...I4, "i32"], results: ["i32"] },
          { module: "env", name: "proxy_get_property", params: [...I4], results: ["i32"] },
          { module: "env", name: "proxy_log", params: ["i32", "i32", "i32"], results: ["i32"] },
        ],
        exports: [
          { name: "proxy_abi_version_0_2_1" },
          // malloc returns offset 1024 after calling the given import.
          { name: "malloc", params: ["i32"], results: ["i32"], calls: [mallocCalls === 1 ? { import: 1, args: [0, 0, 0, 4] } : { import: 2, args: [2, 0, 0] }], returns: 1024 },
          // on_vm_start reads the VM configuration: the host allocates through malloc.
          { name: "proxy_on_vm_start", params: ["i32", "i32"], results: ["i32"], calls: [{ import: 0, args: [6, 0, 100, 8, 12] }], returns: 1 },
        ],
      });
    const e = await loadError(plugin(file("malloc-restricted.wasm", mod(1)), { vmConfiguration: "abc" }));
    expect(e.code).toBe(ErrorCodes.WASM_RUNTIME_ERROR);
    expect(e.message).toContain("Function: malloc failed: Uncaught Error: restricted_callback");
    const host = await PluginHost.load(plugin(file("malloc-log.wasm", mod(2)), { vmConfiguration: "abc" }), { stats, logger, workers: 1 });
    opened.push(host);
    expect(host.main.failed).toBe(false);
  });

  it("reports a trap in on_configure at load as WASM_RUNTIME_ERROR", async () => {
    const e = await loadError(plugin(testFilter("lifecycle"), { configuration: "trap-configure" }));
    expect(e.code).toBe(ErrorCodes.WASM_RUNTIME_ERROR);
    expect(e.message).toContain("Function: proxy_on_configure failed: Uncaught RuntimeError: unreachable");
  });

  it("rejects on_configure → false at load with PLUGIN_CONFIG_REJECTED", async () => {
    const e = await loadError(plugin(testFilter("lifecycle"), { configuration: "reject" }));
    expect(e.code).toBe(ErrorCodes.PLUGIN_CONFIG_REJECTED);
  });

  it("rejects on_vm_start → false at load with PLUGIN_VM_START_REJECTED", async () => {
    const e = await loadError(plugin(testFilter("lifecycle"), { vmConfiguration: "reject-vm" }));
    expect(e.code).toBe(ErrorCodes.PLUGIN_VM_START_REJECTED);
  });
});

// The host links exactly what Envoy registers: the product filter's imports all exist in Envoy
// with the same signatures, and every Envoy host function has an implementation here.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AbiVersion } from "../../harness/host/abi/status.js";
import { envoyHostFunctions } from "../../harness/host/envoy-imports.js";
import { allHostFunctions } from "../../harness/host/imports/index.js";
import { HostLogger } from "../../harness/host/logger.js";
import { checkImports, detectAbiVersion, PluginHost } from "../../harness/host/plugin-host.js";
import { readModuleInfo, sameSig } from "../../harness/host/wasm-binary.js";
import { StatsStore } from "../../harness/stats/stats-store.js";
import { ROOT, testFilter } from "./support/test-proxy.js";

const PRODUCT = resolve(ROOT, "build/edgewatch.wasm");

describe("product filter imports", () => {
  it("build/edgewatch.wasm imports only host functions Envoy 1.30 provides, with matching signatures", () => {
    expect(existsSync(PRODUCT), "run npm run build:filter").toBe(true);
    const info = readModuleInfo(readFileSync(PRODUCT));
    const abi = detectAbiVersion(info);
    expect(abi).toBe("0_2_1");
    const envoy = envoyHostFunctions(abi, "1.30");
    const problems: string[] = [];
    for (const imp of info.imports) {
      const spec = envoy.get(`${imp.module}.${imp.name}`);
      if (imp.kind !== "function" || !spec) problems.push(`missing in Envoy: ${imp.module}.${imp.name}`);
      else if (!sameSig(imp.sig!, spec)) problems.push(`signature mismatch: ${imp.module}.${imp.name}`);
    }
    expect(problems).toEqual([]);
    expect(() => checkImports(info, abi, "1.30")).not.toThrow();
  });
});

describe("host function coverage", () => {
  const hosts: Record<string, PluginHost> = {};
  beforeAll(async () => {
    for (const version of ["1.30", "1.33"] as const) {
      hosts[version] = await PluginHost.load(
        { name: "p", rootId: "r", vmId: "v", wasmPath: testFilter("headers"), configuration: "", failOpen: false },
        { stats: new StatsStore(), logger: new HostLogger({ stderrLevel: "off" }), workers: 1, envoyVersion: version },
      );
    }
  });
  afterAll(async () => {
    for (const h of Object.values(hosts)) await h.close();
  });

  it("implements every function Envoy registers, for every ABI version and version profile", () => {
    for (const version of ["1.30", "1.33"] as const) {
      const impl = allHostFunctions(hosts[version].main);
      for (const abi of ["0_1_0", "0_2_0", "0_2_1"] as AbiVersion[]) {
        const missing = [...envoyHostFunctions(abi, version).keys()].filter((k) => !(k in impl));
        expect(missing, `${abi} ${version}`).toEqual([]);
      }
    }
  });

  it("registers ABI-specific functions only for their ABI (Envoy wasm.cc registerCallbacks)", () => {
    const v021 = envoyHostFunctions("0_2_1");
    const v020 = envoyHostFunctions("0_2_0");
    const v010 = envoyHostFunctions("0_1_0");
    expect(v021.has("env.proxy_get_log_level")).toBe(true);
    expect(v020.has("env.proxy_get_log_level")).toBe(false);
    expect(v021.has("env.proxy_clear_route_cache")).toBe(false);
    expect(v010.has("env.proxy_clear_route_cache")).toBe(true);
    expect(v010.has("env.proxy_continue_stream")).toBe(false);
    expect(v021.get("env.proxy_increment_metric")).toMatchObject({ params: ["i32", "i64"], results: ["i32"] });
    expect(v021.get("wasi_unstable.clock_time_get")).toMatchObject({ params: ["i32", "i64", "i32"] });
    expect(v021.has("wasi_snapshot_preview1.poll_oneoff")).toBe(false);
    expect(envoyHostFunctions("0_2_1", "1.33").has("wasi_snapshot_preview1.poll_oneoff")).toBe(true);
  });
});

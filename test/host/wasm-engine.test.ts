// Envoy's V8 settings (no Liftoff) apply to the filter's module only: its functions are TurboFan
// code before any call, and wasm compiled later in the same process (undici's HTTP parser) gets
// Node's lazy Liftoff-first compile, not a synchronous TurboFan compile at each first call.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/test-proxy.js";

const PRODUCT = resolve(ROOT, "build/edgewatch.wasm");
const PROBE = fileURLToPath(new URL("../support/wasm-engine-probe.ts", import.meta.url));

/** (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)) */
const ADD_MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00,
  0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b,
]);

describe("wasm engine settings", () => {
  it("compile the filter TurboFan-only and leave other modules on Node's defaults", () => {
    const dir = mkdtempSync(join(tmpdir(), "edgewatch-engine-"));
    const other = join(dir, "add.wasm");
    writeFileSync(other, ADD_MODULE);
    const r = spawnSync(process.execPath, ["--allow-natives-syntax", "--import", "tsx", PROBE, PRODUCT, other], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { filter: string[]; otherBefore: string; otherAfter: string };
    expect(out.filter).toEqual(["turbofan", "turbofan", "turbofan"]);
    expect(out.otherBefore).toBe("uncompiled");
    expect(out.otherAfter).toBe("liftoff");
  });
});

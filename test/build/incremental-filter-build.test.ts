// npm start / npm test / check / bench build the filter only when something it is made from changed
// (issue 14: npm start recompiled everything on each run and printed the compiler's notes twice).
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { buildKey } from "../../harness/build/build-filter.js";

const ROOT = resolve(import.meta.dirname, "../..");

describe("incremental filter build", () => {
  it("npm start's build step right after a build compiles nothing and prints nothing", () => {
    const wasm = join(ROOT, "build/edgewatch.wasm");
    // The suite's global setup brought the filter up to date; the same command npm start runs first:
    const mtime = statSync(wasm).mtimeMs;
    const started = Date.now();
    const r = spawnSync("npm", ["run", "-s", "build"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toBe("");
    expect(statSync(wasm).mtimeMs).toBe(mtime);
    expect(Date.now() - started).toBeLessThan(30_000);
    const check = spawnSync(process.execPath, ["--import", "tsx", "harness/build/build-filter.ts", "--check"], { cwd: ROOT, encoding: "utf8" });
    expect([check.status, check.stdout.trim()]).toEqual([0, "filter: up to date"]);
  }, 90_000);

  it("package.json builds through the incremental step everywhere", () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts["build:filter"]).toBe("tsx harness/build/build-filter.ts");
    for (const s of ["start", "test", "check", "bench"]) expect(scripts[s], s).toMatch(/^npm run -s build && /);
  });

  it("the key follows the contents of the sources and asconfig.json, not their timestamps", () => {
    const dir = mkdtempSync(join(tmpdir(), "ew-build-key-"));
    cpSync(join(ROOT, "assembly"), join(dir, "assembly"), { recursive: true });
    cpSync(join(ROOT, "asconfig.json"), join(dir, "asconfig.json"));
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    const k0 = buildKey(dir);
    expect(buildKey(ROOT)).toBe(k0);
    const idx = join(dir, "assembly/index.ts");
    const text = readFileSync(idx, "utf8");
    writeFileSync(idx, text); // rewritten, same bytes: same key
    expect(buildKey(dir)).toBe(k0);
    writeFileSync(idx, `${text}\n// changed\n`);
    const k1 = buildKey(dir);
    expect(k1).not.toBe(k0);
    writeFileSync(idx, text);
    writeFileSync(join(dir, "asconfig.json"), readFileSync(join(ROOT, "asconfig.json"), "utf8").replace('"optimizeLevel": 3', '"optimizeLevel": 2'));
    expect(buildKey(dir)).not.toBe(k0);
  });
});

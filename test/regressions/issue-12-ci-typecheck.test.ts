/**
 * Issue 12, defect 9: CI never type-checked. `npm run typecheck` (tsc -p tsconfig.json) existed but
 * .ci/run did not run it, and tsx / vitest strip types without checking them, so a type error in the
 * harness, the tests or the benches could land green.
 * Fix: .ci/run runs `npm run typecheck` after `npm ci` and before `npm test`, under `set -e`.
 * Here .ci/run itself runs with a fake `npm` that records its calls (and fake tools so the
 * provisioning step has nothing to install): the type check must run, before the tests, and a failing
 * type check must fail the run before any test starts.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

function runCi(failOn?: string) {
  const dir = mkdtempSync(join(tmpdir(), "ew-ci-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  const log = join(dir, "npm.log");
  const exe = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  exe("npm", `echo "$*" >> '${log}'\n[ "$1" = "--version" ] && echo 11.0.0\n${failOn ? `[ "$*" = "${failOn}" ] && { echo "error TS2322: fake" >&2; exit 2; }` : ""}\nexit 0`);
  exe("wrk", "exit 0");
  exe("prometheus", "exit 0");
  exe("promtool", "exit 0");
  exe("skopeo", "exit 0");
  const r = spawnSync("bash", [join(ROOT, ".ci/run")], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, PROMETHEUS_BIN: join(bin, "prometheus"), PROMTOOL_BIN: join(bin, "promtool"), SKOPEO_BIN: join(bin, "skopeo") },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, stderr: r.stderr, calls: readFileSync(log, "utf8").trim().split("\n") };
}

describe("issue-12: CI type-checks", () => {
  it("`npm run typecheck` is tsc over the project", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.typecheck).toBe("tsc -p tsconfig.json");
  });

  it(".ci/run runs the type check after npm ci and before the tests", () => {
    const r = runCi();
    expect(r.code, r.stderr).toBe(0);
    const calls = r.calls.filter((c) => c !== "--version");
    expect(calls).toEqual(["ci --no-audit --no-fund", "run typecheck", "test", "run bench -- --quick"]);
  });

  it("a failing type check fails the run before any test", () => {
    const r = runCi("run typecheck");
    expect(r.code).not.toBe(0);
    expect(r.calls).not.toContain("test");
  });
});

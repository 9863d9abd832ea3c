// The long commands bench/fuzz.ts and bench/soak.ts as a user meets them (issue 14): --help prints
// usage instead of starting a run, a bad option is exit 2, a run prints progress lines, and the child
// processes they fork die when the parent is killed (even with SIGKILL).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { alive, until } from "../support/process-watch.js";

const ROOT = resolve(import.meta.dirname, "../..");
const started: ChildProcess[] = [];
afterAll(() => {
  for (const c of started.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

function tsx(script: string, args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
}

/** Start a long command; resolve with its output so far as it grows. */
function start(script: string, args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return { child, output: () => out };
}

describe.concurrent("long bench commands", () => {
  it.each(["bench/fuzz.ts", "bench/soak.ts"])("%s --help prints usage and runs nothing; a bad option is exit 2", (script) => {
    const help = tsx(script, ["--help"]);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^usage: npx tsx bench\/\w+\.ts \[options\]/);
    expect(help.stdout).toMatch(/exit codes: 0 pass/);
    expect(help.stdout).not.toMatch(/\[(fuzz|soak)\]/);
    const bad = tsx(script, ["--no-such-option"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--no-such-option'/);
  }, 120_000);

  it("fuzz: a family prints progress, and its process dies when the parent is killed", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "ew-fuzz-")), "fuzz.json");
    const run = start("bench/fuzz.ts", ["--families", "xff", "--cases", "100000000", "--parallel", "1", "--out", out]);
    await until(() => /\[fuzz\] xff: start .*pid (\d+)\)/.test(run.output()), 60_000, "family start line");
    const pid = Number(/\[fuzz\] xff: start .*pid (\d+)\)/.exec(run.output())![1]);
    await until(() => /\[fuzz\] xff: \d+\/100000000 cases \(\d+%, \d+\/s, ~\d+ s left\)/.test(run.output()), 60_000, `progress line; output:\n${run.output()}`);
    expect(alive(pid)).toBe(true);
    run.child.kill("SIGKILL");
    await until(() => !alive(pid), 10_000, `family process ${pid} still running after its parent was killed`);
  }, 150_000);

  it("soak: prints progress, and the load client dies when the parent is killed", async () => {
    const run = start("bench/soak.ts", ["--requests", "100000000", "--max-minutes", "3", "--concurrency", "4"]);
    await until(() => /load client started \(pid (\d+)\)/.test(run.output()), 60_000, `client start line; output:\n${run.output()}`);
    const pid = Number(/load client started \(pid (\d+)\)/.exec(run.output())![1]);
    await until(() => /\[soak\] \d+\/100000000 requests \(\d+%\), \d+ s, \d+ req\/s, ~\d+ s left/.test(run.output()), 30_000, `progress line; output:\n${run.output()}`);
    expect(alive(pid)).toBe(true);
    run.child.kill("SIGKILL");
    await until(() => !alive(pid), 10_000, `load client ${pid} still running after its parent was killed`);
  }, 150_000);
});

// Bench command-line hygiene: every bench script answers --help with its options and exits 0 without
// running anything (no results file, no child), refuses an option it does not know (exit 2, nothing
// run), and the processes a bench starts (wrk, forked proxies, the upstream fixture) die with it, even
// when it is killed with SIGKILL.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { linuxProc, parsePidStat } from "../../harness/bench/foreign-cpu.js";
import { unknownOptions } from "../../harness/bench/usage.js";
import { alive, until } from "../support/process-watch.js";

const ROOT = resolve(import.meta.dirname, "../..");
const started: ChildProcess[] = [];
afterAll(() => {
  for (const c of started.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

const SCRIPTS = ["reload", "overhead", "request-path", "signature", "telemetry", "trace", "soak", "fuzz", "run"];

/** Live descendants of `root` with their command names. */
function descendants(root: number): Array<{ pid: number; comm: string }> {
  const all = linuxProc.pids().flatMap((pid) => {
    const t = linuxProc.pidStat(pid);
    return t ? [{ ...parsePidStat(t), comm: t.slice(t.indexOf("(") + 1, t.lastIndexOf(")")) }] : [];
  });
  const out: Array<{ pid: number; comm: string }> = [];
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    for (const c of all.filter((x) => x.ppid === p)) {
      out.push({ pid: c.pid, comm: c.comm });
      stack.push(c.pid);
    }
  }
  return out;
}

describe("bench scripts", () => {
  it.concurrent.each(SCRIPTS)("bench/%s.ts --help prints its options, exits 0 and runs nothing", (name) => {
    const out = mkdtempSync(join(tmpdir(), "ew-help-"));
    const r = spawnSync(process.execPath, ["--import", "tsx", `bench/${name}.ts`, "--help"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, EDGEWATCH_BENCH_OUT: out },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage: /i);
    expect(r.stdout).toMatch(/^\s+(-h, )?--\w/m); // an options list
    expect(r.stdout).toMatch(/--help/);
    expect(readdirSync(out)).toEqual([]);
  }, 90_000);

  it.concurrent.each(SCRIPTS)("bench/%s.ts refuses an option it does not know (a typo), exits 2 and runs nothing", (name) => {
    const out = mkdtempSync(join(tmpdir(), "ew-typo-"));
    // --out-dir for --out: run with defaults, it would have written over the committed results.
    const r = spawnSync(process.execPath, ["--import", "tsx", `bench/${name}.ts`, "--out-dir", out], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, EDGEWATCH_BENCH_OUT: out },
    });
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/unknown option '?--out-dir/i);
    expect(readdirSync(out)).toEqual([]);
  }, 90_000);

  it("fuzz: a short run exits 0 once its families are done and writes its summary", () => {
    const out = join(mkdtempSync(join(tmpdir(), "ew-fuzz-")), "fuzz.json");
    // Its family children answer over IPC; one that stayed alive after answering hung the run.
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/fuzz.ts", "--seed", "3", "--cases", "20", "--families", "xff,rules-pull", "--out", out], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 90_000,
    });
    expect(r.signal, `still running after 90 s:\n${r.stdout}${r.stderr}`).toBeNull();
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(out, "utf8")) as { totals: { cases: number }; pass: boolean; provenance?: { bench: string; git_commit: string | null; wasm_sha256: string | null } };
    expect(summary.totals.cases).toBe(40);
    expect(summary.pass).toBe(true);
    // Which commit and .wasm the verdicts are about, as in every results file.
    expect(summary.provenance?.bench).toBe("fuzz");
    expect(summary.provenance?.wasm_sha256).toMatch(/^[0-9a-f]{64}$/);
  }, 120_000);

  it("request-path --host --cold --phases splits a cold stream's added cost by callback step", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/request-path.ts", "--host", "--cold", "--phases", "--case", "plain", "--blocks", "1"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 90_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const line = r.stdout.split("\n").find((l) => l.includes("edgewatch.wasm:")) ?? "";
    const added = (step: string) => Number(new RegExp(`${step} (-?[0-9.]+)`).exec(line)?.[1]);
    // With the caches flushed before it, the filter's request-headers step costs something.
    expect(added("request headers \\(\\+ context creation\\)"), r.stdout).toBeGreaterThan(0);
    expect(Number.isFinite(added("response headers")), r.stdout).toBe(true);
    expect(Number.isFinite(added("on_log … on_delete")), r.stdout).toBe(true);
  }, 120_000);

  /** A short bench:reload run of one mode at 1,000 CIDRs (no micro part): its output and its reload.json. */
  const reloadRun = (mode: string, workers: number, reloads: number) => {
    const out = mkdtempSync(join(tmpdir(), "ew-reload-"));
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "bench/reload.ts", "--quick", "--modes", mode, "--cidrs", "1000", "--workers", String(workers), "--worker-sweep-at", "", "--reloads", String(reloads), "--warm-requests", "50", "--no-micro", "--out", out],
      { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    return { r, json: JSON.parse(readFileSync(join(out, "reload.json"), "utf8")) as unknown };
  };

  it("reload: each embedded case records the process's GC pauses inside its reload windows, under the recorded V8 flags, and what its VMs hold after it", () => {
    const { r, json } = reloadRun("push-snapshot", 1, 12);
    const file = json as { provenance: { node_flags: string }; cases: Array<Record<string, number>> };
    expect(file.provenance.node_flags).toBe("--max-semi-space-size=1 --heap-growing-percent=300");
    const c = file.cases[0]!;
    expect(c.reloads).toBe(12);
    expect(Number.isInteger(c.gc_major_reloads) && c.gc_major_reloads >= 0 && c.gc_major_reloads <= 12).toBe(true);
    expect(c.gc_ms_p99).toBeGreaterThanOrEqual(0);
    expect(c.p99_without_gc_ms).toBeGreaterThan(0);
    expect(c.p99_without_gc_ms).toBeLessThanOrEqual(c.p99_ms);
    expect(r.stdout).toMatch(/p99 less GC pauses \d+\.\d\d ms \(\d+ reloads met a full GC\)/);
    // What the VMs keep after the case: a linear memory, part of it written.
    expect(c.vm_written_mib).toBeGreaterThan(0);
    expect(c.vm_written_mib).toBeLessThanOrEqual(c.vm_memory_mib!);
  }, 150_000);

  it("reload: a push case says where its median and slowest reloads' time went, parts adding up to the latency", () => {
    const { r, json } = reloadRun("push", 2, 24);
    type Parts = { reloads: number; latency_ms: number; canary_start_ms: number; canary_configure_ms: number; vms_ms: number; other_ms: number; gc_ms: number };
    const file = json as { cases: Array<{ reloads: number; p50_ms: number; max_ms: number; reload_parts: { median: Parts; slowest: Parts } }> };
    const c = file.cases[0]!;
    const { median, slowest } = c.reload_parts;
    expect(median.reloads).toBe(4); // ranks 10..13 of 24: the 45th to 55th percentile
    expect(slowest.reloads).toBe(2);
    for (const p of [median, slowest]) {
      // A push instantiates a canary and configures it and three VMs (main + 2 workers): each part takes time.
      for (const part of [p.canary_start_ms, p.canary_configure_ms, p.vms_ms]) expect(part).toBeGreaterThan(0);
      expect(p.canary_start_ms + p.canary_configure_ms + p.vms_ms + p.other_ms).toBeCloseTo(p.latency_ms, 1);
      expect(p.gc_ms).toBeGreaterThanOrEqual(0);
    }
    expect(slowest.latency_ms).toBeGreaterThanOrEqual(median.latency_ms);
    expect(slowest.latency_ms).toBeLessThanOrEqual(c.max_ms);
    expect(r.stdout).toMatch(/median 4 reloads: \d+\.\d\d ms = canary instantiate \+ _start \d+\.\d\d \+ configure \d+\.\d\d \+ VMs \d+\.\d\d \+ rest -?\d+\.\d\d/);
  }, 150_000);

  it("overhead: wrk, the proxies and the upstream die when the bench is killed with SIGKILL", async () => {
    const out = mkdtempSync(join(tmpdir(), "ew-kill-"));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "bench/overhead.ts", "--quick", "--shapes", "0:1:off", "--warmup-seconds", "30", "--pairs", "1", "--out", out],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    started.push(child);
    let log = "";
    child.stdout!.on("data", (d) => (log += d));
    child.stderr!.on("data", (d) => (log += d));
    // wrk, two proxies and the upstream (plus the re-run under the malloc settings and tsx's helpers).
    // One /proc walk can miss a subtree (a process read mid-exec), so wait for the whole tree.
    let tree = descendants(child.pid!);
    const fullTree = () => {
      tree = descendants(child.pid!);
      return tree.some((d) => d.comm === "wrk") && tree.filter((d) => d.comm !== "wrk").length >= 3;
    };
    await until(fullTree, 90_000, () => `no wrk plus proxies and upstream under the bench (saw ${JSON.stringify(tree)}); output:\n${log}`);
    // wrk runs the 30 s warm-up: alive on its own well past the 15 s this test waits.
    child.kill("SIGKILL");
    await until(() => tree.every((d) => !alive(d.pid)), 15_000, () => `still running after the bench was killed: ${JSON.stringify(tree.filter((d) => alive(d.pid)))}`);
  }, 150_000);
});

describe("unknownOptions", () => {
  const usage = "usage: x [options]\n  --cidrs LIST   sizes\n  --no-pin       (see also --quick)\n  -h, --help";
  it("names the options the usage does not, and the --name=value spelling the scripts do not read", () => {
    expect(unknownOptions(usage, ["--cidrs", "10,100", "--no-pin", "--quick", "--help"])).toEqual([]);
    expect(unknownOptions(usage, ["--cidrs=10", "--cidr", "10", "--pin", "-5"])).toEqual(["--cidrs=10", "--cidr", "--pin"]);
    expect(unknownOptions(usage, ["--child", "op"], ["--child"])).toEqual([]);
  });
});

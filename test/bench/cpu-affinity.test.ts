// The overhead bench's CPU pinning (harness/process/cpu-affinity.ts): the proxy under measurement gets
// a core of its own. Checked against the kernel's own view of the affinity (taskset -p, every thread).
import { spawn, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { canPin, pinProcess } from "../../harness/process/cpu-affinity.js";

const pinnable = canPin(2);

/** CPU lists of every thread of `pid`, as the kernel reports them. */
function threadCpus(pid: number): string[] {
  const r = spawnSync("taskset", ["-a", "-p", "-c", String(pid)], { encoding: "utf8" });
  return [...r.stdout.matchAll(/current affinity list: (\S+)/g)].map((m) => m[1]!);
}

describe("bench CPU pinning", () => {
  it.skipIf(!pinnable)("pins every thread of a running process, and pinning it back restores both CPUs", async () => {
    // A node child has several threads already (V8 platform, libuv): -a must reach all of them.
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const before = threadCpus(child.pid!);
      expect(before.length).toBeGreaterThan(1);
      pinProcess(child.pid!, "1");
      expect(threadCpus(child.pid!)).toEqual(before.map(() => "1"));
      pinProcess(child.pid!, "0-1");
      expect(threadCpus(child.pid!)).toEqual(before.map(() => "0,1"));
    } finally {
      child.kill("SIGKILL");
    }
  });

  it.skipIf(!pinnable)("a pin that cannot be applied throws: a gone process, a bad CPU list", () => {
    expect(() => pinProcess(2 ** 22 + 12345, "0")).toThrow(/taskset -a -p -c 0 \d+ failed: no such process/);
    expect(() => pinProcess(process.pid, "7-3")).toThrow(/taskset -a -p -c 7-3 \d+ failed: .+/);
  });

  it.runIf(!pinnable)("skipped here: fewer than 2 CPUs or no taskset, the bench runs unpinned", () => {
    expect(pinnable).toBe(false);
  });
});

/**
 * CPU affinity of bench processes (Linux `taskset`, util-linux): keep the process under measurement
 * on a core of its own, so its CPU time per request is not inflated by sharing a core with the load
 * generator (cache and TLB refills, context switches). `-a` sets every existing thread; threads
 * created later inherit their creator's mask, and so do child processes.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";

let tasksetOk: boolean | undefined;

/** Can this machine pin processes (taskset present, at least `cores` CPUs)? */
export function canPin(cores = 2): boolean {
  if (availableParallelism() < cores) return false;
  if (tasksetOk === undefined) tasksetOk = spawnSync("taskset", ["-p", String(process.pid)], { stdio: "ignore", timeout: 5000 }).status === 0;
  return tasksetOk;
}

/** Pin every thread of process `pid` to the CPU list `cpus` ("1", "0-1"); throws with taskset's message on failure. */
export function pinProcess(pid: number, cpus: string): void {
  // taskset -a walks /proc/<pid>/task and exits 0 having set nothing when the process is gone.
  if (!existsSync(`/proc/${pid}/task`)) throw new Error(`taskset -a -p -c ${cpus} ${pid} failed: no such process`);
  const r = spawnSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { encoding: "utf8", timeout: 5000 });
  if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpus} ${pid} failed: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
}

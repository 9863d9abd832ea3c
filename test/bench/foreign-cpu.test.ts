// The noisy rule of every bench's provenance (harness/bench/foreign-cpu.ts, results.ts): foreign CPU
// = machine busy time − the bench's own process tree, fed here with synthetic /proc samples.
import { describe, expect, it } from "vitest";
import { ForeignCpuSampler, foreignCpu, foreignVerdict, parsePidStat, parseProcStat, treeTicks, type ProcSource } from "../../harness/bench/foreign-cpu.js";
import { noisyVerdict } from "../../harness/bench/results.js";

const HZ = 100;

/** A fake /proc: the aggregate cpu line and a process table the test moves forward. */
class FakeProc implements ProcSource {
  cpu = { user: 1000, nice: 0, system: 500, idle: 50_000, iowait: 10, irq: 5, softirq: 40, steal: 0 };
  procs = new Map<number, { comm: string; ppid: number; utime: number; stime: number; cutime: number; cstime: number }>();
  t = 0;
  stat(): string {
    const c = this.cpu;
    return `cpu  ${c.user} ${c.nice} ${c.system} ${c.idle} ${c.iowait} ${c.irq} ${c.softirq} ${c.steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 12345\n`;
  }
  pids(): number[] {
    return [...this.procs.keys()];
  }
  pidStat(pid: number): string | null {
    const p = this.procs.get(pid);
    if (!p) return null;
    // Fields after comm: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
    return `${pid} (${p.comm}) S ${p.ppid} ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${p.utime} ${p.stime} ${p.cutime} ${p.cstime} 20 0 1 0 100 1000 50\n`;
  }
  /** Advance `seconds`: the tree burns `own` cores (on pid `who`), neighbours `foreign` cores, irq `irq` cores. */
  run(seconds: number, own: number, foreign: number, who = 100, irq = 0): void {
    const ownTicks = Math.round(own * seconds * HZ);
    const foreignTicks = Math.round(foreign * seconds * HZ);
    const p = this.procs.get(who)!;
    p.utime += ownTicks;
    const n = this.procs.get(900)!;
    n.utime += foreignTicks;
    this.cpu.user += ownTicks + foreignTicks;
    this.cpu.softirq += Math.round(irq * seconds * HZ);
    this.cpu.idle += Math.round((2 - own - foreign) * seconds * HZ);
    this.t += seconds;
  }
}

function machine(): FakeProc {
  const f = new FakeProc();
  f.procs.set(1, { comm: "init", ppid: 0, utime: 10, stime: 10, cutime: 0, cstime: 0 });
  f.procs.set(100, { comm: "node", ppid: 1, utime: 300, stime: 50, cutime: 0, cstime: 0 });
  f.procs.set(101, { comm: "wrk", ppid: 100, utime: 0, stime: 0, cutime: 0, cstime: 0 });
  f.procs.set(102, { comm: "node (proxy) x)", ppid: 100, utime: 0, stime: 0, cutime: 0, cstime: 0 });
  f.procs.set(103, { comm: "grandchild", ppid: 102, utime: 0, stime: 0, cutime: 0, cstime: 0 });
  f.procs.set(900, { comm: "neighbour", ppid: 1, utime: 0, stime: 0, cutime: 0, cstime: 0 });
  return f;
}

const sampler = (f: FakeProc) => ForeignCpuSampler.start({ src: f, root: 100, now: () => f.t, timer: false })!;

describe("foreign CPU", () => {
  it("parses /proc/stat's cpu line and a pid stat whose command holds spaces and parentheses", () => {
    expect(parseProcStat("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 0 0 0 0\n")).toEqual({ user: 1, nice: 2, system: 3, idle: 4, iowait: 5, irq: 6, softirq: 7, steal: 8 });
    const f = machine();
    f.procs.get(102)!.utime = 7;
    f.procs.get(102)!.cstime = 3;
    expect(parsePidStat(f.pidStat(102)!)).toEqual({ pid: 102, ppid: 100, ticks: 10 });
  });

  it("sums the bench's tree (children, grandchildren) and leaves other processes out", () => {
    const f = machine();
    for (const [pid, t] of [[101, 5], [103, 7], [900, 1000]] as const) f.procs.get(pid)!.utime = t;
    const stats = f.pids().map((p) => parsePidStat(f.pidStat(p)!));
    expect(treeTicks(100, stats)).toBe(350 + 5 + 7);
  });

  it("timed samples read /proc asynchronously, in time order, and none lands after stop()", async () => {
    const f = machine();
    const asyncSrc = { stat: async () => f.stat(), pids: async () => f.pids(), pidStat: async (pid: number) => f.pidStat(pid) };
    const s = ForeignCpuSampler.start({ src: f, asyncSrc, root: 100, now: () => f.t, timer: false })!;
    f.run(5, 1, 0.5);
    await s.tick();
    f.run(5, 1, 0);
    const late = s.tick(); // in flight when the run stops: its sample must not follow the closing one
    const r = s.stop(2, HZ)!;
    await late;
    expect(r.windows).toBe(2);
    expect(r.max_window_cores).toBeCloseTo(0.5, 3);
    expect(r.mean_cores).toBeCloseTo(0.25, 3);
  });

  it("a bench saturating both cores with its own tree and an idle neighbourhood is not noisy", () => {
    const f = machine();
    const s = sampler(f);
    for (let i = 0; i < 12; i++) {
      f.run(2.5, 1.9, 0.0, 102, 0.3); // wrk + proxy: the machine is busy, loopback softirq too
      f.run(2.5, 1.9, 0.02, 101, 0.3);
      s.sample();
    }
    const r = s.stop(2, HZ)!;
    expect(r.own_cores).toBeCloseTo(1.9, 2);
    expect(r.mean_cores).toBeCloseTo(0.01, 2);
    expect(r.irq_cores).toBeCloseTo(0.3, 2);
    expect(r.windows).toBe(12);
    expect(foreignVerdict(r)).toBeNull();
    // The load average rule would have called this noisy; with foreign CPU measured it is information.
    expect(noisyVerdict(2, { "1m": 2.35, "5m": 2, "15m": 1 }, { "1m": 2.35, "5m": 2, "15m": 1 }, r)).toEqual({ noisy: false, reason: null });
  });

  it("a neighbour using 30 % of a core over the run makes it noisy, and the reason names the figure", () => {
    const f = machine();
    const s = sampler(f);
    for (let i = 0; i < 6; i++) {
      f.run(5, 1.2, 0.3);
      s.sample();
    }
    const r = s.stop(2, HZ)!;
    expect(r.mean_cores).toBeCloseTo(0.3, 2);
    expect(r.mean_share).toBeCloseTo(0.15, 2);
    const v = noisyVerdict(2, { "1m": 0.5, "5m": 0.5, "15m": 0.5 }, { "1m": 0.6, "5m": 0.5, "15m": 0.5 }, r);
    expect(v.noisy).toBe(true);
    expect(v.reason).toMatch(/foreign CPU .* averaged 30 % of one core over the run \(limit 10 %/);
  });

  it("one busy window above 25 % is noisy even when the run mean stays under 10 %", () => {
    const f = machine();
    const s = sampler(f);
    for (let i = 0; i < 10; i++) {
      f.run(5, 1, i === 4 ? 0.5 : 0.0);
      s.sample();
    }
    const r = s.stop(2, HZ)!;
    expect(r.mean_cores).toBeCloseTo(0.05, 2);
    expect(r.max_window_cores).toBeCloseTo(0.5, 2);
    expect(foreignVerdict(r)).toMatch(/reached 50 % of one core in a 5 s window \(limit 25 %; run mean 5 %\)/);
  });

  it("a child that exits and is reaped keeps its time in the tree (parent's cutime), not in foreign", () => {
    const f = machine();
    const s = sampler(f);
    f.run(5, 1.0, 0, 101); // wrk burns 1 core
    s.sample();
    f.run(2, 1.0, 0, 101);
    // wrk exits; node reaps it: its whole time moves to node's cutime.
    const wrk = f.procs.get(101)!;
    f.procs.get(100)!.cutime += wrk.utime + wrk.stime;
    f.procs.delete(101);
    f.run(3, 0.5, 0, 100);
    s.sample();
    const r = s.stop(2, HZ)!;
    expect(r.mean_cores).toBe(0);
    expect(r.max_window_cores).toBe(0);
  });

  it("steal counts as foreign; without /proc the load average rule applies", () => {
    const f = machine();
    const s = sampler(f);
    f.run(5, 1, 0);
    f.cpu.steal += 100; // 1 s of steal in 5 s
    s.sample();
    const r = s.stop(2, HZ)!;
    expect(r.steal_cores).toBeCloseTo(0.2, 3);
    expect(r.mean_cores).toBeCloseTo(0.2, 3);
    expect(foreignCpu([], 2, HZ)).toBeNull();
    const broken: ProcSource = { stat: () => { throw new Error("ENOENT"); }, pids: () => [], pidStat: () => null };
    expect(ForeignCpuSampler.start({ src: broken, timer: false })).toBeNull();
    expect(noisyVerdict(2, { "1m": 2.35, "5m": 1, "15m": 1 }, null, null)).toEqual({ noisy: true, reason: expect.stringMatching(/1-minute load average 2.35 exceeded the 2 cores .*foreign CPU not measurable/) });
  });
});

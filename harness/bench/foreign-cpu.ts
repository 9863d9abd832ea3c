/**
 * Foreign CPU: how much CPU the rest of the machine used while a bench ran — the neighbours, not the
 * bench itself. A bench that saturates the machine with its own load (wrk + proxy + upstream on 2
 * cores) is not disturbed by that load; a neighbour taking CPU away is what makes its figures move.
 *
 *   foreign = machine busy time (/proc/stat) − CPU of the bench's own process tree, in cores
 *
 * Machine busy = user + nice + system + steal of the `cpu` line. irq and softirq are left out (and
 * recorded apart): with IRQ time accounting the kernel books loopback packet processing there, not
 * to the process that sent the packet, so a bench's own loopback traffic would read as foreign.
 * Steal counts as foreign: the hypervisor ran someone else on our CPU.
 *
 * Own tree = the bench process and every live descendant (wrk, forked proxies, fixtures): utime +
 * stime + cutime + cstime of each (/proc/<pid>/stat). A child that exited and was reaped moves its
 * time into its parent's cutime/cstime, so the sum over the tree is cumulative and deltas between
 * samples stay exact. Samples are taken every `windowS` seconds; the verdict looks at the mean over
 * the run and at the worst window.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";

/** Over the run: foreign CPU above this many cores on average (10 % of one core) → noisy. */
export const FOREIGN_MEAN_LIMIT_CORES = 0.1;
/** Any window above this many cores (25 % of one core) → noisy. */
export const FOREIGN_WINDOW_LIMIT_CORES = 0.25;
export const FOREIGN_WINDOW_S = 5;

export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface PidStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, clock ticks. */
  ticks: number;
}

/** Where the sampler reads /proc (injected by tests with synthetic text). */
export interface ProcSource {
  /** Contents of /proc/stat. */
  stat(): string;
  /** Every pid currently listed in /proc. */
  pids(): number[];
  /** Contents of /proc/<pid>/stat, or null when the process is gone. */
  pidStat(pid: number): string | null;
}

export const linuxProc: ProcSource = {
  stat: () => readFileSync("/proc/stat", "utf8"),
  pids: () => readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number),
  pidStat: (pid) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return null;
    }
  },
};

/** The same reads without blocking the caller's thread (libuv's pool does the syscalls). */
export interface AsyncProcSource {
  stat(): Promise<string>;
  pids(): Promise<number[]>;
  pidStat(pid: number): Promise<string | null>;
}

export const linuxProcAsync: AsyncProcSource = {
  stat: () => readFile("/proc/stat", "utf8"),
  pids: async () => (await readdir("/proc")).filter((d) => /^\d+$/.test(d)).map(Number),
  pidStat: (pid) => readFile(`/proc/${pid}/stat`, "utf8").catch(() => null),
};

/** The aggregate `cpu` line of /proc/stat (clock ticks). */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error("/proc/stat: no aggregate cpu line");
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number) => (Number.isFinite(v[i]) ? v[i] : 0);
  return { user: at(0), nice: at(1), system: at(2), idle: at(3), iowait: at(4), irq: at(5), softirq: at(6), steal: at(7) };
}

/** /proc/<pid>/stat: the command name may hold spaces and parentheses, so fields are read after the last ')'. */
export function parsePidStat(text: string): PidStat {
  const close = text.lastIndexOf(")");
  const pid = Number(text.slice(0, text.indexOf("(")).trim());
  // After ')': state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17); index 0 = field 3.
  const f = text.slice(close + 2).trim().split(/\s+/);
  const num = (field: number) => Number(f[field - 3]);
  return { pid, ppid: num(4), ticks: num(14) + num(15) + num(16) + num(17) };
}

/** CPU ticks of `root` and all its live descendants. */
export function treeTicks(root: number, stats: PidStat[]): number {
  const children = new Map<number, PidStat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  let total = 0;
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    total += byPid.get(pid)?.ticks ?? 0;
    for (const c of children.get(pid) ?? []) stack.push(c.pid);
  }
  return total;
}

export interface CpuSample {
  /** Seconds (monotonic). */
  t: number;
  machine: CpuTimes;
  ownTicks: number;
}

export interface ForeignCpu {
  /** Mean foreign CPU over the run, in cores (0.1 = 10 % of one core). */
  mean_cores: number;
  /** Worst window, in cores. */
  max_window_cores: number;
  /** Mean foreign CPU as a share of all cores (0.05 = 5 % of the machine). */
  mean_share: number;
  window_s: number;
  /** Windows of at least 1 s that were compared with the limit. */
  windows: number;
  /** Mean CPU of the bench's own process tree, in cores. */
  own_cores: number;
  /** Mean machine busy time (user + nice + system + steal), in cores. */
  busy_cores: number;
  /** Of which steal (hypervisor), in cores; counted as foreign. */
  steal_cores: number;
  /** irq + softirq, in cores; not counted (loopback traffic of the bench lands there). */
  irq_cores: number;
  limits: { mean_cores: number; window_cores: number };
}

const busy = (c: CpuTimes) => c.user + c.nice + c.system + c.steal;

/** Foreign CPU from consecutive samples (at least two). */
export function foreignCpu(samples: CpuSample[], cores: number, hz: number): ForeignCpu | null {
  if (samples.length < 2) return null;
  const first = samples[0];
  const last = samples[samples.length - 1];
  const span = last.t - first.t;
  if (!(span > 0)) return null;
  const cores_ = (ticks: number, seconds: number) => ticks / hz / seconds;
  let maxWindow = 0;
  let windows = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    const dt = b.t - a.t;
    // A window shorter than a second reads tick granularity, not neighbours (the closing sample).
    if (dt < 1) continue;
    windows++;
    const foreign = cores_(busy(b.machine) - busy(a.machine) - (b.ownTicks - a.ownTicks), dt);
    maxWindow = Math.max(maxWindow, foreign);
  }
  const mean = Math.max(0, cores_(busy(last.machine) - busy(first.machine) - (last.ownTicks - first.ownTicks), span));
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    mean_cores: r(mean),
    max_window_cores: r(Math.max(0, maxWindow)),
    mean_share: r(mean / cores),
    window_s: FOREIGN_WINDOW_S,
    windows,
    own_cores: r(cores_(last.ownTicks - first.ownTicks, span)),
    busy_cores: r(cores_(busy(last.machine) - busy(first.machine), span)),
    steal_cores: r(cores_(last.machine.steal - first.machine.steal, span)),
    irq_cores: r(cores_(last.machine.irq + last.machine.softirq - first.machine.irq - first.machine.softirq, span)),
    limits: { mean_cores: FOREIGN_MEAN_LIMIT_CORES, window_cores: FOREIGN_WINDOW_LIMIT_CORES },
  };
}

/** The reason a run is noisy by foreign CPU, or null. */
export function foreignVerdict(f: ForeignCpu): string | null {
  const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
  if (f.mean_cores > f.limits.mean_cores) {
    return `foreign CPU (other processes than the bench's own tree) averaged ${pct(f.mean_cores)} of one core over the run (limit ${pct(f.limits.mean_cores)}; worst ${f.window_s} s window ${pct(f.max_window_cores)})`;
  }
  if (f.max_window_cores > f.limits.window_cores) {
    return `foreign CPU (other processes than the bench's own tree) reached ${pct(f.max_window_cores)} of one core in a ${f.window_s} s window (limit ${pct(f.limits.window_cores)}; run mean ${pct(f.mean_cores)})`;
  }
  return null;
}

/** Clock ticks per second (USER_HZ; 100 on Linux unless `getconf CLK_TCK` says otherwise). */
export function clockTicks(): number {
  try {
    const v = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }).trim());
    return v > 0 ? v : 100;
  } catch {
    return 100;
  }
}

/**
 * Samples the machine and the process tree of `root` every FOREIGN_WINDOW_S seconds (an unref'd
 * timer: it never keeps a bench alive) until stop(). Null where /proc is not readable.
 *
 * The timed samples read /proc asynchronously: a synchronous sweep of every /proc/<pid>/stat took
 * 2.5 ms (p50) to 7 ms on the bench's own thread — the thread that times reloads and requests — and
 * landed inside a measured window now and then, enough to set a p99 of 200 reloads. The first and
 * the closing sample stay synchronous (outside any measured window).
 */
export class ForeignCpuSampler {
  private readonly samples: CpuSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight = false;

  private constructor(
    private readonly src: ProcSource,
    private readonly asyncSrc: AsyncProcSource | undefined,
    private readonly root: number,
    private readonly now: () => number,
  ) {}

  static start(opts: { src?: ProcSource; asyncSrc?: AsyncProcSource; root?: number; now?: () => number; windowS?: number; timer?: boolean } = {}): ForeignCpuSampler | null {
    const asyncSrc = opts.asyncSrc ?? (opts.src ? undefined : linuxProcAsync);
    const s = new ForeignCpuSampler(opts.src ?? linuxProc, asyncSrc, opts.root ?? process.pid, opts.now ?? (() => performance.now() / 1000));
    try {
      s.sample();
    } catch {
      return null;
    }
    if (opts.timer !== false) {
      s.timer = setInterval(() => void s.tick(), (opts.windowS ?? FOREIGN_WINDOW_S) * 1000);
      s.timer.unref();
    }
    return s;
  }

  /** One timed sample: asynchronous where an async source exists; /proc going away keeps what was sampled. */
  async tick(): Promise<void> {
    if (this.inFlight || this.stopped) return;
    if (!this.asyncSrc) {
      try {
        this.sample();
      } catch {
        /* /proc went away: the samples so far still count */
      }
      return;
    }
    this.inFlight = true;
    try {
      const src = this.asyncSrc;
      const [statText, pids] = await Promise.all([src.stat(), src.pids()]);
      const texts = await Promise.all(pids.map((pid) => src.pidStat(pid)));
      // A sample finishing after stop() (or after a later one) would break the time order.
      const t = this.now();
      if (!this.stopped && t > this.samples[this.samples.length - 1].t) this.record(t, statText, texts);
    } catch {
      /* /proc went away: the samples so far still count */
    } finally {
      this.inFlight = false;
    }
  }

  sample(): void {
    const statText = this.src.stat();
    const texts = this.src.pids().map((pid) => this.src.pidStat(pid));
    this.record(this.now(), statText, texts);
  }

  /** One sample from /proc/stat's text and the /proc/<pid>/stat texts (null: the process is gone). */
  private record(t: number, statText: string, texts: ReadonlyArray<string | null>): void {
    const stats: PidStat[] = [];
    for (const text of texts) if (text !== null) stats.push(parsePidStat(text));
    this.samples.push({ t, machine: parseProcStat(statText), ownTicks: treeTicks(this.root, stats) });
  }

  /** Take the closing sample and stop the timer. */
  stop(cores: number, hz: number): ForeignCpu | null {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    try {
      this.sample();
    } catch {
      /* keep what was sampled */
    }
    return foreignCpu(this.samples, cores, hz);
  }
}

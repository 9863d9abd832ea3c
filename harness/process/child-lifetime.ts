/**
 * Child processes of long commands (benches, fuzz, soak) that die with their parent.
 *
 * A child forked with an IPC channel learns that its parent is gone when the channel closes (the
 * "disconnect" event: the parent exited, was killed, even with SIGKILL) and exits then; a timer
 * also watches for re-parenting, for a parent that somehow keeps the channel open. A parent stops
 * its children when it is asked to stop (SIGINT, SIGTERM, SIGHUP) or exits.
 *
 *   parent:  const child = forkChild(script, ["--role", "worker"]);
 *   child:   exitWithParent();   // first thing in the child's role
 *
 * Programs that are not Node scripts of ours (wrk, valgrind, a re-executed bench) cannot watch a
 * channel: spawnChild / spawnSyncChild start them under `setpriv --pdeathsig` (util-linux), so the
 * kernel signals them when this process dies, SIGKILL included (prctl PR_SET_PDEATHSIG; libuv forks
 * from the calling thread, which is the main thread here). Without setpriv they are still stopped
 * on SIGINT/SIGTERM/SIGHUP and on exit, not on SIGKILL.
 */
import { fork, spawn, spawnSync, type ChildProcess, type ForkOptions, type SpawnOptions, type SpawnSyncOptions, type SpawnSyncReturns } from "node:child_process";

const live = new Set<ChildProcess>();
let parentHooked = false;

function stopAll(signal: NodeJS.Signals = "SIGTERM"): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
}

function hookParent(): void {
  if (parentHooked) return;
  parentHooked = true;
  process.on("exit", () => stopAll("SIGKILL"));
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      stopAll("SIGTERM");
      // Default behaviour of the signal once the children are told: end with 128 + signal number.
      process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const)[sig]);
    });
  }
}

/**
 * fork() with an IPC channel (stdout/stderr inherited unless given), tracked so it is stopped with
 * this process; the child should call exitWithParent().
 */
export function forkChild(modulePath: string, args: string[], opts: ForkOptions = {}): ChildProcess {
  hookParent();
  const child = fork(modulePath, args, { stdio: ["ignore", "inherit", "inherit", "ipc"], ...opts });
  live.add(child);
  child.on("exit", () => live.delete(child));
  return child;
}

let setprivOk: boolean | undefined;

/** `setpriv --pdeathsig SIG --` when setpriv can set it here, else nothing. */
export function parentDeathPrefix(signal: "KILL" | "TERM" = "KILL"): string[] {
  if (setprivOk === undefined) {
    const r = spawnSync("setpriv", ["--pdeathsig", "KILL", "--", "true"], { stdio: "ignore", timeout: 5000 });
    setprivOk = r.status === 0;
  }
  return setprivOk ? ["setpriv", "--pdeathsig", signal, "--"] : [];
}

/** [command, args] that run `command args` so that it dies with this process (setpriv), or unchanged. */
export function withParentDeath(command: string, args: string[], signal: "KILL" | "TERM" = "KILL"): [string, string[]] {
  const prefix = parentDeathPrefix(signal);
  return prefix.length > 0 ? [prefix[0], [...prefix.slice(1), command, ...args]] : [command, args];
}

/**
 * spawn() of a program that dies with this process (see above), tracked like forkChild's children.
 * `signal`: what the kernel sends it when this process dies (TERM lets a Node child stop its own).
 */
export function spawnChild(command: string, args: string[], opts: SpawnOptions = {}, signal: "KILL" | "TERM" = "KILL"): ChildProcess {
  hookParent();
  const [cmd, argv] = withParentDeath(command, args, signal);
  const child = spawn(cmd, argv, opts);
  live.add(child);
  child.on("exit", () => live.delete(child));
  return child;
}

/** spawnSync() of a program that dies with this process (the caller blocks, so only the kernel can tell it). */
export function spawnSyncChild(command: string, args: string[], opts: SpawnSyncOptions = {}, signal: "KILL" | "TERM" = "KILL"): SpawnSyncReturns<string | Buffer> {
  const [cmd, argv] = withParentDeath(command, args, signal);
  return spawnSync(cmd, argv, opts);
}

/** Children of this process that are still running (for tests and progress lines). */
export function liveChildren(): number[] {
  return [...live].filter((c) => c.exitCode === null && c.pid !== undefined).map((c) => c.pid!);
}

/**
 * In a forked child: exit as soon as the parent is gone. The parent closing the channel on purpose
 * (child.disconnect()) also ends the child, so a parent disconnects only once it has what it needs.
 */
let parentPid: number | undefined;

export function exitWithParent(code = 0): void {
  if (typeof process.send !== "function") return; // not forked with an IPC channel
  process.on("disconnect", () => process.exit(code));
  parentPid = process.ppid;
  const t = setInterval(() => exitIfOrphaned(code), 1000);
  t.unref();
}

/**
 * Exit now if the parent is gone (this process was re-parented). Both the "disconnect" event and the
 * timer need the event loop; a child whose work runs in a long chain of promises that resolve at
 * once (microtasks only) never gets there, so such a loop calls this between work items.
 */
export function exitIfOrphaned(code = 0): void {
  if (parentPid !== undefined && process.ppid !== parentPid) process.exit(code);
}

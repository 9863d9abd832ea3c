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
 */
import { fork, type ChildProcess, type ForkOptions } from "node:child_process";

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

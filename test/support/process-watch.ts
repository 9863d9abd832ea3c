/** Watching processes a test started (bench and long-command tests): is a pid alive, wait until a condition holds. */

/** True while a process with this pid exists (signal 0 probes without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `cond` every `everyMs` until it holds; throws after `ms` naming what was awaited. */
export async function until(cond: () => boolean, ms: number, what: string | (() => string), everyMs = 100): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms: ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

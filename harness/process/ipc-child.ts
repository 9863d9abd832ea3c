/**
 * A forked Node child driven by requests over its IPC channel (benches' proxies and fixtures, the
 * embedded target in a process of its own).
 *
 *   parent:  const c = await IpcChild.start(script, ["--role", "proxy"], { name: "proxy" });
 *            const r = await c.ask({ cmd: "sample" });          // throws when the child answers ok: false
 *            await c.stop({ cmd: "stop" });
 *   child:   exitWithParent(); serveRequests(async (m) => ({ ...answer }), { ready: { port } });
 *
 * The child's first message is { ready: true, ... } (IpcChild.first); every request carries an id
 * and its answer echoes it, so answers match requests whatever their order; messages without an
 * id (a child's log lines) go to onEvent. A child that exits fails every pending request at once.
 */
import type { ChildProcess, ForkOptions } from "node:child_process";
import { forkChild } from "./child-lifetime.js";

export type Answer = Record<string, unknown> & { ok?: boolean };

export interface IpcChildOptions extends ForkOptions {
  /** Name in error messages. */
  name?: string;
  /** Messages that answer no request (no id). */
  onEvent?: (message: Record<string, unknown>) => void;
  /** How long the child may take to say it is ready (default 60 s). */
  readyTimeoutMs?: number;
}

export class IpcChild {
  private nextId = 1;
  private readonly waiting = new Map<number, { res: (a: Answer) => void; rej: (e: Error) => void }>();
  private exitError: Error | null = null;
  readonly name: string;
  /** The child's ready message. */
  first: Answer = {};

  private constructor(
    readonly proc: ChildProcess,
    opts: IpcChildOptions,
  ) {
    this.name = opts.name ?? "child";
    proc.on("message", (raw) => {
      const m = raw as Answer & { id?: number };
      const w = m.id === undefined ? undefined : this.waiting.get(m.id);
      if (w === undefined) {
        opts.onEvent?.(m);
        return;
      }
      this.waiting.delete(m.id!);
      w.res(m);
    });
    proc.on("exit", (code, signal) => {
      this.exitError = new Error(`${this.name} exited (${signal ?? code})`);
      for (const w of this.waiting.values()) w.rej(this.exitError);
      this.waiting.clear();
    });
  }

  /** Forks `modulePath` with an IPC channel and waits for its ready message. */
  static async start(modulePath: string, args: string[], opts: IpcChildOptions = {}): Promise<IpcChild> {
    const { name: _n, onEvent: _e, readyTimeoutMs, ...fork } = opts;
    let onReady!: (m: Answer) => void;
    const ready = new Promise<Answer>((res) => (onReady = res));
    const proc = forkChild(modulePath, args, { stdio: ["ignore", "inherit", "inherit", "ipc"], ...fork });
    const child = new IpcChild(proc, {
      ...opts,
      onEvent: (m) => {
        if (m.ready === true) onReady(m);
        else opts.onEvent?.(m);
      },
    });
    const timeoutMs = readyTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      child.first = await Promise.race([
        ready,
        new Promise<never>((_, rej) => {
          timer = setTimeout(() => rej(new Error(`${child.name}: not ready within ${timeoutMs} ms`)), timeoutMs);
          proc.once("exit", (code, signal) => rej(new Error(`${child.name} exited before it was ready (${signal ?? code})`)));
        }),
      ]);
    } catch (e) {
      proc.kill("SIGKILL");
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return child;
  }

  /** Sends a request; resolves with the child's answer, whatever its `ok`. */
  request(msg: object, timeoutMs = 60_000): Promise<Answer> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    return new Promise((res, rej) => {
      const cmd = (msg as { cmd?: unknown }).cmd;
      const t = setTimeout(() => {
        this.waiting.delete(id);
        rej(new Error(`${this.name}: no answer to ${String(cmd)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = <T>(f: (x: T) => void) => (x: T) => {
        clearTimeout(t);
        f(x);
      };
      this.waiting.set(id, { res: done(res), rej: done(rej) });
      this.proc.send({ ...msg, id });
    });
  }

  /** request(), throwing the child's error when it answers ok: false. */
  async ask(msg: object, timeoutMs = 60_000): Promise<Answer> {
    const a = await this.request(msg, timeoutMs);
    if (a.ok === false) throw new Error(`${this.name}: ${String(a.error ?? a.message)}`);
    return a;
  }

  /** Asks the child to stop with `msg`; kills it when it does not exit within 5 s. */
  async stop(msg: object = { cmd: "stop" }): Promise<void> {
    const p = this.proc;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    await this.request(msg, 10_000).catch(() => p.kill("SIGKILL"));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  }
}

/**
 * The child side: answers each request with handle()'s result as { id, ok: true, ...result }, or
 * { id, ok: false, error, code } when it throws; then says it is ready (`ready` fields included).
 */
export function serveRequests(handle: (msg: Record<string, unknown> & { cmd?: string }) => Promise<object | void>, ready: object = {}): void {
  const send = (m: object) => process.send!(m);
  process.on("message", async (raw) => {
    const m = raw as Record<string, unknown> & { id?: number; cmd?: string };
    try {
      const r = await handle(m);
      send({ ...(r ?? {}), id: m.id, ok: true });
    } catch (err) {
      const e = err as { code?: string; message?: string; stack?: string };
      send({ id: m.id, ok: false, error: e?.stack ?? String(err), message: e?.message ?? String(err), code: e?.code });
    }
  });
  send({ ...ready, ready: true });
}

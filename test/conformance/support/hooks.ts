/**
 * Conformance-suite hooks: one stack per describe block, started before its scenarios and closed
 * after them, and a closing scenario that checks nothing was lost and no VM failed over the block.
 * Only the public stack API is used here (harness/stack, harness/targets): the suite runs unchanged
 * on every target.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startStack, type Stack, type StartStackOptions } from "../../../harness/stack/stack.js";
import type { ProxyOptions } from "../../../harness/stack/proxy-options.js";
import type { Target } from "../../../harness/targets/target.js";

/** Starting a container can take a while (image pull on a cold machine). */
export const START_TIMEOUT_MS = 180_000;

export interface StackRef {
  readonly stack: Stack;
}

/** beforeAll: start a stack with `options` on `target`; afterAll: close it. */
export function useStack(target: Target, options: ProxyOptions | (() => ProxyOptions | Promise<ProxyOptions>), startOpts: StartStackOptions = {}): StackRef {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(target, typeof options === "function" ? await options() : options, startOpts);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.close();
  });
  return {
    get stack(): Stack {
      if (!stack) throw new Error("stack not started (beforeAll failed?)");
      return stack;
    },
  };
}

/**
 * The block's last scenario: every request the client sent got a response and was seen by the
 * filter and counted by the proxy (edgewatch_requests_seen_total = downstream_rq_total = sent),
 * and no VM failed. Register it after the block's other scenarios.
 */
export function itLosesNothing(ref: StackRef): void {
  it("lost no request and no VM failed (client = filter = proxy counts)", async () => {
    const report = await ref.stack.assertHealthy();
    expect(report.sent).toBeGreaterThan(0);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `fn` until it returns true, or throw after timeoutMs naming `what`. */
export async function eventually(fn: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

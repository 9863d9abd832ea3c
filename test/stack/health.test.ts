// The stack's loss check can fail: a request sent around the counting client, or one the filter
// never saw, breaks the equation sent = responses = requests_seen_total = downstream_rq_total.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { startStack, type Stack } from "../../harness/stack/stack.js";
import { HealthError } from "../../harness/stack/health.js";
import { getTarget } from "../../harness/targets/registry.js";

describe("stack health check", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(getTarget("embedded"), proxyOptions().withWorkers(2));
  });
  afterAll(async () => stack?.close());

  it("holds after counted traffic, probes included", async () => {
    await stack.client.many(20, 4, (i) => ({ path: `/api/${i}` }));
    const r = await stack.assertHealthy();
    expect(r.sent).toBe(20 + stack.probes.attempts);
    expect([r.responses, r.requestsSeen, r.downstreamRequests]).toEqual([r.sent, r.sent, r.sent]);
  });

  it("fails, naming the counts, when a request went around the client", async () => {
    await fetch(`${stack.proxy.listenerUrl}/uncounted`).then((r) => r.text());
    const err = await stack.assertHealthy().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(HealthError);
    expect((err as HealthError).message).toMatch(/edgewatch_requests_seen_total (\d+) ≠ requests sent \d+/);
    expect((err as HealthError).message).toMatch(/http\.edgewatch_ingress\.downstream_rq_total \d+ ≠ requests sent/);
  });
});

// The embedded proxy in a process of its own (bench:reload --own-process): the same stack and the
// same pushes as in-process, with the configuration travelling through a file, CPU and page faults
// read from the proxy's process, and a refused configuration reported as on every target.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { startStack, type Stack } from "../../harness/stack/stack.js";
import { embeddedProcessTarget } from "../../harness/targets/embedded-process.js";
import { ConfigRejectedError } from "../../harness/targets/target.js";

// The HCM trusts no hop and appends the peer to X-Forwarded-For; the filter takes the address before it.
const settings = { client_address: { source: "xff", xff_trusted_hops: 1 } };
const denyDoc = (version: number, cidr: string) => ({ ...settings, rules: { version, access: [{ id: `v${version}`, action: "deny", cidrs: [cidr] }] } });

describe("embedded target in a process of its own", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(embeddedProcessTarget, proxyOptions().withWorkers(2).withXffTrustedHops(0).withPlugin(denyDoc(1, "192.0.2.0/24")));
  }, 60_000);
  afterAll(async () => stack?.close());

  it("runs the proxy in another process and reads that process's CPU and page faults", async () => {
    const pid = stack.proxy.pid;
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    const before = await stack.proxy.processUsage!();
    const cpu0 = await stack.proxy.cpuUsageUs!();
    await stack.client.many(200, 4, (i) => ({ path: `/api/${i}`, headers: { "x-forwarded-for": "198.51.100.7" } }));
    const after = await stack.proxy.processUsage!();
    expect(after.cpuUs).toBeGreaterThan(before.cpuUs);
    expect(after.minorPageFaults).toBeGreaterThanOrEqual(before.minorPageFaults);
    expect(await stack.proxy.cpuUsageUs!()).toBeGreaterThan(cpu0);
  });

  it("enforces a pushed configuration on every worker", async () => {
    const before = await stack.probes.get(0).send({ path: "/", headers: { "x-forwarded-for": "203.0.113.9" } });
    expect(before.status).toBe(200);
    expect(await stack.proxy.lastUpdateTiming!()).toBeNull();
    await stack.push(denyDoc(2, "203.0.113.0/24"));
    // The proxy process's timing of the update comes back with the push's answer.
    const timing = await stack.proxy.lastUpdateTiming!();
    expect(timing!.canaryMs).toBeGreaterThan(0);
    expect(timing!.vmMs).toHaveLength(3);
    for (const probe of stack.probes.probes) {
      const a = await probe.send({ path: "/", headers: { "x-forwarded-for": "203.0.113.9" } });
      expect(a.status).toBe(403);
      expect(a.headers["x-edgewatch-rule"]).toBe("v2");
    }
  });

  it("pushes a binary configuration as bytes", async () => {
    // Bytes reach the host unconverted; JSON text as bytes is the same configuration.
    await stack.push(new TextEncoder().encode(JSON.stringify(denyDoc(3, "198.51.100.0/24"))));
    const a = await stack.probes.get(1).send({ path: "/", headers: { "x-forwarded-for": "198.51.100.7" } });
    expect([a.status, a.headers["x-edgewatch-rule"]]).toEqual([403, "v3"]);
  });

  it("reports a refused configuration as ConfigRejectedError with the proxy's log, and keeps the old one", async () => {
    const err = await stack.push({ ...settings, rules: { version: 4, access: [{ id: "bad", cidrs: ["10.0.0.300/32"] }] } }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigRejectedError);
    expect((err as Error).message).toMatch(/bad CIDR/);
    expect(stack.logs()).toMatch(/rejected \(reason=cidr\)/);
    const a = await stack.probes.get(0).send({ path: "/", headers: { "x-forwarded-for": "198.51.100.7" } });
    expect(a.headers["x-edgewatch-rule"]).toBe("v3");
  });

  it("stops the proxy process with the stack", async () => {
    const pid = stack.proxy.pid!;
    await stack.close();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});

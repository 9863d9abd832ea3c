/**
 * Which address the rules judge, per client_address mode, on every target:
 *   connection        the downstream peer (default); nothing a client sends can change it;
 *   xff               X-Forwarded-For counted from the right past `xff_trusted_hops` entries (the
 *                     proxy appends one entry itself); too few or unparsable entries → the peer;
 *   envoy_external    x-envoy-external-address as Envoy's HCM computed it (it overwrites a client's).
 * The peer differs per target (127.0.0.1 locally, the bridge address in Docker): scenarios learn it
 * from the proxy (stack.connectionAddress()) instead of assuming it.
 */
import { describe, expect, it } from "vitest";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { describeTargets } from "../../harness/targets/describe-targets.js";
import { itLosesNothing, useStack } from "./support/hooks.js";

/** A CIDR covering exactly one address. */
function hostCidr(addr: string): string {
  return addr.includes(":") ? `${addr}/128` : `${addr}/32`;
}

describe("client address", () => {
  describeTargets("connection address (default) and spoofing attempts", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2));
    let peer = "";

    it("the connection address decides: a rule for the peer denies it on every worker", async () => {
      peer = await ref.stack.connectionAddress();
      await ref.stack.push({ rules: { access: [{ id: "peer", cidrs: [hostCidr(peer)] }, { id: "claimed", action: "allow", cidrs: ["10.0.0.0/8"] }] } });
      await ref.stack.probes.untilEach({ path: "/" }, (a) => a.status === 403 && a.headers["x-edgewatch-rule"] === "peer", { what: `peer ${peer} denied` });
    });

    it("headers a client sets (X-Forwarded-For, x-envoy-external-address, X-Real-IP, Forwarded) do not change it", async () => {
      const attempts: Array<Record<string, string>> = [
        { "x-forwarded-for": "10.0.0.1" },
        { "x-forwarded-for": "10.0.0.1, 10.0.0.2" },
        { "x-envoy-external-address": "10.0.0.1" },
        { "x-real-ip": "10.0.0.1" },
        { forwarded: "for=10.0.0.1" },
      ];
      for (const h of attempts) {
        const r = await ref.stack.client.get("/", h);
        expect([r.status, r.headers["x-edgewatch-rule"]], JSON.stringify(h)).toEqual([403, "peer"]);
      }
    });

    it("a peer outside every rule passes", async () => {
      await ref.stack.push({ rules: { access: [{ id: "elsewhere", cidrs: ["203.0.113.0/24"] }] } });
      await ref.stack.probes.untilEach({ path: "/" }, (a) => a.status === 200, { what: "peer allowed" });
    });

    itLosesNothing(ref);
  });

  describeTargets("X-Forwarded-For with trusted hops", (target) => {
    const access = [{ id: "attacker", cidrs: ["203.0.113.0/24"] }, { id: "lan", action: "allow", cidrs: ["10.0.0.0/8"] }];
    const ref = useStack(target, proxyOptions().withWorkers(1).withPlugin({ client_address: { source: "xff", xff_trusted_hops: 1 }, rules: { access } }));
    const rule = async (headers: Record<string, string | string[]>) => (await ref.stack.client.get("/", headers)).headers["x-edgewatch-rule"];

    it("one trusted hop: the entry left of the proxy's own is the client; entries a client prepends are ignored", async () => {
      expect(await rule({ "x-forwarded-for": "203.0.113.9" })).toBe("attacker");
      expect(await rule({ "x-forwarded-for": "10.0.0.1, 203.0.113.9" })).toBe("attacker");
      expect(await rule({ "x-forwarded-for": "203.0.113.9, 10.0.0.1" })).toBeUndefined();
    });

    it("several X-Forwarded-For lines form one list", async () => {
      expect(await rule({ "x-forwarded-for": ["10.0.0.1", "203.0.113.9"] })).toBe("attacker");
    });

    it("too few entries or an unparsable entry fall back to the connection address", async () => {
      const peer = await ref.stack.connectionAddress();
      await ref.stack.push({ client_address: { source: "xff", xff_trusted_hops: 1 }, rules: { access: [...access, { id: "peer", cidrs: [hostCidr(peer)] }] } });
      expect(await rule({})).toBe("peer");
      expect(await rule({ "x-forwarded-for": "not-an-ip" })).toBe("peer");
    });

    it("two trusted hops: the entry before the last two", async () => {
      await ref.stack.push({ client_address: { source: "xff", xff_trusted_hops: 2 }, rules: { access } });
      expect(await rule({ "x-forwarded-for": "203.0.113.9, 10.9.9.9" })).toBe("attacker");
      expect(await rule({ "x-forwarded-for": "10.9.9.9, 203.0.113.9" })).toBeUndefined();
    });

    itLosesNothing(ref);
  });

  describeTargets("x-envoy-external-address (envoy_external)", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(1));

    it("with no trusted hops it is the peer; a client-set value is overwritten", async () => {
      const peer = await ref.stack.connectionAddress();
      await ref.stack.push({ client_address: { source: "envoy_external" }, rules: { access: [{ id: "peer", cidrs: [hostCidr(peer)] }, { id: "claimed", action: "allow", cidrs: ["10.0.0.0/8"] }] } });
      const r = await ref.stack.client.get("/", { "x-forwarded-for": "10.0.0.1", "x-envoy-external-address": "10.0.0.1" });
      expect([r.status, r.headers["x-edgewatch-rule"]]).toEqual([403, "peer"]);
    });

    itLosesNothing(ref);
  });

  describeTargets("x-envoy-external-address behind a trusted proxy (HCM xff_num_trusted_hops 1)", (target) => {
    const rules = { access: [{ id: "attacker", cidrs: ["203.0.113.0/24"] }] };
    const ref = useStack(target, proxyOptions().withWorkers(1).withXffTrustedHops(1).withPlugin({ client_address: { source: "envoy_external" }, rules }));

    it("the address the HCM trusted from X-Forwarded-For decides", async () => {
      const r = await ref.stack.client.get("/", { "x-forwarded-for": "203.0.113.9" });
      expect([r.status, r.headers["x-edgewatch-rule"]]).toEqual([403, "attacker"]);
      const ok = await ref.stack.client.get("/", { "x-forwarded-for": "203.0.113.9, 198.51.100.1" });
      expect(ok.status).toBe(200);
      expect(ok.upstream?.headers["x-envoy-external-address"]).toBe("198.51.100.1");
    });

    itLosesNothing(ref);
  });
});

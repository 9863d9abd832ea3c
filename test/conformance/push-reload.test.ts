/**
 * Rules pushed in the plugin configuration (the ECDS way; Istio WasmPlugin pluginConfig), on every
 * target: a push is enforced on every worker (pinned probes), counted once; every class of bad input
 * is refused with its failure counter and reason while the last good rules keep deciding on every
 * worker; an identical push changes nothing.
 */
import { describe, expect, it } from "vitest";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { describeTargets } from "../../harness/targets/describe-targets.js";
import { itLosesNothing, useStack } from "./support/hooks.js";
import { expectEnforcedEverywhere, expectPushRefused, fromAddress } from "./support/push.js";

const XFF_ONE_HOP = { client_address: { source: "xff", xff_trusted_hops: 1 } };
const withRules = (rules: object, base: object = XFF_ONE_HOP) => ({ ...base, rules });
const good = (v: number, cidr: string) => withRules({ version: v, access: [{ id: `block-v${v}`, cidrs: [cidr] }] });

describe("push reload (plugin configuration)", () => {
  describeTargets("a pushed document and bad input", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withPlugin(good(1, "192.0.2.0/24")));
    const enforcedEverywhere = (addr: string, rule: string | undefined) => expectEnforcedEverywhere(ref.stack, addr, rule);
    const reloads = () => ref.stack.admin.metric("edgewatch_rules_reload_total");

    it("the new rules are enforced on every worker, counted once per document", async () => {
      const s = ref.stack;
      await enforcedEverywhere("192.0.2.5", "block-v1");
      const before = await reloads();
      await s.push(good(2, "198.51.100.0/24"));
      await s.probes.untilEach(fromAddress("198.51.100.5"), (a) => a.headers["x-edgewatch-rule"] === "block-v2", { what: "block-v2 enforced" });
      await enforcedEverywhere("192.0.2.5", undefined);
      const prom = await s.admin.prometheus();
      expect(prom.value("edgewatch_rules_version")).toBe(2);
      // Once per document, although every VM (and Envoy's or the host's canary) validated it.
      expect(prom.sum("edgewatch_rules_reload_total")).toBe(before + 1);
      expect(prom.value("edgewatch_rules_last_change_seconds")).toBeGreaterThan(Date.now() / 1000 - 120);
      expect(prom.value("edgewatch_rules_last_check_seconds")).toBeGreaterThan(Date.now() / 1000 - 120);
    });

    it("an identical push is a no-op: nothing reloads, the same rules decide", async () => {
      const before = await reloads();
      await ref.stack.push(good(2, "198.51.100.0/24"));
      expect(await reloads()).toBe(before);
      await enforcedEverywhere("198.51.100.5", "block-v2");
      expect(ref.stack.logs()).not.toMatch(/ConfigRejected|rejected the new configuration/);
    });

    const base = { version: 9, access: [{ id: "new", cidrs: ["203.0.113.0/24"] }] };
    const bad: Array<[string, string, string, RegExp]> = [
      ["malformed JSON", `{"client_address":{"source":"xff","xff_trusted_hops":1},"rules":{"version":9,"access":[}}`, "json", /malformed JSON/],
      ["a bad CIDR", JSON.stringify(withRules({ ...base, access: [{ id: "new", cidrs: ["203.0.113.0/24", "203.0.113.0/99"] }] })), "cidr", /\$\.rules\.access\[0\]\.cidrs\[1\]: bad CIDR/],
      ["an oversize document", JSON.stringify({ ...withRules(base), max_rules_bytes: 1024, rules: { ...base, description: "x".repeat(2000) } }), "size", /max_rules_bytes/],
      ["an unknown field", JSON.stringify(withRules({ ...base, acess: [] })), "schema", /\$\.rules: unknown field "acess"/],
      ["a wrong type", JSON.stringify(withRules({ ...base, version: "9" })), "schema", /\$\.rules\.version: expected an integer/],
      ["a duplicate rule id", JSON.stringify(withRules({ ...base, access: [base.access[0], base.access[0]] })), "schema", /duplicate rule id "new"/],
      ["too deep nesting", `{"rules":{"version":9,"description":${"[".repeat(40)}${"]".repeat(40)}}}`, "json", /nesting too deep/],
    ];
    for (const [name, config, reason, msg] of bad) {
      it(`refuses ${name}: ConfigRejectedError, reason=${reason} counted and logged, the last good rules still decide on every worker`, async () => {
        const s = ref.stack;
        await expectPushRefused(s, config, reason, msg);
        expect((await s.admin.prometheus()).value("edgewatch_rules_version")).toBe(2);
        await enforcedEverywhere("198.51.100.5", "block-v2");
        await enforcedEverywhere("203.0.113.5", undefined);
      });
    }

    it("a configuration without rules is accepted and allows everyone", async () => {
      await ref.stack.push(XFF_ONE_HOP);
      await ref.stack.probes.untilEach(fromAddress("198.51.100.5"), (a) => a.status === 200, { what: "rules cleared" });
      expect((await ref.stack.admin.prometheus()).value("edgewatch_rules_cidrs")).toBe(0);
    });

    itLosesNothing(ref);
  });
});

/**
 * Rules pulled from a rules service by long poll (one fetcher per proxy, snapshots handed to every
 * worker), on every target: the new rules enforced on every worker with exactly one fetch per
 * change, cold-start policy, each bad document and each fetch failure counted while the last good
 * rules keep deciding, recovery once the service is healthy again.
 */
import { describe, expect, it } from "vitest";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import type { Stack } from "../../harness/stack/stack.js";
import { describeTargets } from "../../harness/targets/describe-targets.js";
import { eventually, itLosesNothing, sleep, useStack } from "./support/hooks.js";

const XFF_ONE_HOP = { client_address: { source: "xff", xff_trusted_hops: 1 } };

/** rules_service settings with short backoffs and ticks so failures and recovery show quickly. */
function rulesService(extra: object = {}): object {
  return { cluster: "rules", authority: "rules.test", path: "/rules", long_poll_ms: 10_000, timeout_ms: 15_000, backoff_base_ms: 50, backoff_max_ms: 500, tick_ms: 20, lease_ms: 400, ...extra };
}
const pullPlugin = (extra: object = {}, top: object = {}) => ({ ...XFF_ONE_HOP, ...top, rules_service: rulesService(extra) });
const doc = (rule: string, cidr: string, extra: object = {}) => ({ access: [{ id: rule, cidrs: [cidr] }], ...extra });

/** Wait until every worker answers `addr` with `rule` (undefined = allowed). */
function enforced(s: Stack, addr: string, rule: string | undefined, timeoutMs = 10_000): Promise<void> {
  return s.probes.untilEach({ path: "/", headers: { "x-forwarded-for": addr } }, (a) => a.headers["x-edgewatch-rule"] === rule, { timeoutMs, what: `${addr} → ${rule ?? "allowed"}` });
}

describe("pull reload (rules service)", () => {
  for (const workers of [1, 2, 4]) {
    describeTargets(`one fetch per change with ${workers} worker(s)`, (target) => {
      const ref = useStack(target, proxyOptions().withWorkers(workers).withRulesService().withPlugin(pullPlugin()));

      it("each published version is enforced on every worker after exactly one fetch, by one long poll at a time", async () => {
        const s = ref.stack;
        const svc = s.rules!;
        for (let k = 1; k <= 4; k++) {
          const v = svc.publish(doc(`v${k}`, `198.51.${k}.0/24`));
          await enforced(s, `198.51.${k}.7`, `v${k}`);
          if (k > 1) await enforced(s, `198.51.${k - 1}.7`, undefined, 1000);
          expect(svc.fetchesOf(v), `version ${v}`).toBe(1);
        }
        await sleep(100); // a stray second poller would show up by now
        expect(svc.fetchCount).toBe(4);
        expect(svc.maxHeldPolls).toBe(1);
        const prom = await s.admin.prometheus();
        expect(prom.value("edgewatch_rules_version")).toBe(4);
        expect(prom.sum("edgewatch_rules_reload_total")).toBe(4);
        expect(s.logs()).toMatch(/is now the rules fetcher/);
      });

      itLosesNothing(ref);
    });
  }

  describeTargets("a pushed configuration keeps the pulled rules", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withRulesService().withPlugin(pullPlugin()));

    it("new root contexts on every worker load the current rules from the proxy without a new fetch", async () => {
      const s = ref.stack;
      s.rules!.publish(doc("first", "203.0.113.0/24"));
      await enforced(s, "203.0.113.1", "first");
      await s.push(pullPlugin({}, { telemetry: { heartbeat_ms: 500 } }));
      await enforced(s, "203.0.113.1", "first", 2000);
      await sleep(200);
      expect(s.rules!.fetchCount).toBe(1);
      s.rules!.publish(doc("second", "192.0.2.0/24"));
      await enforced(s, "192.0.2.1", "second");
      expect(s.rules!.fetchCount).toBe(2);
    });

    itLosesNothing(ref);
  });

  describeTargets("cold start allow (default)", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withRulesService().withPlugin(pullPlugin()));

    it("before the first rules arrive requests pass on every worker, counted as cold starts", async () => {
      const s = ref.stack;
      const answers = await s.probes.onEach({ path: "/", headers: { "x-forwarded-for": "203.0.113.1" } });
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      expect(await s.admin.metric("edgewatch_rules_cold_start_total")).toBeGreaterThan(0);
      s.rules!.publish(doc("x", "203.0.113.0/24"));
      await enforced(s, "203.0.113.1", "x");
    });

    itLosesNothing(ref);
  });

  describeTargets("cold start deny", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withRulesService().withPlugin(pullPlugin({ cold_start: "deny" })));

    it("503 on every worker until the first rules arrive, then the rules decide", async () => {
      const s = ref.stack;
      const answers = await s.probes.onEach({ path: "/", headers: { "x-forwarded-for": "198.51.100.1" } });
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 503));
      s.rules!.publish(doc("x", "203.0.113.0/24"));
      await enforced(s, "203.0.113.1", "x");
      await enforced(s, "198.51.100.1", undefined, 1000);
    });

    itLosesNothing(ref);
  });

  describeTargets("bad documents keep the last good rules", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withRulesService().withPlugin(pullPlugin({}, { max_rules_bytes: 1 << 20 })));
    const version = async () => (await ref.stack.admin.prometheus()).value("edgewatch_rules_version");

    it("the first good document is enforced on every worker", async () => {
      ref.stack.rules!.publish(doc("good", "192.0.2.0/24"));
      await enforced(ref.stack, "192.0.2.9", "good");
      expect(await version()).toBe(1);
    });

    const cases: Array<[string, (s: Stack) => void, string, RegExp]> = [
      ["malformed JSON", (s) => s.rules!.publish('{"access": [ {"id": "x"'), "json", /malformed JSON/],
      ["a truncated body with a NUL byte", (s) => s.rules!.setFault("garbage"), "json", /malformed JSON|invalid UTF-8/],
      ["a body over max_rules_bytes", (s) => s.rules!.setFault("huge"), "size", /max_rules_bytes/],
      ["a bad CIDR", (s) => s.rules!.publish(doc("bad", "192.0.2.0/33")), "cidr", /\$\.access\[0\]\.cidrs\[0\]: bad CIDR/],
      ["an unknown field", (s) => s.rules!.publish({ ...doc("bad", "10.0.0.0/8"), extra: true }), "schema", /unknown field "extra"/],
      ["a wrong type", (s) => s.rules!.publish({ access: [{ id: "bad", cidrs: [42] }] }), "schema", /cidrs\[0\]: expected string, got number/],
      ["a duplicate rule id", (s) => s.rules!.publish({ access: [{ id: "d", cidrs: ["10.0.0.0/8"] }, { id: "d", cidrs: ["11.0.0.0/8"] }] }), "schema", /duplicate rule id/],
      ["too deep nesting", (s) => s.rules!.publish(`{"version": 99, "description": ${"[".repeat(40)}${"]".repeat(40)}}`), "json", /nesting too deep/],
      ["an older version", (s) => s.rules!.publish(doc("old", "10.0.0.0/8"), { docVersion: 0 }), "version", /older than version/],
    ];
    for (const [name, act, reason, msg] of cases) {
      it(`refuses ${name}: reason=${reason} counted and logged, the last good rules still decide on every worker`, async () => {
        const s = ref.stack;
        const failures = () => s.admin.metric("edgewatch_rules_reload_failures_total", { reason });
        const before = await failures();
        const logBefore = s.logMark();
        act(s);
        try {
          await eventually(async () => (await failures()) > before, 5000, `${name}: failure counted`);
        } finally {
          s.rules!.setFault(null);
        }
        const logged = s.logsSince(logBefore);
        expect(logged).toContain(`reason=${reason}`);
        expect(logged).toMatch(msg);
        await enforced(s, "192.0.2.9", "good", 1000);
        expect(await version()).toBe(1);
      });
    }

    it("the next good document replaces them on every worker", async () => {
      ref.stack.rules!.publish(doc("better", "198.51.100.0/24"));
      await enforced(ref.stack, "198.51.100.9", "better");
      await enforced(ref.stack, "192.0.2.9", undefined, 1000);
    });

    itLosesNothing(ref);
  });

  describeTargets("rules service down", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withRulesService().withPlugin(pullPlugin({ backoff_base_ms: 20, backoff_max_ms: 200 })));

    it("fetch failures back off and are counted, the rules stay, and fetching recovers by itself", async () => {
      const s = ref.stack;
      const svc = s.rules!;
      svc.publish(doc("kept", "192.0.2.0/24"));
      await enforced(s, "192.0.2.9", "kept");
      const failures = () => s.admin.metric("edgewatch_rules_reload_failures_total", { reason: "fetch" });
      const requestsBefore = svc.requests.length;
      svc.setFault("down");
      const t0 = Date.now();
      await eventually(async () => (await failures()) >= 4, 5000, "4 fetch failures");
      // Backoff: a tight loop would make hundreds of attempts in that time.
      expect(svc.requests.length - requestsBefore).toBeLessThan(50 + (Date.now() - t0) / 10);
      expect(s.logs()).toMatch(/reason=fetch/);
      await enforced(s, "192.0.2.9", "kept", 1000);
      svc.setFault(null);
      svc.publish(doc("back", "198.51.100.0/24"));
      await enforced(s, "198.51.100.9", "back");
    });

    itLosesNothing(ref);
  });

  describeTargets("rules service slower than the call timeout", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(1).withRulesService({ slowMs: 2000 }).withPlugin(pullPlugin({ long_poll_ms: 100, timeout_ms: 300 })));

    it("the call times out (counted as a fetch failure), the rules stay, the fetcher retries", async () => {
      const s = ref.stack;
      s.rules!.publish(doc("kept", "192.0.2.0/24"));
      await enforced(s, "192.0.2.9", "kept");
      s.rules!.setFault("slow");
      await eventually(async () => (await s.admin.metric("edgewatch_rules_reload_failures_total", { reason: "fetch" })) >= 1, 5000, "timeout counted");
      await enforced(s, "192.0.2.9", "kept", 1000);
      s.rules!.setFault(null);
      s.rules!.publish(doc("after", "198.51.100.0/24"));
      await enforced(s, "198.51.100.9", "after");
    });

    itLosesNothing(ref);
  });
});

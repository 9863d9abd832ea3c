/**
 * Reloads while traffic flows, on every target: rules are swapped 40 times (pushed, or published to
 * the rules service) while 4 connections keep sending; every answer is the one the rules in force
 * give (no request fails, none is answered by anything but the stable rule), every version is
 * enforced on every worker before the next, and nothing is lost.
 */
import { describe, expect, it } from "vitest";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { describeTargets } from "../../harness/targets/describe-targets.js";
import { itLosesNothing, useStack } from "./support/hooks.js";

const XFF_ONE_HOP = { client_address: { source: "xff", xff_trusted_hops: 1 } };
const RELOADS = 40;
const rulesService = { cluster: "rules", authority: "rules.test", path: "/rules", long_poll_ms: 10_000, timeout_ms: 15_000, backoff_base_ms: 50, backoff_max_ms: 500, tick_ms: 20, lease_ms: 400 };
const stableDoc = (k: number) => ({ version: k, access: [{ id: "stable", cidrs: ["192.0.2.0/24"] }, { id: `churn-${k}`, cidrs: [`10.${k % 250}.0.0/16`] }] });

describe("reloads under traffic", () => {
  for (const mode of ["push", "pull"] as const) {
    describeTargets(`${mode}: ${RELOADS} reloads while 4 connections send`, (target) => {
      const pull = mode === "pull";
      const plugin = (k: number) => ({ ...XFF_ONE_HOP, ...(pull ? { rules_service: rulesService } : { rules: stableDoc(k) }) });
      const base = proxyOptions().withWorkers(2).withPlugin(plugin(0));
      const ref = useStack(target, pull ? base.withRulesService() : base);

      it("every request is answered by the rules in force, every version reaches every worker", async () => {
        const s = ref.stack;
        if (pull) s.rules!.publish(stableDoc(0));
        await s.probes.untilEach({ path: "/", headers: { "x-forwarded-for": "192.0.2.1" } }, (a) => a.headers["x-edgewatch-rule"] === "stable", { what: "stable rule" });
        let stop = false;
        const tally = { ok: 0, denied: 0, bad: [] as string[] };
        const conns = Array.from({ length: 4 }, () => s.client.connection());
        const loops = conns.map(async (c, i) => {
          // Bounded: stops when the reloads are done, and after 20,000 requests per connection at most.
          for (let n = 0; !stop && n < 20_000; n++) {
            const denied = (n + i) % 2 === 0;
            const addr = denied ? `192.0.2.${n % 250}` : `198.51.100.${n % 250}`;
            try {
              const r = await c.get("/api/t", { "x-forwarded-for": addr });
              const rule = r.headers["x-edgewatch-rule"];
              if (denied && r.status === 403 && rule === "stable") tally.denied++;
              else if (!denied && r.status === 200) tally.ok++;
              else tally.bad.push(`${addr} → ${r.status} ${rule ?? ""}`);
            } catch (e) {
              tally.bad.push(`${addr} → ${(e as Error).message}`);
            }
          }
        });
        try {
          for (let k = 1; k <= RELOADS; k++) {
            if (pull) s.rules!.publish(stableDoc(k));
            else await s.push(plugin(k));
            await s.probes.untilEach({ path: "/", headers: { "x-forwarded-for": `10.${k % 250}.1.1` } }, (a) => a.headers["x-edgewatch-rule"] === `churn-${k}`, { what: `churn-${k}` });
          }
        } finally {
          stop = true;
          await Promise.all(loops);
          await Promise.all(conns.map((c) => c.close()));
        }
        expect(tally.bad).toEqual([]);
        expect(tally.ok).toBeGreaterThan(RELOADS);
        expect(tally.denied).toBeGreaterThan(RELOADS);
        const prom = await s.admin.prometheus();
        // push: the document's own version; pull: the service's version (RELOADS + 1 publishes).
        expect(prom.value("edgewatch_rules_version")).toBe(pull ? RELOADS + 1 : RELOADS);
        if (pull) expect(s.rules!.fetchCount).toBe(RELOADS + 1);
      });

      itLosesNothing(ref);
    });
  }
});

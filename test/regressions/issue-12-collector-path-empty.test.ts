/**
 * Bug (issue #12.10): `tracing.collector.path: ""` was accepted (only a non-empty path had to start
 * with "/"), so every span export became an http_call without a :path — BadArgument in Envoy, spans
 * dropped while the configuration looked valid. rules_service.path "" was already rejected.
 * Fix: assembly/config/parse.ts rejects an empty collector path (and an empty collector authority)
 * with a reason and the JSON path, as for rules_service; Envoy then keeps the previous configuration.
 *
 * Through the REAL embedded host at call level (ECDS path: canary VM first, a rejection keeps the
 * old configuration).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FuzzHost } from "./support.js";

const cfg = (collector: object) => JSON.stringify({ tracing: { collector: { cluster: "fuzz_collector", ...collector } }, rules: { version: 1, access: [] } });

let h: FuzzHost;
beforeAll(async () => { h = await FuzzHost.start({ configuration: cfg({}) }); });
afterAll(async () => { await h?.close(); });

describe("issue-12: tracing.collector.path and authority must not be empty", () => {
  it("control: a path starting with / is accepted", async () => {
    expect((await h.push(cfg({ path: "/otlp/v1/traces" }))).accepted).toBe(true);
  });

  it('path "" is rejected with the JSON path and a reason; the old configuration keeps serving', async () => {
    const r = await h.push(cfg({ path: "" }));
    expect(r.accepted, "empty collector path accepted").toBe(false);
    expect(h.logger.messages().join("\n")).toMatch(/\$\.tracing\.collector\.path: must start with "\/"/);
    expect(h.trapped()).toBe(false);
    expect(h.request().status).toBe(200);
  });

  it('authority "" is rejected too', async () => {
    const r = await h.push(cfg({ authority: "" }));
    expect(r.accepted).toBe(false);
    expect(h.logger.messages().join("\n")).toMatch(/\$\.tracing\.collector\.authority: must not be empty/);
  });
});

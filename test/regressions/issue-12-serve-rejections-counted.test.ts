/**
 * Issue 12, defect 6: bad documents rejected before the filter were not counted. In `serve` file mode
 * the CLI ran JSON.parse on the edited rules file and dropped malformed JSON itself, so the filter never
 * saw it: edgewatch_rules_reload_failures_total and Envoy's config_fail stayed silent while the edit
 * was ignored.
 * Fix: the rules file is the proxy's ECDS resource. As in Envoy, a resource the subscription cannot
 * decode (not UTF-8, unreadable) is counted by the proxy (update_failure, config_fail) and never
 * reaches the filter; everything else, malformed JSON included, goes to the filter, which rejects and
 * counts it (rules_reload_failures_total{reason}), and the proxy counts the rejection (update_rejected,
 * config_fail). The previous rules keep serving throughout.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstreamServer, type UpstreamServer } from "../../harness/fixtures/upstream-server.js";
import { startServe, type ServeProcess } from "../support/serve-process.js";

let upstream: UpstreamServer;
let serve: ServeProcess;
const rules = (v: number, cidr: string) => JSON.stringify({ version: v, mode: "deny", access: [{ id: "deny-net", action: "deny", cidrs: [cidr] }] });

beforeAll(async () => {
  upstream = await startUpstreamServer();
  serve = await startServe({ upstreamPort: upstream.port, rules: rules(1, "203.0.113.0/24") });
}, 60_000);
afterAll(async () => {
  await serve?.stop();
  await upstream?.close();
});

async function metric(name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${serve.adminUrl}/stats/prometheus`)).text();
  const m = new RegExp(`^${name}\\{${labels.replace(/[{}"]/g, (c) => `\\${c}`)}\\} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}
const ECDS = "envoy_extension_config_discovery_http_filter_edgewatch";

async function deniedStatus(): Promise<number> {
  const r = await fetch(`${serve.listenerUrl}/x`, { headers: { "x-forwarded-for": "203.0.113.9" } });
  await r.arrayBuffer();
  return r.status;
}

describe("issue-12: serve counts every rejected rules document where Envoy would", () => {
  it("malformed JSON reaches the filter: reason=json and config_fail / update_rejected count it", async () => {
    const rulesFile = join(serve.dir, "rules.json");
    writeFileSync(rulesFile, '{"version": 2, "access": [');
    await serve.waitFor(/rules rejected by the filter: .*rules\.json:1:27: \[json\] malformed JSON: .*; rules version 1 stays in force/);
    expect(await metric("edgewatch_rules_reload_failures_total", 'reason="json"')).toBe(1);
    expect(await metric(`${ECDS}_config_fail`)).toBe(1);
    expect(await metric(`${ECDS}_update_rejected`)).toBe(1);
    expect(await deniedStatus()).toBe(403);
  }, 30_000);

  it("bytes that are not UTF-8 never reach the filter: the proxy counts them (config_fail, update_failure)", async () => {
    const rulesFile = join(serve.dir, "rules.json");
    writeFileSync(rulesFile, Buffer.concat([Buffer.from('{"version": 3, "description": "x'), Buffer.from([0xff]), Buffer.from('"}')]));
    await serve.waitFor(/rules rejected before the filter: .*rules\.json:1:33: not valid UTF-8.*; rules version 1 stays in force/);
    expect(await metric(`${ECDS}_config_fail`)).toBe(2);
    expect(await metric(`${ECDS}_update_failure`)).toBe(1);
    expect(await metric("edgewatch_rules_reload_failures_total", 'reason="json"')).toBe(1);
    expect(await deniedStatus()).toBe(403);
  }, 30_000);

  it("a good document after the rejections is applied and counted as a success", async () => {
    writeFileSync(join(serve.dir, "rules.json"), rules(4, "198.51.100.0/24"));
    await serve.waitFor(/rules reloaded: version 4 applied on every worker/);
    expect(await metric(`${ECDS}_config_reload`)).toBe(1);
    expect(await metric(`${ECDS}_update_success`)).toBe(1);
    expect(await deniedStatus()).toBe(200);
  }, 30_000);
});

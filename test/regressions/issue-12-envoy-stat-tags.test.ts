/**
 * Issue 12, defect 7: Envoy's own counters in the embedded admin were not tag-extracted. The host
 * applied only the configured stats_tags, so `http.edgewatch_ingress.downstream_rq_total` came out as
 * `envoy_http_edgewatch_ingress_downstream_rq_total{}`, where Envoy (use_all_default_tags, on by
 * default) shows `envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="edgewatch_ingress"}`;
 * `edgewatch doctor` looks for the latter and so could not see Envoy's traffic counter against
 * `edgewatch serve`.
 * Fix: harness/stats/envoy-default-tags.ts (Envoy's TagNameValues) applied by the stats store before
 * the configured tags, as Envoy's TagProducerImpl does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstreamServer, type UpstreamServer } from "../../harness/fixtures/upstream-server.js";
import { runEdgewatch } from "../cli/helpers.js";
import { startServe, type ServeProcess } from "../support/serve-process.js";

let upstream: UpstreamServer;
let serve: ServeProcess;

beforeAll(async () => {
  upstream = await startUpstreamServer();
  serve = await startServe({ upstreamPort: upstream.port });
}, 60_000);
afterAll(async () => {
  await serve?.stop();
  await upstream?.close();
});

async function traffic(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${serve.listenerUrl}/t${i}`, { headers: { "x-forwarded-for": "192.0.2.9" } });
    await r.arrayBuffer();
  }
}

describe("issue-12: Envoy's own stats get Envoy's default tags", () => {
  it("the HCM counters are labelled by stat prefix and response class, as in Envoy", async () => {
    await traffic(5);
    const text = await (await fetch(`${serve.adminUrl}/stats/prometheus`)).text();
    expect(text).not.toMatch(/^envoy_http_edgewatch_ingress_/m);
    expect(text).toMatch(/^# TYPE envoy_http_downstream_rq_total counter$/m);
    const total = /^envoy_http_downstream_rq_total\{envoy_http_conn_manager_prefix="edgewatch_ingress"\} (\d+)$/m.exec(text);
    expect(total, text).not.toBeNull();
    expect(Number(total![1])).toBeGreaterThanOrEqual(5);
    expect(text).toMatch(/^envoy_http_downstream_rq_xx\{envoy_response_code_class="2",envoy_http_conn_manager_prefix="edgewatch_ingress"\} \d+$/m);
  });

  it("doctor against serve sees Envoy's traffic counter", async () => {
    let stop = false;
    const load = (async () => {
      while (!stop) await traffic(1);
    })();
    const r = await runEdgewatch(["doctor", "--admin", serve.adminUrl, "--duration", "2s", "--rules-max-age", "0", "--json"], { timeoutMs: 30_000 });
    stop = true;
    await load;
    const results = (JSON.parse(r.stdout) as { results: Array<{ check: string; verdict: string; detail: string }> }).results;
    const counted = results.find((x) => x.check === "requests counted");
    expect(counted?.verdict, r.stdout).toBe("PASS");
    expect(counted?.detail).toMatch(/Envoy envoy_http_downstream_rq_total \+[1-9]\d*/);
  }, 40_000);
});

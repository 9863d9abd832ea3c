// `edgewatch doctor` against a tiny admin server serving crafted Prometheus text, run as a user
// runs it (the real executable, real HTTP on loopback).
import { afterEach, describe, expect, it } from "vitest";
import { edgewatchText, runEdgewatch, startFakeAdmin, verdicts, type FakeAdmin, type Scenario } from "./helpers.js";

let admin: FakeAdmin | undefined;
afterEach(async () => {
  await admin?.close();
  admin = undefined;
});

async function doctor(scenario: Scenario | ((i: number) => string), extra: string[] = []) {
  admin = await startFakeAdmin(typeof scenario === "function" ? scenario : (i) => edgewatchText(i, scenario));
  const run = await runEdgewatch(["doctor", "--admin", admin.url, "--duration", "600ms", "--scrapes", "3", ...extra]);
  return { ...run, v: verdicts(run.stdout) };
}

describe("edgewatch doctor", () => {
  it("healthy proxy: every check PASS, exit 0, one line per check with no fix", async () => {
    const r = await doctor({});
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    for (const check of ["admin", "ready", "series", "requests counted", "histograms", "latency resolution", "heartbeat", "rules version", "rules freshness", "trace export", "routes overflow", "vm memory"]) {
      expect(r.v[check], `${check} in\n${r.stdout}`).toBe("PASS");
    }
    // the one earlier reload failure (not in the window) is a WARN, not a FAIL
    expect(r.v["reload failures"]).toBe("WARN");
    expect(r.stdout).toMatch(/doctor: \d+ PASS, 1 WARN, 0 FAIL/);
    expect(admin!.scrapes()).toBe(3);
  });

  it("200 with no edgewatch series is a FAIL (exit 1) naming the cause and a fix", async () => {
    const r = await doctor({ withEdgewatch: false });
    expect(r.code).toBe(1);
    expect(r.v.series).toBe("FAIL");
    expect(r.stdout).toMatch(/FAIL\s+series\s+.*no edgewatch_\* series.*→ fix: .*filter chain/);
  });

  it("stalled heartbeat is a FAIL", async () => {
    const r = await doctor({ ticksAdvance: false });
    expect(r.code).toBe(1);
    expect(r.v.heartbeat).toBe("FAIL");
    expect(r.stdout).toMatch(/edgewatch_ticks_total stuck at 500/);
    expect(r.v["requests counted"]).toBe("PASS");
  });

  it.each([
    ["no-inf", /no le="\+Inf" bucket/],
    ["not-cumulative", /not cumulative/],
    ["count-mismatch", /_count \d+ != \+Inf bucket/],
  ] as const)("incomplete histogram buckets (%s) are a FAIL", async (style, reason) => {
    const r = await doctor({ buckets: style });
    expect(r.code).toBe(1);
    expect(r.v.histograms).toBe("FAIL");
    expect(r.stdout).toMatch(reason);
  });

  it("every sample in one bucket warns that p99 is stuck (exit 0: a WARN)", async () => {
    const r = await doctor({ buckets: "one-bucket" });
    expect(r.v["latency resolution"]).toBe("WARN");
    expect(r.stdout).toMatch(/histogram_bucket_settings/);
    expect(r.code).toBe(0);
  });

  it("traffic without edgewatch counting, stale rules, reload and export failures are FAILs", async () => {
    const r = await doctor((i) =>
      edgewatchText(i, { rulesAgeS: 4000, reloadFailuresAdvance: true, traceFailuresAdvance: true }).replace(
        /edgewatch_requests_seen_total\{\} \d+/,
        "edgewatch_requests_seen_total{} 1000",
      ),
    );
    expect(r.code).toBe(1);
    expect(r.v["requests counted"]).toBe("FAIL");
    expect(r.stdout).toMatch(/traffic flowed \(envoy_http_downstream_rq_total \+\d+\)/);
    expect(r.v["rules freshness"]).toBe("FAIL");
    expect(r.v["reload failures"]).toBe("FAIL");
    expect(r.stdout).toMatch(/bad_cidr \+2/);
    expect(r.v["trace export"]).toBe("FAIL");
  });

  it("--rules-max-age 0 turns the freshness check off", async () => {
    const r = await doctor({ rulesAgeS: 4000 }, ["--rules-max-age", "0"]);
    expect(r.v["rules freshness"]).toBe("PASS");
    expect(r.code).toBe(0);
  });

  it("an unreachable admin URL is a FAIL (exit 1); a malformed one is a usage error (exit 2)", async () => {
    const down = await runEdgewatch(["doctor", "--admin", "http://127.0.0.1:9", "--duration", "200ms", "--scrapes", "2"]);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/FAIL\s+admin\s+.*did not answer 200/);
    const bad = await runEdgewatch(["doctor", "--admin", "not a url"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--admin is not a URL/);
  });

  it("unparsable exposition lines are reported", async () => {
    const r = await doctor((i) => `${edgewatchText(i)}edgewatch_broken{route="x} 1\n`);
    expect(r.v.admin).toBe("FAIL");
    expect(r.stdout).toMatch(/unterminated value of label route/);
  });
});

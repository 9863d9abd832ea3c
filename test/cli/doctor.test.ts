// `edgewatch doctor` against a tiny admin server serving crafted Prometheus text (real HTTP on
// loopback). The diagnosis itself runs in-process (collect + evaluate, what the command calls);
// a few cases run the real executable for the output format and exit codes.
import { describe, expect, it } from "vitest";
import { collect, evaluate, type CheckResult } from "../../harness/cli/doctor.js";
import { closedPort, edgewatchText, runEdgewatch, startFakeAdmin, verdicts, type Scenario } from "./helpers.js";

type Body = Scenario | ((i: number) => string);
const bodyOf = (b: Body) => (typeof b === "function" ? b : (i: number) => edgewatchText(i, b));

/** Serve the scenario and diagnose it in-process. */
async function diagnose(b: Body, opts: { rulesMaxAgeS?: number } = {}) {
  const admin = await startFakeAdmin(bodyOf(b));
  try {
    const data = await collect({ adminUrl: admin.url, durationMs: 300, scrapes: 3 });
    const results = evaluate({ adminUrl: admin.url, ...data, rulesMaxAgeS: opts.rulesMaxAgeS ?? 300, heartbeatMaxAgeS: 30 });
    const v: Record<string, string> = {};
    for (const r of results) v[r.check] = r.verdict;
    return { results, v, text: results.map((r: CheckResult) => `${r.verdict} ${r.check} ${r.detail} ${r.fix ?? ""}`).join("\n"), scrapes: admin.scrapes() };
  } finally {
    await admin.close();
  }
}

/** Serve the scenario and run the real `edgewatch doctor` against it. */
async function doctorCli(b: Body, extra: string[] = []) {
  const admin = await startFakeAdmin(bodyOf(b));
  try {
    const run = await runEdgewatch(["doctor", "--admin", admin.url, "--duration", "400ms", "--scrapes", "3", ...extra]);
    return { ...run, v: verdicts(run.stdout), scrapes: admin.scrapes() };
  } finally {
    await admin.close();
  }
}

const ALL_CHECKS = ["admin", "ready", "series", "requests counted", "histograms", "latency resolution", "heartbeat", "rules version", "rules freshness", "reload failures", "rule signatures", "blast radius", "trace export", "routes overflow", "vm memory"];

describe.concurrent("edgewatch doctor (CLI)", () => {
  it("healthy proxy: every check PASS, one line per check, exit 0", async () => {
    const r = await doctorCli({});
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    for (const check of ALL_CHECKS.filter((c) => c !== "reload failures")) expect(r.v[check], `${check} in\n${r.stdout}`).toBe("PASS");
    // one reload failure happened before the window: a WARN with its fix, not a FAIL
    expect(r.stdout).toMatch(/^WARN\s+reload failures\s+none in the window, 1 earlier \(bad_cidr=1\)\s+→ fix: /m);
    expect(r.stdout).toMatch(/^PASS\s+heartbeat\s+edgewatch_ticks_total \+6 over/m);
    expect(r.stdout).toMatch(/^doctor: 14 PASS, 1 WARN, 0 FAIL$/m);
    expect(r.scrapes).toBe(3);
  });

  it("200 with no edgewatch series: FAIL with the cause and a fix, exit 1", async () => {
    const r = await doctorCli({ withEdgewatch: false });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL\s+series\s+.*answered 200 but has no edgewatch_\* series.*→ fix: .*filter chain/m);
  });

  it("unreachable admin is a FAIL (exit 1); a malformed URL is a usage error (exit 2)", async () => {
    const down = await runEdgewatch(["doctor", "--admin", `http://127.0.0.1:${await closedPort()}`, "--duration", "200ms", "--scrapes", "2"]);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^FAIL\s+admin\s+.*did not answer 200 \(.*ECONNREFUSED\)/m);
    const bad = await runEdgewatch(["doctor", "--admin", "not a url"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--admin is not a URL/);
  });
});

describe.concurrent("doctor checks", () => {
  it("healthy scrapes pass every check", async () => {
    const r = await diagnose({});
    for (const c of ALL_CHECKS.filter((x) => x !== "reload failures")) expect(r.v[c], `${c}\n${r.text}`).toBe("PASS");
  });

  it("stalled heartbeat is a FAIL", async () => {
    const r = await diagnose({ ticksAdvance: false });
    expect(r.v.heartbeat).toBe("FAIL");
    expect(r.text).toMatch(/edgewatch_ticks_total stuck at 500/);
    expect(r.v["requests counted"]).toBe("PASS");
  });

  it.each([
    ["no-inf", /no le="\+Inf" bucket/],
    ["not-cumulative", /not cumulative/],
    ["count-mismatch", /_count \d+ != \+Inf bucket/],
  ] as const)("incomplete histogram buckets (%s) are a FAIL", async (style, reason) => {
    const r = await diagnose({ buckets: style });
    expect(r.v.histograms).toBe("FAIL");
    expect(r.text).toMatch(reason);
  });

  it("every sample in one bucket warns that p99 is stuck", async () => {
    const r = await diagnose({ buckets: "one-bucket" });
    expect(r.v.histograms).toBe("PASS");
    expect(r.v["latency resolution"]).toBe("WARN");
    expect(r.text).toMatch(/histogram_bucket_settings/);
  });

  it("traffic the filter does not count, stale rules, reload and export failures are FAILs", async () => {
    const r = await diagnose((i) =>
      edgewatchText(i, { rulesAgeS: 4000, reloadFailuresAdvance: true, traceFailuresAdvance: true }).replace(
        /edgewatch_requests_seen_total\{\} \d+/,
        "edgewatch_requests_seen_total{} 1000",
      ),
    );
    expect(r.v["requests counted"]).toBe("FAIL");
    expect(r.text).toMatch(/traffic flowed \(envoy_http_downstream_rq_total \+\d+\)/);
    expect(r.v["rules freshness"]).toBe("FAIL");
    expect(r.v["reload failures"]).toBe("FAIL");
    expect(r.text).toMatch(/bad_cidr \+2/);
    expect(r.v["trace export"]).toBe("FAIL");
  });

  it("no traffic at all is a WARN (counting not verified), not a PASS", async () => {
    const r = await diagnose({ rps: 0 });
    expect(r.v["requests counted"]).toBe("WARN");
    expect(r.text).toMatch(/--probe/);
  });

  it("a failure counter that first appears during the window counts from zero", async () => {
    const r = await diagnose((i) =>
      i === 0
        ? edgewatchText(i).replace(/# TYPE edgewatch_trace_export_failures_total counter\nedgewatch_trace_export_failures_total\{\} 0\n/, "")
        : edgewatchText(i).replace(/edgewatch_trace_export_failures_total\{\} 0/, "edgewatch_trace_export_failures_total{} 3"),
    );
    expect(r.v["trace export"]).toBe("FAIL");
    expect(r.text).toMatch(/export failures \+3/);
  });

  it("rules that did not change for an hour but were checked seconds ago are fresh (freshness = last check)", async () => {
    const r = await diagnose({ rulesAgeS: 3, rulesChangedAgeS: 3600 });
    expect(r.v["rules freshness"]).toBe("PASS");
    expect(r.text).toMatch(/last successful rules check \d+s ago \(max 300s\); rules last changed 360\ds ago/);
  });

  it("tracing without a collector is a WARN naming the no_collector drops, not an export FAIL", async () => {
    const r = await diagnose((i) =>
      edgewatchText(i)
        .replace(/# TYPE edgewatch_trace_spans_exported_total counter\nedgewatch_trace_spans_exported_total\{\} \d+\n/, "")
        .replace(/# TYPE edgewatch_trace_export_failures_total counter\nedgewatch_trace_export_failures_total\{\} \d+\n/, "")
        .replace(/edgewatch_trace_spans_dropped_total\{reason="buffer_full"\} 0\n.*\n.*shutdown"\} 0/, `edgewatch_trace_spans_dropped_total{reason="no_collector"} ${10 * i}`),
    );
    expect(r.v["trace export"]).toBe("WARN");
    expect(r.text).toMatch(/no collector is configured: 20 kept span\(s\) dropped in the window \(reason no_collector\)/);
  });

  it("rules-max-age 0 turns the freshness check off", async () => {
    const r = await diagnose({ rulesAgeS: 4000 }, { rulesMaxAgeS: 0 });
    expect(r.v["rules freshness"]).toBe("PASS");
  });

  it("unparsable exposition lines are reported", async () => {
    const r = await diagnose((i) => `${edgewatchText(i)}edgewatch_broken{route="x} 1\n`);
    expect(r.v.admin).toBe("FAIL");
    expect(r.text).toMatch(/unterminated value of label route/);
  });
});

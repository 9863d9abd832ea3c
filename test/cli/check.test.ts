// `edgewatch check`: runs the conformance suite (test/conformance) on the given targets, one line
// per scenario and an `N passed, N failed, N skipped` total; every target given is required (a
// missing one is exit 3 naming what is missing), and a run in which no test ran fails.
import { describe, expect, it } from "vitest";
import { conformancePaths } from "../../harness/cli/commands/check.js";
import { summaryLine } from "../../harness/cli/check-reporter.js";
import { runEdgewatch } from "./helpers.js";

describe.concurrent("edgewatch check", () => {
  it("an unavailable target is exit 3 with the reason and a hint (no tests run)", async () => {
    const env = { PATH: "/nonexistent-bin", EDGEWATCH_ENVOY_BIN: "" };
    const r = await runEdgewatch(["check", "--target", "envoy-local"], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/target 'envoy-local' is not available: .*envoy/);
    expect(r.stderr).toMatch(/hint: install an Envoy binary/);
    expect(r.stdout).not.toMatch(/passed/);
  });

  it("a required envoy target without a container runtime fails naming the missing runtime", async () => {
    const r = await runEdgewatch(["check", "--target", "envoy"], { env: { EDGEWATCH_REQUIRE_TARGET: "envoy", DOCKER_HOST: "unix:///nonexistent/docker.sock" }, timeoutMs: 60_000 });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/target 'envoy' is not available: no container runtime found \(Docker\/Podman socket\)/);
  });

  it("an unknown target is a usage error (exit 2)", async () => {
    const r = await runEdgewatch(["check", "--target", "nginx"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown target 'nginx'/);
  });

  it("prints one line per scenario and the total, exit 0 when all pass", async () => {
    const r = await runEdgewatch(["check", "-t", "admin /ready answers LIVE"], { timeoutMs: 120_000 });
    expect(r.stderr).toContain("[check] target embedded");
    expect(r.stdout).toMatch(/^✓ test\/conformance\/proxy-basics\.test\.ts › .*\[embedded\] › admin \/ready answers LIVE \(\d+ ms\)$/m);
    expect(r.stdout).toMatch(/^1 passed, 0 failed, \d+ skipped$/m); // the other scenarios are filtered out by -t
    expect(r.code).toBe(0);
  });

  it("a run in which no test ran fails instead of passing empty", async () => {
    const r = await runEdgewatch(["check", "-t", "no scenario is called like this"], { timeoutMs: 120_000 });
    expect(r.stdout).toMatch(/^0 passed, 0 failed, \d+ skipped$/m);
    expect(r.stderr).toMatch(/no test ran on target embedded/);
    expect(r.code).toBe(1);
  });

  it("the default selection is the conformance suite", () => {
    const paths = conformancePaths();
    for (const p of paths) expect(p).toMatch(/^test\/conformance\/.*\.test\.ts$/);
    expect(paths).toContain("test/conformance/access-rules.test.ts");
    expect(paths).not.toContain("test/conformance/boundary.test.ts");
  });

  it("the closing line has the plain `N passed, N failed, N skipped` form; errors outside tests count as failed", () => {
    expect(summaryLine({ passed: 61, failed: 0, skipped: 2, errors: 0 })).toBe("61 passed, 0 failed, 2 skipped");
    expect(summaryLine({ passed: 3, failed: 1, skipped: 0, errors: 1 })).toBe("3 passed, 2 failed, 0 skipped");
  });
});

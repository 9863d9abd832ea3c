// `edgewatch check`: the target is required, so a missing one fails loudly with exit 3.
import { describe, expect, it } from "vitest";
import { conformancePaths } from "../../harness/cli/commands/check.js";
import { runEdgewatch } from "./helpers.js";

describe.concurrent("edgewatch check", () => {
  it("an unavailable target is exit 3 with the reason and a hint (no tests run)", async () => {
    const env = { PATH: "/nonexistent-bin", EDGEWATCH_ENVOY_BIN: "" };
    const r = await runEdgewatch(["check", "--target", "envoy-local"], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/target 'envoy-local' is not available: .*envoy/);
    expect(r.stderr).toMatch(/hint: install an Envoy binary/);
    expect(r.stdout).not.toMatch(/Test Files/);
  });

  it("an unknown target is a usage error (exit 2)", async () => {
    const r = await runEdgewatch(["check", "--target", "nginx"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown target 'nginx'/);
  });

  it("the default selection is the tests that run per target", () => {
    for (const p of conformancePaths()) expect(p).toMatch(/^test\/.*\.test\.ts$/);
    expect(conformancePaths()).toContain("test/envoy/envoy-target.test.ts");
  });
});

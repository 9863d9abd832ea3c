// `edgewatch bench --target envoy`: the reload bench runs on Envoy through harness/stack; where no
// container runtime exists, the command says so and fails (issue 11 part 5), instead of skipping.
import { describe, expect, it } from "vitest";
import { getTarget } from "../../harness/targets/registry.js";
import { selectBenches } from "../../harness/bench/registry.js";
import { runEdgewatch } from "./helpers.js";

const envoy = await getTarget("envoy").availability();

describe("edgewatch bench --target", () => {
  it("the reload and overhead benches run on every target", () => {
    for (const b of selectBenches(["reload", "overhead"])) expect(b.targets, b.name).toEqual(["embedded", "envoy", "envoy-local"]);
  });

  // On a machine with Docker the same command runs the bench instead (the CI workflow's job).
  it.skipIf(envoy.available)("--target envoy --only reload,overhead without a container runtime: exit 3 naming the missing runtime", async () => {
    const r = await runEdgewatch(["bench", "--target", "envoy", "--only", "reload,overhead", "--quick"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/target 'envoy' is not available: no container runtime found/);
    expect(r.stderr).not.toMatch(/no selected bench runs on target/);
  });
});

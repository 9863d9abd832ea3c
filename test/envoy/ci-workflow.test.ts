// The ready GitHub Actions workflow for users' CI (envoy/ci/github-actions.yml): it parses, requires
// the envoy target (no silent skip), runs the conformance suite and a quick bench on Envoy with
// commands and flags that exist, and keeps bench/results as an artifact.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { runEdgewatch } from "../cli/helpers.js";

const ROOT = resolve(import.meta.dirname, "../..");
const wf = YAML.parse(readFileSync(resolve(ROOT, "envoy/ci/github-actions.yml"), "utf8")) as {
  jobs: Record<string, { "runs-on": string; env: Record<string, string>; steps: Array<{ run?: string; uses?: string; with?: Record<string, string> }> }>;
};
const job = wf.jobs.envoy!;
const runs = job.steps.flatMap((s) => (s.run ? [s.run] : []));

describe("envoy/ci/github-actions.yml", () => {
  it("runs on a Docker runner and makes the envoy target required", () => {
    expect(job["runs-on"]).toBe("ubuntu-latest");
    expect(job.env.EDGEWATCH_REQUIRE_TARGET).toBe("envoy");
  });

  it("installs, builds, runs the conformance suite and a quick bench on Envoy, in that order", () => {
    const order = ["npm ci", "npm run build", "npx edgewatch check --target envoy", "npx edgewatch bench --target envoy --quick"].map((c) => runs.findIndex((r) => r.startsWith(c)));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("keeps bench/results as an artifact even when a step failed", () => {
    const upload = job.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(upload?.with?.path).toBe("bench/results");
    expect((upload as { if?: string }).if).toBe("always()");
  });

  it("uses the Node version the project pins", () => {
    const engines = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")).engines.node as string;
    const setup = job.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(engines).toContain(setup!.with!["node-version"]!);
  });

  it("only uses edgewatch commands and flags that exist", async () => {
    for (const [cmd, flags] of [["check", ["--target"]], ["bench", ["--target", "--quick"]]] as const) {
      const help = await runEdgewatch([cmd, "--help"]);
      expect(help.code, cmd).toBe(0);
      for (const f of flags) expect(help.stdout, `${cmd} ${f}`).toContain(f);
    }
  });
});

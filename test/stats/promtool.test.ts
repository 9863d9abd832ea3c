// The Prometheus rules shipped in envoy/prometheus/, checked and unit-tested with the real promtool.
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { promtool } from "./support.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const rulesDir = join(root, "envoy/prometheus");

describe("envoy/prometheus rules", () => {
  it("pass `promtool check rules`", () => {
    const r = promtool(["check", "rules", join(rulesDir, "edgewatch-rules.yml")]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("pass their `promtool test rules` unit tests (firing, not firing, counter resets)", () => {
    const tests = readdirSync(join(rulesDir, "tests"))
      .filter((f) => f.endsWith(".test.yml"))
      .map((f) => join(rulesDir, "tests", f));
    expect(tests.length).toBeGreaterThan(0);
    const r = promtool(["test", "rules", ...tests]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain("SUCCESS");
  });
});

// `edgewatch rules validate FILE`: the filter's own .wasm decides; exit codes and reason text.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { withRules } from "../../harness/cli/config-file.js";
import { validateWithFilter } from "../../harness/cli/validate.js";
import { ROOT, runEdgewatch } from "./helpers.js";

const WASM = join(ROOT, "build/edgewatch.wasm");

let dir: string;
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ew-rules-"));
});

describe.concurrent("edgewatch rules validate", () => {
  it("accepts a good document (exit 0) and reports what the filter loaded", async () => {
    const p = file(
      "good.json",
      JSON.stringify({
        version: 12,
        mode: "deny",
        access: [
          { id: "block-v4", action: "deny", cidrs: ["203.0.113.0/24", "198.51.100.7/32"] },
          { id: "watch-v6", action: "log", cidrs: ["2001:db8::/32"] },
        ],
      }),
    );
    const r = await runEdgewatch(["rules", "validate", p]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^valid: .*good\.json: rules version 12 applied .*3 CIDRs, 2 rules/);
  });

  it.each([
    ["bad-cidr.json", { version: 1, access: [{ id: "a", action: "deny", cidrs: ["10.0.0.0/33"] }] }, /\[cidr\] \$\.rules\.access\[0\]\.cidrs\[0\]: bad CIDR "10\.0\.0\.0\/33"/],
    ["unknown-field.json", { version: 1, acces: [] }, /\[schema\] \$\.rules: unknown field "acces"/],
    ["wrong-type.json", { version: "1" }, /\[schema\] \$\.rules\.version/],
  ])("the filter rejects %s with its reason", async (_name, doc, reason) => {
    const v = await validateWithFilter(WASM, withRules({}, JSON.stringify(doc)));
    expect(v.accepted).toBe(false);
    expect(`[${v.reason}] ${v.message}`).toMatch(reason);
  });

  it("an invalid document exits 1 with the filter's reason", async () => {
    const r = await runEdgewatch(["rules", "validate", file("bad.json", JSON.stringify({ version: 1, access: [{ id: "a", action: "deny", cidrs: ["10.0.0.0/33"] }] }))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid: .*bad\.json:1:59: \[cidr\] \$\.rules\.access\[0\]\.cidrs\[0\]: bad CIDR "10\.0\.0\.0\/33"$/m);
  });

  it("duplicate keys reach the filter verbatim (JSON.parse alone would accept them)", async () => {
    const v = await validateWithFilter(WASM, withRules({}, '{"version": 1, "version": 2}'));
    expect(v.accepted).toBe(false);
    expect(v.message).toMatch(/duplicate field "version"/);
  });

  it("malformed JSON is invalid (exit 1); --json gives a machine-readable verdict with the position", async () => {
    const r = await runEdgewatch(["rules", "validate", "--json", file("trunc.json", '{"version": 1')]);
    expect(r.code).toBe(1);
    const v = JSON.parse(r.stdout) as { valid: boolean; reason: string; message: string; line: number; column: number };
    expect(v.valid).toBe(false);
    expect(v.reason).toBe("json");
    expect(v.message).toMatch(/malformed JSON/);
    expect([v.line, v.column]).toEqual([1, 14]);
  });

  it("missing file or bad module is a usage error (exit 2); a missing filter build is exit 3", async () => {
    const missing = await runEdgewatch(["rules", "validate", join(dir, "nope.json")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/rules file not found/);
    const notWasm = await runEdgewatch(["rules", "validate", "--wasm", file("x.wasm", "not wasm"), file("ok.json", '{"version":1}')]);
    expect(notWasm.code).toBe(2);
    expect(notWasm.stderr).toMatch(/not a valid WebAssembly module/);
    const noArg = await runEdgewatch(["rules", "validate"]);
    expect(noArg.code).toBe(2);
    expect(noArg.stderr).toMatch(/nothing to validate: give rules files, - for stdin, or --config/);
    const noBuild = await runEdgewatch(["rules", "validate", file("ok2.json", '{"version":1}')], { env: { EDGEWATCH_WASM: join(dir, "build/edgewatch.wasm") } });
    expect(noBuild.code).toBe(3);
    expect(noBuild.stderr).toMatch(/filter build missing: .*\n  hint: run `npm run build`/);
  });

  it("--config alone validates the whole plugin configuration, placing errors in the YAML it came from", async () => {
    const cfg = file(
      "proxy.yaml",
      [
        "routes:",
        "  - { name: api, match: { prefix: / }, cluster: app }",
        "clusters:",
        "  - { name: app, address: 127.0.0.1, port: 8080 }",
        "plugin:",
        "  configuration:",
        "    client_address:",
        "      source: nowhere",
      ].join("\n"),
    );
    const r = await runEdgewatch(["rules", "validate", "--config", cfg]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid: .*proxy\.yaml:8:15: \[schema\] \$\.client_address\.source: expected "connection", "envoy_external" or "xff"$/m);
  });

  it("--config with a configuration_file: the file's bytes go to the filter, errors point into that file; rules files are checked as its rules", async () => {
    file("plugin.json", '{\n  "client_address": {"source": "xff"},\n  "rules": {"version": 2, "access": [{"id": "x", "cidrs": ["192.0.2.0/24", "192.0.2.9/99"]}]}\n}\n');
    const cfg = file(
      "proxy2.yaml",
      ["routes: [{ name: api, match: { prefix: / }, cluster: app }]", "clusters: [{ name: app, port: 8080 }]", "plugin: { configuration_file: plugin.json }"].join("\n"),
    );
    const whole = await runEdgewatch(["rules", "validate", "--config", cfg]);
    expect(whole.code).toBe(1);
    expect(whole.stdout).toMatch(/^invalid: .*proxy2\.yaml \(plugin configuration\): .*plugin\.json:3:76: \[cidr\] \$\.rules\.access\[0\]\.cidrs\[1\]: bad CIDR "192\.0\.2\.9\/99"$/m);
    const good = file("good-rules.json", '{"version": 5, "access": [{"id": "y", "cidrs": ["198.51.100.0/24"]}]}');
    const merged = await runEdgewatch(["rules", "validate", "--config", cfg, good]);
    expect(merged.code).toBe(0);
    expect(merged.stdout).toMatch(/^valid: .*good-rules\.json: rules version 5 applied/m);
    const broken = file("proxy3.yaml", "routes: [{ name: api, match: { prefix: / }, cluster: nope }]\nclusters: []\n");
    const structural = await runEdgewatch(["rules", "validate", "--config", broken]);
    expect(structural.code).toBe(1);
    expect(structural.stdout).toMatch(/^invalid: .*proxy3\.yaml: \[config\] routes\[0\]\.cluster 'nope' is not a defined cluster$/m);
  });

  it("--config with a snapshot configuration_file (binary): the filter judges its bytes, reported without a JSON position; rules files are checked under its settings", async () => {
    const { SnapshotBuilder } = await import("../../harness/rules/snapshot-builder.js");
    const { encodeSnapshotConfiguration, frameSnapshotConfiguration, readSnapshotConfiguration } = await import("../../harness/rules/snapshot-configuration.js");
    const built = (await SnapshotBuilder.load(WASM)).build(JSON.stringify({ version: 12, access: [{ id: "x", cidrs: ["203.0.113.0/24"] }] }));
    const good = encodeSnapshotConfiguration({ client_address: { source: "xff" }, max_rules_bytes: 1024 }, built.snapshot!);
    const config = (name: string, bin: Uint8Array) => {
      writeFileSync(join(dir, `${name}.bin`), bin);
      return file(`${name}.yaml`, ["routes: [{ name: api, match: { prefix: / }, cluster: app }]", "clusters: [{ name: app, port: 8080 }]", `plugin: { configuration_file: ${name}.bin }`].join("\n"));
    };

    const ok = await runEdgewatch(["rules", "validate", "--config", config("snap-good", good)]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^valid: .*snap-good\.yaml \(plugin configuration\): rules version 12 applied .*loaded from a snapshot configuration\)$/m);

    const corrupt = Buffer.from(good);
    corrupt[corrupt.length - 1] ^= 1;
    const bad = await runEdgewatch(["rules", "validate", "--config", config("snap-corrupt", corrupt)]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^invalid: .*snap-corrupt\.yaml \(plugin configuration\): .*snap-corrupt\.bin: \[snapshot\] rules snapshot: checksum mismatch/m);

    // Settings that are not JSON: the filter's offset counts in the settings, not lines of the binary file.
    const settingsBad = frameSnapshotConfiguration('{"client_address": {"source": "xff"}, "x": 1 2}', (readSnapshotConfiguration(good) as { snapshot: Uint8Array }).snapshot);
    const bj = await runEdgewatch(["rules", "validate", "--config", config("snap-json", settingsBad)]);
    expect(bj.code).toBe(1);
    expect(bj.stdout).toMatch(/^invalid: .*snap-json\.yaml \(plugin configuration\): .*snap-json\.bin: \[json\] malformed JSON: expected ',' or '}' at byte 45$/m);

    // A rules file is checked as the rules of the snapshot configuration's settings (max_rules_bytes 1024 here).
    const cidrs = Array.from({ length: 80 }, (_, i) => `10.0.${i}.0/24`);
    const big = file("snap-big.json", JSON.stringify({ version: 9, access: [{ id: "a", cidrs }] }));
    const withFile = await runEdgewatch(["rules", "validate", "--config", join(dir, "snap-good.yaml"), big]);
    expect(withFile.code).toBe(1);
    expect(withFile.stdout).toMatch(/^invalid: .*snap-big\.json: \[size\] \$\.rules is \d+ bytes, max_rules_bytes is 1024$/m);
  });
});

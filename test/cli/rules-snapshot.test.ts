// `edgewatch rules snapshot`: a document's snapshot built by the filter's .wasm, and --check on it;
// with --plugin the snapshot configuration (settings + snapshot, pushed as a BytesValue), signed or not.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { readSnapshotConfiguration } from "../../harness/rules/snapshot-configuration.js";
import { generateSigningKey, signingSection, verifyRules, type RulesSignature } from "../../harness/signing/rules-signing.js";
import { runEdgewatch } from "./helpers.js";

describe("edgewatch rules snapshot", () => {
  const dir = mkdtempSync(join(tmpdir(), "ew-snap-"));
  const doc = join(dir, "rules.json");
  const text = JSON.stringify({ version: 12, access: [{ id: "feed", cidrs_text: "198.51.100.0/24\n2001:db8::/32\n" }] });
  writeFileSync(doc, text);

  it("builds the snapshot (header records the document's sha256) and --check describes it", async () => {
    const out = join(dir, "rules.snapshot");
    const r = await runEdgewatch(["rules", "snapshot", doc, "--out", out]);
    expect(r.code).toBe(0);
    const sha = createHash("sha256").update(text).digest("hex");
    expect(r.stdout).toContain(`document sha256 ${sha}`);
    const snap = readFileSync(out);
    expect(snap.subarray(0, 4).toString("latin1")).toBe("EWRS");
    expect(snap.subarray(24, 56).toString("hex")).toBe(sha);
    const c = await runEdgewatch(["rules", "snapshot", "--check", out]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/valid: .* snapshot format 2, rules version 12 \(2 CIDRs, 1 rules, \d+ table bytes\); source document sha256 [0-9a-f]{64}/);
  });

  it("a bad document or a damaged snapshot: exit 1 with the filter's reason", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ access: [{ id: "x", cidrs: ["10.0.0.1/40"] }] }));
    const r = await runEdgewatch(["rules", "snapshot", bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/invalid: .*\[cidr\] \$\.access\[0\]\.cidrs\[0\]: bad CIDR/);
    const out = join(dir, "x.snapshot");
    expect((await runEdgewatch(["rules", "snapshot", doc, "--out", out])).code).toBe(0);
    const s = readFileSync(out);
    s[s.length - 1] ^= 1;
    writeFileSync(out, s);
    const c = await runEdgewatch(["rules", "snapshot", "--check", out]);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/\[snapshot\] checksum mismatch/);
  });
});

describe("edgewatch rules snapshot --plugin (snapshot configuration)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ew-snapcfg-"));
  const doc = join(dir, "rules.json");
  writeFileSync(doc, JSON.stringify({ version: 12, access: [{ id: "feed", cidrs_text: "198.51.100.0/24\n2001:db8::/32\n" }] }));
  const settingsFile = (name: string, settings: object) => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(settings));
    return p;
  };
  const XFF = { client_address: { source: "xff", xff_trusted_hops: 1 } };

  it("writes <file>.plugin.bin: the settings and the document's snapshot in one frame; --check describes it", async () => {
    const r = await runEdgewatch(["rules", "snapshot", doc, "--plugin", settingsFile("settings.json", XFF)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = `${doc}.plugin.bin`;
    expect(r.stdout).toMatch(/^wrote .*rules\.json\.plugin\.bin: \d+ bytes, snapshot configuration: settings client_address \(\d+ bytes\), snapshot of \d+ bytes \(format 2\), document sha256 [0-9a-f]{64}; accepted by the filter\n$/);
    const c = readFileSync(out);
    expect(c.subarray(0, 4).toString("latin1")).toBe("EWPC");
    const parts = readSnapshotConfiguration(c);
    if ("error" in parts) throw new Error(parts.error);
    expect(JSON.parse(parts.settingsText)).toEqual(XFF);
    // The snapshot inside is the one `rules snapshot` builds for the document.
    const bare = join(dir, "bare.snapshot");
    expect((await runEdgewatch(["rules", "snapshot", doc, "--out", bare])).code).toBe(0);
    expect(Buffer.from(parts.snapshot).equals(readFileSync(bare))).toBe(true);

    const check = await runEdgewatch(["rules", "snapshot", "--check", out]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(
      /^valid: .*: snapshot configuration \(frame format 1\): settings client_address \(\d+ bytes\); snapshot format 2, rules version 12 \(2 CIDRs, 1 rules, \d+ table bytes\); source document sha256 [0-9a-f]{64}\n$/,
    );
  });

  it("--key-file signs the snapshot bytes into rules_signature; without a key, settings with rules_signing are refused and nothing is written", async () => {
    const g = generateSigningKey("ops-snap");
    const keyFile = join(dir, "ops.pem");
    writeFileSync(keyFile, g.privateKeyPem, { mode: 0o600 });
    const settings = settingsFile("signed.json", { ...XFF, rules_signing: signingSection([g]) });
    const out = join(dir, "signed.bin");
    const r = await runEdgewatch(["rules", "snapshot", doc, "--plugin", settings, "--key-file", keyFile, "--key-id", "ops-snap", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/settings client_address, rules_signing, rules_signature \(\d+ bytes, snapshot signed by key ops-snap\)/);
    const parts = readSnapshotConfiguration(readFileSync(out));
    if ("error" in parts) throw new Error(parts.error);
    const sig = (JSON.parse(parts.settingsText) as { rules_signature: RulesSignature }).rules_signature;
    expect(sig.key_id).toBe("ops-snap");
    expect(verifyRules(Buffer.from(parts.snapshot), sig, g.publicKey)).toBe(true);
    const check = await runEdgewatch(["rules", "snapshot", "--check", out]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/snapshot signed by key ops-snap\); snapshot format 2, rules version 12/);

    const unsigned = join(dir, "unsigned.bin");
    const u = await runEdgewatch(["rules", "snapshot", doc, "--plugin", settings, "--out", unsigned]);
    expect(u.code).toBe(1);
    expect(u.stdout).toMatch(/^invalid: .*rules\.json with --plugin .*signed\.json: \[signature\] /);
    expect(existsSync(unsigned)).toBe(false);
  });

  it("refuses settings with rules, and signing options without --plugin (exit 2)", async () => {
    const withRules = await runEdgewatch(["rules", "snapshot", doc, "--plugin", settingsFile("rules-in.json", { ...XFF, rules: { version: 1 } })]);
    expect(withRules.code).toBe(2);
    expect(withRules.stderr).toMatch(/settings contain "rules"; the snapshot carries the rules/);
    const keyOnly = await runEdgewatch(["rules", "snapshot", doc, "--key-id", "ops-snap"]);
    expect(keyOnly.code).toBe(2);
    expect(keyOnly.stderr).toMatch(/sign the snapshot of a snapshot configuration: give --plugin/);
  });

  it("--check: a damaged snapshot or frame inside a snapshot configuration is exit 1 with the filter's reason", async () => {
    const good = join(dir, "good.bin");
    expect((await runEdgewatch(["rules", "snapshot", doc, "--plugin", settingsFile("s2.json", XFF), "--out", good])).code).toBe(0);
    const flipped = readFileSync(good);
    flipped[flipped.length - 1] ^= 1;
    writeFileSync(join(dir, "flipped.bin"), flipped);
    const f = await runEdgewatch(["rules", "snapshot", "--check", join(dir, "flipped.bin")]);
    expect(f.code).toBe(1);
    expect(f.stdout).toMatch(/invalid: .*flipped\.bin: \[snapshot\] checksum mismatch/);
    const format2 = readFileSync(good);
    format2.writeUInt32LE(2, 4);
    writeFileSync(join(dir, "format2.bin"), format2);
    const g2 = await runEdgewatch(["rules", "snapshot", "--check", join(dir, "format2.bin")]);
    expect(g2.code).toBe(1);
    expect(g2.stdout).toMatch(/invalid: .*format2\.bin: \[snapshot\] plugin configuration: snapshot frame: frame format 2 is not supported/);
  });
});

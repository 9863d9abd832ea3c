// `edgewatch rules snapshot`: a document's snapshot built by the filter's .wasm, and --check on it.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
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

// `edgewatch doctor` checks for the safety rails of rule delivery (issue 15): refused signatures,
// blast-radius refusals and overrides, an empty client sample. The checks are pure functions of the
// scrapes (evaluate), fed with Envoy-shaped text here.
import { describe, expect, it } from "vitest";
import { evaluate, type CheckResult } from "../../harness/cli/doctor.js";
import { PromSnapshot } from "../../harness/cli/prom-text.js";
import { edgewatchText } from "./helpers.js";

interface Safety { signature?: [number, number]; blast?: [number, number]; verified?: number; overrides?: [number, number]; sample?: number; sampled?: number; denied?: number; legacy?: boolean }

/** Three scrapes; [a, b] pairs are counter values at the first and at the last scrape. */
function diagnose(s: Safety): Record<string, CheckResult> {
  const at = (pair: [number, number] | undefined, i: number) => (pair ? (i === 0 ? pair[0] : pair[1]) : 0);
  const scrapes = [0, 1, 2].map((i) => {
    let text = edgewatchText(i);
    if (!s.legacy) {
      text += [
        "# TYPE edgewatch_rules_reload_failures_total counter",
        `edgewatch_rules_reload_failures_total{reason="signature"} ${at(s.signature, i)}`,
        `edgewatch_rules_reload_failures_total{reason="blast_radius"} ${at(s.blast, i)}`,
        "# TYPE edgewatch_rules_signature_verified_total counter", `edgewatch_rules_signature_verified_total{} ${s.verified ?? 0}`,
        "# TYPE edgewatch_rules_blast_radius_overrides_total counter", `edgewatch_rules_blast_radius_overrides_total{} ${at(s.overrides, i)}`,
        "# TYPE edgewatch_rules_client_sample_size gauge", `edgewatch_rules_client_sample_size{} ${s.sample ?? 200}`,
        "# TYPE edgewatch_rules_blast_radius_sampled_clients gauge", `edgewatch_rules_blast_radius_sampled_clients{} ${s.sampled ?? 180}`,
        "# TYPE edgewatch_rules_blast_radius_denied_clients gauge", `edgewatch_rules_blast_radius_denied_clients{} ${s.denied ?? 3}`,
      ].join("\n") + "\n";
    }
    const at0 = Date.now() - (2 - i) * 1000;
    return { at: at0, status: 200, snap: PromSnapshot.parse(text, at0) };
  });
  const out: Record<string, CheckResult> = {};
  for (const r of evaluate({ adminUrl: "http://x", scrapes, rulesMaxAgeS: 300, heartbeatMaxAgeS: 30 })) out[r.check] = r;
  return out;
}

describe("doctor: rule signatures", () => {
  it("FAIL when documents were refused for their signature in the window, with the fix", () => {
    const r = diagnose({ signature: [1, 3], verified: 4 })["rule signatures"];
    expect(r.verdict).toBe("FAIL");
    expect(r.detail).toMatch(/2 document\(s\) refused in the window/);
    expect(r.fix).toMatch(/edgewatch rules sign/);
  });
  it("WARN for earlier refusals only; PASS with the verified count otherwise; PASS on a build without the metrics", () => {
    expect(diagnose({ signature: [2, 2] })["rule signatures"].verdict).toBe("WARN");
    expect(diagnose({ verified: 5 })["rule signatures"]).toMatchObject({ verdict: "PASS", detail: "5 signed document(s) verified, none refused" });
    expect(diagnose({ legacy: true })["rule signatures"].verdict).toBe("PASS");
  });
});

describe("doctor: blast radius", () => {
  it("FAIL when documents were refused as too broad in the window; the last measurement is shown", () => {
    const r = diagnose({ blast: [0, 2], sampled: 180, denied: 170 })["blast radius"];
    expect(r.verdict).toBe("FAIL");
    expect(r.detail).toMatch(/2 document\(s\) refused .*denies 170 of 180 sampled clients/);
    expect(r.fix).toMatch(/allow_large_blast_radius/);
  });
  it("WARN when a document over the limits was applied by override", () => {
    expect(diagnose({ overrides: [0, 1] })["blast radius"]).toMatchObject({ verdict: "WARN" });
  });
  it("WARN when requests flow but the client sample is empty", () => {
    const r = diagnose({ sample: 0, sampled: 0, denied: 0 })["blast radius"];
    expect(r.verdict).toBe("WARN");
    expect(r.detail).toMatch(/client sample is empty/);
  });
  it("PASS with the sample size otherwise", () => {
    expect(diagnose({})["blast radius"]).toMatchObject({ verdict: "PASS", detail: "client sample 200 address(es); last document checked denies 3 of 180 sampled clients" });
  });
});

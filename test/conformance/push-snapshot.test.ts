/**
 * Rules pushed as a snapshot configuration (a binary plugin configuration: the settings JSON and a
 * rules snapshot the filter's own .wasm built, harness/rules/snapshot-configuration.ts; Envoy gets it
 * as a google.protobuf.BytesValue), on every target: after a JSON push, a snapshot configuration is
 * enforced on every worker and counted like a JSON push; every class of bad input is refused with
 * its failure counter and reason while the last good rules keep deciding on every worker; a
 * correctly signed snapshot configuration is enforced.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey, parsePrivateKey, signRules, signingSection } from "../../harness/signing/rules-signing.js";
import { SnapshotBuilder } from "../../harness/rules/snapshot-builder.js";
import { encodeSnapshotConfiguration, frameSnapshotConfiguration } from "../../harness/rules/snapshot-configuration.js";
import { FILTER_WASM, proxyOptions } from "../../harness/stack/proxy-options.js";
import { describeTargets } from "../../harness/targets/describe-targets.js";
import { itLosesNothing, useStack } from "./support/hooks.js";
import { expectEnforcedEverywhere, expectPushRefused, fromAddress } from "./support/push.js";

const XFF_ONE_HOP = { client_address: { source: "xff", xff_trusted_hops: 1 } };
const doc = (v: number, cidrs: string[]) => ({ version: v, access: [{ id: `block-v${v}`, cidrs }] });

let builder: SnapshotBuilder;
beforeAll(async () => {
  builder = await SnapshotBuilder.load(FILTER_WASM);
});

/** The snapshot the filter builds for a rules document. */
function snapshotOf(rules: object): Buffer {
  const r = builder.build(JSON.stringify(rules));
  if (!r.ok) throw new Error(`snapshot of ${JSON.stringify(rules)}: [${r.reason}] ${r.message}`);
  return r.snapshot!;
}

describe("push reload (snapshot configuration)", () => {
  describeTargets("a pushed snapshot configuration and bad input", (target) => {
    const ref = useStack(target, proxyOptions().withWorkers(2).withPlugin({ ...XFF_ONE_HOP, rules: doc(1, ["192.0.2.0/24"]) }));
    const enforcedEverywhere = (addr: string, rule: string | undefined) => expectEnforcedEverywhere(ref.stack, addr, rule);
    const reloads = () => ref.stack.admin.metric("edgewatch_rules_reload_total");

    it("after a JSON push, a snapshot configuration is enforced on every worker, counted once like the JSON push", async () => {
      const s = ref.stack;
      const beforeJson = await reloads();
      await s.push({ ...XFF_ONE_HOP, rules: doc(2, ["198.51.100.0/24"]) });
      await s.probes.untilEach(fromAddress("198.51.100.5"), (a) => a.headers["x-edgewatch-rule"] === "block-v2", { what: "block-v2 (JSON push) enforced" });
      const jsonReloads = (await reloads()) - beforeJson;
      expect(jsonReloads).toBe(1);

      const logBefore = s.logMark();
      await s.push(encodeSnapshotConfiguration(XFF_ONE_HOP, snapshotOf(doc(3, ["203.0.113.0/24", "2001:db8:3::/48"]))));
      await s.probes.untilEach(fromAddress("203.0.113.5"), (a) => a.headers["x-edgewatch-rule"] === "block-v3", { what: "block-v3 (snapshot configuration) enforced" });
      await enforcedEverywhere("2001:db8:3::1", "block-v3");
      await enforcedEverywhere("198.51.100.5", undefined);
      const prom = await s.admin.prometheus();
      expect(prom.value("edgewatch_rules_version")).toBe(3);
      expect(prom.value("edgewatch_rules_cidrs")).toBe(2);
      expect(prom.sum("edgewatch_rules_reload_total")).toBe(beforeJson + jsonReloads + 1);
      expect(s.logsSince(logBefore)).toMatch(/rules version 3 applied from plugin configuration \(2 CIDRs, 1 rules, .*loaded from a snapshot configuration\)/);
      expect(s.logsSince(logBefore)).not.toMatch(/configuration rejected/);
    });

    it("the same snapshot configuration again is a no-op: nothing reloads, the same rules decide", async () => {
      const before = await reloads();
      await ref.stack.push(encodeSnapshotConfiguration(XFF_ONE_HOP, snapshotOf(doc(3, ["203.0.113.0/24", "2001:db8:3::/48"]))));
      expect(await reloads()).toBe(before);
      await enforcedEverywhere("203.0.113.5", "block-v3");
    });

    const k1 = generateSigningKey("ops-2026-12");
    const stranger = generateSigningKey("ops-2026-12"); // same id, other key
    const sign = (snapshot: Uint8Array, g = k1) => signRules(Buffer.from(snapshot), parsePrivateKey(g.privateKeyPem, g.keyId), g.keyId);
    const signed = { ...XFF_ONE_HOP, rules_signing: signingSection([k1]) };
    const next = () => snapshotOf(doc(9, ["10.9.0.0/16"]));
    /** 200 networks: a snapshot over 1024 bytes. */
    const large = () => snapshotOf(doc(9, Array.from({ length: 200 }, (_, i) => `10.${i}.0.0/16`)));
    const bad: Array<[string, () => Uint8Array, string, RegExp]> = [
      [
        "a byte flipped inside the snapshot",
        () => {
          const c = encodeSnapshotConfiguration(XFF_ONE_HOP, next());
          c[c.length - 3] ^= 0x10;
          return c;
        },
        "snapshot",
        /plugin configuration: rules snapshot: checksum mismatch/,
      ],
      ["frame format 2", () => frameSnapshotConfiguration(JSON.stringify(XFF_ONE_HOP), next(), 2), "snapshot", /plugin configuration: snapshot frame: frame format 2 is not supported/],
      ["settings that contain \"rules\"", () => frameSnapshotConfiguration(JSON.stringify({ ...XFF_ONE_HOP, rules: doc(9, ["10.9.0.0/16"]) }), next()), "schema", /\$\.rules: not allowed in a snapshot configuration/],
      ["a snapshot larger than max_rules_bytes 1024", () => encodeSnapshotConfiguration({ ...XFF_ONE_HOP, max_rules_bytes: 1024 }, large()), "size", /the snapshot is \d+ bytes, max_rules_bytes is 1024/],
      ["signing keys configured and no rules_signature", () => encodeSnapshotConfiguration(signed, next()), "signature", /the snapshot of the snapshot configuration \(\$\.rules_signature\) is unsigned; rules_signing names 1 key\(s\) \(ops-2026-12\)/],
      [
        "a signature of other bytes",
        () => {
          const snap = next();
          return encodeSnapshotConfiguration({ ...signed, rules_signature: sign(large()) }, snap);
        },
        "signature",
        /bad signature from key "ops-2026-12"/,
      ],
      [
        "a signature by another key under the trusted id",
        () => {
          const snap = next();
          return encodeSnapshotConfiguration({ ...signed, rules_signature: sign(snap, stranger) }, snap);
        },
        "signature",
        /bad signature from key "ops-2026-12"/,
      ],
    ];
    for (const [name, configuration, reason, msg] of bad) {
      it(`refuses ${name}: ConfigRejectedError, reason=${reason} counted and logged, the last good rules still decide on every worker`, async () => {
        const s = ref.stack;
        await expectPushRefused(s, configuration(), reason, msg);
        expect((await s.admin.prometheus()).value("edgewatch_rules_version")).toBe(3);
        await enforcedEverywhere("203.0.113.5", "block-v3");
        await enforcedEverywhere("10.9.0.5", undefined);
      });
    }

    it("a correctly signed snapshot configuration is enforced on every worker", async () => {
      const s = ref.stack;
      const snap = snapshotOf(doc(4, ["10.4.0.0/16"]));
      await s.push(encodeSnapshotConfiguration({ ...signed, rules_signature: sign(snap) }, snap));
      await s.probes.untilEach(fromAddress("10.4.0.5"), (a) => a.headers["x-edgewatch-rule"] === "block-v4", { what: "block-v4 (signed snapshot configuration) enforced" });
      await enforcedEverywhere("203.0.113.5", undefined);
      expect((await s.admin.prometheus()).value("edgewatch_rules_version")).toBe(4);
    });

    itLosesNothing(ref);
  });
});

/**
 * Issue #13 (push reload at 100k CIDRs): a VM whose plugin configuration is byte for byte the one
 * another VM of the proxy accepted skips the JSON parse of the document (the push cache,
 * assembly/filter/reload/push-cache.ts: settings parsed from the frame around the document, rules
 * from the snapshot). A configuration that differs from the cached one by a single byte (in the
 * settings, in the document, or only in a cache entry forged to claim its digests) must be parsed
 * in full and rejected when invalid; the rules in force stay.
 */
import { afterEach, describe, expect, it } from "vitest";
import { PluginHost } from "../../harness/host/plugin-host.js";
import { SharedDataStore } from "../../harness/host/shared-data.js";
import { HostLogger } from "../../harness/host/logger.js";
import { StatsStore } from "../../harness/stats/stats-store.js";
import { FILTER_WASM } from "../../harness/fuzz/host-driver.js";
import { xxh64 } from "../rules/xxh64-ref.js";

const VM_ID = "edgewatch-vm";
const DOC_SEED = 0x65770001n; // push-cache.ts DOC_SEED
// push-cache.ts entry key layout: u64 document digest at 0, u64 pre-check digest of the value bytes
// at 136 (sampleDigest: a value of at most 8 KiB is hashed whole, seeded with DOC_SEED ^ its length).
const META_DOC_DIGEST = 0;
const META_VALUE_SAMPLE = 136;
const sampleDigest = (value: Buffer) => {
  expect(value.length).toBeLessThanOrEqual(8192);
  return xxh64(value, DOC_SEED ^ BigInt(value.length));
};

const doc = (v: number, cidr: string) => `{"version":${v},"access":[{"id":"deny-v${v}","cidrs":["${cidr}","198.51.100.0/24"]}]}`;
const config = (routesCap: string, rules: string) => `{"tracing":{"enabled":false},"telemetry":{"routes_cap":${routesCap}},"rules":${rules}}`;

let host: PluginHost | null = null;
afterEach(async () => { await host?.close(); host = null; });

async function start(configuration: string) {
  const stats = new StatsStore();
  const logger = new HostLogger({ level: "info", stderrLevel: "off", capacity: 5000 });
  const shared = new SharedDataStore();
  host = await PluginHost.load(
    { name: "edgewatch", rootId: "edgewatch", vmId: VM_ID, wasmPath: FILTER_WASM, configuration, failOpen: false },
    { stats, logger, workers: 2, sharedData: shared },
  );
  const h = host;
  const failures = (reason: string) => stats.counter(`wasmcustom.edgewatch.reason=.=${reason};.;rules_reload_failures_total`).value();
  const push = async (c: string) => {
    const since = logger.entries().length;
    let accepted = true;
    try { await h.updatePluginConfiguration(c); } catch { accepted = false; }
    const applied = logger.entries().slice(since).filter((e) => /rules version \d+ applied/.test(e.message));
    const how = (vm: string) => {
      const m = applied.find((e) => e.vm?.startsWith(vm))?.message ?? "";
      return /same configuration/.test(m) ? "configuration" : /same text/.test(m) ? "text" : m ? "parsed" : "none";
    };
    return { accepted, canary: how("canary"), workers: [how("worker-0"), how("worker-1")], main: how("main") };
  };
  return { h, shared, failures, push };
}

describe("issue-13: push cache hit only for the exact configuration bytes", () => {
  it("a byte-identical configuration skips the parse on every VM after the canary", async () => {
    const t = await start(config("100", doc(1, "192.0.2.0/24")));
    const r = await t.push(config("100", doc(2, "203.0.113.0/24")));
    expect(r).toEqual({ accepted: true, canary: "parsed", main: "configuration", workers: ["configuration", "configuration"] });
    // One byte of the settings: the canary parses the configuration in full (the document itself
    // is reused) and republishes the entry with the new settings; the other VMs parse no document.
    const r2 = await t.push(config("900", doc(2, "203.0.113.0/24")));
    expect(r2).toEqual({ accepted: true, canary: "text", main: "configuration", workers: ["configuration", "configuration"] });
  });

  it("a document over 8 KiB: a hit after the canary; one byte off between its sampled ends: parsed in full and rejected", async () => {
    // 2,000 CIDRs (~36 KB): the pre-check digest covers only the first and last 4 KiB of the value.
    const cidrs = Array.from({ length: 2000 }, (_, i) => `"10.${i >> 8}.${i & 255}.0/24"`);
    const big = (v: number, list: string[]) => `{"version":${v},"access":[{"id":"deny-v${v}","cidrs":[${list.join(",")}]}]}`;
    const good = config("100", big(2, cidrs));
    const middle = [...cidrs];
    middle[1000] = middle[1000].replace("/24", "/2x"); // same length, far from both sampled ends
    const bad = config("100", big(2, middle));
    expect(bad.length).toBe(good.length);
    expect(bad.indexOf("/2x")).toBeGreaterThan(8192);
    expect(good.length - bad.indexOf("/2x")).toBeGreaterThan(8192);
    const t = await start(config("100", doc(1, "192.0.2.0/24")));
    expect(await t.push(good)).toEqual({ accepted: true, canary: "parsed", main: "configuration", workers: ["configuration", "configuration"] });
    const c0 = t.failures("cidr");
    const r = await t.push(bad);
    expect(r.accepted, "document with CIDR 10.3.232.0/2x accepted via the push cache").toBe(false);
    expect(t.failures("cidr")).toBe(c0 + 1n);
    // The accepted document's entry stays: under other settings, the canary loads the document from
    // the cache, and every other VM the whole configuration.
    expect(await t.push(config("900", big(2, cidrs)))).toEqual({ accepted: true, canary: "text", main: "configuration", workers: ["configuration", "configuration"] });
    expect(t.h.vms.some((v) => v.failed)).toBe(false);
  });

  it("one byte off in the settings or the document: parsed in full and rejected", async () => {
    const t = await start(config("100", doc(1, "192.0.2.0/24")));
    // Same length, one byte: an unknown settings field.
    const badSettings = config("100", doc(1, "192.0.2.0/24")).replace(`"routes_cap"`, `"routes_caq"`);
    const s0 = t.failures("schema");
    expect((await t.push(badSettings)).accepted).toBe(false);
    expect(t.failures("schema")).toBe(s0 + 1n);
    // Same length, one byte: an invalid CIDR in the document.
    const c0 = t.failures("cidr");
    expect((await t.push(config("100", doc(1, "192.0.2.0/2x")))).accepted).toBe(false);
    expect(t.failures("cidr")).toBe(c0 + 1n);
    expect(t.h.vms.some((v) => v.failed)).toBe(false);
  });

  it("a cache entry forged to claim the digests of a document one byte off is not a hit", async () => {
    const good = doc(1, "192.0.2.0/24");
    const bad = doc(1, "192.0.2.0/2x");
    const t = await start(config("100", good));
    // Re-publish the cache entry of the accepted configuration with the digests of the bad document
    // (the "rules" value bytes are the document text): only the byte compare of the stored text can
    // now tell them apart.
    // The stored pre-check digest is the one computed here, so the forged one below passes it.
    const meta = Buffer.from(t.shared.get(VM_ID, "edgewatch.rules.push.meta")!.value);
    expect(meta.readBigUInt64LE(META_VALUE_SAMPLE)).toBe(sampleDigest(Buffer.from(good)));
    const forged = xxh64(Buffer.from(bad), DOC_SEED);
    const forgedSample = sampleDigest(Buffer.from(bad));
    for (const key of ["edgewatch.rules.push.meta", "edgewatch.rules.push.frame", "edgewatch.rules.push"]) {
      const v = Buffer.from(t.shared.get(VM_ID, key)!.value);
      v.writeBigUInt64LE(forged, META_DOC_DIGEST);
      v.writeBigUInt64LE(forgedSample, META_VALUE_SAMPLE);
      t.shared.set(VM_ID, key, v, 0);
    }
    const c0 = t.failures("cidr");
    const r = await t.push(config("100", bad));
    expect(r.accepted, "document with CIDR 192.0.2.0/2x accepted via the push cache").toBe(false);
    expect(t.failures("cidr")).toBe(c0 + 1n);
    expect(t.h.vms.some((v) => v.failed)).toBe(false);
  });
});

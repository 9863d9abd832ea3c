/**
 * Rules snapshots (assembly/rules/snapshot.ts, format in assembly/rules/README.md): built by the
 * filter's own code from a document, checked by the filter before use. Every damaged form is
 * rejected with reason "snapshot" and a message saying what is wrong; through the proxy the
 * rejection is counted and the last good rules keep deciding.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { SnapshotBuilder } from "../../harness/rules/snapshot-builder.js";
import { FILTER_WASM, STAT, XFF_ONE_HOP, eventually, rulesServiceConfig, startRulesProxy, type RulesProxy } from "./support.js";
import { resealSnapshot, xxh64 } from "./xxh64-ref.js";

let b: SnapshotBuilder;
beforeAll(async () => { b = await SnapshotBuilder.load(FILTER_WASM); });

const DOC = JSON.stringify({
  version: 7, mode: "deny",
  access: [
    { id: "feed", cidrs_text: "198.51.100.0/24\n203.0.113.7\n2001:db8:bad::/48\n" },
    { id: "office", action: "allow", cidrs: ["10.20.0.0/16"], path_prefix: "/admin" },
  ],
  sampling: { default_rate: 0.25, routes: { checkout: 1 } },
});

function built(doc = DOC): Buffer {
  const r = b.build(doc);
  if (!r.ok) throw new Error(`${r.reason}: ${r.message}`);
  return r.snapshot!;
}

describe("snapshot format", () => {
  it("the checksum is XXH64 as specified (reference vectors and a cross-check)", () => {
    expect(xxh64(new Uint8Array(0))).toBe(0xef46db3751d8e999n);
    expect(xxh64(new TextEncoder().encode("a"))).toBe(0xd24ec4f1a98c6e5bn);
    expect(xxh64(new TextEncoder().encode("abc"))).toBe(0x44bc2cf5ad770999n);
    // Resealing a snapshot the filter wrote must give back the very same bytes.
    const s = built();
    expect(resealSnapshot(s).equals(s)).toBe(true);
  });

  it("records version, flags and the source document's sha256; loads back with the same rules", () => {
    const s = built();
    expect(s.subarray(0, 4).toString("latin1")).toBe("EWRS");
    expect(s.readUInt32LE(4)).toBe(2);
    expect(s.readBigInt64LE(8)).toBe(7n);
    const info = b.inspect(s);
    expect(info).toMatchObject({ ok: true, version: 7, cidrs: 4, rules: 2, allowLargeBlastRadius: false });
    expect(info.sourceSha256).toBe(b.build(DOC).sourceSha256);
    expect(info.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
    const flagged = b.inspect(built(JSON.stringify({ ...JSON.parse(DOC), allow_large_blast_radius: true })));
    expect(flagged.allowLargeBlastRadius).toBe(true);
  });

  it("a document the filter rejects has no snapshot: the filter's own reason comes back", () => {
    const r = b.build(JSON.stringify({ access: [{ id: "x", cidrs: ["10.0.0.0/33"] }] }));
    expect(r.ok).toBe(false);
    expect(r.reason).toBe("cidr");
    expect(r.message).toMatch(/\$\.access\[0\]\.cidrs\[0\]: bad CIDR/);
  });

  const damaged: Array<[string, (s: Buffer) => Buffer, RegExp]> = [
    ["truncated header", (s) => s.subarray(0, 40), /truncated: 40 bytes, shorter than the 64-byte header/],
    ["truncated payload", (s) => s.subarray(0, s.length - 5), /truncated: the header says \d+ payload bytes, got \d+/],
    ["trailing bytes", (s) => Buffer.concat([s, Buffer.alloc(8)]), /trailing bytes/],
    ["bad magic", (s) => { const x = Buffer.from(s); x.write("JSON", 0, "latin1"); return x; }, /not an edgewatch rules snapshot/],
    ["wrong format version", (s) => { const x = Buffer.from(s); x.writeUInt32LE(3, 4); return x; }, /format 3 is not supported \(this filter reads format 2\)/],
    ["older format (1)", (s) => { const x = Buffer.from(s); x.writeUInt32LE(1, 4); return x; }, /format 1 is not supported/],
    ["payload byte flipped", (s) => { const x = Buffer.from(s); x[x.length - 3] ^= 0x40; return x; }, /checksum mismatch/],
    ["header version changed", (s) => { const x = Buffer.from(s); x.writeBigInt64LE(8n, 8); return x; }, /checksum mismatch/],
    ["checksum field changed", (s) => { const x = Buffer.from(s); x[60] ^= 1; return x; }, /checksum mismatch/],
    ["resealed, table out of order", (s) => resealSnapshot(swapFirstIPv4(s)), /malformed payload: IPv4 table out of order/],
    ["resealed, host bits set in a /24 IPv4 entry", (s) => resealSnapshot(editIPv4(s, (x, s4) => x.writeUInt32LE((x.readUInt32LE(s4 + 4) | 1) >>> 0, s4 + 4))), /malformed payload: IPv4 entry 1\b/],
    ["resealed, IPv4 entry naming rule 2 of 2", (s) => resealSnapshot(editIPv4(s, (x, s4, n4) => x.writeUInt16LE(2, s4 + n4 * 5))), /malformed payload: IPv4 entry 0\b/],
    ["resealed, prefix length 33", (s) => resealSnapshot(editIPv4(s, (x, s4, n4) => x.writeUInt8(33, s4 + n4 * 4 + 1))), /malformed payload: IPv4 entry 1\b/],
    ["resealed, unknown flag", (s) => { const x = Buffer.from(s); x.writeUInt32LE(0x80, 16); return resealSnapshot(x); }, /unknown header flags 0x80/],
    ["resealed, bad mode", (s) => { const x = Buffer.from(s); x.writeUInt32LE(9, 64); return resealSnapshot(x); }, /malformed payload: mode 9/],
    ["resealed, absurd rule count", (s) => { const x = Buffer.from(s); x.writeUInt32LE(100_000, 68); return resealSnapshot(x); }, /malformed payload: 100000 rules/],
  ];
  for (const [name, damage, why] of damaged) {
    it(`rejects a snapshot with ${name}, saying why`, () => {
      const info = b.inspect(damage(built()));
      expect(info.ok).toBe(false);
      expect(info.reason).toBe("snapshot");
      expect(info.message).toMatch(why);
    });
  }

  it("rejects any resealed IPv4 table out of (start, length) order, and only those (nested, equal starts, disjoint runs)", () => {
    // Nested runs, equal starts with different lengths, and disjoint neighbours: every adjacent
    // swap breaks the order somewhere, in or out of an open run.
    const cidrs = ["10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24", "10.0.1.0/24", "10.1.0.0/16", "11.0.0.0/8", "11.0.0.0/8", "192.0.2.0/24", "192.0.2.128/25", "203.0.113.0/24"];
    const s = built(JSON.stringify({ access: [{ id: "a", cidrs: cidrs.slice(0, 6) }, { id: "b", cidrs: cidrs.slice(6) }] }));
    expect(b.inspect(s).ok).toBe(true);
    const n4 = s.readUInt32LE(72);
    for (let i = 0; i + 1 < n4; i++) {
      const swapped = resealSnapshot(editIPv4(s, (x, s4) => {
        const a = x.readUInt32LE(s4 + i * 4), l = x[s4 + n4 * 4 + i], r = x.readUInt16LE(s4 + n4 * 5 + i * 2);
        x.writeUInt32LE(x.readUInt32LE(s4 + (i + 1) * 4), s4 + i * 4);
        x[s4 + n4 * 4 + i] = x[s4 + n4 * 4 + i + 1];
        x.writeUInt16LE(x.readUInt16LE(s4 + n4 * 5 + (i + 1) * 2), s4 + n4 * 5 + i * 2);
        x.writeUInt32LE(a, s4 + (i + 1) * 4);
        x[s4 + n4 * 4 + i + 1] = l;
        x.writeUInt16LE(r, s4 + n4 * 5 + (i + 1) * 2);
      }));
      const info = b.inspect(swapped);
      // Neighbours with the same start and length (11.0.0.0/8 in rules a and b) are in order either way.
      const at = (k: number) => { const x = editIPv4(s, () => {}); const s4 = x.length - x.readUInt32LE(76) * 19 - Math.ceil((n4 * 7) / 8) * 8; return `${x.readUInt32LE(s4 + k * 4)}/${x[s4 + n4 * 4 + k]}`; };
      if (at(i) === at(i + 1)) expect(info.ok, `swap ${i}`).toBe(true);
      else expect(info.message, `swap ${i}`).toMatch(new RegExp(`IPv4 table out of order at ${i + 1}\\b`));
    }
  });

  it("never traps on random damage (1,000 byte flips and cuts)", () => {
    const s = built();
    let seed = 12345;
    const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
    for (let i = 0; i < 1000; i++) {
      const x = Buffer.from(s);
      for (let k = 0, n = 1 + rnd(4); k < n; k++) x[rnd(x.length)] = rnd(256);
      const cut = rnd(3) === 0 ? x.subarray(0, rnd(x.length)) : x;
      const info = b.inspect(i % 2 ? resealSnapshot(cut.length >= 64 ? cut : Buffer.concat([cut, Buffer.alloc(64)])) : cut);
      if (!info.ok) expect(info.reason).toBe("snapshot");
    }
  });
});

/** Swap the first two IPv4 entries' start addresses (the table must stay sorted). */
/** A copy of snapshot `s` with its IPv4 table edited by `edit` (x, offset of starts4, n4). */
function editIPv4(s: Buffer, edit: (x: Buffer, s4: number, n4: number) => void): Buffer {
  const x = Buffer.from(s);
  const n4 = x.readUInt32LE(72);
  const n6 = x.readUInt32LE(76);
  edit(x, x.length - n6 * 19 - Math.ceil((n4 * 7) / 8) * 8, n4);
  return x;
}

function swapFirstIPv4(s: Buffer): Buffer {
  const x = Buffer.from(s);
  // Payload header at 64: mode, rules, n4 (72), n6 (76). The IPv4 table (starts4 u32[n4], lens4,
  // vals4) starts 8-aligned; the IPv6 table (19 bytes per entry) starts at the next 8-byte boundary
  // and runs to the end.
  const n4 = x.readUInt32LE(72);
  const n6 = x.readUInt32LE(76);
  const s4 = x.length - n6 * 19 - Math.ceil((n4 * 7) / 8) * 8;
  const a = x.readUInt32LE(s4);
  x.writeUInt32LE(x.readUInt32LE(s4 + 4), s4);
  x.writeUInt32LE(a, s4 + 4);
  const l = s4 + n4 * 4; // lens4: swap with the addresses, so each entry stays a valid CIDR
  [x[l], x[l + 1]] = [x[l + 1], x[l]];
  return x;
}

describe("snapshots through the rules service (pull)", () => {
  let p: RulesProxy | undefined;
  afterEach(async () => { await p?.close(); p = undefined; });

  const enforced = async (px: RulesProxy, addr: string, rule: string | undefined, timeoutMs = 10_000) =>
    eventually(async () => {
      for (let w = 0; w < px.workers; w++) {
        const r = await px.get("/", { "x-forwarded-for": addr }, px.probes[w]);
        if (r.headers["x-edgewatch-rule"] !== rule) return false;
      }
      return true;
    }, timeoutMs, `${addr} → ${rule ?? "allowed"} on every worker`);

  it("the fetcher takes the snapshot the service built and every worker enforces it", async () => {
    p = await startRulesProxy({ workers: 2, rulesService: true, snapshots: true, logLevel: "info", plugin: { ...XFF_ONE_HOP, rules_service: rulesServiceConfig() } });
    const svc = p.rules!;
    svc.publish({ access: [{ id: "snap", cidrs: ["192.0.2.0/24"] }] });
    await enforced(p, "192.0.2.5", "snap");
    expect(svc.snapshotFetchCount).toBe(1);
    expect(svc.fetchCount).toBe(1);
    expect(p.logs.some((e) => /published .*received as a snapshot of document sha256 [0-9a-f]{16}/.test(e.message))).toBe(true);
    expect(p.counter(STAT("rules_reload_total"))).toBe(1n);
    expect(p.gauge(STAT("rules_version"))).toBe(1n);
  });

  it("corrupt, truncated, wrong-format and stale snapshots are rejected with a reason, counted, and the last good rules keep deciding", async () => {
    p = await startRulesProxy({ workers: 2, rulesService: true, snapshots: true, plugin: { ...XFF_ONE_HOP, rules_service: rulesServiceConfig() } });
    const svc = p.rules!;
    svc.publish({ access: [{ id: "good", cidrs: ["192.0.2.0/24"] }] });
    await enforced(p, "192.0.2.9", "good");
    const next = (id: string, version: number) => built(JSON.stringify({ version, access: [{ id, cidrs: ["198.51.100.0/24"] }] }));
    const cases: Array<[string, (v: number) => Buffer, string, RegExp]> = [
      ["corrupt", (v) => { const x = next("bad", v); x[x.length - 1] ^= 0xff; return x; }, "snapshot", /rules snapshot: checksum mismatch/],
      ["truncated", (v) => next("bad", v).subarray(0, 100), "snapshot", /rules snapshot: truncated/],
      ["wrong format", (v) => { const x = next("bad", v); x.writeUInt32LE(9, 4); return x; }, "snapshot", /rules snapshot: format 9 is not supported/],
      ["not a snapshot", () => Buffer.from(JSON.stringify({ description: "a JSON document sent with the snapshot content type", access: [] })), "snapshot", /not an edgewatch rules snapshot/],
      ["stale (older version)", () => next("old", 0), "version", /snapshot version 0 is older than version 1 in force/],
    ];
    for (const [name, make, reason, why] of cases) {
      const counter = STAT(`reason=.=${reason};.;rules_reload_failures_total`);
      const before = p.counter(counter);
      const warnsBefore = p.warnings().length;
      const v = svc.version + 1;
      svc.publish(JSON.stringify({ version: v, access: [{ id: "bad", cidrs: ["198.51.100.0/24"] }] }), { snapshot: make(v) });
      await eventually(() => p!.counter(counter) > before, 5000, `${name}: failure counted`);
      const warns = p.warnings().slice(warnsBefore).join("\n");
      expect(warns, name).toContain(`reason=${reason}`);
      expect(warns, name).toMatch(why);
      expect(warns, name).toContain("keeping rules version 1");
      await enforced(p, "192.0.2.9", "good", 500);
      await enforced(p, "198.51.100.1", undefined, 500);
      expect(p.gauge(STAT("rules_version")), name).toBe(1n);
    }
    // A good snapshot afterwards is applied.
    svc.publish({ access: [{ id: "after", cidrs: ["203.0.113.0/24"] }] });
    await enforced(p, "203.0.113.1", "after");
  });
});

/**
 * The snapshot configuration frame as the harness writes and reads it (harness/rules/
 * snapshot-configuration.ts; the filter's side is assembly/config/snapshot-frame.ts, issue #13):
 * what `edgewatch rules snapshot --plugin` writes is what the filter reads.
 * The snapshot inside is opaque here (the filter judges it; test/conformance/push-snapshot.test.ts).
 */
import { describe, expect, it } from "vitest";
import {
  encodeSnapshotConfiguration,
  frameSnapshotConfiguration,
  isSnapshotConfiguration,
  readSnapshotConfiguration,
} from "../../harness/rules/snapshot-configuration.js";

/** Stand-in snapshot bytes (the frame never looks inside). */
const SNAP = Buffer.concat([Buffer.from("EWRS"), Buffer.from(Array.from({ length: 61 }, (_, i) => (i * 37 + 11) & 0xff))]);

describe("snapshot configuration frame", () => {
  it("writes magic EWPC, format 1, the settings length, a zero reserved word, the settings, zero padding to 8, then the snapshot", () => {
    const settings = { client_address: { source: "xff", xff_trusted_hops: 1 } };
    const text = JSON.stringify(settings);
    const c = encodeSnapshotConfiguration(settings, SNAP);
    expect(c.subarray(0, 4).toString("latin1")).toBe("EWPC");
    expect(c.readUInt32LE(4)).toBe(1);
    expect(c.readUInt32LE(8)).toBe(Buffer.byteLength(text));
    expect(c.readUInt32LE(12)).toBe(0);
    expect(c.subarray(16, 16 + Buffer.byteLength(text)).toString("utf8")).toBe(text);
    const o = (16 + Buffer.byteLength(text) + 7) & ~7;
    expect([...c.subarray(16 + Buffer.byteLength(text), o)].every((b) => b === 0)).toBe(true);
    expect(Buffer.from(c.subarray(o)).equals(SNAP)).toBe(true);
    expect(c.length).toBe(o + SNAP.length);
  });

  it("reads back the settings text and the snapshot for every padding length (settings of 0..9 bytes past a multiple of 8)", () => {
    for (let pad = 0; pad < 10; pad++) {
      const text = `{"x":"${"é".repeat(pad)}"}`; // multi-byte UTF-8: lengths are bytes, not characters
      const c = encodeSnapshotConfiguration(text, SNAP);
      expect(c.length % 8).toBe((SNAP.length) % 8);
      const r = readSnapshotConfiguration(c);
      expect(r, text).toMatchObject({ settingsText: text, format: 1 });
      if ("error" in r) throw new Error(r.error);
      expect(Buffer.from(r.snapshot).equals(SNAP)).toBe(true);
    }
  });

  it("keeps settings given as text byte for byte (spacing, key order)", () => {
    const text = '{ "telemetry" : {"method_label": true},\n  "client_address": {"source": "peer"} }';
    const r = readSnapshotConfiguration(encodeSnapshotConfiguration(text, SNAP));
    expect("error" in r ? r.error : r.settingsText).toBe(text);
  });

  it("is recognised by its first four bytes only: JSON text (as bytes) and shorter input are not snapshot configurations", () => {
    expect(isSnapshotConfiguration(encodeSnapshotConfiguration({}, SNAP))).toBe(true);
    expect(isSnapshotConfiguration(Buffer.from('{"rules":{"version":1}}'))).toBe(false);
    expect(isSnapshotConfiguration(Buffer.from("EWP"))).toBe(false);
    expect(isSnapshotConfiguration(SNAP)).toBe(false); // a bare snapshot (EWRS) is not a plugin configuration
    expect(readSnapshotConfiguration(Buffer.from("{}"))).toEqual({ error: expect.stringMatching(/not a snapshot configuration/) });
  });

  it("refuses settings that carry rules of their own, or are not a JSON object, with an Error saying so", () => {
    expect(() => encodeSnapshotConfiguration({ rules: { version: 1 } }, SNAP)).toThrow(/settings contain "rules"; the snapshot carries the rules/);
    expect(() => encodeSnapshotConfiguration({ rules_text: "{}", telemetry: {} }, SNAP)).toThrow(/settings contain "rules_text"/);
    expect(() => encodeSnapshotConfiguration({ rules: {}, rules_text: "{}" }, SNAP)).toThrow(/"rules" and "rules_text"; .* remove them/);
    // The key as the filter decodes it: an escaped "rules" is "rules".
    expect(() => encodeSnapshotConfiguration('{"\\u0072ules":{}}', SNAP)).toThrow(/settings contain "rules"/);
    expect(() => encodeSnapshotConfiguration("[1]", SNAP)).toThrow(/must be a JSON object/);
    expect(() => encodeSnapshotConfiguration("{not json", SNAP)).toThrow(/settings are not JSON/);
    // A member that merely mentions rules is fine.
    expect(() => encodeSnapshotConfiguration({ rules_signature: { key_id: "k", sig: "AA==" }, max_rules_bytes: 1 << 20 }, SNAP)).not.toThrow();
  });

  it("reports each frame defect the filter rejects (reason snapshot), with what is wrong", () => {
    const good = encodeSnapshotConfiguration({ a: 1 }, SNAP); // settings 7 bytes: one padding byte
    const withWord = (at: number, v: number) => {
      const c = Buffer.from(good);
      c.writeUInt32LE(v, at);
      return c;
    };
    expect(readSnapshotConfiguration(frameSnapshotConfiguration('{"a":1}', SNAP, 2))).toEqual({ error: expect.stringMatching(/^frame format 2 is not supported/) });
    expect(readSnapshotConfiguration(withWord(12, 1))).toEqual({ error: "reserved header field is not zero" });
    expect(readSnapshotConfiguration(withWord(8, good.length))).toEqual({ error: expect.stringMatching(/^the header says \d+ settings bytes, only \d+ follow/) });
    expect(readSnapshotConfiguration(good.subarray(0, 10))).toEqual({ error: expect.stringMatching(/^truncated: 10 bytes/) });
    expect(readSnapshotConfiguration(good.subarray(0, 20))).toEqual({ error: expect.stringMatching(/^the header says 7 settings bytes, only 4 follow/) });
    expect(readSnapshotConfiguration(good.subarray(0, 23))).toEqual({ error: "truncated: the snapshot would start at byte 24 of 23" });
    const padded = Buffer.from(good);
    padded[23] = 1;
    expect(readSnapshotConfiguration(padded)).toEqual({ error: "padding after the settings is not zero" });
  });
});

/**
 * The cidrs_text scanner (assembly/rules/document.ts scanCidrText) against a model built on the
 * fuzzing reference (harness/fuzz/reference: JSON-escape units, CIDR parsing): the same keys in the
 * same order, the same IPv6 count, and for a bad token the same error (raw token, line) after the
 * same keys. Aimed at the IPv4 fast path (scanV4Run: 4-byte SWAR loads, one validation at the end):
 * entries at every alignment, invalid parts inside it, the last entry at the end of the text with
 * more bytes after it in the buffer, and random texts mixing both paths.
 */
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseCidrRef } from "../../harness/fuzz/reference/net.js";
import { RulesUnit } from "./unit-module.js";

let u: RulesUnit;
beforeAll(async () => {
  u = await RulesUnit.create();
}, 120_000);

const TAG = BigInt(0x7fff - 3); // ruleTag(3)

/** What the scan must answer for `raw` (valid JSON string content): keys, IPv6 count, or the first bad token's error. */
function model(raw: string): { n: number; keys4: bigint[]; n6: number; error: string } {
  const b = Buffer.from(raw, "utf8");
  type Unit = { start: number; end: number; kind: "nl" | "sep" | "hash" | "char"; ch: string };
  const units: Unit[] = [];
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    if (c === 0x5c) {
      const x = String.fromCharCode(b[i + 1]!);
      if (x === "n") units.push({ start: i, end: i + 2, kind: "nl", ch: "\n" });
      else if (x === "r" || x === "t") units.push({ start: i, end: i + 2, kind: "sep", ch: x });
      else if (x === "u") {
        const cp = parseInt(b.subarray(i + 2, i + 6).toString("latin1"), 16);
        units.push({ start: i, end: i + 6, kind: "char", ch: Buffer.from(String.fromCharCode(cp), "utf8").toString("latin1") });
        i += 6;
        continue;
      } else units.push({ start: i, end: i + 2, kind: "char", ch: ({ b: "\b", f: "\f" } as Record<string, string>)[x] ?? x });
      i += 2;
      continue;
    }
    const kind = c === 0x20 || c === 0x2c || c === 0x09 ? "sep" : c === 0x23 ? "hash" : "char";
    units.push({ start: i, end: i + 1, kind, ch: String.fromCharCode(c) });
    i++;
  }
  const keys4: bigint[] = [];
  let n6 = 0;
  let line = 1;
  let comment = false;
  let tok: { start: number; end: number; text: string; line: number } | null = null;
  const flush = (): string | null => {
    if (tok === null) return null;
    const t = tok;
    tok = null;
    const text = Buffer.from(t.text, "latin1").toString("utf8");
    const c = Buffer.byteLength(text) <= 256 ? parseCidrRef(text) : null;
    if (c === null) return `bad CIDR "${b.subarray(t.start, Math.min(t.end, t.start + 64)).toString("utf8")}" on line ${t.line}`;
    if (c.v4) keys4.push((c.value << 32n) | (BigInt(c.len) << 16n) | TAG);
    else n6++;
    return null;
  };
  for (const x of units) {
    if (comment) {
      if (x.kind === "nl") { comment = false; line++; }
      continue;
    }
    if (x.kind === "char") {
      if (tok === null) tok = { start: x.start, end: x.end, text: "", line };
      tok.text += x.ch;
      tok.end = x.end;
      continue;
    }
    const err = flush();
    if (err !== null) return { n: -1, keys4, n6, error: err };
    if (x.kind === "nl") line++;
    if (x.kind === "hash") comment = true;
  }
  const err = flush();
  if (err !== null) return { n: -1, keys4, n6, error: err };
  return { n: keys4.length + n6, keys4, n6, error: "" };
}

const key = (a: number, len: number) => (BigInt(a >>> 0) << 32n) | (BigInt(len) << 16n) | TAG;
const FILLER = "10.0.0.0/8\\n".repeat(3); // enough bytes after a token for the fast path to take it

describe("cidrs_text scan: IPv4 fast path", () => {
  it("agrees with the model on fixed texts (model sanity)", () => {
    expect(model("10.0.0.0/8\\n192.0.2.1 # c\\n::1")).toEqual({ n: 3, keys4: [key(0x0a000000, 8), key(0xc0000201, 32)], n6: 1, error: "" });
    expect(model("1.2.3.4\\n1.2.3.256/24").error).toBe('bad CIDR "1.2.3.256/24" on line 2');
  });

  it("entries at every alignment of the 4-byte loads, longest and shortest forms", () => {
    const entries = ["255.255.255.255/32", "0.0.0.0/0", "1.2.3.4", "100.10.1.0/24", "9.99.199.255/9", "203.0.113.7/31", "1.0.0.0/1", "192.168.100.200/10"];
    for (let k = 0; k < 16; k++) {
      const raw = " ".repeat(k) + entries.join("\\n") + "\\n" + entries.slice().reverse().join(",") + "\\n";
      const got = u.scanText(raw);
      expect(got, `${k} leading spaces`).toEqual(model(raw));
      expect(got.n).toBe(16);
    }
    const r = u.scanText("255.255.255.255/32\\n0.0.0.0/0\\n" + FILLER);
    expect(r.keys4.slice(0, 2)).toEqual([key(0xffffffff, 32), key(0, 0)]);
  });

  it("host bits are masked at every prefix length", () => {
    const raw = Array.from({ length: 33 }, (_, l) => `255.255.255.255/${l}`).join("\\n") + "\\n" + FILLER;
    const got = u.scanText(raw);
    for (let l = 0; l <= 32; l++) expect(got.keys4[l], `/${l}`).toBe(key(l === 0 ? 0 : (0xffffffff << (32 - l)) >>> 0, l));
    expect(got).toEqual(model(raw));
  });

  it("invalid parts inside the fast path are rejected with the general path's error", () => {
    const bad = ["1.2.3.256/24", "256.1.1.1", "1.2.999.4", "01.2.3.4", "1.02.3.4", "1.2.003.4", "1.2.3.00", "1234.1.1.1", "1.2.3.4567",
      "1.2.3.4/33", "1.2.3.4/033", "1.2.3.4/00", "1.2.3.4/01", "1.2.3.4/", "1.2.3.4/3x", "1.2.3.4/100", "1.2.3", "1.2.3.4.5", "1..3.4",
      "1.2.3.", ".1.2.3", "1.2.3.4x", "1.2.3.4\\/33", "1.2.3.4é", "1.2.3.4\\\\n", "1.2.3.4\\u0020"];
    for (const t of bad) {
      for (const before of ["", "1.1.1.1\\n", " 2.2.2.0/24,"]) {
        const raw = before + t + "\\n" + FILLER;
        const got = u.scanText(raw);
        expect(got.n, raw).toBe(-1);
        expect(got, raw).toEqual(model(raw));
      }
    }
    expect(u.scanText("1.1.1.1\\n" + "1.2.3.256/24\\n" + FILLER).error).toBe('bad CIDR "1.2.3.256/24" on line 2');
    expect(u.scanText("1.1.1.1\\n# x\\n 01.2.3.4 " + FILLER).error).toBe('bad CIDR "01.2.3.4" on line 3');
  });

  it("separators after a fast-path entry: newline, space, comma, tab, \\r, \\t, comment", () => {
    for (const sep of ["\\n", " ", ",", "\t", "\\t", "\\r", "\\r\\n", "#x\\n", " # y\\n", "\\n\\n", ", "]) {
      const raw = ["10.1.2.0/24", "10.1.3.4", "192.0.2.0/25", "8.8.8.8", "1.2.3.0/24"].join(sep) + sep + FILLER;
      expect(u.scanText(raw), JSON.stringify(sep)).toEqual(model(raw));
    }
  });

  it("the last entry at the very end of the text, with more bytes after it in the buffer", () => {
    for (const last of ["1.2.3.4", "1.2.3.4/2", "10.0.0.0/8", "255.255.255.255/32", "1.2.3.25", "1.2.3", "1.2.3.4/"]) {
      for (let k = 0; k < 12; k++) {
        const raw = "1.1.1.0/24\\n".repeat(k >> 1) + " ".repeat(k & 1) + last;
        for (const pad of ["", "4\\n", "0/8\\n9.9.9.9\\n", "5.6.7.8/24\\n1.1.1.1\\n2.2.2.2\\n3.3.3.3\\n", "\u00ff\u00ff\u00ff"]) {
          expect(u.scanText(raw, pad), `${raw} + ${JSON.stringify(pad)}`).toEqual(model(raw));
        }
      }
    }
  });

  it("the key buffer grows in the middle of a fast-path run (64 keys, then doubling; no reserve under 4 KiB)", () => {
    const raw = Array.from({ length: 350 }, (_, k) => `${k >> 4}.${k & 15}.1.1`).join("\\n");
    expect(raw.length).toBeLessThan(4096);
    const got = u.scanText(raw);
    expect(got.n).toBe(350);
    expect(got).toEqual(model(raw));
  });

  it("texts over 4 KiB denser than the reserve (one key per 14 bytes): the buffer grows by what the rest can hold", () => {
    for (const sep of [",", " ", "\\n"]) {
      for (const count of [700, 5000]) {
        // 7-byte entries: the densest IPv4 text, about twice the reserve
        const raw = Array.from({ length: count }, (_, k) => `${k % 10}.${(k >> 3) % 10}.${(k >> 6) % 10}.${k % 7}`).join(sep);
        expect(raw.length).toBeGreaterThan(4096);
        const got = u.scanText(raw);
        expect(got.n, `${count} ${sep}`).toBe(count);
        expect(got, `${count} ${sep}`).toEqual(model(raw));
      }
    }
    // a sparse start (under the reserve), then a dense tail
    const raw = "# " + "x".repeat(6000) + "\\n" + Array.from({ length: 3000 }, (_, k) => `1.2.${k % 10}.${k % 9}`).join(",");
    expect(u.scanText(raw)).toEqual(model(raw));
  });

  it("random texts: the same keys, count and errors as the model (property test)", () => {
    const part = fc.oneof(
      { weight: 12, arbitrary: fc.integer({ min: 0, max: 255 }).map(String) },
      { weight: 1, arbitrary: fc.constantFrom("256", "999", "01", "00", "007", "1234", "", "1a", "٣") },
    );
    const plen = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 32 }).map((l) => `/${l}`) },
      { weight: 4, arbitrary: fc.constant("") },
      { weight: 1, arbitrary: fc.constantFrom("/33", "/032", "/00", "/01", "/", "/100", "/3x", "\\/24") },
    );
    const parts = fc.oneof({ weight: 10, arbitrary: fc.array(part, { minLength: 4, maxLength: 4 }) }, { weight: 1, arbitrary: fc.array(part, { minLength: 3, maxLength: 5 }) });
    const v4 = fc.tuple(parts, plen)
      .map(([ps, l]) => ps.join(".") + l);
    const other = fc.constantFrom("::1", "2001:db8::/32", "::ffff:10.0.0.0/104", "1.2.3.4x", "\\u0031.2.3.4", "10.0.0.0\\/8", "1.2.3.4.5", "::ffff:1.2.3.4");
    const token = fc.oneof({ weight: 20, arbitrary: v4 }, { weight: 1, arbitrary: other });
    const sep = fc.oneof(
      { weight: 20, arbitrary: fc.constant("\\n") },
      { weight: 1, arbitrary: fc.constantFrom(" ", ",", "\t", "\\t", "\\r\\n", " # c 1.2.3.4\\n", "\\n\\n", ", ") },
    );
    fc.assert(fc.property(fc.integer({ min: 0, max: 9 }), fc.array(fc.tuple(token, sep), { maxLength: 40 }), fc.boolean(), fc.string({ maxLength: 24 }),
      (lead, items, trailingSep, pad) => {
        let raw = " ".repeat(lead) + items.map(([t, s]) => t + s).join("");
        if (!trailingSep && items.length > 0) raw = raw.slice(0, raw.length - items[items.length - 1]![1].length);
        expect(u.scanText(raw, pad.replace(/[\\"]/g, "x"))).toEqual(model(raw));
      }), { numRuns: 3000 });
  });
});

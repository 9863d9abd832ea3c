/**
 * The IPv4 index build (assembly/rules/cidr-index.ts: radix sort of the keys, one pass that writes
 * the entries, parent links and first-level table; installTables on a loaded snapshot) against a
 * straightforward reference: the table bytes of the snapshot must equal the distinct (prefix, rule)
 * pairs sorted by (address, length, rule order; the rule listed first last), and every decision,
 * before and after a snapshot round trip, the brute-force longest match (rules with a path
 * condition never match here, so their entries exercise the fallback chain). One input shape per
 * path of the sort and the sweep.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { RulesUnit } from "./unit-module.js";

let u: RulesUnit;
beforeAll(async () => { u = await RulesUnit.create(); }, 120_000);

type Prefix = [addr: number, len: number];
interface Rule { cidrs: Prefix[]; conditional?: boolean }

const mask = (len: number) => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
const dotted = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

function lcg(seed: number): (n: number) => number {
  let x = seed >>> 0;
  return (n) => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return Math.floor((x / 2 ** 32) * n); };
}
const randomAddr = (rnd: (n: number) => number) => ((rnd(1 << 16) << 16) | rnd(1 << 16)) >>> 0;

/** The reference table: distinct (start, len, rule), sorted by start, len, then rule descending. */
function referenceTable(rules: Rule[]): Array<[number, number, number]> {
  const seen = new Map<string, [number, number, number]>();
  rules.forEach((r, i) => r.cidrs.forEach(([a, l]) => {
    const e: [number, number, number] = [(a & mask(l)) >>> 0, l, i];
    seen.set(e.join(","), e);
  }));
  return [...seen.values()].sort((x, y) => x[0] - y[0] || x[1] - y[1] || y[2] - x[2]);
}

/** The IPv4 table of a snapshot: starts u32[n4], lens u8[n4], rules u16[n4] (then the IPv6 part). */
function snapshotTable(s: Uint8Array): Array<[number, number, number]> {
  const v = new DataView(s.buffer, s.byteOffset, s.byteLength);
  const n4 = v.getUint32(72, true), n6 = v.getUint32(76, true);
  const t = s.length - n6 * 19 - Math.ceil((n4 * 7) / 8) * 8;
  return Array.from({ length: n4 }, (_, i) => [v.getUint32(t + i * 4, true), s[t + n4 * 4 + i]!, v.getUint16(t + n4 * 5 + i * 2, true)]);
}

function check(rules: Rule[], probes: number[], asText = false): void {
  const doc = { access: rules.map((r, i) => ({
    id: `r${i}`,
    ...(asText ? { cidrs_text: r.cidrs.map(([a, l]) => `${dotted(a)}/${l}`).join("\n") } : { cidrs: r.cidrs.map(([a, l]) => `${dotted(a)}/${l}`) }),
    ...(r.conditional ? { path_prefix: "/never" } : {}),
  })) };
  const res = u.load(doc, 64 << 20);
  expect(res.ok, JSON.stringify(res)).toBe(true);
  const want = referenceTable(rules);
  const got = snapshotTable(u.snapshotEncode());
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (got[i]!.join() !== want[i]!.join()) expect(got[i], `entry ${i}`).toEqual(want[i]);
  // Decisions: the reference, before and after a snapshot round trip (installTables on the loaded table).
  const some = want.filter((_, i) => i % Math.ceil(want.length / 600) === 0);
  const all = probes.concat(some.map(([a]) => a), some.map(([a, l]) => (a | ~mask(l)) >>> 0), some.map(([a]) => (a - 1) >>> 0));
  const expected = all.map((ip) => {
    let best = -1, bestLen = -1;
    rules.forEach((r, i) => {
      if (r.conditional) return;
      for (const [a, l] of r.cidrs) {
        if (((ip & mask(l)) >>> 0) === ((a & mask(l)) >>> 0) && (l > bestLen || (l === bestLen && i < best))) { best = i; bestLen = l; }
      }
    });
    return best < 0 ? "" : `r${best}`;
  });
  const decide = () => all.map((ip) => u.decide(dotted(ip)).rule);
  expect(decide()).toEqual(expected);
  expect(u.snapshotRoundTrip()).toBeGreaterThan(0);
  expect(decide()).toEqual(expected);
}

describe("CIDR index build: table bytes and decisions equal a straightforward reference", () => {
  it("fewer than 64 keys (insertion sort only), with duplicates and host bits set", () => {
    const rnd = lcg(1);
    const pool: Prefix[] = Array.from({ length: 20 }, () => [randomAddr(rnd), 8 + rnd(25)]);
    const rules: Rule[] = [0, 1, 2].map(() => ({ cidrs: Array.from({ length: 15 }, () => pool[rnd(pool.length)]!) }));
    check(rules, Array.from({ length: 50 }, () => randomAddr(rnd)));
  });

  it("pre-sorted input, nested /16s around their /24s", () => {
    const cidrs: Prefix[] = [];
    for (let b = 0; b < 40; b++) {
      const base = (0x0a000000 + b * 0x10000) >>> 0;
      cidrs.push([base, 16]);
      for (let c = 0; c < 50; c++) cidrs.push([(base + c * 256) >>> 0, 24]);
    }
    check([{ cidrs }], Array.from({ length: 100 }, (_, i) => (0x0a000000 + i * 0x6543) >>> 0), true);
  });

  it("duplicates within and across rules (host bits masked to the same prefix)", () => {
    const rnd = lcg(2);
    const pool: Prefix[] = Array.from({ length: 300 }, () => [randomAddr(rnd), 12 + rnd(21)]);
    const rules: Rule[] = [0, 1, 2].map((i) => ({ cidrs: Array.from({ length: 700 }, () => {
      const [a, l] = pool[rnd(pool.length)]!;
      return [(a | (rnd(2) ? ~mask(l) : 0)) >>> 0, l] as Prefix;
    }), conditional: i === 1 }));
    check(rules, Array.from({ length: 200 }, () => randomAddr(rnd)));
  });

  it("one address for every key (radix over length and rule), fallback chains deeper than the stack scratch", () => {
    // 240 rules × /8../32 of 10.0.0.0: 6,000 nested entries of one address, most rules conditional.
    const rules: Rule[] = Array.from({ length: 240 }, (_, i) => ({
      cidrs: Array.from({ length: 25 }, (_, k) => [0x0a000000, 8 + k] as Prefix), conditional: i % 40 !== 39,
    }));
    check(rules, [0x0a000000, 0x0a000001, 0x0a010000, 0x0b000000, 0x09ffffff]);
  });

  it("ties on the address fixed by insertion (few moves) and by a full radix sort (too many moves)", () => {
    const rnd = lcg(3);
    const addrs = Array.from({ length: 3000 }, () => (randomAddr(rnd) & mask(24)) >>> 0);
    // Few moves: each /24 listed before its /23 (one move per address).
    check([{ cidrs: addrs.flatMap((a) => [[a, 24], [(a & mask(23)) >>> 0, 23]] as Prefix[]) }], addrs.slice(0, 100));
    // Many moves: lengths listed longest first, four per address.
    check([{ cidrs: addrs.flatMap((a) => [[a, 24], [a, 22], [a, 20], [a, 18]] as Prefix[]) }], addrs.slice(0, 100));
  });

  it("random prefixes of every length over many rules, at sizes that pick 1, 2 and 4 radix digits", () => {
    for (const [seed, n, lens] of [[4, 200, [24, 24]], [5, 100, [32, 32]], [6, 1000, [32, 32]], [7, 20_000, [0, 32]]] as const) {
      const rnd = lcg(seed);
      // seed 4: /24s inside one /16 (8 varying bits: one digit).
      const addr = () => (seed === 4 ? (0xc0a80000 | (rnd(256) << 8)) >>> 0 : randomAddr(rnd));
      const rules: Rule[] = Array.from({ length: 40 }, (_, i) => ({ cidrs: [], conditional: i % 7 === 3 }));
      for (let i = 0; i < n; i++) rules[rnd(40)]!.cidrs.push([addr(), lens[0] + rnd(lens[1] - lens[0] + 1)]);
      check(rules, Array.from({ length: 300 }, () => randomAddr(rnd)), seed === 7);
    }
  });
});

import { RulesUnit } from "../../test/rules/unit-module.js";
const u = await RulesUnit.create();
const set = new Set<number>(); let x = 12345;
while (set.size < 100_000) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; set.add(x & 0xffffff00); }
const lines = [...set].map(a => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`);
const textDoc = JSON.stringify({ version: 1, access: [{ id: "big", cidrs_text: lines.join("\n") }] });
const arrDoc = JSON.stringify({ version: 1, access: [{ id: "big", cidrs: lines }] });
for (const [name, doc] of [["text", textDoc], ["array", arrDoc]] as const) {
  const b = new TextEncoder().encode(doc);
  const n = u.u.put(b);
  const ts: number[] = [];
  for (let i = 0; i < 20; i++) { const t = performance.now(); (u.u.exports.loadRules as any)(n, 64 << 20); ts.push(performance.now() - t); }
  ts.sort((a, b) => a - b);
  console.log(name, "first", ts.length, "min", ts[0].toFixed(2), "median", ts[10].toFixed(2), u.u.out());
}
for (let i = 0; i < 3; i++) { const t = performance.now(); const h = u.benchLookups4(5_000_000, 7n); const dt = performance.now() - t; console.log("lookup ns", (dt * 1e6 / 5e6).toFixed(1), "hits", h); }
for (let i = 0; i < 3; i++) { const t = performance.now(); const h = u.benchEvaluate4(5_000_000, 7n); const dt = performance.now() - t; console.log("evaluate ns", (dt * 1e6 / 5e6).toFixed(1), "denies", h); }
const ts: number[] = [];
for (let i = 0; i < 20; i++) { const t = performance.now(); u.snapshotRoundTrip(); ts.push(performance.now() - t); }
ts.sort((a, b) => a - b); console.log("snapshot encode+decode median", ts[10].toFixed(2));

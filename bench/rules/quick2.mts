import { RulesUnit } from "../../test/rules/unit-module.js";
const u = await RulesUnit.create();
const set = new Set<number>(); let x = 12345;
while (set.size < 100_000) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; set.add(x & 0xffffff00); }
const lines = [...set].map(a => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`);
const sorted = [...set].sort((a,b)=>a-b).map(a => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`);
const textDoc = JSON.stringify({ version: 1, access: [{ id: "big", cidrs_text: lines.join("\n") }] });
const sortedDoc = JSON.stringify({ version: 1, access: [{ id: "big", cidrs_text: sorted.join("\n") }] });
const time = (name: string, f: () => void) => { const ts: number[] = []; for (let i = 0; i < 15; i++) { const t = performance.now(); f(); ts.push(performance.now() - t); } ts.sort((a,b)=>a-b); console.log(name, "min", ts[0].toFixed(2), "med", ts[7].toFixed(2)); };
const b = new TextEncoder().encode(textDoc); const n = u.u.put(b);
time("json only", () => (u.u.exports.jsonParse as any)(n));
time("load text", () => (u.u.exports.loadRules as any)(n, 64 << 20));
const b2 = new TextEncoder().encode(sortedDoc); const n2 = u.u.put(b2);
time("load sorted text", () => (u.u.exports.loadRules as any)(n2, 64 << 20));
time("heap", () => u.heapBytes());
console.log(u.heapBytes());

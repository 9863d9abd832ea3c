import { RulesUnit } from "../../test/rules/unit-module.js";
const u = await RulesUnit.create();
const set = new Set<number>(); let x = 12345;
while (set.size < 100_000) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; set.add(x & 0xffffff00); }
const lines = [...set].map(a => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`);
const textDoc = JSON.stringify({ version: 1, access: [{ id: "big", cidrs_text: lines.join("\n") }] });
const n = u.u.put(new TextEncoder().encode(textDoc));
const res: number[][] = [];
(u.u.exports.setBenchClock as any)(2);
for (let i = 0; i < 30; i++) { u.heapBytes(); (u.u.exports.benchPhases as any)(n); res.push(u.u.out().split(" ").map(Number)); }
for (let k = 0; k < 3; k++) { const col = res.map(r => r[k]).sort((a,b)=>a-b); console.log(["json","scan","build"][k], "min", col[0], "p50", col[15]); }

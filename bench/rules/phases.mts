// Parse/index phase timings for 100,000 random /24s in cidrs_text (process CPU time, inside wasm).
import { RulesUnit } from "../../test/rules/unit-module.js";
const u = await RulesUnit.create();
const set = new Set<number>(); let x = 12345;
while (set.size < 100_000) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; set.add((x & 0xffffff00) >>> 0); }
const lines = [...set].map((a) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`);
const n = u.u.put(new TextEncoder().encode(JSON.stringify({ version: 1, access: [{ id: "big", cidrs_text: lines.join("\n") }] })));
const ex = u.u.exports as unknown as Record<string, (...a: number[]) => number>;
ex.setBenchClock(2);
const res: number[][] = [];
for (let i = 0; i < 30; i++) { u.heapBytes(); ex.benchPhases(n); res.push(u.u.out().split(" ").map(Number)); }
for (let k = 0; k < 3; k++) { const col = res.map((r) => r[k]).sort((a, b) => a - b); console.log(["json", "scan", "build"][k].padEnd(6), "min", col[0], "µs  p50", col[15], "µs"); }

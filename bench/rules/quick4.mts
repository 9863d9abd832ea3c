import { RulesUnit } from "../../test/rules/unit-module.js";
const u = await RulesUnit.create();
const set = new Set<number>(); let x = 12345;
while (set.size < 100_000) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; set.add(x & 0xffffff00); }
const lines = [...set].map(a => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`);
const textDoc = JSON.stringify({ version: 1, access: [{ id: "big", cidrs_text: lines.join("\n") }] });
const n = u.u.put(new TextEncoder().encode(textDoc));
for (let i = 0; i < 10; i++) { const c = process.cpuUsage(); const t = performance.now(); (u.u.exports.benchPhases as any)(n); const cu = process.cpuUsage(c); console.log("wall", (performance.now()-t).toFixed(2), "cpu", ((cu.user+cu.system)/1000).toFixed(2), u.u.out()); }
for (let i = 0; i < 5; i++) { const c = process.cpuUsage(); (u.u.exports.loadRules as any)(n, 64<<20); const cu = process.cpuUsage(c); console.log("load cpu", ((cu.user+cu.system)/1000).toFixed(2)); }

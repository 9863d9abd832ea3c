// Parse/index phase timings inside wasm (process CPU time), for tuning: 100,000 (or argv[2]) random
// /24s in cidrs_text. Prints min and median per phase over 30 runs, plus the whole document load
// and a snapshot round trip. `npx tsx bench/rules/phases.mts [cidrs] [runs]`
import { RulesUnit } from "../../test/rules/unit-module.js";
import { randomSlash24Document } from "./random-cidrs.mjs";
const n = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 30);
const u = await RulesUnit.create();
const len = u.u.put(new TextEncoder().encode(randomSlash24Document(n)));
const ex = u.u.exports as unknown as Record<string, (...a: number[]) => number>;
ex.setBenchClock(2);
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const res: number[][] = [];
for (let i = 0; i < runs; i++) { u.heapBytes(); ex.benchPhases(len); res.push(u.u.out().split(" ").map(Number)); }
const stat = (col: number[]) => { const s = [...col].sort((a, b) => a - b); return `min ${s[0].toFixed(0).padStart(6)} µs  p50 ${s[s.length >> 1].toFixed(0).padStart(6)} µs`; };
for (let k = 0; k < 3; k++) console.log(["json", "scan", "build"][k].padEnd(8), stat(res.map((r) => r[k])));
console.log("sum".padEnd(8), stat(res.map((r) => r[0] + r[1] + r[2])));
const load: number[] = [];
for (let i = 0; i < runs; i++) { u.heapBytes(); const t = cpu(); ex.loadRules(len, 256 << 20); load.push((cpu() - t) * 1000); }
console.log("load".padEnd(8), stat(load), " (document → rule set, one call)");
const rt: number[] = [];
for (let i = 0; i < runs; i++) { u.heapBytes(); const t = cpu(); u.snapshotRoundTrip(); rt.push((cpu() - t) * 1000); }
console.log("snap rt".padEnd(8), stat(rt), ` (encode + decode, ${u.snapshotEncode().length} bytes)`);

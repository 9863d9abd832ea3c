// Profiling aid: `node --import tsx --cpu-prof bench/rules/profile-push.mts [cidrs]` (push reload wall/CPU per update).
import { startRulesProxy } from "../../test/rules/support.js";
const n = Number(process.argv[2] ?? 100000);
const seen = new Set<number>(); let x = 99;
while (seen.size < n) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; seen.add(x & 0xffffff00); }
const bulk = JSON.stringify([...seen].map(a => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`).join("\n"));
const cfg = (k: number) => `{"client_address":{"source":"xff","xff_trusted_hops":1},"max_rules_bytes":67108864,"rules":{"version":${k},"access":[{"id":"v${k}","cidrs":["192.0.2.0/24"]},{"id":"bulk","cidrs_text":${bulk}}]}}`;
const px = await startRulesProxy({ workers: 2, logLevel: "info", plugin: cfg(0) });
for (let k = 1; k <= 10; k++) {
  const c = cfg(k);
  const c0 = process.cpuUsage(); const t0 = performance.now();
  await px.push(c);
  const t1 = performance.now(); const cu = process.cpuUsage(c0);
  const r = await px.get("/", { "x-forwarded-for": "192.0.2.1" }, px.probes[1]);
  console.log(k, "push wall", (t1 - t0).toFixed(1), "cpu", ((cu.user + cu.system) / 1000).toFixed(1), "probe", (performance.now() - t1).toFixed(1), r.headers["x-edgewatch-rule"]);
}
console.log(px.logs.filter((e) => e.message.includes("applied from")).slice(-8).map((e) => `${e.vm} ${e.message.includes("loaded from the proxy") ? "cached" : "parsed"}`).join("\n"));
await px.close();

// Profiling aid: `EDGEWATCH_WASM=<release build with --debug names> node --import tsx --cpu-prof bench/rules/profile-pull.mts [cidrs]`.
import { startRulesProxy, rulesServiceConfig } from "../../test/rules/support.js";
const n = Number(process.argv[2] ?? 100000);
const seen = new Set<number>(); let x = 99;
while (seen.size < n) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; seen.add(x & 0xffffff00); }
const bulk = JSON.stringify([...seen].map(a => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`).join("\n"));
const doc = (k: number) => `{"version":${k},"access":[{"id":"v${k}","cidrs":["192.0.2.0/24"]},{"id":"bulk","cidrs_text":${bulk}}]}`;
const px = await startRulesProxy({ workers: 1, rulesService: true, logLevel: (process.env.LOGLEVEL as any) ?? "warn", plugin: { client_address: { source: "xff", xff_trusted_hops: 1 }, max_rules_bytes: 64 << 20, rules_service: rulesServiceConfig() } });
const svc = px.rules!;
for (let k = 1; k <= Number(process.argv[3] ?? 30); k++) {
  const d = doc(svc.version + 1);
  const t0 = performance.now();
  svc.publish(d);
  for (;;) { const r = await px.get("/", { "x-forwarded-for": "192.0.2.1" }, px.probes[0]); if (r.headers["x-edgewatch-rule"] === `v${svc.version}`) break; }
  console.log(k, (performance.now() - t0).toFixed(1));
}
if (process.env.LOGLEVEL) for (const e of px.logs.filter((e) => /published|loaded from/.test(e.message)).slice(-12)) console.log(e.vm, e.message.replace(/^.*edgewatch: /, ""));
await px.close();

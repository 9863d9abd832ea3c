// Profiling aid: CPU profile of reloads only (documents and snapshots prepared first), split by
// function. `EDGEWATCH_WASM=<release build with --debug names> npx tsx bench/rules/profile-reload.mts
//   [push|push-snapshot|pull|pull-json] [cidrs] [reloads] [workers]` → top self-time functions of the measured part.
import { Session } from "node:inspector/promises";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { startStack } from "../../harness/stack/stack.js";
import { getTarget } from "../../harness/targets/registry.js";
import { SnapshotBuilder } from "../../harness/rules/snapshot-builder.js";
import { BENCH_WASM } from "../../harness/bench/results.js";
import { encodeSnapshotConfiguration } from "../../harness/rules/snapshot-configuration.js";

const mode = process.argv[2] ?? "pull";
const n = Number(process.argv[3] ?? 100_000);
const reloads = Number(process.argv[4] ?? 30);
const workers = Number(process.argv[5] ?? 2);
const seen = new Set<number>(); let x = 99;
while (seen.size < n) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; if ((x >>> 8) !== 0xc00002) seen.add((x & 0xffffff00) >>> 0); }
const bulk = JSON.stringify([...seen].map((a) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`).join("\n"));
const doc = (k: number) => `{"version":${k},"access":[{"id":"v${k}","cidrs":["192.0.2.0/24"]},{"id":"bulk","cidrs_text":${bulk}}]}`;
const base = { client_address: { source: "xff", xff_trusted_hops: 1 }, max_rules_bytes: 64 << 20 };
const cfg = (k: number) => JSON.stringify({ ...base, rules: JSON.parse(doc(k)) });
const builder = await SnapshotBuilder.load(BENCH_WASM);
let opts = proxyOptions().withWorkers(workers).withXffTrustedHops(0);
const pushing = mode === "push" || mode === "push-snapshot";
opts = pushing ? opts.withPlugin(cfg(0)) : opts.withRulesService().withPlugin({ ...base, rules_service: { cluster: "rules", authority: "r", path: "/rules", long_poll_ms: 30000, timeout_ms: 35000 } });
const stack = await startStack(getTarget("embedded"), opts);
const texts = Array.from({ length: reloads + 2 }, (_, i) => (mode === "push" ? cfg(i + 1) : mode === "push-snapshot" ? encodeSnapshotConfiguration(JSON.stringify(base), builder.build(Buffer.from(doc(i + 1))).snapshot!) : Buffer.from(doc(i + 1))));
const snaps = mode === "pull" ? texts.map((t) => builder.build(t).snapshot!) : [];
const until = async (want: string) => {
  await Promise.all(stack.probes.probes.map(async (p) => { for (;;) { const a = await p.get("/", { "x-forwarded-for": "192.0.2.1" }); if (a.headers["x-edgewatch-rule"] === want) return; await new Promise((r) => setTimeout(r, 1)); } }));
};
const step = async (i: number) => {
  if (pushing) await stack.push(texts[i] as string | Uint8Array);
  else stack.rules!.publish(texts[i]!, { snapshot: snaps[i] });
  await until(`v${i + 1}`);
};
await step(0);
const s = new Session(); s.connect();
await s.post("Profiler.enable"); await s.post("Profiler.setSamplingInterval", { interval: 100 }); await s.post("Profiler.start");
const c0 = process.cpuUsage(); const f0 = process.resourceUsage().minorPageFault; const t0 = performance.now();
for (let i = 1; i <= reloads; i++) await step(i);
const wall = (performance.now() - t0) / reloads; const c = process.cpuUsage(c0); const faults = (process.resourceUsage().minorPageFault - f0) / reloads;
const { profile } = await s.post("Profiler.stop");
if (process.env.PROFILE_OUT) (await import("node:fs")).writeFileSync(process.env.PROFILE_OUT, JSON.stringify(profile));
await stack.close();
console.log(`${mode} ${n} CIDRs, ${workers} workers: ${wall.toFixed(2)} ms wall, ${((c.user + c.system) / 1000 / reloads).toFixed(2)} ms CPU, ${faults.toFixed(0)} page faults per reload`);
const byId = new Map(profile.nodes.map((nd) => [nd.id, nd]));
const self = new Map<string, number>();
for (let i = 0; i < profile.samples!.length; i++) {
  const nd = byId.get(profile.samples![i]!)!;
  const k = `${nd.callFrame.functionName || "(anon)"} ${nd.callFrame.url.split("/").slice(-2).join("/")}`;
  self.set(k, (self.get(k) ?? 0) + (profile.timeDeltas![i + 1] ?? 0));
}
const tot = [...self.values()].reduce((a, b) => a + b, 0);
for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(v / 1000 / reloads).toFixed(3).padStart(8)} ms/reload ${((100 * v) / tot).toFixed(1).padStart(5)} %  ${k}`);

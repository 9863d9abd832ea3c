/**
 * Issue #13 (rule tables per VM at 1,000,000 CIDRs): a linear memory never shrinks, so what a VM
 * costs after many reloads is every page it ever wrote, not the tables in force. Each reload brings a
 * big value into every VM (here a 7 MB snapshot configuration). Pages written per VM after 10 pushes:
 * 53.8 MiB (8 × the configuration; its tables are 6.7 MiB) when the previous reloads' freed buffers
 * were neither collected first nor found again by TLSF; 33.6 MiB (4.8 ×) with a full collection and
 * a class-start size (c9b14ae), whose freed block TLSF still never found again at the same size;
 * 13.6 MiB (1.9 ×: the rules in force and the new ones) with the sizes of assembly/host/big-blocks.ts.
 * Deterministic: the same .wasm and the same calls give the same pages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PluginHost } from "../../harness/host/plugin-host.js";
import { HostLogger } from "../../harness/host/logger.js";
import { StatsStore } from "../../harness/stats/stats-store.js";
import { SnapshotBuilder } from "../../harness/rules/snapshot-builder.js";
import { encodeSnapshotConfiguration } from "../../harness/rules/snapshot-configuration.js";
import { FILTER_WASM } from "../../harness/fuzz/host-driver.js";

const CIDRS = 1_000_000;
const PUSHES = 10;
const settings = { client_address: { source: "xff", xff_trusted_hops: 1 }, max_rules_bytes: 64 << 20 };

/** CIDRS /24s spread over the address space (some repeat; the snapshot keeps each once), the same list in every version. */
function bulk(): string {
  const out: string[] = [];
  for (let i = 0; out.length < CIDRS; i++) {
    const a = (Math.imul(i, 2654435761) >>> 8) % (1 << 24);
    if (a >>> 16 === 10) continue;
    out.push(`${a >>> 16}.${(a >>> 8) & 255}.${a & 255}.0/24`);
  }
  return JSON.stringify(out.join("\n"));
}

let host: PluginHost | null = null;
let configs: Uint8Array[] = [];

beforeAll(async () => {
  const builder = await SnapshotBuilder.load(FILTER_WASM);
  const list = bulk();
  configs = Array.from({ length: PUSHES + 1 }, (_, v) => {
    const b = builder.build(`{"version":${v},"access":[{"id":"v${v}","cidrs":["10.${v}.0.0/16"]},{"id":"bulk","cidrs_text":${list}}]}`, 64 << 20);
    if (!b.ok) throw new Error(`${b.reason}: ${b.message}`);
    return encodeSnapshotConfiguration(settings, b.snapshot!);
  });
}, 120_000);
afterAll(async () => { await host?.close(); });

describe("issue-13: what a VM keeps after reloads of a 1,000,000-CIDR snapshot configuration", () => {
  it("each VM writes at most 3 × the configuration's size after 10 pushes", async () => {
    const logger = new HostLogger({ level: "info", stderrLevel: "off", capacity: 2000 });
    host = await PluginHost.load(
      { name: "edgewatch", rootId: "edgewatch", vmId: "edgewatch-vm", wasmPath: FILTER_WASM, configuration: configs[0]!, failOpen: false },
      { stats: new StatsStore(), logger, workers: 2 },
    );
    for (let v = 1; v <= PUSHES; v++) await host.updatePluginConfiguration(configs[v]!);
    expect(logger.entries().filter((e) => /rules version 10 applied/.test(e.message)).map((e) => e.vm?.replace(/-\d+$/, ""))).toEqual(expect.arrayContaining(["main", "worker", "worker"]));
    const size = configs[PUSHES]!.length;
    expect(size).toBeGreaterThan(6_900_000);
    for (const vm of host.memory()) {
      expect(vm.writtenBytes, `${vm.label}: ${(vm.writtenBytes / 1048576).toFixed(1)} MiB written of ${(vm.memoryBytes / 1048576).toFixed(1)}`).toBeLessThanOrEqual(3 * size);
      expect(vm.writtenBytes).toBeGreaterThan(size); // the tables in force live in it
    }
  }, 120_000);
});

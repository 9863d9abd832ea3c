/**
 * What a page of fresh memory costs on this machine, recorded in every results file (provenance
 * `page_fault_probe`): a new WebAssembly.Memory grown to PROBE_PAGES × 64 KiB and one byte written
 * per 4 KiB page — the same kind of memory a push's canary VM gets (V8 reserves a wasm memory and the
 * kernel backs each page at its first touch). Wall µs per minor fault, PROBE_ROUNDS rounds, median.
 *
 * Why: a reload's page faults are counted per case (`page_faults_p50`), but their price is the
 * machine's. On the Firecracker VM these benches were taken on, a fault cost 10.4–10.8 µs (a C loop
 * over a fresh 256 MiB mapping, 12/2026; 6–7 µs per 4 KiB even with transparent huge pages), where
 * bare-metal Linux takes ~0.1–0.3 µs: a 100k-CIDR push's canary touches ~210 fresh pages, ≈ 2.2 ms
 * here and ≈ 0.05 ms there. With this figure in the file, a reader can tell the machine's share of a
 * reload from the proxy's.
 */

/** 64 KiB wasm pages per round (4 MiB: 1,024 faults, ~11 ms on a 10 µs-per-fault machine). */
export const PROBE_PAGES = 64;
export const PROBE_ROUNDS = 3;

export interface PageFaultProbe {
  /** Median over the rounds of wall µs per minor page fault. */
  us_per_fault: number;
  /** Minor faults each round counted (≈ PROBE_PAGES × 16 when every 4 KiB page faulted once). */
  faults: number[];
  /** µs per fault of each round. */
  runs_us: number[];
}

/** One round: fresh memory, one write per 4 KiB page; null when the process saw no faults (already-backed memory). */
function round(): { us: number; faults: number } | null {
  const mem = new WebAssembly.Memory({ initial: 0, maximum: PROBE_PAGES });
  mem.grow(PROBE_PAGES);
  const bytes = new Uint8Array(mem.buffer);
  const f0 = process.resourceUsage().minorPageFault;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 1;
  const ns = Number(process.hrtime.bigint() - t0);
  const faults = process.resourceUsage().minorPageFault - f0;
  if (faults <= 0) return null;
  return { us: ns / 1000 / faults, faults };
}

/** Runs the probe in this process; null when no round saw a fault. */
export function probePageFaults(): PageFaultProbe | null {
  const runs: Array<{ us: number; faults: number }> = [];
  for (let i = 0; i < PROBE_ROUNDS; i++) {
    const r = round();
    if (r !== null) runs.push(r);
  }
  if (runs.length === 0) return null;
  const sorted = runs.map((r) => r.us).sort((a, b) => a - b);
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return { us_per_fault: r2(sorted[sorted.length >> 1]!), faults: runs.map((r) => r.faults), runs_us: runs.map((r) => r2(r.us)) };
}

/** The probe's µs per fault from a provenance object (undefined for files without one). */
export function usPerFault(provenance: unknown): number | undefined {
  const p = (provenance as { page_fault_probe?: Partial<PageFaultProbe> | null } | undefined)?.page_fault_probe;
  const v = p?.us_per_fault;
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : undefined;
}

/** ", page fault 10.7 µs" for a provenance line ("" without a probe). */
export function pageFaultShort(provenance: unknown): string {
  const v = usPerFault(provenance);
  return v === undefined ? "" : `, page fault ${v < 1 ? v.toFixed(2) : v.toFixed(1)} µs`;
}

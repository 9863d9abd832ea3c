/**
 * Split the time of a synchronous workload into wasm code, JS↔wasm transitions and everything else
 * (JS host stubs, the driver, JS GC) with V8's sampling CPU profiler (node:inspector), so a bench
 * can report the filter's own wasm time per request without the cost of the JS stand-in host.
 *
 * A sample is "wasm" when its leaf frame belongs to the wasm module (url wasm://…, not a
 * wasm-to-js / js-to-wasm wrapper); wrappers count as "transition".
 */
import { Session } from "node:inspector/promises";

export interface ProfileSplit {
  wallNs: number;
  /** CPU time of this process during the run (user + system), ns: robust on a shared machine. */
  cpuNs: number;
  samples: number;
  wasmFraction: number;
  transitionFraction: number;
  /** Top wasm functions by self samples (name → fraction of all samples). */
  topWasm: Array<[string, number]>;
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

export async function profileSplit(run: () => void, intervalUs = 50): Promise<ProfileSplit> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: intervalUs });
  await session.post("Profiler.start");
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  run();
  const c1 = process.cpuUsage(c0);
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpuNs = (c1.user + c1.system) * 1000;
  const { profile } = (await session.post("Profiler.stop")) as unknown as {
    profile: { nodes: CpuProfileNode[]; samples: number[] };
  };
  await session.post("Profiler.disable");
  session.disconnect();

  const kind = new Map<number, "wasm" | "transition" | "other">();
  const names = new Map<number, string>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const transition = /^(wasm-to-js|js-to-wasm)/.test(f.functionName);
    const wasm = !transition && (f.url.startsWith("wasm://") || /^wasm-function\[/.test(f.functionName));
    kind.set(n.id, transition ? "transition" : wasm ? "wasm" : "other");
    names.set(n.id, f.functionName);
  }
  let wasm = 0, transition = 0;
  const byName = new Map<string, number>();
  for (const s of profile.samples) {
    const k = kind.get(s);
    if (k === "wasm") {
      wasm++;
      const name = names.get(s) ?? "?";
      byName.set(name, (byName.get(name) ?? 0) + 1);
    } else if (k === "transition") transition++;
  }
  const total = profile.samples.length || 1;
  return {
    wallNs,
    cpuNs,
    samples: profile.samples.length,
    wasmFraction: wasm / total,
    transitionFraction: transition / total,
    topWasm: [...byName].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([n, c]) => [n, c / total]),
  };
}

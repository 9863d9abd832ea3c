// Pins one keep-alive connection to each worker of a proxy the way the conformance stacks do
// (harness/stack/worker-probes.ts): over admin, from Envoy's per-worker listener stats
// listener.<prefix>.worker_<N>.downstream_cx_total, never from the host's internals.
import type { Client } from "undici";
import { AdminReader } from "../../harness/stack/admin-reader.js";
import { CountingClient } from "../../harness/stack/http-client.js";
import { WorkerProbes } from "../../harness/stack/worker-probes.js";

/** `probes[i]` is a keep-alive connection served by worker i. */
export async function pinWorkerProbes(proxy: { listenerUrl: string; adminUrl: string }, workers: number): Promise<Client[]> {
  const probes = await WorkerProbes.pin(new CountingClient(proxy.listenerUrl), new AdminReader(proxy.adminUrl), workers);
  return probes.probes.map((p) => p.undiciClient);
}

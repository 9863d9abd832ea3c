// Pins one keep-alive connection to each worker VM of an embedded proxy: the proxy assigns a worker
// per connection, so open connections one at a time and see which worker's stream counter moved.
import { Client } from "undici";
import type { EmbeddedProxy } from "../../harness/proxy/embedded-proxy.js";

/** `probes[i]` is a connection served by worker i, or undefined when none could be pinned. */
export async function pinWorkerProbes(proxy: EmbeddedProxy, workers: number): Promise<Client[]> {
  const url = proxy.listenerUrl;
  const probes: Client[] = new Array(workers);
  const spare: Client[] = [];
  const streamsOf = () => proxy.host.workers.map((w) => w.streamsCreated);
  for (let attempts = 0; probes.filter(Boolean).length < workers && attempts < workers * 4; attempts++) {
    const c = new Client(url, { pipelining: 1, keepAliveTimeout: 600_000, keepAliveMaxTimeout: 600_000 });
    const before = streamsOf();
    const r = await c.request({ path: "/probe-setup", method: "GET" });
    await r.body.text();
    const after = streamsOf();
    const w = after.findIndex((n, i) => n > before[i]);
    if (w >= 0 && probes[w] === undefined) probes[w] = c;
    else spare.push(c);
  }
  for (const c of spare) await c.close();
  return probes;
}

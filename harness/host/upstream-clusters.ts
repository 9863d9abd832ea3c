/**
 * Static clusters (one loopback endpoint each) with an undici connection pool per cluster.
 * Used by the router (proxy front end) and by proxy_http_call (Envoy's per-thread async client).
 */
import { Pool } from "undici";
import type { ClusterConfig } from "../config/proxy-config.js";

export interface Cluster {
  readonly config: ClusterConfig;
  readonly origin: string;
  readonly pool: Pool;
}

export class UpstreamClusters {
  private readonly byName = new Map<string, Cluster>();

  constructor(clusters: readonly ClusterConfig[], poolOptions: Pool.Options = {}) {
    for (const c of clusters) {
      const host = c.address.includes(":") ? `[${c.address}]` : c.address;
      const origin = `http://${host}:${c.port}`;
      const pool = new Pool(origin, {
        connections: 256,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connectTimeout: c.connectTimeoutMs ?? 5_000,
        headersTimeout: 0,
        bodyTimeout: 0,
        ...poolOptions,
      });
      this.byName.set(c.name, { config: c, origin, pool });
    }
  }

  get(name: string): Cluster | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.byName.values()].map((c) => c.pool.destroy().catch(() => {})));
  }
}

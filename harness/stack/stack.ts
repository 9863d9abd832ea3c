/**
 * A started stack: one proxy on a Target plus the fixtures its options asked for, a counting HTTP
 * client, admin readers and one probe connection pinned to each worker. Everything a scenario needs
 * to run unchanged on the embedded host and on Envoy (container or local binary):
 *
 *   const stack = await startStack(target, proxyOptions().withPlugin({...}).withRulesService());
 *   await stack.client.get("/api/x", { "x-forwarded-for": "203.0.113.7" });
 *   await stack.push({ rules: {...} });                         // ECDS-style push
 *   await stack.probes.untilEach({ path: "/" }, (a) => a.status === 403);   // on every worker
 *   await stack.assertHealthy();                                // nothing lost, no VM failure
 *   await stack.close();
 *
 * Fixtures listen on 127.0.0.1 and are started before the proxy, so a container target can expose
 * their ports to the container (testcontainers exposeHostPorts) and a local Envoy reaches them directly.
 */
import { HCM_STAT_PREFIX, type ProxyConfig } from "../config/proxy-config.js";
import { startOtlpCollector, type OtlpCollector } from "../fixtures/otlp-collector.js";
import { startRulesService, type RulesService } from "../fixtures/rules-service.js";
import { startUpstreamServer, type UpstreamServer } from "../fixtures/upstream-server.js";
import type { StartedTarget, Target, TargetName } from "../targets/target.js";
import { AdminReader } from "./admin-reader.js";
import { checkHealth, HealthError, type HealthReport } from "./health.js";
import { CountingClient } from "./http-client.js";
import type { ProxyOptions } from "./proxy-options.js";
import { WorkerProbes } from "./worker-probes.js";

export interface Stack {
  readonly target: TargetName;
  readonly proxy: StartedTarget;
  /** The ProxyConfig the proxy was started with (plugin.configuration = the initial one). */
  readonly config: ProxyConfig;
  readonly workers: number;
  readonly upstream: UpstreamServer;
  /** The rules-service fixture (withRulesService), else null. */
  readonly rules: RulesService | null;
  /** The OTLP collector fixture (withCollector), else null. */
  readonly collector: OtlpCollector | null;
  /** All traffic goes through this client (it counts requests and responses). */
  readonly client: CountingClient;
  readonly admin: AdminReader;
  /** probes.get(N) is a keep-alive connection served by worker N. */
  readonly probes: WorkerProbes;
  /** Replace the plugin configuration (ECDS push); rejects with ConfigRejectedError when refused. */
  push(configuration: object | string | Uint8Array): Promise<void>;
  /**
   * The downstream connection address as the proxy sees it (source.address): 127.0.0.1 against a
   * local proxy, the container bridge's address against Envoy in Docker. Learnt from the
   * `x-envoy-external-address` the upstream echo receives for a request carrying X-Forwarded-For
   * (HCM with use_remote_address and xff_num_trusted_hops 0 sets it to the peer). Needs trusted hops 0.
   */
  connectionAddress(): Promise<string>;
  /** Requests sent = responses = requests_seen_total = downstream_rq_total, and no VM failure. */
  health(): Promise<HealthReport>;
  /** health(), throwing a HealthError that lists what is off. */
  assertHealthy(): Promise<HealthReport>;
  /** Recent proxy log (Envoy-style lines; the filter's own lines included). */
  logs(): string;
  /** A position in the proxy log; `logsSince(mark)` is what was logged after it. */
  logMark(): number;
  logsSince(mark: number): string;
  close(): Promise<void>;
}

export interface StartStackOptions {
  /** Skip pinning worker probes (e.g. a proxy expected to refuse every request). Default false. */
  noProbes?: boolean;
}

export async function startStack(target: Target, options: ProxyOptions, startOpts: StartStackOptions = {}): Promise<Stack> {
  const owned: Array<{ close(): Promise<void> }> = [];
  const closeOwned = async () => {
    for (const f of owned.reverse()) await f.close().catch(() => {});
  };
  try {
    const upstream = await startUpstreamServer();
    owned.push(upstream);
    let rules: RulesService | null = null;
    const rs = options.rulesService;
    if (rs && "shared" in rs) rules = rs.shared;
    else if (rs) owned.push((rules = await startRulesService(rs.start)));
    let collector: OtlpCollector | null = null;
    const co = options.collector;
    if (co && "shared" in co) collector = co.shared;
    else if (co) owned.push((collector = await startOtlpCollector()));

    const config = options.toProxyConfig({ upstream: upstream.port, rules: rules?.port, collector: collector?.port });
    const proxy = await target.start(config);
    owned.push({ close: () => proxy.stop() });
    const admin = new AdminReader(proxy.adminUrl);
    const client = new CountingClient(proxy.listenerUrl);
    owned.push(client);
    const probes = startOpts.noProbes ? await WorkerProbes.pin(client, admin, 0) : await WorkerProbes.pin(client, admin, config.workers);
    owned.push(probes);

    let closed = false;
    const stack: Stack = {
      target: proxy.target,
      proxy,
      config,
      workers: config.workers,
      upstream,
      rules,
      collector,
      client,
      admin,
      probes,
      push: (c) => proxy.updatePluginConfiguration(typeof c === "string" || c instanceof Uint8Array ? c : JSON.stringify(c)),
      async connectionAddress() {
        if (config.xffNumTrustedHops !== 0) throw new Error("connectionAddress() needs xff_num_trusted_hops 0");
        const a = await client.get("/edgewatch-peer", { "x-forwarded-for": "192.0.2.201" });
        const ext = a.upstream?.headers["x-envoy-external-address"];
        if (typeof ext !== "string" || ext === "") {
          throw new Error(`the upstream saw no x-envoy-external-address (status ${a.status}); is the request denied by the plugin?`);
        }
        return ext;
      },
      health: () => checkHealth({ admin, counter: client.counter, hcmStatPrefix: HCM_STAT_PREFIX, logs: () => proxy.logs?.() ?? "" }),
      async assertHealthy() {
        const report = await stack.health();
        if (report.problems.length > 0) throw new HealthError(report);
        return report;
      },
      logs: () => proxy.logs?.() ?? "",
      logMark: () => proxy.logMark?.() ?? 0,
      logsSince: (mark) => (proxy.logsSince ? proxy.logsSince(mark) : (proxy.logs?.() ?? "")),
      async close() {
        if (closed) return;
        closed = true;
        await closeOwned();
      },
    };
    return stack;
  } catch (e) {
    await closeOwned();
    throw e;
  }
}

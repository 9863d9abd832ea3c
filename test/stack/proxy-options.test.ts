// The one ProxyConfig builder: defaults, immutability, fixtures' clusters, and that what it builds
// renders into an Envoy bootstrap + ECDS pair valid against Envoy's v3 protos (so every stack the
// suite starts can run on Envoy as it runs on the embedded host).
import { describe, expect, it } from "vitest";
import { renderEcdsBootstrap, renderEcdsResource, LISTENER_STAT_PREFIX } from "../../harness/envoy-config/bootstrap.js";
import { validateEcdsPair } from "../../harness/envoy-config/validate.js";
import { CLUSTER, FILTER_WASM, proxyOptions } from "../../harness/stack/proxy-options.js";

describe("proxyOptions", () => {
  it("defaults: 2 workers, empty plugin configuration, routes api + default to the upstream echo, stats flushed on admin", () => {
    const cfg = proxyOptions().toProxyConfig({ upstream: 8080 });
    expect(cfg.workers).toBe(2);
    expect(cfg.plugin).toMatchObject({ name: "edgewatch", rootId: "edgewatch", vmId: "edgewatch", wasmPath: FILTER_WASM, configuration: "{}", failOpen: false });
    expect(cfg.routes.map((r) => [r.name, r.match, r.cluster, r.timeoutMs])).toEqual([
      ["api", { prefix: "/api" }, "upstream", 10_000],
      ["default", { prefix: "/" }, "upstream", 10_000],
    ]);
    expect(cfg.clusters).toEqual([{ name: CLUSTER.upstream, address: "127.0.0.1", port: 8080 }]);
    expect(cfg.stats.flushOnAdmin).toBe(true);
    expect(cfg.listener).toEqual({ address: "127.0.0.1", port: 0 });
  });

  it("is immutable: a with… returns new options and leaves the base as it was", () => {
    const base = proxyOptions().withWorkers(1);
    const more = base.withWorkers(4).withPlugin({ a: 1 });
    expect(base.workers).toBe(1);
    expect(base.plugin).toBe("{}");
    expect([more.workers, more.plugin]).toEqual([4, '{"a":1}']);
    expect(base.withPlugin("verbatim ").plugin).toBe("verbatim ");
  });

  it("adds the rules service and collector clusters under fixed names, and refuses to render without their ports", () => {
    const o = proxyOptions().withRulesService().withCollector();
    expect(() => o.toProxyConfig({ upstream: 1 })).toThrow(/rules service's port/);
    const cfg = o.toProxyConfig({ upstream: 1, rules: 2, collector: 3 });
    expect(cfg.clusters.map((c) => [c.name, c.port])).toEqual([["upstream", 1], ["rules", 2], ["otel", 3]]);
  });

  it("extra clusters and routes; a cluster name used twice is an error", () => {
    const o = proxyOptions().withCluster({ name: "slow", address: "127.0.0.1", port: 9 }).withRoutes([{ name: "slow", match: { prefix: "/slow" }, cluster: "slow", timeoutMs: 50 }, { name: "default", match: { prefix: "/" } }]);
    const cfg = o.toProxyConfig({ upstream: 1 });
    expect(cfg.routes[0]).toEqual({ name: "slow", match: { prefix: "/slow" }, cluster: "slow", timeoutMs: 50 });
    expect(() => o.withCluster({ name: "slow", address: "127.0.0.1", port: 10 }).toProxyConfig({ upstream: 1 })).toThrow(/cluster slow defined twice/);
    expect(() => proxyOptions().withWorkers(0)).toThrow(RangeError);
  });

  it("renders an ECDS bootstrap Envoy's v3 protos accept, with the listener stat_prefix the worker probes read", () => {
    const cfg = proxyOptions().withWorkers(3).withRulesService().withCollector().withXffTrustedHops(1).withPlugin({ rules_service: { cluster: "rules" } }).toProxyConfig({ upstream: 18080, rules: 18081, collector: 18082 });
    const bootstrap = renderEcdsBootstrap(cfg, { ecds: { path: "/etc/envoy/ecds/edgewatch-filter.yaml" }, hostAddressForClusters: "host.testcontainers.internal", bindAddress: "0.0.0.0", ports: { listener: 10000, admin: 9901 } });
    const resource = renderEcdsResource(cfg, { versionInfo: "1" });
    const result = validateEcdsPair(bootstrap, resource);
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(true);
    expect(bootstrap.static_resources.listeners[0].stat_prefix).toBe(LISTENER_STAT_PREFIX);
  });
});

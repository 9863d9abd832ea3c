// The filter-less baseline listener (ProxyConfig.baselineListener) the overhead bench uses on Envoy:
// same HCM and routes, no Wasm filter, its own stats prefix; valid against Envoy's v3 protos.
import { describe, expect, it } from "vitest";
import { BASELINE_LISTENER_NAME, LISTENER_NAME, renderBootstrap, renderEcdsBootstrap } from "../../harness/envoy-config/bootstrap.js";
import { validateBootstrap } from "../../harness/envoy-config/validate.js";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { EnvoyContainer } from "../../harness/targets/envoy-container.js";

const cfg = proxyOptions().withPlugin({ client_address: { source: "xff", xff_trusted_hops: 1 } }).withBaselineListener().toProxyConfig({ upstream: 18080 });

describe("baseline listener", () => {
  it("renders a second listener with the same routes and only the router filter", () => {
    const b = renderBootstrap(cfg, { ports: { listener: 10000, admin: 9901, baseline: 10001 } });
    const listeners = b.static_resources.listeners as Array<Record<string, any>>;
    expect(listeners.map((l) => l.name)).toEqual([LISTENER_NAME, BASELINE_LISTENER_NAME]);
    const hcm = (l: Record<string, any>) => l.filter_chains[0].filters[0].typed_config;
    expect(hcm(listeners[0]!).http_filters.map((f: { name: string }) => f.name)).toEqual([cfg.plugin.name, "envoy.filters.http.router"]);
    expect(hcm(listeners[1]!).http_filters.map((f: { name: string }) => f.name)).toEqual(["envoy.filters.http.router"]);
    expect(hcm(listeners[1]!).route_config).toEqual(hcm(listeners[0]!).route_config);
    expect(hcm(listeners[1]!).stat_prefix).toBe(BASELINE_LISTENER_NAME);
    expect(listeners[1]!.address.socket_address.port_value).toBe(10001);
    expect(validateBootstrap(b).errors).toEqual([]);
    expect(validateBootstrap(renderEcdsBootstrap(cfg, { ecds: { path: "/etc/envoy/ecds/f.yaml" }, ports: { baseline: 10001 } })).errors).toEqual([]);
  });

  it("without it, one listener as before", () => {
    const plain = proxyOptions().toProxyConfig({ upstream: 18080 });
    expect((renderBootstrap(plain).static_resources.listeners as unknown[]).length).toBe(1);
  });

  it("the envoy container publishes the baseline port (10001 when the config says 0)", () => {
    const c = new EnvoyContainer(cfg) as unknown as { exposedPorts: Array<number | { container: number }> };
    const ports = c.exposedPorts.map((p) => (typeof p === "number" ? p : p.container));
    expect(ports).toEqual([10000, 9901, 10001]);
  });
});

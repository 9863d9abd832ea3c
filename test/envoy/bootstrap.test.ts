import * as path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import {
  durationFromMs,
  envoyCommandArgs,
  renderBootstrap,
  renderEcdsBootstrap,
  renderEcdsResource,
  toYaml,
  TYPE_URL,
  WASM_RUNTIME_V8,
} from "../../harness/envoy-config/bootstrap.js";
import { defaultStatsConfig } from "../../harness/envoy-config/defaults.js";
import { hcmOf, testProxyConfig, type Json } from "./helpers.js";

describe("renderBootstrap", () => {
  it("makes the HCM an edge proxy: use_remote_address with the configured xff_num_trusted_hops", () => {
    const hcm = hcmOf(renderBootstrap(testProxyConfig({ xffNumTrustedHops: 3 })));
    expect(hcm["@type"]).toBe(TYPE_URL.hcm);
    expect(hcm.use_remote_address).toBe(true);
    expect(hcm.xff_num_trusted_hops).toBe(3);
  });

  it("renders every route with its name, match and timeout (default 15s, 0 disables it)", () => {
    const routes = hcmOf(renderBootstrap(testProxyConfig())).route_config.virtual_hosts[0].routes;
    expect(routes).toEqual([
      { name: "api", match: { prefix: "/api/" }, route: { cluster: "upstream", timeout: "2.5s" } },
      { name: "exact", match: { path: "/healthz" }, route: { cluster: "upstream", timeout: "0s" } },
      { name: "default", match: { prefix: "/" }, route: { cluster: "upstream", timeout: "15s" } },
    ]);
  });

  it("places the wasm filter, fully configured, before the router", () => {
    const cfg = testProxyConfig();
    const filters = hcmOf(renderBootstrap(cfg, { wasmPathInContainer: "/etc/envoy/x.wasm" })).http_filters;
    expect(filters.map((f: Json) => f.typed_config["@type"])).toEqual([TYPE_URL.wasm, TYPE_URL.router]);
    expect(filters[0].name).toBe("edgewatch");
    expect(filters[0].typed_config.config).toEqual({
      name: "edgewatch",
      root_id: "edgewatch",
      vm_config: { vm_id: "edgewatch-vm", runtime: WASM_RUNTIME_V8, code: { local: { filename: "/etc/envoy/x.wasm" } } },
      configuration: { "@type": TYPE_URL.stringValue, value: cfg.plugin.configuration },
      fail_open: false,
    });
  });

  it("points code.local.filename at the absolute host path when no container path is given", () => {
    const filters = hcmOf(renderBootstrap(testProxyConfig())).http_filters;
    expect(filters[0].typed_config.config.vm_config.code.local.filename).toBe(path.resolve("build/edgewatch.wasm"));
  });

  it("passes the VM configuration as a StringValue when set, and fail_open as given", () => {
    const cfg = testProxyConfig();
    cfg.plugin.vmConfiguration = "vm-settings";
    cfg.plugin.failOpen = true;
    const config = hcmOf(renderBootstrap(cfg)).http_filters[0].typed_config.config;
    expect(config.vm_config.configuration).toEqual({ "@type": TYPE_URL.stringValue, value: "vm-settings" });
    expect(config.fail_open).toBe(true);
  });

  it("uses STATIC for IP literals and STRICT_DNS (IPv4 lookups) for host names, with a load assignment", () => {
    const clusters = renderBootstrap(testProxyConfig()).static_resources.clusters;
    expect(clusters[0]).toEqual({
      name: "upstream",
      type: "STATIC",
      connect_timeout: "1s",
      load_assignment: {
        cluster_name: "upstream",
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: 18080 } } } }] }],
      },
    });
    expect(clusters[1]).toMatchObject({ name: "rules", type: "STRICT_DNS", dns_lookup_family: "V4_ONLY", connect_timeout: "0.25s" });
  });

  it("rewrites only loopback cluster addresses to hostAddressForClusters (container → host fixtures)", () => {
    const cfg = testProxyConfig();
    cfg.clusters.push({ name: "remote", address: "10.1.2.3", port: 80 });
    const clusters = renderBootstrap(cfg, { hostAddressForClusters: "host.testcontainers.internal" }).static_resources.clusters;
    const addr = (c: Json) => c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address;
    expect(clusters.map(addr)).toEqual(["host.testcontainers.internal", "host.testcontainers.internal", "10.1.2.3"]);
    expect(clusters.map((c: Json) => c.type)).toEqual(["STRICT_DNS", "STRICT_DNS", "STATIC"]);
  });

  it("overrides bind address and ports for a container, leaving the config's values otherwise", () => {
    const b = renderBootstrap(testProxyConfig(), { bindAddress: "0.0.0.0", ports: { listener: 10000, admin: 9901 } });
    expect(b.admin).toEqual({ address: { socket_address: { address: "0.0.0.0", port_value: 9901 } } });
    expect(b.static_resources.listeners[0].address).toEqual({ socket_address: { address: "0.0.0.0", port_value: 10000 } });
    const plain = renderBootstrap(testProxyConfig());
    expect(plain.static_resources.listeners[0].address.socket_address).toEqual({ address: "127.0.0.1", port_value: 18000 });
  });

  it("renders the shared stats settings and exactly one of stats_flush_interval / stats_flush_on_admin", () => {
    const every5s = renderBootstrap(testProxyConfig());
    expect(every5s.stats_flush_interval).toBe("5s");
    expect(every5s).not.toHaveProperty("stats_flush_on_admin");
    const onAdmin = renderBootstrap(testProxyConfig({ stats: defaultStatsConfig({ flushOnAdmin: true }) }));
    expect(onAdmin.stats_flush_on_admin).toBe(true);
    expect(onAdmin).not.toHaveProperty("stats_flush_interval");

    const sc = every5s.stats_config;
    expect(sc.stats_tags).toContainEqual({ tag_name: "route", regex: "(route=\\.=(.*?);\\.;)" });
    expect(sc.histogram_bucket_settings).toEqual([{ match: { prefix: "wasmcustom.edgewatch." }, buckets: defaultStatsConfig().histogramBucketSettings[0]!.buckets }]);
  });

  it("maps every StringMatcher form of a histogram bucket setting", () => {
    const stats = defaultStatsConfig();
    stats.histogramBucketSettings = [
      { match: { exact: "a" }, buckets: [1] },
      { match: { suffix: "_ms" }, buckets: [2] },
      { match: { safeRegex: "^x" }, buckets: [3] },
    ];
    const hbs = renderBootstrap(testProxyConfig({ stats })).stats_config.histogram_bucket_settings;
    expect(hbs.map((h: Json) => h.match)).toEqual([{ exact: "a" }, { suffix: "_ms" }, { safe_regex: { regex: "^x" } }]);
  });
});

describe("ECDS rendering", () => {
  it("replaces the inline wasm config by a config_discovery on the watched path", () => {
    const b = renderEcdsBootstrap(testProxyConfig(), { ecds: { path: "/etc/envoy/ecds/f.yaml" } });
    const filters = hcmOf(b).http_filters;
    expect(filters[0]).toEqual({
      name: "edgewatch",
      config_discovery: {
        config_source: { path_config_source: { path: "/etc/envoy/ecds/f.yaml" }, resource_api_version: "V3" },
        type_urls: [TYPE_URL.wasm],
      },
    });
    expect(filters[1].typed_config["@type"]).toBe(TYPE_URL.router);
    expect(b.node).toEqual({ id: "t", cluster: "t" });
  });

  it("wraps the plugin in a TypedExtensionConfig named like the filter, with version_info", () => {
    const cfg = testProxyConfig();
    const r = renderEcdsResource(cfg, { versionInfo: "7", wasmPathInContainer: "/w.wasm" });
    expect(r.version_info).toBe("7");
    expect(r.type_url).toBe(TYPE_URL.typedExtensionConfig);
    const [res] = r.resources as Json[];
    expect(res!["@type"]).toBe(TYPE_URL.typedExtensionConfig);
    expect(res!.name).toBe(cfg.plugin.name);
    expect(res!.typed_config).toEqual(hcmOf(renderBootstrap(cfg, { wasmPathInContainer: "/w.wasm" })).http_filters[0].typed_config);
  });
});

describe("envoyCommandArgs", () => {
  it("carries --concurrency = workers (each worker runs its own VM)", () => {
    expect(envoyCommandArgs(testProxyConfig({ workers: 4 }), "/etc/envoy/envoy.yaml", ["-l", "info"])).toEqual([
      "-c", "/etc/envoy/envoy.yaml", "--concurrency", "4", "-l", "info",
    ]);
  });

  it("rejects a worker count Envoy would not accept", () => {
    expect(() => envoyCommandArgs(testProxyConfig({ workers: 0 }), "x")).toThrow(RangeError);
    expect(() => envoyCommandArgs(testProxyConfig({ workers: 1.5 }), "x")).toThrow(RangeError);
  });
});

describe("durationFromMs", () => {
  it.each([
    [0, "0s"],
    [1, "0.001s"],
    [250, "0.25s"],
    [1000, "1s"],
    [1500, "1.5s"],
    [15000, "15s"],
    [0.5, "0.0005s"],
  ])("%d ms → %s", (ms, text) => {
    expect(durationFromMs(ms)).toBe(text);
  });

  it("rejects negative and non-finite values", () => {
    expect(() => durationFromMs(-1)).toThrow(RangeError);
    expect(() => durationFromMs(Number.NaN)).toThrow(RangeError);
  });
});

describe("toYaml", () => {
  it("round-trips the bootstrap exactly, with header and comments attached", () => {
    const b = renderBootstrap(testProxyConfig());
    const text = toYaml(b, {
      header: "line one\nline two",
      comments: { admin: "the admin", "static_resources.clusters.1": "second cluster", 'static_resources["listeners"]': "listeners" },
    });
    expect(YAML.parse(text)).toEqual(b);
    expect(text.startsWith("# line one\n# line two\n")).toBe(true);
    expect(text).toMatch(/# the admin\nadmin:/);
    expect(text).toMatch(/# second cluster\n\s+- name: rules/);
    expect(text).toMatch(/# listeners\n\s+listeners:/);
  });

  it("refuses a comment for a path that does not exist, so comments cannot drift", () => {
    expect(() => toYaml({ a: { b: 1 } }, { comments: { "a.c": "x" } })).toThrow(/a\.c/);
    expect(() => toYaml({ a: [1] }, { comments: { "a.3": "x" } })).toThrow(/a\.3/);
  });

  it("keeps long regexes and JSON strings on one line", () => {
    const long = JSON.stringify({ k: "v".repeat(300) });
    const text = toYaml({ value: long });
    expect(text.trim().split("\n")).toHaveLength(1);
    expect(YAML.parse(text).value).toBe(long);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ProxyConfig } from "../../harness/config/proxy-config.js";
import { renderBootstrap, renderEcdsBootstrap, renderEcdsResource, renderTypedExtensionConfig, TYPE_URL } from "../../harness/envoy-config/bootstrap.js";
import { defaultStatsConfig, EDGEWATCH_HISTOGRAM_BUCKETS_US, exampleProxyConfig } from "../../harness/envoy-config/defaults.js";
import {
  assertValidBootstrap,
  EnvoyConfigValidationError,
  validateBootstrap,
  validateDiscoveryResponse,
  validateEcdsPair,
  validateMessage,
  validateTypedExtensionConfig,
  type ValidationResult,
} from "../../harness/envoy-config/validate.js";
import { clone, HCM_PATH, hcmOf, testProxyConfig, type Json } from "./helpers.js";

const WASM_CONFIG = `${HCM_PATH}.http_filters[0].typed_config.config`;

function expectValid(r: ValidationResult): void {
  expect(r.errors).toEqual([]);
  expect(r.ok).toBe(true);
}

/** Exactly the listed (path, message fragment) errors, nothing else. */
function expectErrors(r: ValidationResult, expected: Array<[string, string | RegExp]>): void {
  expect(r.ok).toBe(false);
  expect(r.errors.map((e) => e.path)).toEqual(expected.map(([p]) => p));
  r.errors.forEach((e, i) => expect(e.message).toMatch(expected[i]![1]));
}

describe("generated configs validate against Envoy's v3 protos", () => {
  it("the static bootstrap, with and without container options", () => {
    expectValid(validateBootstrap(renderBootstrap(testProxyConfig())));
    expectValid(
      validateBootstrap(
        renderBootstrap(testProxyConfig(), {
          wasmPathInContainer: "/etc/envoy/edgewatch.wasm",
          hostAddressForClusters: "host.testcontainers.internal",
          bindAddress: "0.0.0.0",
          ports: { listener: 10000, admin: 9901 },
        }),
      ),
    );
  });

  it("the ECDS bootstrap, its DiscoveryResponse, and the pair", () => {
    const cfg = testProxyConfig({ stats: defaultStatsConfig({ flushOnAdmin: true }) });
    const b = renderEcdsBootstrap(cfg, { ecds: { path: "/etc/envoy/ecds/edgewatch-filter.yaml" } });
    const r = renderEcdsResource(cfg);
    expectValid(validateBootstrap(b));
    expectValid(validateDiscoveryResponse(r, { clusters: ["upstream", "rules"] }));
    expectValid(validateTypedExtensionConfig(renderTypedExtensionConfig(cfg), { clusters: ["rules"] }));
    expectValid(validateEcdsPair(b, r));
  });

  it("any ProxyConfig the harness can build renders to a valid bootstrap (property)", () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);
    const arb = fc
      .record({
        clusterNames: fc.uniqueArray(name, { minLength: 1, maxLength: 4 }),
        routeNames: fc.uniqueArray(name, { minLength: 1, maxLength: 5 }),
        timeouts: fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 5, maxLength: 5 }),
        ports: fc.uniqueArray(fc.integer({ min: 0, max: 65535 }), { minLength: 2, maxLength: 2 }),
        workers: fc.integer({ min: 1, max: 16 }),
        hops: fc.integer({ min: 0, max: 5 }),
        flushOnAdmin: fc.boolean(),
        flushMs: fc.integer({ min: 1, max: 299_999 }),
        failOpen: fc.boolean(),
        hostnames: fc.boolean(),
        ecds: fc.boolean(),
      })
      .map((r): [ProxyConfig, boolean] => [
        testProxyConfig({
          listener: { address: "127.0.0.1", port: r.ports[0]! },
          admin: { address: "127.0.0.1", port: r.ports[1]! },
          workers: r.workers,
          xffNumTrustedHops: r.hops,
          clusters: r.clusterNames.map((n, i) => ({ name: n, address: r.hostnames ? `${n.replace(/_/g, "-")}.svc` : `10.0.0.${i + 1}`, port: 8000 + i })),
          routes: r.routeNames.map((n, i) => ({ name: n, match: i % 2 ? { path: `/${n}` } : { prefix: `/${n}/` }, cluster: r.clusterNames[i % r.clusterNames.length]!, timeoutMs: r.timeouts[i]! })),
          plugin: { ...testProxyConfig().plugin, failOpen: r.failOpen, configuration: JSON.stringify({ rules_service: { cluster: r.clusterNames[0] } }) },
          stats: { ...defaultStatsConfig({ flushOnAdmin: r.flushOnAdmin }), flushIntervalMs: r.flushMs },
        }),
        r.ecds,
      ]);
    fc.assert(
      fc.property(arb, ([cfg, ecds]) => {
        const b = ecds ? renderEcdsBootstrap(cfg, { ecds: { path: "/x/f.yaml" } }) : renderBootstrap(cfg);
        const r = validateBootstrap(b);
        if (!r.ok) throw new Error(JSON.stringify(r.errors));
        if (ecds) {
          const pair = validateEcdsPair(b, renderEcdsResource(cfg));
          if (!pair.ok) throw new Error(JSON.stringify(pair.errors));
        }
      }),
      { numRuns: 40 },
    );
  });

  it("accepts port 0 (ephemeral): an explicit default still selects its oneof case", () => {
    const b = renderBootstrap(testProxyConfig({ listener: { address: "127.0.0.1", port: 0 }, admin: { address: "127.0.0.1", port: 0 } }));
    expectValid(validateBootstrap(b));
  });

  it("accepts JSON camelCase names and integers as strings, like Envoy's JSON parser", () => {
    const b = clone(renderBootstrap(testProxyConfig()));
    b.staticResources = b.static_resources;
    delete b.static_resources;
    b.statsFlushInterval = b.stats_flush_interval;
    delete b.stats_flush_interval;
    b.admin.address.socket_address.port_value = "18001";
    expectValid(validateBootstrap(b));
  });

  it("reports a deprecated field as a warning, not an error", () => {
    const b = clone(renderBootstrap(testProxyConfig()));
    b.admin.access_log_path = "/dev/null";
    const r = validateBootstrap(b);
    expectValid(r);
    expect(r.warnings).toEqual([{ path: "$.admin.access_log_path", message: "access_log_path is deprecated" }]);
  });

  it("resolves extension types outside the preloaded files (a file access logger) and checks them", () => {
    const b = clone(renderBootstrap(testProxyConfig()));
    hcmOf(b).access_log = [
      { name: "envoy.access_loggers.file", typed_config: { "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog", path: "/dev/stdout" } },
    ];
    expectValid(validateBootstrap(b));
    hcmOf(b).access_log[0].typed_config.pth = "/dev/stdout";
    expectErrors(validateBootstrap(b), [[`${HCM_PATH}.access_log[0].typed_config.pth`, /unknown field "pth" in envoy\.extensions\.access_loggers\.file\.v3\.FileAccessLog/]]);
  });

  it("checks a TypedStruct's value against the type it names", () => {
    const b = clone(renderBootstrap(testProxyConfig()));
    hcmOf(b).http_filters[1].typed_config = {
      "@type": "type.googleapis.com/xds.type.v3.TypedStruct",
      type_url: TYPE_URL.router,
      value: { suppress_envoy_headers: true },
    };
    expectValid(validateBootstrap(b));
    hcmOf(b).http_filters[1].typed_config.value = { supress_envoy_headers: true };
    expectErrors(validateBootstrap(b), [[`${HCM_PATH}.http_filters[1].typed_config.value.supress_envoy_headers`, /unknown field.*did you mean "suppress_envoy_headers"/]]);
  });
});

describe("schema errors are rejected with the JSON path of the offending field", () => {
  const cases: Array<{ name: string; mutate: (b: Json) => void; errors: Array<[string, string | RegExp]> }> = [
    {
      name: "unknown field (with a suggestion)",
      mutate: (b) => (b.static_resources.clusters[0].conect_timeout = "1s"),
      errors: [["$.static_resources.clusters[0].conect_timeout", /unknown field "conect_timeout" in envoy\.config\.cluster\.v3\.Cluster \(did you mean "connect_timeout"\?\)/]],
    },
    {
      name: "unknown field deep inside the wasm Any",
      mutate: (b) => (hcmOf(b).http_filters[0].typed_config.config.vm_config.vmid = "x"),
      errors: [[`${WASM_CONFIG}.vm_config.vmid`, /unknown field "vmid" in envoy\.extensions\.wasm\.v3\.VmConfig/]],
    },
    {
      name: "failure_policy (Envoy 1.33+) on the pre-1.33 API",
      mutate: (b) => (hcmOf(b).http_filters[0].typed_config.config.failure_policy = "FAIL_OPEN"),
      errors: [[`${WASM_CONFIG}.failure_policy`, /needs Envoy 1\.33\+; use fail_open/]],
    },
    {
      name: "wrong scalar type",
      mutate: (b) => (b.admin.address.socket_address.port_value = "abc"),
      errors: [["$.admin.address.socket_address.port_value", /expected an integer \(uint32\), got string "abc"/]],
    },
    {
      name: "bool given as a string",
      mutate: (b) => (hcmOf(b).http_filters[0].typed_config.config.fail_open = "false"),
      errors: [[`${WASM_CONFIG}.fail_open`, /expected true or false/]],
    },
    {
      name: "uint32 out of range",
      mutate: (b) => (hcmOf(b).xff_num_trusted_hops = -1),
      errors: [[`${HCM_PATH}.xff_num_trusted_hops`, /out of range for uint32/]],
    },
    {
      name: "port above the PGV limit",
      mutate: (b) => (b.admin.address.socket_address.port_value = 70000),
      errors: [["$.admin.address.socket_address.port_value", /must be ≤ 65535, got 70000/]],
    },
    {
      name: "bad enum name",
      mutate: (b) => (b.static_resources.clusters[1].type = "STRICT"),
      errors: [["$.static_resources.clusters[1].type", /invalid value "STRICT" for enum envoy\.config\.cluster\.v3\.Cluster\.DiscoveryType/]],
    },
    {
      name: "unresolvable @type",
      mutate: (b) => (hcmOf(b).http_filters[0].typed_config["@type"] = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.WasmFilter"),
      errors: [[`${HCM_PATH}.http_filters[0].typed_config["@type"]`, /does not resolve to a message in Envoy's v3 API protos/]],
    },
    {
      name: "Any without @type",
      mutate: (b) => delete hcmOf(b).http_filters[1].typed_config["@type"],
      errors: [[`${HCM_PATH}.http_filters[1].typed_config["@type"]`, /missing its "@type"/]],
    },
    {
      name: "StringValue Any with fields instead of value",
      mutate: (b) => (hcmOf(b).http_filters[0].typed_config.config.configuration = { "@type": TYPE_URL.stringValue, text: "{}" }),
      errors: [
        [`${WASM_CONFIG}.configuration.text`, /expected only "value"/],
        [`${WASM_CONFIG}.configuration`, /needs a "value"/],
      ],
    },
    {
      name: "duration not in JSON form",
      mutate: (b) => (b.stats_flush_interval = 5000),
      errors: [["$.stats_flush_interval", /expected a duration string like "5s"/]],
    },
    {
      name: "duration outside the PGV range (flush interval < 300s)",
      mutate: (b) => (b.stats_flush_interval = "300s"),
      errors: [["$.stats_flush_interval", /duration must be < 300s/]],
    },
    {
      name: "two members of a oneof",
      mutate: (b) => (hcmOf(b).route_config.virtual_hosts[0].routes[0].match.path = "/x"),
      errors: [[`${HCM_PATH}.route_config.virtual_hosts[0].routes[0].match`, /oneof path_specifier: at most one of .* got prefix, path/]],
    },
    {
      name: "required oneof left empty",
      mutate: (b) => (hcmOf(b).route_config.virtual_hosts[0].routes[0].match = {}),
      errors: [[`${HCM_PATH}.route_config.virtual_hosts[0].routes[0].match`, /oneof path_specifier: exactly one of/]],
    },
    {
      name: "stats_flush_interval together with stats_flush_on_admin (promoted oneof)",
      mutate: (b) => (b.stats_flush_on_admin = true),
      errors: [["$", /oneof stats_flush: at most one of \[stats_flush_on_admin, stats_flush_interval\]/]],
    },
    {
      name: "missing required string (HCM stat_prefix)",
      mutate: (b) => delete hcmOf(b).stat_prefix,
      errors: [[`${HCM_PATH}.stat_prefix`, /at least 1 character/]],
    },
    {
      name: "histogram bucket ≤ 0 and duplicate buckets",
      mutate: (b) => b.stats_config.histogram_bucket_settings[0].buckets.push(0, 50),
      errors: [
        [`$.stats_config.histogram_bucket_settings[0].buckets[${EDGEWATCH_HISTOGRAM_BUCKETS_US.length + 1}]`, /duplicate item 50/],
        [`$.stats_config.histogram_bucket_settings[0].buckets[${EDGEWATCH_HISTOGRAM_BUCKETS_US.length}]`, /must be > 0, got 0/],
      ],
    },
    {
      name: "empty repeated field with min_items (ECDS type_urls)",
      mutate: (b) => {
        hcmOf(b).http_filters[0] = { name: "edgewatch", config_discovery: { config_source: { path_config_source: { path: "/x" } }, type_urls: [] } };
      },
      errors: [[`${HCM_PATH}.http_filters[0].config_discovery.type_urls`, /needs at least 1 item/]],
    },
  ];

  it.each(cases)("$name", ({ mutate, errors }) => {
    const b = clone(renderBootstrap(testProxyConfig()));
    mutate(b);
    expectErrors(validateBootstrap(b), errors);
  });

  it("the same field written under both names", () => {
    const b = clone(renderBootstrap(testProxyConfig()));
    b.statsFlushInterval = "1s";
    expectErrors(validateBootstrap(b), [["$.statsFlushInterval", /set twice \(as "stats_flush_interval" and "statsFlushInterval"\)/]]);
  });

  it("a non-object where a message belongs", () => {
    expectErrors(validateMessage([], "envoy.config.bootstrap.v3.Bootstrap"), [["$", /expected an object \(envoy\.config\.bootstrap\.v3\.Bootstrap\), got an array/]]);
  });
});

describe("semantic errors are rejected with the path that needs fixing", () => {
  const cases: Array<{ name: string; mutate: (b: Json) => void; errors: Array<[string, string | RegExp]> }> = [
    {
      name: "route to a missing cluster",
      mutate: (b) => (hcmOf(b).route_config.virtual_hosts[0].routes[0].route.cluster = "upstream2"),
      errors: [[`${HCM_PATH}.route_config.virtual_hosts[0].routes[0].route.cluster`, /route "api" targets unknown cluster "upstream2" \(known: upstream, rules\)/]],
    },
    {
      name: "weighted cluster that does not exist",
      mutate: (b) => {
        hcmOf(b).route_config.virtual_hosts[0].routes[0].route = { weighted_clusters: { clusters: [{ name: "upstream", weight: 50 }, { name: "canary", weight: 50 }] } };
      },
      errors: [[`${HCM_PATH}.route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters[1].name`, /weighted cluster "canary" does not exist/]],
    },
    {
      name: "plugin configuration naming a missing cluster (rules_service.cluster)",
      mutate: (b) => (hcmOf(b).http_filters[0].typed_config.config.configuration.value = JSON.stringify({ rules_service: { cluster: "nope" } })),
      errors: [[`${WASM_CONFIG}.configuration.value#$.rules_service.cluster`, /rules_service\.cluster "nope" names no cluster/]],
    },
    {
      name: "plugin configuration naming a missing cluster (flat rules_cluster / collector_cluster keys)",
      mutate: (b) => (hcmOf(b).http_filters[0].typed_config.config.configuration.value = JSON.stringify({ rules_cluster: "rules", collector_cluster: "otel" })),
      errors: [[`${WASM_CONFIG}.configuration.value#$.collector_cluster`, /collector_cluster "otel" names no cluster/]],
    },
    {
      name: "plugin configuration that is not valid JSON",
      mutate: (b) => (hcmOf(b).http_filters[0].typed_config.config.configuration.value = "{rules_service: 1}"),
      errors: [[`${WASM_CONFIG}.configuration.value`, /plugin configuration is not valid JSON/]],
    },
    {
      name: "router before the wasm filter",
      mutate: (b) => hcmOf(b).http_filters.reverse(),
      errors: [
        [`${HCM_PATH}.http_filters[1]`, /"edgewatch" comes after the router, which must be the last/],
        [`${HCM_PATH}.http_filters[1]`, /wasm filter "edgewatch" must come before the router \(index 0\), found at index 1/],
      ],
    },
    {
      name: "no router at all",
      mutate: (b) => hcmOf(b).http_filters.pop(),
      errors: [[`${HCM_PATH}.http_filters`, /no envoy\.extensions\.filters\.http\.router\.v3\.Router filter/]],
    },
    {
      name: "listener port clashing with the admin port",
      mutate: (b) => (b.admin.address.socket_address.port_value = 18000),
      errors: [["$.static_resources.listeners[0].address.socket_address.port_value", /listener "edgewatch_ingress" port 18000 clashes with admin/]],
    },
    {
      name: "two listeners on one port (wildcard vs specific address)",
      mutate: (b) => {
        const l2 = clone(b.static_resources.listeners[0]);
        l2.name = "second";
        l2.address.socket_address.address = "0.0.0.0";
        b.static_resources.listeners.push(l2);
      },
      errors: [["$.static_resources.listeners[1].address.socket_address.port_value", /listener "second" port 18000 clashes with listener "edgewatch_ingress"/]],
    },
    {
      name: "duplicate cluster names",
      mutate: (b) => (b.static_resources.clusters[1].name = "upstream"),
      errors: [
        ["$.static_resources.clusters[1].name", /duplicate cluster name "upstream" \(also at \$\.static_resources\.clusters\[0\]\.name\)/],
        [`${WASM_CONFIG}.configuration.value#$.rules_service.cluster`, /"rules" names no cluster/],
      ],
    },
    {
      name: "duplicate route names",
      mutate: (b) => (hcmOf(b).route_config.virtual_hosts[0].routes[2].name = "api"),
      errors: [[`${HCM_PATH}.route_config.virtual_hosts[0].routes[2].name`, /duplicate route name "api"/]],
    },
    {
      name: "duplicate listener names",
      mutate: (b) => {
        const l2 = clone(b.static_resources.listeners[0]);
        l2.address.socket_address.port_value = 18002;
        b.static_resources.listeners.push(l2);
      },
      errors: [["$.static_resources.listeners[1].name", /duplicate listener name "edgewatch_ingress"/]],
    },
    {
      name: "STATIC cluster with a host name",
      mutate: (b) => (b.static_resources.clusters[1].type = "STATIC"),
      errors: [["$.static_resources.clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address", /STATIC cluster "rules" needs an IP address/]],
    },
    {
      name: "stats tag regex that does not compile, one without a capture group, a duplicate tag name",
      mutate: (b) => {
        b.stats_config.stats_tags[0].regex = "(route=";
        b.stats_config.stats_tags[1].regex = "code=";
        b.stats_config.stats_tags[2].tag_name = "rule";
      },
      errors: [
        ["$.stats_config.stats_tags[0].regex", /does not compile/],
        ["$.stats_config.stats_tags[1].regex", /needs at least one capture group/],
        ["$.stats_config.stats_tags[3].tag_name", /duplicate stats tag "rule"/],
      ],
    },
    {
      name: "unknown wasm runtime and a VM without code",
      mutate: (b) => {
        const vm = hcmOf(b).http_filters[0].typed_config.config.vm_config;
        vm.runtime = "envoy.wasm.runtime.v9";
        delete vm.code;
      },
      errors: [
        [`${WASM_CONFIG}.vm_config.runtime`, /unknown wasm runtime "envoy\.wasm\.runtime\.v9"/],
        [`${WASM_CONFIG}.vm_config.code`, /must name the module/],
      ],
    },
    {
      name: "ECDS without a node identity",
      mutate: (b) => {
        delete b.node;
        hcmOf(b).http_filters[0] = { name: "edgewatch", config_discovery: { config_source: { path_config_source: { path: "/x" } }, type_urls: [TYPE_URL.wasm] } };
      },
      errors: [["$.node", /node\.id and node\.cluster are required when any xDS/]],
    },
    {
      name: "ECDS default_config whose type is not subscribed, and warming skipped without a default",
      mutate: (b) => {
        hcmOf(b).http_filters[0] = {
          name: "edgewatch",
          config_discovery: { config_source: { path_config_source: { path: "/x" } }, type_urls: [TYPE_URL.wasm], default_config: { "@type": TYPE_URL.router } },
        };
        hcmOf(b).http_filters.splice(1, 0, {
          name: "other",
          config_discovery: { config_source: { path_config_source: { path: "/y" } }, type_urls: [TYPE_URL.wasm], apply_default_config_without_warming: true },
        });
      },
      errors: [
        [`${HCM_PATH}.http_filters[0].config_discovery.default_config["@type"]`, /default_config type .*Router is not in type_urls/],
        [`${HCM_PATH}.http_filters[1].config_discovery.apply_default_config_without_warming`, /needs a default_config/],
      ],
    },
  ];

  it.each(cases)("$name", ({ mutate, errors }) => {
    const b = clone(renderBootstrap(testProxyConfig()));
    mutate(b);
    expectErrors(validateBootstrap(b), errors);
  });

  it("leaves the plugin's own JSON alone when checkPluginConfiguration is false (targets pass bad settings on purpose)", () => {
    const b = clone(renderBootstrap(testProxyConfig()));
    hcmOf(b).http_filters[0].typed_config.config.configuration.value = "{not json";
    expect(validateBootstrap(b, { checkPluginConfiguration: false }).ok).toBe(true);
    expect(validateBootstrap(b).ok).toBe(false);
  });

  it("assertValidBootstrap throws an error with a stable code and every issue", () => {
    const b = clone(renderBootstrap(testProxyConfig()));
    b.bogus = 1;
    hcmOf(b).route_config.virtual_hosts[0].routes[0].route.cluster = "nope";
    let caught: unknown;
    try {
      assertValidBootstrap(b);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(EnvoyConfigValidationError);
    const err = caught as EnvoyConfigValidationError;
    expect(err.code).toBe("EDGEWATCH_ENVOY_CONFIG_INVALID");
    expect(err.errors.map((e) => e.path)).toEqual(["$.bogus", `${HCM_PATH}.route_config.virtual_hosts[0].routes[0].route.cluster`]);
    expect(err.message).toContain("$.bogus: unknown field");
    expect(() => assertValidBootstrap(renderBootstrap(testProxyConfig()))).not.toThrow();
  });
});

describe("ECDS resources", () => {
  const cfg = exampleProxyConfig();
  const bootstrap = renderEcdsBootstrap(cfg, { ecds: { path: "/etc/envoy/ecds/edgewatch-filter.yaml" } });

  it("reject a file with more or fewer than one resource (Envoy: unexpected number of resources)", () => {
    const r = clone(renderEcdsResource(cfg)) as Json;
    r.resources.push({ ...clone(r.resources[0]), name: "other" });
    const errors = validateEcdsPair(bootstrap, r).errors;
    expect(errors[0]).toEqual({ path: "resource.resources", message: "an ECDS file must hold exactly one resource, got 2" });
    r.resources = [];
    expect(validateEcdsPair(bootstrap, r).errors).toEqual([{ path: "resource.resources", message: "an ECDS file must hold exactly one resource, got 0" }]);
  });

  it("reject a resource whose plugin names a cluster the bootstrap lacks", () => {
    const r = renderEcdsResource({ ...cfg, plugin: { ...cfg.plugin, configuration: JSON.stringify({ tracing: { collector: { cluster: "jaeger" } } }) } });
    expectErrors(validateEcdsPair(bootstrap, r), [["resource.resources[0].typed_config.config.configuration.value#$.tracing.collector.cluster", /"jaeger" names no cluster/]]);
  });

  it("reject a resource no filter subscribes to, or of a type the filter does not accept", () => {
    const r = clone(renderEcdsResource(cfg)) as Json;
    r.resources[0].name = "edgewatch-v2";
    expectErrors(validateEcdsPair(bootstrap, r), [["resource.resources[0].name", /no filter subscribes to ECDS resource "edgewatch-v2" \(subscribed: edgewatch\)/]]);
    const r2 = clone(renderEcdsResource(cfg)) as Json;
    r2.resources[0].typed_config = { "@type": TYPE_URL.router };
    expectErrors(validateEcdsPair(bootstrap, r2), [['resource.resources[0].typed_config["@type"]', /Router is not in the filter's type_urls/]]);
  });

  it("reject a resource without a name, duplicate names, and a type_url that does not match", () => {
    const r = clone(renderEcdsResource(cfg)) as Json;
    const [orig] = r.resources;
    const noName = clone(orig);
    delete noName.name;
    const bareWasm = { ...clone(orig.typed_config) };
    r.resources = [orig, clone(orig), noName, bareWasm];
    expectErrors(validateDiscoveryResponse(r), [
      ["$.resources[2].name", /at least 1 character/],
      ["$.resources[1].name", /duplicate resource name "edgewatch" \(also at \$\.resources\[0\]\.name\)/],
      ['$.resources[3]["@type"]', /Wasm differs from the response type_url .*TypedExtensionConfig/],
    ]);
  });

  it("validate a bare TypedExtensionConfig, reporting paths relative to it", () => {
    const tec = clone(renderTypedExtensionConfig(cfg)) as Json;
    delete tec["@type"];
    expectValid(validateTypedExtensionConfig(tec, { clusters: ["edgewatch_rules", "otel_collector"] }));
    tec.typed_config.config.rootid = "x";
    expectErrors(validateTypedExtensionConfig(tec), [["$.typed_config.config.rootid", /unknown field "rootid".*did you mean "root_id"/]]);
  });
});

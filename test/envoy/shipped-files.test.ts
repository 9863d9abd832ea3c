// The files under envoy/ are what users copy: they must equal the generator's output (no drift
// from the defaults) and be valid for the Envoy version the Dockerfile pins.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { renderStatsConfig, TYPE_URL, WASM_RUNTIME_V8 } from "../../harness/envoy-config/bootstrap.js";
import { defaultStatsConfig, EDGEWATCH_HISTOGRAM_BUCKETS_US, EDGEWATCH_STAT_PREFIX, EDGEWATCH_TAG_NAMES, exampleProxyConfig } from "../../harness/envoy-config/defaults.js";
import { validateBootstrap, validateEcdsPair, validateTypedExtensionConfig, ecdsSubscriptions } from "../../harness/envoy-config/validate.js";
import { ECDS_PATH_IN_CONTAINER, renderExampleFiles, REPO_ROOT, staleExampleFiles, WASM_PATH_IN_CONTAINER } from "../../harness/envoy-config/write-examples.js";
import { envoyImage, envoyImageVersion, ENVOY_DOCKERFILE, pinnedEnvoyImage } from "../../harness/targets/envoy-image.js";
import { hcmOf, type Json } from "./helpers.js";

function read(rel: string): string {
  return fs.readFileSync(path.join(REPO_ROOT, rel), "utf8");
}

function readYaml(rel: string): Json {
  return YAML.parse(read(rel)) as Json;
}

describe("shipped examples under envoy/", () => {
  it("equal what harness/envoy-config/write-examples.ts generates from the defaults", () => {
    for (const [rel, content] of Object.entries(renderExampleFiles())) {
      expect(read(rel), `${rel} is stale: run npx tsx harness/envoy-config/write-examples.ts`).toBe(content);
    }
    expect(staleExampleFiles()).toEqual([]);
  });

  it("the drift check notices a changed file", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "edgewatch-examples-"));
    try {
      for (const [rel, content] of Object.entries(renderExampleFiles())) {
        fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
        fs.writeFileSync(path.join(tmp, rel), content);
      }
      expect(staleExampleFiles(tmp)).toEqual([]);
      fs.appendFileSync(path.join(tmp, "envoy/envoy.yaml"), "# local edit\n");
      expect(staleExampleFiles(tmp)).toEqual(["envoy/envoy.yaml"]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("envoy/envoy.yaml is a valid bootstrap with the shared stats settings and the wasm filter before the router", () => {
    const b = readYaml("envoy/envoy.yaml");
    const r = validateBootstrap(b);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(b.stats_config).toEqual(renderStatsConfig(defaultStatsConfig()));
    const filters = hcmOf(b).http_filters;
    expect(filters.map((f: Json) => f.typed_config["@type"])).toEqual([TYPE_URL.wasm, TYPE_URL.router]);
    expect(filters[0].typed_config.config.vm_config.code.local.filename).toBe(WASM_PATH_IN_CONTAINER);
    expect(filters[0].typed_config.config.fail_open).toBe(false);
  });

  it("envoy/ecds/ is a valid bootstrap + DiscoveryResponse pair, wired to each other", () => {
    const b = readYaml("envoy/ecds/envoy.yaml");
    const res = readYaml("envoy/ecds/edgewatch-filter.yaml");
    const r = validateEcdsPair(b, res);
    expect(r.errors).toEqual([]);
    const [sub] = ecdsSubscriptions(b);
    expect(sub).toEqual({ name: res.resources[0].name, typeUrls: [TYPE_URL.wasm] });
    expect(hcmOf(b).http_filters[0].config_discovery.config_source.path_config_source.path).toBe(ECDS_PATH_IN_CONTAINER);
    expect(res.resources[0].typed_config.config.root_id).toBe(exampleProxyConfig().plugin.rootId);
  });

  it("the YAML comments explain the parts (spot check)", () => {
    const text = read("envoy/envoy.yaml");
    for (const phrase of ["--concurrency", "stats_tags regex", "must come before the router", "fail_open: false", "x-forwarded-for"]) {
      expect(text).toContain(phrase);
    }
    expect(read("envoy/ecds/envoy.yaml")).toContain("`mv` it onto the path");
  });
});

describe("Istio examples", () => {
  it("the WasmPlugin parses, maps to edgewatch's root id, and carries pluginConfig as a JSON object", () => {
    const wp = readYaml("envoy/istio/wasmplugin.yaml");
    const cfg = exampleProxyConfig();
    expect(wp.apiVersion).toBe("extensions.istio.io/v1alpha1");
    expect(wp.kind).toBe("WasmPlugin");
    expect(wp.spec.pluginName).toBe(cfg.plugin.rootId);
    expect(wp.spec.url).toMatch(/^(oci|file):\/\//);
    expect(["AUTHN", "AUTHZ", "STATS"]).toContain(wp.spec.phase);
    expect(wp.spec.phase).toBe("AUTHN");
    expect(["FAIL_CLOSE", "FAIL_OPEN"]).toContain(wp.spec.failStrategy);
    expect(wp.spec.failStrategy).toBe(cfg.plugin.failOpen ? "FAIL_OPEN" : "FAIL_CLOSE");
    expect(typeof wp.spec.pluginConfig).toBe("object");
    const json = JSON.stringify(wp.spec.pluginConfig);
    expect(JSON.parse(json)).toEqual(wp.spec.pluginConfig);
    // Inside the mesh, proxy_http_call needs Istio cluster names.
    expect(wp.spec.pluginConfig.rules_service.cluster).toMatch(/^outbound\|\d+\|\|[a-z0-9.-]+$/);
    expect(wp.spec.pluginConfig.tracing.collector.cluster).toMatch(/^outbound\|\d+\|\|[a-z0-9.-]+$/);
  });

  it("what Istio generates from the WasmPlugin is a valid Envoy TypedExtensionConfig", () => {
    // istio pilot/pkg/model/extensions.go: name <ns>.<name>, root_id = pluginName,
    // configuration = StringValue(JSON of pluginConfig), runtime v8, local file after download.
    const wp = readYaml("envoy/istio/wasmplugin.yaml");
    const name = `${wp.metadata.namespace}.${wp.metadata.name}`;
    const tec = {
      name,
      typed_config: {
        "@type": TYPE_URL.wasm,
        config: {
          name,
          root_id: wp.spec.pluginName,
          configuration: { "@type": TYPE_URL.stringValue, value: JSON.stringify(wp.spec.pluginConfig) },
          fail_open: wp.spec.failStrategy === "FAIL_OPEN",
          vm_config: { runtime: WASM_RUNTIME_V8, code: { local: { filename: "/var/lib/istio/data/edgewatch.wasm" } } },
        },
      },
    };
    const r = validateTypedExtensionConfig(tec, { clusters: [wp.spec.pluginConfig.rules_service.cluster, wp.spec.pluginConfig.tracing.collector.cluster] });
    expect(r.errors).toEqual([]);
  });

  it("the histogram/tag annotations reproduce edgewatch's stats_config when Istio renders them", () => {
    const dep = readYaml("envoy/istio/histogram-buckets.yaml");
    const ann = dep.spec.template.metadata.annotations;
    const buckets = JSON.parse(ann["sidecar.istio.io/statsHistogramBuckets"]) as Record<string, number[]>;
    expect(buckets).toEqual({ [EDGEWATCH_STAT_PREFIX]: [...EDGEWATCH_HISTOGRAM_BUCKETS_US] });
    const proxyConfig = YAML.parse(ann["proxy.istio.io/config"]) as Json;
    expect(proxyConfig.proxyStatsMatcher.inclusionPrefixes).toContain(EDGEWATCH_STAT_PREFIX);
    expect(proxyConfig.extraStatTags).toEqual([...EDGEWATCH_TAG_NAMES]);

    // Istio's bootstrap: one {match: {prefix}, buckets} per annotation key, one
    // `(<tag>=\.=(.*?);\.;)` regex per extra stat tag (istio pkg/bootstrap/config.go, envoy_bootstrap.json).
    const ours = renderStatsConfig(defaultStatsConfig());
    expect(Object.entries(buckets).map(([prefix, b]) => ({ match: { prefix }, buckets: b }))).toEqual(ours.histogram_bucket_settings);
    expect(proxyConfig.extraStatTags.map((t: string) => ({ tag_name: t, regex: `(${t}=\\.=(.*?);\\.;)` }))).toEqual(ours.stats_tags);
  });
});

describe("envoy/Dockerfile", () => {
  const text = fs.readFileSync(ENVOY_DOCKERFILE, "utf8");

  it("pins an exact envoyproxy/envoy release between 1.30 and 1.32 (fail_open, pre-1.33 API)", () => {
    const image = pinnedEnvoyImage();
    expect(image).toMatch(/^envoyproxy\/envoy:v\d+\.\d+\.\d+$/);
    const v = envoyImageVersion(image)!;
    expect(v.major).toBe(1);
    expect(v.minor).toBeGreaterThanOrEqual(30);
    expect(v.minor).toBeLessThan(33);
    expect(text).toMatch(/^FROM \$\{ENVOY_IMAGE\}$/m);
  });

  it("is overridable: EDGEWATCH_ENVOY_IMAGE for the harness, --build-arg ENVOY_IMAGE for docker build", () => {
    expect(envoyImage({})).toBe(pinnedEnvoyImage());
    expect(envoyImage({ EDGEWATCH_ENVOY_IMAGE: "envoyproxy/envoy:v1.31.10" })).toBe("envoyproxy/envoy:v1.31.10");
    expect(envoyImage({ EDGEWATCH_ENVOY_IMAGE: "  " })).toBe(pinnedEnvoyImage());
    expect(text).toMatch(/^ARG ENVOY_IMAGE=/m);
  });

  it("copies only what its .dockerignore lets into the build context, and the static example exists", () => {
    const copies = [...text.matchAll(/^COPY (\S+) (\S+)$/gm)].map((m) => m[1]!);
    expect(copies).toEqual(["envoy/envoy.yaml", "build/edgewatch.wasm"]);
    const ignore = fs.readFileSync(`${ENVOY_DOCKERFILE}.dockerignore`, "utf8");
    for (const c of copies) expect(ignore).toContain(`!${c}`);
    expect(fs.existsSync(path.join(REPO_ROOT, "envoy/envoy.yaml"))).toBe(true);
  });

  it("parses version tags in the forms envoyproxy publishes", () => {
    expect(envoyImageVersion("envoyproxy/envoy:v1.32.13")).toEqual({ major: 1, minor: 32, patch: 13 });
    expect(envoyImageVersion("envoyproxy/envoy:v1.31-latest")).toEqual({ major: 1, minor: 31, patch: undefined });
    expect(envoyImageVersion("envoyproxy/envoy:distroless-v1.30.4")).toEqual({ major: 1, minor: 30, patch: 4 });
    expect(envoyImageVersion("envoyproxy/envoy:dev")).toBeUndefined();
  });
});

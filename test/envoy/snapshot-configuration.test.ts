/**
 * A snapshot configuration (binary plugin configuration, harness/rules/snapshot-configuration.ts)
 * reaches Envoy as a google.protobuf.BytesValue whose base64 value decodes to the very bytes the
 * user gave, in the static bootstrap and in the ECDS resource; text stays a StringValue. The
 * validator accepts it and still checks the settings' cluster references.
 */
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import {
  envoyConfigurationValue,
  renderBootstrap,
  renderEcdsBootstrap,
  renderEcdsResource,
  renderPluginConfiguration,
  toYaml,
  TYPE_URL,
} from "../../harness/envoy-config/bootstrap.js";
import { exampleProxyConfig } from "../../harness/envoy-config/defaults.js";
import { validateBootstrap, validateEcdsPair } from "../../harness/envoy-config/validate.js";
import { encodeSnapshotConfiguration, frameSnapshotConfiguration } from "../../harness/rules/snapshot-configuration.js";
import { proxyOptions } from "../../harness/stack/proxy-options.js";
import { sameConfiguration } from "../../harness/targets/target.js";
import { clone, hcmOf, testProxyConfig, type Json } from "./helpers.js";

const SNAP = Buffer.concat([Buffer.from("EWRS"), Buffer.alloc(60, 0xa5)]);
const SETTINGS = { client_address: { source: "xff", xff_trusted_hops: 1 } };
const CONFIG = encodeSnapshotConfiguration(SETTINGS, SNAP);

const wasmConfig = (bootstrap: Json): Json => hcmOf(bootstrap).http_filters[0].typed_config.config;

describe("a snapshot configuration in Envoy's config", () => {
  it("is a BytesValue in the static bootstrap, its base64 value the exact bytes", () => {
    const cfg = testProxyConfig();
    cfg.plugin.configuration = CONFIG;
    const any = wasmConfig(renderBootstrap(cfg)).configuration;
    expect(any).toEqual({ "@type": TYPE_URL.bytesValue, value: CONFIG.toString("base64") });
    expect(Buffer.from(any.value, "base64").equals(CONFIG)).toBe(true);
  });

  it("is a BytesValue in the ECDS resource, also after YAML (what the Envoy targets write and push)", () => {
    const cfg = { ...exampleProxyConfig(), plugin: { ...exampleProxyConfig().plugin, configuration: CONFIG } };
    const resource = YAML.parse(toYaml(renderEcdsResource(cfg, { versionInfo: "2" }))) as Json;
    const any = resource.resources[0].typed_config.config.configuration;
    expect(any["@type"]).toBe(TYPE_URL.bytesValue);
    expect(Buffer.from(any.value, "base64").equals(CONFIG)).toBe(true);
  });

  it("comes from proxyOptions().withPlugin(bytes) unchanged; text and JSON objects stay StringValue", () => {
    const ports = { upstream: 18080 };
    const bytesCfg = proxyOptions().withPlugin(CONFIG).toProxyConfig(ports);
    expect(renderPluginConfiguration(bytesCfg.plugin.configuration)).toEqual({ "@type": TYPE_URL.bytesValue, value: CONFIG.toString("base64") });
    expect(renderPluginConfiguration(proxyOptions().withPlugin(SETTINGS).toProxyConfig(ports).plugin.configuration)).toEqual({
      "@type": TYPE_URL.stringValue,
      value: JSON.stringify(SETTINGS),
    });
    // Bytes that are not a snapshot configuration are the configuration's UTF-8 text, as before.
    const text = '{"telemetry":{"method_label":true},"x":"é"}';
    expect(renderPluginConfiguration(Buffer.from(text))).toEqual({ "@type": TYPE_URL.stringValue, value: text });
  });

  it("an unchanged configuration compares equal whether given as text or bytes; a snapshot configuration only to the same bytes", () => {
    const text = JSON.stringify(SETTINGS);
    expect(sameConfiguration(envoyConfigurationValue(Buffer.from(text)), envoyConfigurationValue(text))).toBe(true);
    expect(sameConfiguration(envoyConfigurationValue(CONFIG), envoyConfigurationValue(Buffer.from(CONFIG)))).toBe(true);
    const other = Buffer.from(CONFIG);
    other[other.length - 1] ^= 1;
    expect(sameConfiguration(envoyConfigurationValue(CONFIG), envoyConfigurationValue(other))).toBe(false);
    expect(sameConfiguration(envoyConfigurationValue(CONFIG), envoyConfigurationValue(CONFIG.toString("latin1")))).toBe(false);
  });

  it("validates: bootstrap and ECDS pair are accepted by the schema (BytesValue, base64 value)", () => {
    const cfg = { ...exampleProxyConfig(), plugin: { ...exampleProxyConfig().plugin, configuration: CONFIG } };
    const bootstrap = renderEcdsBootstrap(cfg, { ecds: { path: "/etc/envoy/ecds/edgewatch-filter.yaml" } });
    const r = validateEcdsPair(bootstrap, renderEcdsResource(cfg));
    expect(r.errors).toEqual([]);
    expect(validateBootstrap(renderBootstrap(cfg)).errors).toEqual([]);
  });

  it("the validator reads the settings inside: an unknown cluster, a bad frame and a non-base64 value are errors", () => {
    const at = "$.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config.configuration.value";
    const cfg = testProxyConfig();
    cfg.plugin.configuration = encodeSnapshotConfiguration({ tracing: { collector: { cluster: "jaeger" } } }, SNAP);
    const r = validateBootstrap(renderBootstrap(cfg));
    expect(r.errors).toEqual([{ path: `${at}#$.tracing.collector.cluster`, message: expect.stringMatching(/"jaeger" names no cluster/) }]);

    cfg.plugin.configuration = frameSnapshotConfiguration('{"a":1}', SNAP, 2);
    expect(validateBootstrap(renderBootstrap(cfg)).errors).toEqual([
      { path: at, message: expect.stringMatching(/snapshot configuration with a bad frame: frame format 2 is not supported/) },
    ]);
    // Targets hand Envoy deliberately bad configurations: the plugin's own bytes are then not judged.
    expect(validateBootstrap(renderBootstrap(cfg), { checkPluginConfiguration: false }).ok).toBe(true);

    const b = clone(renderBootstrap(testProxyConfig()));
    wasmConfig(b).configuration = { "@type": TYPE_URL.bytesValue, value: "not base64!" };
    expect(validateBootstrap(b).errors).toEqual([{ path: at, message: expect.stringMatching(/expected base64 bytes/) }]);
  });
});

// Target selection policy, the Envoy admin client (against an emulated admin API), the local
// Envoy discovery and the container module's wiring: everything that needs no Envoy to check.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TYPE_URL } from "../../harness/envoy-config/bootstrap.js";
import { EnvoyConfigValidationError } from "../../harness/envoy-config/validate.js";
import { encodeSnapshotConfiguration } from "../../harness/rules/snapshot-configuration.js";
import { awaitEcdsApplied, listenerPort, readEcdsCounters, readStat, waitForReady } from "../../harness/targets/envoy-admin.js";
import { envoyLocalTarget, findEnvoyBinary } from "../../harness/targets/envoy-local.js";
import { LogBuffer } from "../../harness/targets/log-buffer.js";
import { getTarget, parseTargetList, planTargets, requiredTargetNames, selectedTargetNames, skipLine } from "../../harness/targets/registry.js";
import { testProxyConfig, type Json } from "./helpers.js";

describe("target selection", () => {
  it("selects all targets by default and honours EDGEWATCH_TARGETS", () => {
    expect(selectedTargetNames({})).toEqual(["embedded", "envoy", "envoy-local"]);
    expect(selectedTargetNames({ EDGEWATCH_TARGETS: "envoy, embedded" })).toEqual(["embedded", "envoy"]);
  });

  it("adds a required target to the selection", () => {
    expect(selectedTargetNames({ EDGEWATCH_TARGETS: "embedded", EDGEWATCH_REQUIRE_TARGET: "envoy" })).toEqual(["embedded", "envoy"]);
    expect(requiredTargetNames({ EDGEWATCH_REQUIRE_TARGET: "envoy,envoy-local" })).toEqual(["envoy", "envoy-local"]);
    expect(requiredTargetNames({})).toEqual([]);
  });

  it("rejects unknown target names instead of silently running nothing", () => {
    expect(() => parseTargetList("envoy,nginx", "EDGEWATCH_TARGETS")).toThrow(/EDGEWATCH_TARGETS: unknown target "nginx"/);
    expect(() => getTarget("nginx" as never)).toThrow(/unknown target/);
  });

  it("runs available targets, skips unavailable or unselected ones, fails required ones that cannot run", () => {
    const av = { embedded: { available: true }, envoy: { available: false, reason: "no docker" }, "envoy-local": { available: false, reason: "no binary" } };
    expect(planTargets(["embedded", "envoy", "envoy-local"], av, {})).toEqual([
      { name: "embedded", mode: "run" },
      { name: "envoy", mode: "skip", reason: "no docker" },
      { name: "envoy-local", mode: "skip", reason: "no binary" },
    ]);
    expect(planTargets(["envoy", "envoy-local"], av, { EDGEWATCH_REQUIRE_TARGET: "envoy" })).toEqual([
      { name: "envoy", mode: "fail", reason: "no docker" },
      { name: "envoy-local", mode: "skip", reason: "no binary" },
    ]);
    expect(planTargets(["embedded", "envoy"], av, { EDGEWATCH_TARGETS: "envoy" })).toEqual([
      { name: "embedded", mode: "skip", reason: "not selected (EDGEWATCH_TARGETS=envoy)" },
      { name: "envoy", mode: "skip", reason: "no docker" },
    ]);
  });

  it("words the skip line exactly", () => {
    expect(skipLine("envoy", "no container runtime found (Docker/Podman socket): x")).toBe(
      "[edgewatch] skipping envoy target: no container runtime found (Docker/Podman socket): x",
    );
  });

  it("reports the envoy target either available or with the container-runtime reason", async () => {
    const av = await getTarget("envoy").availability();
    if (!av.available) expect(av.reason).toMatch(/^no container runtime found \(Docker\/Podman socket\): .+/);
    else expect(av.reason).toBeUndefined();
  });
});

describe("envoy-local binary discovery", () => {
  let dir: string;
  const saved = { ...process.env };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgewatch-fake-envoy-"));
  });
  afterEach(() => {
    process.env.PATH = saved.PATH;
    if (saved.EDGEWATCH_ENVOY_BIN === undefined) delete process.env.EDGEWATCH_ENVOY_BIN;
    else process.env.EDGEWATCH_ENVOY_BIN = saved.EDGEWATCH_ENVOY_BIN;
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function script(name: string, body: string, mode = 0o755): string {
    const p = path.join(dir, name);
    fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode });
    return p;
  }

  it("finds an executable envoy on PATH, ignores a non-executable one, prefers EDGEWATCH_ENVOY_BIN", () => {
    const binDir = fs.mkdtempSync(path.join(dir, "bin-"));
    const noExec = fs.mkdtempSync(path.join(dir, "noexec-"));
    fs.writeFileSync(path.join(noExec, "envoy"), "x", { mode: 0o644 });
    fs.writeFileSync(path.join(binDir, "envoy"), "#!/bin/sh\n", { mode: 0o755 });
    expect(findEnvoyBinary({ PATH: [noExec, binDir].join(path.delimiter) })).toBe(path.join(binDir, "envoy"));
    expect(findEnvoyBinary({ PATH: noExec })).toBeUndefined();
    const explicit = script("my-envoy", "exit 0");
    expect(findEnvoyBinary({ PATH: binDir, EDGEWATCH_ENVOY_BIN: explicit })).toBe(explicit);
    expect(findEnvoyBinary({ PATH: binDir, EDGEWATCH_ENVOY_BIN: path.join(dir, "missing") })).toBeUndefined();
  });

  it("is available when `envoy --version` runs, unavailable with the reason when it fails or is absent", async () => {
    process.env.EDGEWATCH_ENVOY_BIN = script("good-envoy", 'echo "envoy  version: abc/1.32.13/Clean/RELEASE/BoringSSL"');
    expect(await envoyLocalTarget.availability()).toEqual({ available: true });
    process.env.EDGEWATCH_ENVOY_BIN = script("bad-envoy", "echo boom >&2; exit 3");
    const bad = await envoyLocalTarget.availability();
    expect(bad.available).toBe(false);
    expect(bad.reason).toMatch(/bad-envoy --version exited with 3: boom/);
    delete process.env.EDGEWATCH_ENVOY_BIN;
    process.env.PATH = dir + "/none";
    expect(await envoyLocalTarget.availability()).toEqual({ available: false, reason: "no envoy binary on PATH (which envoy: not found)" });
  });
});

/** A stand-in for Envoy's admin API with the response shapes Envoy uses. */
class FakeAdmin {
  counters: Record<string, number> = {};
  readyStatus = 503;
  listeners: unknown = { listener_statuses: [{ name: "edgewatch_ingress", local_address: { socket_address: { address: "127.0.0.1", port_value: 43210 } } }] };
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    if (url.pathname === "/ready") {
      res.writeHead(this.readyStatus).end(this.readyStatus === 200 ? "LIVE\n" : "PRE_INITIALIZING\n");
    } else if (url.pathname === "/stats") {
      const re = new RegExp(url.searchParams.get("filter") ?? "");
      res.writeHead(200).end(Object.entries(this.counters).filter(([k]) => re.test(k)).map(([k, v]) => `${k}: ${v}\n`).join(""));
    } else if (url.pathname === "/listeners" && url.searchParams.get("format") === "json") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(this.listeners));
    } else res.writeHead(404).end();
  });
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

describe("Envoy admin client", () => {
  const admin = new FakeAdmin();
  const reload = "extension_config_discovery.http_filter.edgewatch.config_reload";
  const fail = "extension_config_discovery.http_filter.edgewatch.config_fail";
  beforeAll(() => new Promise<void>((r) => admin.server.listen(0, "127.0.0.1", r)));
  afterAll(() => new Promise((r) => admin.server.close(r)));

  it("reads one stat exactly (not a longer name sharing the prefix), 0 when absent", async () => {
    admin.counters = { [reload]: 3, [`${reload}_time_ms`]: 99 };
    expect(await readStat(admin.url, reload)).toBe(3);
    expect(await readStat(admin.url, fail)).toBe(0);
  });

  it("resolves an ECDS push once config_reload grows", async () => {
    admin.counters = { [reload]: 1, [fail]: 0 };
    const before = await readEcdsCounters(admin.url, "edgewatch");
    setTimeout(() => (admin.counters[reload] = 2), 120);
    await expect(awaitEcdsApplied(admin.url, "edgewatch", before, 3000)).resolves.toBeUndefined();
  });

  it("rejects an ECDS push Envoy refused (config_fail grew) with a stable code and the log tail", async () => {
    admin.counters = { [reload]: 2, [fail]: 0 };
    const before = await readEcdsCounters(admin.url, "edgewatch");
    admin.counters[fail] = 1;
    await expect(awaitEcdsApplied(admin.url, "edgewatch", before, 3000, () => "wasm log: on_configure failed")).rejects.toMatchObject({
      code: "EDGEWATCH_CONFIG_REJECTED",
      message: expect.stringContaining("on_configure failed"),
    });
  });

  it("times out when neither counter moves", async () => {
    admin.counters = { [reload]: 2, [fail]: 1 };
    const before = await readEcdsCounters(admin.url, "edgewatch");
    await expect(awaitEcdsApplied(admin.url, "edgewatch", before, 200)).rejects.toMatchObject({ code: "EDGEWATCH_ECDS_TIMEOUT" });
  });

  it("finds the listener's bound port in /listeners?format=json", async () => {
    expect(await listenerPort(admin.url, "edgewatch_ingress")).toBe(43210);
    admin.listeners = { listener_statuses: [] };
    await expect(listenerPort(admin.url, "edgewatch_ingress")).rejects.toMatchObject({ code: "EDGEWATCH_ENVOY_ADMIN" });
  });

  it("waits for /ready to turn 200, and gives up early when the process died", async () => {
    admin.readyStatus = 503;
    setTimeout(() => (admin.readyStatus = 200), 150);
    await expect(waitForReady(admin.url, 3000)).resolves.toBeUndefined();
    admin.readyStatus = 503;
    await expect(waitForReady(admin.url, 200)).rejects.toMatchObject({ code: "EDGEWATCH_ENVOY_NOT_READY", message: expect.stringContaining("503 PRE_INITIALIZING") });
    await expect(waitForReady(admin.url, 3000, () => "exit 1")).rejects.toThrow(/exited before it was ready: exit 1/);
  });
});

describe("envoy-local target against a stand-in envoy binary (test/envoy/fixtures/fake-envoy.mjs)", () => {
  let dir: string;
  const saved = { ...process.env };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgewatch-fake-bin-"));
    const fixture = fileURLToPath(new URL("./fixtures/fake-envoy.mjs", import.meta.url));
    fs.writeFileSync(path.join(dir, "envoy"), `#!/bin/sh\nexec "${process.execPath}" "${fixture}" "$@"\n`, { mode: 0o755 });
    process.env.EDGEWATCH_ENVOY_BIN = path.join(dir, "envoy");
    process.env.FAKE_ENVOY_YAML = createRequire(import.meta.url).resolve("yaml");
  });
  afterEach(() => delete process.env.FAKE_ENVOY_CRASH);
  afterAll(() => {
    for (const k of ["EDGEWATCH_ENVOY_BIN", "FAKE_ENVOY_YAML"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function config() {
    const cfg = testProxyConfig({ listener: { address: "127.0.0.1", port: 0 }, admin: { address: "127.0.0.1", port: 0 }, workers: 3 });
    cfg.plugin.wasmPath = fileURLToPath(new URL("./fixtures/fake-envoy.mjs", import.meta.url)); // any existing file
    return cfg;
  }

  it("starts with ports 0, finds admin and listener, pushes ECDS by rename, and cleans up on stop", async () => {
    expect(await envoyLocalTarget.availability()).toEqual({ available: true });
    const started = await envoyLocalTarget.start(config());
    const configDir = (started as unknown as { dir: string }).dir;
    try {
      expect(started.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${started.adminUrl}/ready`)).text()).toBe("LIVE\n");
      expect(await (await fetch(`${started.listenerUrl}/api/x`)).text()).toBe("fake-envoy /api/x");
      const argv = JSON.parse(fs.readFileSync(path.join(configDir, "argv.json"), "utf8")) as string[];
      expect(argv.slice(0, 4)).toEqual(["-c", path.join(configDir, "envoy.yaml"), "--concurrency", "3"]);
      expect(argv).toContain("--disable-hot-restart");

      const reload = "extension_config_discovery.http_filter.edgewatch.config_reload";
      expect(await readStat(started.adminUrl, reload)).toBe(1);
      await started.updatePluginConfiguration(JSON.stringify({ telemetry: { method_label: true } }));
      expect(await readStat(started.adminUrl, reload)).toBe(2);
      const ecds = YAML.parse(fs.readFileSync(path.join(configDir, "ecds", "edgewatch-filter.yaml"), "utf8")) as Json;
      expect(ecds.version_info).toBe("2");
      expect(ecds.resources[0].typed_config.config.configuration.value).toBe('{"telemetry":{"method_label":true}}');
      // Unchanged configuration: Envoy skips it (same hash), so the harness does not wait for a reload.
      await started.updatePluginConfiguration(JSON.stringify({ telemetry: { method_label: true } }));
      expect(await readStat(started.adminUrl, reload)).toBe(2);
      await expect(started.updatePluginConfiguration("REJECT")).rejects.toMatchObject({ code: "EDGEWATCH_CONFIG_REJECTED" });
      expect(started.logs?.()).toContain("starting main dispatch loop (concurrency 3)");
    } finally {
      await started.stop();
    }
    expect(fs.existsSync(configDir)).toBe(false);
    await expect(fetch(`${started.adminUrl}/ready`)).rejects.toThrow();
  });

  it("pushes a snapshot configuration given as bytes as a BytesValue (base64 of those bytes); the same bytes again are a no-op", async () => {
    const cfg = config();
    cfg.plugin.configuration = encodeSnapshotConfiguration({ telemetry: { method_label: false } }, Buffer.from("EWRS-stand-in"));
    const started = await envoyLocalTarget.start(cfg);
    const configDir = (started as unknown as { dir: string }).dir;
    const ecdsAny = () => (YAML.parse(fs.readFileSync(path.join(configDir, "ecds", "edgewatch-filter.yaml"), "utf8")) as Json).resources[0].typed_config.config.configuration;
    const reload = "extension_config_discovery.http_filter.edgewatch.config_reload";
    try {
      expect(ecdsAny()).toEqual({ "@type": TYPE_URL.bytesValue, value: Buffer.from(cfg.plugin.configuration).toString("base64") });
      // The initial bytes again, in a fresh copy: unchanged, nothing pushed.
      await started.updatePluginConfiguration(new Uint8Array(cfg.plugin.configuration as Uint8Array));
      expect(await readStat(started.adminUrl, reload)).toBe(1);
      const next = encodeSnapshotConfiguration({ telemetry: { method_label: true } }, Buffer.from("EWRS-stand-in"));
      await started.updatePluginConfiguration(next);
      expect(await readStat(started.adminUrl, reload)).toBe(2);
      expect(Buffer.from(ecdsAny().value, "base64").equals(next)).toBe(true);
      expect(ecdsAny()["@type"]).toBe(TYPE_URL.bytesValue);
      // Back to JSON text: a StringValue again.
      await started.updatePluginConfiguration(Buffer.from('{"telemetry":{}}'));
      expect(ecdsAny()).toEqual({ "@type": TYPE_URL.stringValue, value: '{"telemetry":{}}' });
    } finally {
      await started.stop();
    }
  });

  it("fails start with Envoy's own output when the process exits during startup", async () => {
    process.env.FAKE_ENVOY_CRASH = "1";
    await expect(envoyLocalTarget.start(config())).rejects.toThrow(/exited with 1 during startup:[\s\S]*fake failure/);
  });
});

describe("EnvoyContainer wiring (no container runtime needed)", () => {
  let wasm: string;
  beforeAll(() => {
    wasm = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "edgewatch-wasm-")), "f.wasm");
    fs.writeFileSync(wasm, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  });

  it("copies an ECDS bootstrap bound to 0.0.0.0 that reaches host fixtures via host.testcontainers.internal", async () => {
    const { EnvoyContainer, CONTAINER_PATHS, HOST_ALIAS } = await import("../../harness/targets/envoy-container.js");
    const cfg = testProxyConfig({ listener: { address: "127.0.0.1", port: 0 }, admin: { address: "127.0.0.1", port: 0 }, workers: 3 });
    cfg.plugin.wasmPath = wasm;
    const c = new EnvoyContainer(cfg, { image: "envoyproxy/envoy:v1.32.13" }) as unknown as Json;
    const copied = Object.fromEntries((c.contentsToCopy as Array<{ target: string; content: string }>).map((x) => [x.target, YAML.parse(x.content)]));
    const b = copied[CONTAINER_PATHS.bootstrap];
    expect(b.admin.address.socket_address).toEqual({ address: "0.0.0.0", port_value: 9901 });
    expect(b.static_resources.listeners[0].address.socket_address).toEqual({ address: "0.0.0.0", port_value: 10000 });
    const hosts = b.static_resources.clusters.map((x: Json) => x.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address);
    expect(hosts).toEqual([HOST_ALIAS, HOST_ALIAS]);
    expect(copied[CONTAINER_PATHS.ecds].resources[0].typed_config.config.vm_config.code.local.filename).toBe(CONTAINER_PATHS.wasm);
    expect(c.filesToCopy).toEqual([{ source: wasm, target: CONTAINER_PATHS.wasm, mode: 0o644 }]);
    expect(c.createOpts.Cmd).toEqual(["-c", CONTAINER_PATHS.bootstrap, "--concurrency", "3", "-l", "info", "--component-log-level", "wasm:debug"]);
    expect(c.hostPorts).toEqual([18080, 18081]);
  });

  it("refuses an invalid config, a missing module, and listener == admin port before touching Docker", async () => {
    const { EnvoyContainer } = await import("../../harness/targets/envoy-container.js");
    const bad = testProxyConfig();
    bad.plugin.wasmPath = wasm;
    bad.routes[0]!.cluster = "nowhere";
    expect(() => new EnvoyContainer(bad)).toThrow(EnvoyConfigValidationError);
    const noWasm = testProxyConfig();
    noWasm.plugin.wasmPath = path.join(os.tmpdir(), "does-not-exist.wasm");
    expect(() => new EnvoyContainer(noWasm)).toThrow(/wasm module not found/);
    const clash = testProxyConfig({ admin: { address: "127.0.0.1", port: 18000 } });
    clash.plugin.wasmPath = wasm;
    expect(() => new EnvoyContainer(clash)).toThrow(/both use port 18000/);
  });
});

describe("LogBuffer", () => {
  it("keeps whole lines, the unterminated tail, and only the newest maxLines", () => {
    const b = new LogBuffer(3);
    b.push("a\nb\r\nc");
    b.push("d\ne\nf");
    expect(b.text()).toBe("b\ncd\ne\nf");
    expect(b.tail(2)).toBe("e\nf");
  });

  it("reads what was logged after a mark, and says so when lines after it were dropped", () => {
    const b = new LogBuffer(3);
    b.push("a\nb\n");
    const m = b.mark();
    b.push("c\nd\n");
    expect(b.since(m)).toBe("c\nd");
    b.push("e\nf\ng");
    expect(b.since(m)).toBe("[log-buffer: 1 line(s) after the mark were dropped]\nd\ne\nf\ng");
    expect(b.since(b.mark())).toBe("g");
  });
});

// `edgewatch serve` as a user runs it: config file + watched rules file, real HTTP through the
// embedded proxy, a rules edit applied, a bad edit rejected with the filter's reason while the
// previous rules keep serving, SIGTERM → clean exit 0.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstreamServer, type UpstreamServer } from "../../harness/fixtures/upstream-server.js";
import { BIN, ROOT } from "./helpers.js";

let upstream: UpstreamServer;
let child: ChildProcess | undefined;
let out = "";

beforeAll(async () => {
  upstream = await startUpstreamServer();
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  await upstream.close();
});

function waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const started = Date.now();
  return new Promise((res, rej) => {
    const tick = () => {
      const m = out.match(pattern);
      if (m) return res(m);
      if (Date.now() - started > timeoutMs) return rej(new Error(`timed out waiting for ${pattern}; output so far:\n${out}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}

async function get(url: string, xff: string): Promise<{ status: number; rule: string | null }> {
  const res = await fetch(url, { headers: { "x-forwarded-for": xff } });
  await res.arrayBuffer();
  return { status: res.status, rule: res.headers.get("x-edgewatch-rule") };
}

const rules = (version: number, cidr: string) =>
  JSON.stringify({ version, mode: "deny", access: [{ id: "deny-net", action: "deny", cidrs: [cidr] }] }, null, 2);

describe("edgewatch serve", () => {
  it("serves, reloads watched rules, rejects a bad edit, stops cleanly on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ew-serve-"));
    const cfg = join(dir, "proxy.yaml");
    writeFileSync(
      cfg,
      [
        "listener: { address: 127.0.0.1, port: 0 }",
        "admin: { address: 127.0.0.1, port: 0 }",
        "workers: 2",
        "xffNumTrustedHops: 1",
        "routes:",
        "  - { name: api, match: { prefix: / }, cluster: app }",
        "clusters:",
        `  - { name: app, address: 127.0.0.1, port: ${upstream.port} }`,
        "plugin:",
        "  configuration: { client_address: { source: xff, xff_trusted_hops: 1 }, tracing: { enabled: false } }",
      ].join("\n"),
    );
    const rulesFile = join(dir, "rules.json");
    writeFileSync(rulesFile, rules(1, "203.0.113.0/24"));
    child = spawn(process.execPath, [BIN, "serve", "--config", cfg, "--rules", rulesFile, "--debounce", "50"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const listener = (await waitFor(/listener\s+(http:\/\/127\.0\.0\.1:\d+)/))[1];
    await waitFor(/admin\s+http:\/\/127\.0\.0\.1:\d+/);

    expect(await get(`${listener}/a`, "203.0.113.5")).toEqual({ status: 403, rule: "deny-net" });
    expect((await get(`${listener}/a`, "192.0.2.5")).status).toBe(200);

    writeFileSync(rulesFile, rules(2, "192.0.2.0/24"));
    await waitFor(/rules reloaded: version 2 applied on every worker/);
    for (let i = 0; i < 4; i++) expect((await get(`${listener}/a`, "192.0.2.5")).status).toBe(403);
    expect((await get(`${listener}/a`, "203.0.113.5")).status).toBe(200);

    writeFileSync(rulesFile, rules(3, "192.0.2.0/33"));
    await waitFor(/rules rejected by the filter: .*rules\.json:9:9: \[cidr\] \$\.rules\.access\[0\]\.cidrs\[0\]: bad CIDR "192\.0\.2\.0\/33"; rules version 2 stays in force/);
    for (let i = 0; i < 4; i++) expect((await get(`${listener}/a`, "192.0.2.5")).status).toBe(403);

    const exited = new Promise<number | null>((r) => child!.on("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out).toMatch(/edgewatch serve: stopped/);
  });

  it("a config the filter rejects fails at start with the reason (exit 1)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ew-serve-bad-"));
    const cfg = join(dir, "proxy.json");
    writeFileSync(
      cfg,
      JSON.stringify({
        listener: { port: 0 },
        admin: { port: 0 },
        routes: [{ name: "r", match: { prefix: "/" }, cluster: "app" }],
        clusters: [{ name: "app", port: upstream.port }],
        plugin: { configuration: { client_address: { source: "nowhere" } } },
      }),
    );
    const p = spawn(process.execPath, [BIN, "serve", "--config", cfg], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    p.stdout.on("data", (d) => (text += d));
    p.stderr.on("data", (d) => (text += d));
    const code = await new Promise<number | null>((r) => {
      const t = setTimeout(() => p.kill("SIGKILL"), 30_000);
      p.on("exit", (c) => {
        clearTimeout(t);
        r(c);
      });
    });
    expect(code).toBe(1);
    expect(text).toMatch(/the filter rejected its configuration: \[\w+\] .*client_address/);
    // Said once, by the CLI; nothing claims a previous configuration that never existed.
    expect(text).not.toMatch(/keeping the previous configuration/);
    expect(text).not.toMatch(/Wasm VM failed/);
    expect(text.match(/client_address/g)).toHaveLength(1);
  });
});

describe("edgewatch serve output", () => {
  it("pull mode: each pulled version and each rejected pulled document is printed, timestamped, without log stutter", async () => {
    const { startRulesServer } = await import("../../harness/cli/rules-server.js");
    const { startServe } = await import("../support/serve-process.js");
    const rs = await startRulesServer({ port: 0, publishPort: 0 });
    rs.service.publish({ version: 1, access: [] });
    const s = await startServe({
      upstreamPort: upstream.port,
      clusters: [{ name: "rules", port: rs.rulesPort }],
      plugin: {
        tracing: { enabled: false },
        rules_service: { cluster: "rules", authority: "rules", path: rs.rulesPath, long_poll_ms: 2000, timeout_ms: 3000, tick_ms: 50 },
      },
      extraArgs: ["--log-level", "info"],
    });
    try {
      const ts = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
      await s.waitFor(new RegExp(`^${ts} rules reloaded: version 1 pulled from cluster rules and published to every worker \\(`, "m"));
      rs.service.publish({ version: 2, access: [{ id: "x", cidrs: ["192.0.2.0/24"] }] });
      await s.waitFor(new RegExp(`^${ts} rules reloaded: version 2 pulled from cluster rules`, "m"));
      rs.service.publish('{"version": 3, "access": [{"id": "x", "cidrs": ["192.0.2.0/33"]}]}');
      await s.waitFor(new RegExp(`^${ts} rules rejected by the filter \\(pulled from cluster rules\\): \\[cidr\\] .*bad CIDR "192\\.0\\.2\\.0/33"; rules version 2 stays in force`, "m"));
      // Proxy log lines at --log-level info are shown once, the CLI way.
      await s.waitFor(new RegExp(`^${ts} filter\\[[\\w-]+\\] info: `, "m"));
      expect(s.output()).not.toMatch(/wasm log/);
      expect(s.output()).not.toMatch(/edgewatch: edgewatch:/);
    } finally {
      await s.stop();
      await rs.close();
    }
  }, 60_000);
});

describe("edgewatch serve with a snapshot configuration (plugin.configuration_file, binary)", () => {
  const SETTINGS = { client_address: { source: "xff", xff_trusted_hops: 1 }, tracing: { enabled: false } };
  /** `rules` built into a snapshot configuration by the filter's own .wasm, as `rules snapshot --plugin` does. */
  const snapshotConfiguration = async (rulesText: string) => {
    const { SnapshotBuilder } = await import("../../harness/rules/snapshot-builder.js");
    const { encodeSnapshotConfiguration } = await import("../../harness/rules/snapshot-configuration.js");
    const built = (await SnapshotBuilder.load(join(ROOT, "build/edgewatch.wasm"))).build(rulesText);
    expect(built.ok).toBe(true);
    return encodeSnapshotConfiguration(SETTINGS, built.snapshot!);
  };

  it("the file's bytes are the plugin configuration: its settings and its snapshot's rules are enforced", async () => {
    const { startServe } = await import("../support/serve-process.js");
    const s = await startServe({ upstreamPort: upstream.port, pluginFile: await snapshotConfiguration(rules(4, "203.0.113.0/24")) });
    try {
      expect(s.output()).toMatch(/rules\s+the snapshot of the snapshot configuration/);
      // Blocking by X-Forwarded-For needs the settings (client_address: xff); the CIDR comes from the snapshot.
      expect(await get(`${s.listenerUrl}/a`, "203.0.113.5")).toEqual({ status: 403, rule: "deny-net" });
      expect((await get(`${s.listenerUrl}/a`, "192.0.2.5")).status).toBe(200);
      expect(await s.stop()).toBe(0);
    } finally {
      await s.stop();
    }
  }, 60_000);

  it("--rules: each version of the file is built into a snapshot configuration with the same settings and pushed; a bad one is not pushed", async () => {
    const { startServe } = await import("../support/serve-process.js");
    const s = await startServe({ upstreamPort: upstream.port, pluginFile: await snapshotConfiguration(rules(4, "203.0.113.0/24")), rules: rules(5, "198.51.100.0/24") });
    try {
      expect(s.output()).toMatch(/rules\s+.*rules\.json \(watched; rules version 5; each version pushed as a snapshot configuration\)/);
      // The rules file replaces the snapshot's rules; the settings stay.
      expect(await get(`${s.listenerUrl}/a`, "198.51.100.7")).toEqual({ status: 403, rule: "deny-net" });
      expect((await get(`${s.listenerUrl}/a`, "203.0.113.5")).status).toBe(200);

      writeFileSync(join(s.dir, "rules.json"), rules(6, "192.0.2.0/24"));
      await s.waitFor(/rules reloaded: version 6 applied on every worker in [\d.]+ ms \(.*loaded from a snapshot configuration\)/);
      for (let i = 0; i < 4; i++) expect(await get(`${s.listenerUrl}/a`, "192.0.2.5")).toEqual({ status: 403, rule: "deny-net" });
      expect((await get(`${s.listenerUrl}/a`, "198.51.100.7")).status).toBe(200);

      writeFileSync(join(s.dir, "rules.json"), rules(7, "192.0.2.0/33"));
      await s.waitFor(
        /rules rejected by the filter \(building the snapshot; nothing pushed\): .*rules\.json:9:9: \[cidr\] \$\.access\[0\]\.cidrs\[0\]: bad CIDR "192\.0\.2\.0\/33"; rules version 6 stays in force/,
      );
      for (let i = 0; i < 4; i++) expect((await get(`${s.listenerUrl}/a`, "192.0.2.5")).status).toBe(403);
      expect(await s.stop()).toBe(0);
    } finally {
      await s.stop();
    }
  }, 60_000);
});

describe("edgewatch serve: a signed snapshot configuration with --rules", () => {
  it("settings with rules_signing: the filter rejects the rebuilt snapshot at start (the rules_signature signs the original), exit 1 with its [signature] reason", async () => {
    const { SnapshotBuilder } = await import("../../harness/rules/snapshot-builder.js");
    const { encodeSnapshotConfiguration } = await import("../../harness/rules/snapshot-configuration.js");
    const { generateSigningKey, parsePrivateKey, signingSection, signRules } = await import("../../harness/signing/rules-signing.js");
    const { startServe } = await import("../support/serve-process.js");
    const key = generateSigningKey("k1");
    const built = (await SnapshotBuilder.load(join(ROOT, "build/edgewatch.wasm"))).build(rules(1, "203.0.113.0/24"));
    const settings = {
      client_address: { source: "xff", xff_trusted_hops: 1 },
      rules_signing: signingSection([{ keyId: "k1", publicKey: key.publicKey }]),
      rules_signature: signRules(built.snapshot!, parsePrivateKey(key.privateKeyPem, "key"), "k1"),
    };
    const signed = encodeSnapshotConfiguration(settings, built.snapshot!);
    // Alone it serves; with --rules the rebuilt snapshot does not match the signature.
    const alone = await startServe({ upstreamPort: upstream.port, pluginFile: signed });
    expect(await alone.stop()).toBe(0);
    await expect(startServe({ upstreamPort: upstream.port, pluginFile: signed, rules: rules(2, "192.0.2.0/24") })).rejects.toThrow(
      /serve exited \(1\)[\s\S]*the filter rejected its configuration: \[signature\] the snapshot of the snapshot configuration \(\$\.rules_signature\) has a bad signature/,
    );
  }, 60_000);
});

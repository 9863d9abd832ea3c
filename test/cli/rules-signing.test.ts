// `edgewatch rules keygen`, `rules sign`, and signatures through `rules push --sign` / `rules serve
// --signature` (issue 15). Signatures are checked with node:crypto here and by the filter in
// test/conformance/safety-rails.test.ts.
import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRulesServer, type RulesServer } from "../../harness/cli/rules-server.js";
import { parseSignatureHeaderValue, verifyRules } from "../../harness/signing/rules-signing.js";
import { BIN, ROOT, runEdgewatch } from "./helpers.js";

let dir: string;
let keyFile: string;
let publicKey: Buffer;
let keyId: string;
const DOC = JSON.stringify({ version: 7, access: [{ id: "scanners", cidrs: ["203.0.113.0/24"] }] }, null, 2) + "\n";
let docFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ew-sign-"));
  docFile = join(dir, "rules.json");
  writeFileSync(docFile, DOC);
  keyFile = join(dir, "ops.pem");
  const r = await runEdgewatch(["rules", "keygen", "--out", keyFile, "--key-id", "ops-2026-07", "--json"]);
  expect(r.code, r.stderr).toBe(0);
  const j = JSON.parse(r.stdout) as { key_id: string; public_key: string; private_key_file: string };
  keyId = j.key_id;
  publicKey = Buffer.from(j.public_key, "base64");
});

describe("edgewatch rules keygen", () => {
  it("writes a PEM private key readable only by its owner and prints the public key with its key id", async () => {
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(keyId).toBe("ops-2026-07");
    expect(publicKey.length).toBe(32);
    const other = join(dir, "other.pem");
    const r = await runEdgewatch(["rules", "keygen", "--out", other]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/key_id {6}ed25519-[0-9a-f]{16}\npublic_key  [A-Za-z0-9+/]{43}=/);
    expect(r.stdout).toMatch(/"rules_signing": \{"keys":\[\{"key_id":"ed25519-[0-9a-f]{16}","public_key":"/);
    expect(r.stdout).not.toMatch(/PRIVATE KEY/);
  });

  it("refuses to overwrite an existing key without --force, and bad key ids", async () => {
    const before = readFileSync(keyFile, "utf8");
    const r = await runEdgewatch(["rules", "keygen", "--out", keyFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exists; not overwriting/);
    expect(readFileSync(keyFile, "utf8")).toBe(before);
    expect((await runEdgewatch(["rules", "keygen", "--out", join(dir, "x.pem"), "--key-id", "bad id"])).code).toBe(2);
  });
});

describe("edgewatch rules sign", () => {
  it("signs the file's exact bytes: json, header and plugin formats all verify", async () => {
    const j = await runEdgewatch(["rules", "sign", docFile, "--key-file", keyFile, "--key-id", keyId]);
    expect(j.code, j.stderr).toBe(0);
    const sig = JSON.parse(j.stdout) as { key_id: string; sig: string };
    expect(sig.key_id).toBe(keyId);
    expect(verifyRules(readFileSync(docFile), sig, publicKey)).toBe(true);
    expect(verifyRules(Buffer.from(DOC.trim()), sig, publicKey)).toBe(false); // not the same bytes

    const h = await runEdgewatch(["rules", "sign", docFile, "--key-file", keyFile, "--key-id", keyId, "--format", "header", "--no-validate"]);
    const m = /^x-edgewatch-signature: (.*)\n$/.exec(h.stdout);
    expect(m).not.toBeNull();
    expect(verifyRules(readFileSync(docFile), parseSignatureHeaderValue(m![1])!, publicKey)).toBe(true);

    const p = await runEdgewatch(["rules", "sign", docFile, "--key-file", keyFile, "--key-id", keyId, "--format", "plugin", "--no-validate"]);
    const plugin = JSON.parse(p.stdout) as { rules_text: string; rules_signature: { key_id: string; sig: string } };
    expect(plugin.rules_text).toBe(DOC);
    expect(verifyRules(Buffer.from(plugin.rules_text, "utf8"), plugin.rules_signature, publicKey)).toBe(true);
  });

  it("takes the key from $EDGEWATCH_SIGNING_KEY; never from an argument", async () => {
    const r = await runEdgewatch(["rules", "sign", docFile, "--no-validate"], { env: { EDGEWATCH_SIGNING_KEY: readFileSync(keyFile, "utf8") } });
    expect(r.code, r.stderr).toBe(0);
    const sig = JSON.parse(r.stdout) as { key_id: string; sig: string };
    expect(sig.key_id).toMatch(/^ed25519-[0-9a-f]{16}$/);
    expect(verifyRules(readFileSync(docFile), sig, publicKey)).toBe(true);
    const none = await runEdgewatch(["rules", "sign", docFile, "--no-validate"], { env: { EDGEWATCH_SIGNING_KEY: "" } });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no signing key: give --key-file PATH or set EDGEWATCH_SIGNING_KEY/);
    const asArg = await runEdgewatch(["rules", "sign", docFile, "--key", readFileSync(keyFile, "utf8")]);
    expect(asArg.code).toBe(2);
    expect(asArg.stderr).toMatch(/unknown option '--key'/);
  });

  it("refuses a key that is not an Ed25519 private key, warns about a world-readable key file, and refuses an invalid document", async () => {
    const pub = join(dir, "pub.pem");
    writeFileSync(pub, "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA" + publicKey.toString("base64").slice(0, 40) + "\n-----END PUBLIC KEY-----\n");
    expect((await runEdgewatch(["rules", "sign", docFile, "--key-file", pub, "--no-validate"])).code).toBe(2);
    const loose = join(dir, "loose.pem");
    writeFileSync(loose, readFileSync(keyFile));
    chmodSync(loose, 0o644);
    const w = await runEdgewatch(["rules", "sign", docFile, "--key-file", loose, "--no-validate"]);
    expect(w.code).toBe(0);
    expect(w.stderr).toMatch(/readable by others \(mode 644\); chmod 600/);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ version: 1, access: [{ id: "x", cidrs: ["300.1.1.1/8"] }] }));
    const r = await runEdgewatch(["rules", "sign", bad, "--key-file", keyFile], { timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/invalid: .*\[cidr\]/);
  });
});

describe("signed publishing", () => {
  let srv: RulesServer;
  beforeAll(async () => { srv = await startRulesServer({ port: 0, publishPort: 0 }); });
  afterAll(async () => { await srv.close(); });

  it("rules push --sign sets the next version, signs the exact bytes and the service serves them with the header", async () => {
    const before = srv.service.version;
    const r = await runEdgewatch(["rules", "push", docFile, "--to", srv.publishUrl, "--key-file", keyFile, "--key-id", keyId, "--no-validate"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`version ${before + 1}, signed by key ops-2026-07`));
    const res = await fetch(srv.rulesUrl);
    const body = Buffer.from(await res.arrayBuffer());
    expect(JSON.parse(body.toString()).version).toBe(before + 1);
    const sig = parseSignatureHeaderValue(res.headers.get("x-edgewatch-signature") ?? "");
    expect(sig?.key_id).toBe("ops-2026-07");
    expect(verifyRules(body, sig!, publicKey)).toBe(true);
    const status = (await (await fetch(`${srv.publishUrl}/status`)).json()) as { signed_by: string };
    expect(status.signed_by).toBe("ops-2026-07");
  });

  it("the publish endpoint refuses a malformed signature header", async () => {
    const r = await fetch(`${srv.publishUrl}/publish`, { method: "POST", body: DOC, headers: { "x-edgewatch-signature": "ops:abc" } });
    expect(r.status).toBe(400);
  });

  it("rules serve --file F --signature F.sig serves F byte for byte with its signature", async () => {
    const sigFile = join(dir, "rules.sig");
    const s = await runEdgewatch(["rules", "sign", docFile, "--key-file", keyFile, "--key-id", keyId, "--out", sigFile, "--no-validate"]);
    expect(s.code, s.stderr).toBe(0);
    const child = spawn(process.execPath, [BIN, "rules", "serve", "--port", "0", "--publish-port", "0", "--file", docFile, "--signature", sigFile], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    try {
      let out = "";
      const url = await new Promise<string>((res, rej) => {
        const t = setTimeout(() => rej(new Error(`serve did not start: ${out}`)), 20_000);
        child.stdout.on("data", (d) => {
          out += d;
          const m = /rules {4}(http:\/\/\S+)/.exec(out);
          if (m) { clearTimeout(t); res(m[1]); }
        });
      });
      const res = await fetch(url);
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.toString()).toBe(DOC);
      expect(verifyRules(body, parseSignatureHeaderValue(res.headers.get("x-edgewatch-signature")!)!, publicKey)).toBe(true);
    } finally {
      child.kill("SIGTERM");
    }
  });
});

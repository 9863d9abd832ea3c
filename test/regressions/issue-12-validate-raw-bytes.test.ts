/**
 * Issue 12, defect 5: `rules validate` accepted invalid UTF-8. The CLI decoded the file as UTF-8 text
 * before the filter saw it, so `\xff\xfe` inside a string became U+FFFD and the document was reported
 * valid (exit 0), while the filter itself rejects invalid UTF-8 in a pulled document.
 * Fix: the file's bytes go to the filter unchanged (PluginHostOptions.configurationBytes), so the CLI
 * and the filter cannot disagree; the verdict is placed at file:line:column. Also: a UTF-8 byte order
 * mark (rejected, like the filter does in a pushed document, with a hint), stdin (`-`), several files
 * per call, bytes that are not one JSON value never spliced into the configuration, and no control
 * characters echoed to the terminal.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT, runEdgewatch } from "../cli/helpers.js";

let dir: string;
const file = (name: string, bytes: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ew-issue12-validate-"));
});

// The must-show document: printf '{…"body":"x\xff\xfey"}]}' > bad.json
const BAD_UTF8 = Buffer.concat([
  Buffer.from('{"version":1,"mode":"deny","access":[{"id":"a","cidrs":["10.0.0.0/8"],"body":"x'),
  Buffer.from([0xff, 0xfe]),
  Buffer.from('y"}]}'),
]);

function runWithStdin(args: string[], input: Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const t = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", rej);
    child.on("close", (code) => {
      clearTimeout(t);
      res({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe.concurrent("issue-12: rules validate hands the filter the raw bytes", () => {
  it("invalid UTF-8 inside a string is invalid (exit 1) with the filter's reason and its position", async () => {
    const r = await runEdgewatch(["rules", "validate", file("bad.json", BAD_UTF8)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid: .*bad\.json:1:80: \[json\] invalid UTF-8$/m);
    expect(r.stdout).toMatch(/hint: .*not valid UTF-8/);
  });

  it("the same bytes from stdin (-) get the same verdict", async () => {
    const r = await runWithStdin(["rules", "validate", "-"], BAD_UTF8);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid: <stdin>:1:80: \[json\] invalid UTF-8$/m);
    const good = await runWithStdin(["rules", "validate", "-"], Buffer.from('{"version": 4, "access": []}'));
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^valid: <stdin>: rules version 4 applied/m);
  });

  it("a UTF-8 byte order mark is rejected as the filter rejects it in a pushed document, with a hint", async () => {
    const r = await runEdgewatch(["rules", "validate", file("bom.json", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"version":1}')]))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid: .*bom\.json:1:1: \[json\] malformed JSON: unexpected character$/m);
    expect(r.stdout).toMatch(/hint: the file starts with a UTF-8 byte order mark/);
  });

  it("several files: one verdict line each, exit 1 when any is invalid; an unreadable one is exit 2 and the rest still checked", async () => {
    const ok = file("ok.json", '{"version": 3, "access": [{"id": "x", "cidrs": ["192.0.2.0/24"]}]}');
    const cidr = file("cidr.json", '{"version": 3,\n "access": [\n  {"id": "x", "cidrs": ["192.0.2.0/33"]}]}');
    const r = await runEdgewatch(["rules", "validate", ok, cidr]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^valid: .*ok\.json: rules version 3 applied/);
    expect(lines[1]).toMatch(/^invalid: .*cidr\.json:3:25: \[cidr\] \$\.rules\.access\[0\]\.cidrs\[0\]: bad CIDR "192\.0\.2\.0\/33"$/);
    const withMissing = await runEdgewatch(["rules", "validate", ok, join(dir, "missing.json")]);
    expect(withMissing.code).toBe(2);
    expect(withMissing.stdout).toMatch(/^valid: .*ok\.json/m);
    expect(withMissing.stderr).toMatch(/missing\.json: rules file not found/);
    const json = await runEdgewatch(["rules", "validate", "--json", ok, cidr]);
    const verdicts = json.stdout.trim().split("\n").map((l) => JSON.parse(l) as { valid: boolean; reason?: string; line?: number; column?: number });
    expect(verdicts.map((v) => [v.valid, v.reason, v.line, v.column])).toEqual([[true, undefined, undefined, undefined], [false, "cidr", 3, 25]]);
  });

  it("bytes that are not one JSON value are never spliced into the plugin configuration", async () => {
    // Spliced as {"rules":<file>} this would be a valid configuration with client_address from the file.
    const r = await runEdgewatch(["rules", "validate", file("inject.json", '{"version": 1}, "client_address": {"source": "xff"}')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid: .*inject\.json:1:15: \[json\] malformed JSON: unexpected data after the top-level value$/m);
  });

  it("control characters from the file name or the document never reach the terminal raw", async () => {
    const p = file("evil\u001b[2J.json", '{"version":1,"access":[{"id":"a","cidrs":["10.0.0.0/8\u001b[31m"]}]}');
    const r = await runEdgewatch(["rules", "validate", p]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/\u001b/);
    expect(r.stdout).toContain("evil\\x1b[2J.json");
  });
});

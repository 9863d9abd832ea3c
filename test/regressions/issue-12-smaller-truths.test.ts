/**
 * Issue 12, defect 10 ("smaller truths"), the CLI and README part:
 *  - `demo --mode push` printed `[error] … Wasm VM failed` in a step that succeeds (the rejection it
 *    provokes on purpose); now the demo says what it is and prints no error line;
 *  - `serve --help` named examples/proxy.yaml, which does not exist;
 *  - `rules push --help` pointed --to at the filter's fetch port (8081, answers 404 to a publish);
 *  - a malformed rules file was exit 1 in `rules validate` and exit 2 in `rules push`, and the help
 *    said "malformed file" is a usage error;
 *  - the rules README's example reads as if `admin-only` blocks /admin for everyone, while the more
 *    specific `office` allow wins: the README now says so, and this test holds it to that.
 * (tracing.collector.path "" and edgewatch_trace_spans_kept_total are the filter's part of the item.)
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../harness/cli/main.js";
import { startRulesServer, type RulesServer } from "../../harness/cli/rules-server.js";
import { ROOT, runEdgewatch } from "../cli/helpers.js";
import { FuzzHost, peer } from "./support.js";

let dir: string;
let rules: RulesServer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ew-issue12-truths-"));
  rules = await startRulesServer({ port: 0, publishPort: 0 });
});
afterAll(async () => {
  await rules?.close();
});

function helpOf(path: string[]): string {
  let cmd = buildProgram();
  for (const p of path) cmd = cmd.commands.find((c) => c.name() === p)!;
  let text = cmd.helpInformation();
  // addHelpText("after") output is not part of helpInformation(): capture it the way commander prints it.
  const chunks: string[] = [];
  cmd.configureOutput({ writeOut: (s) => chunks.push(s), writeErr: (s) => chunks.push(s) });
  cmd.outputHelp();
  text += chunks.join("");
  return text;
}

describe.concurrent("issue-12: smaller truths", () => {
  it("demo --mode push prints no error line; it explains the canary rejection it provokes", async () => {
    const r = await runEdgewatch(["demo", "--mode", "push", "--requests", "200", "--concurrency", "8"], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\berror\b/i);
    expect(r.stdout).not.toMatch(/\[error\]/);
    expect(r.stdout).toMatch(/rejected by the filter: \[cidr\] .*bad CIDR "203\.0\.113\.0\/33"/);
    expect(r.stdout).toMatch(/the canary VM refused it \(Envoy logs that as "Wasm VM failed … unable to configure" at error level;/);
  }, 120_000);

  it("every file path the help texts name exists", () => {
    const named = new Set<string>();
    const visit = (path: string[]) => {
      const text = helpOf(path);
      for (const m of text.matchAll(/(?:^|\s)((?:[\w.-]+\/)+[\w.-]+\.(?:ya?ml|json))\b/g)) named.add(m[1]);
      let cmd = buildProgram();
      for (const p of path) cmd = cmd.commands.find((c) => c.name() === p)!;
      for (const c of cmd.commands) visit([...path, c.name()]);
    };
    visit([]);
    expect([...named]).toContain("harness/cli/examples/serve.yaml");
    // Files a run writes (bench results) are outputs, not paths a user must already have.
    for (const p of [...named].filter((x) => !x.startsWith("bench/results/"))) expect(existsSync(join(ROOT, p)), `${p} (named in --help)`).toBe(true);
  });

  it("rules push --help sends --to to the publish port, which is what accepts a push", async () => {
    const help = helpOf(["rules", "push"]);
    expect(help).not.toMatch(/--to http:\/\/127\.0\.0\.1:8081/);
    expect(help).toMatch(/edgewatch rules push rules\.json --to http:\/\/127\.0\.0\.1:8082/);
    expect(help).toMatch(/--publish-port, default 8082/);
    const serveHelp = helpOf(["rules", "serve"]);
    expect(serveHelp).toMatch(/--publish-port <port>[^]*?\(default: 8082\)/);
    const good = join(dir, "good.json");
    writeFileSync(good, '{"version": 1, "access": []}');
    const ok = await runEdgewatch(["rules", "push", good, "--to", rules.publishUrl]);
    expect(ok.code, ok.stderr).toBe(0);
  }, 60_000);

  it("a malformed rules file is exit 1 in validate, push and push --no-validate, as the help says", async () => {
    const bad = join(dir, "malformed.json");
    writeFileSync(bad, '{"version": 1,');
    const validate = await runEdgewatch(["rules", "validate", bad]);
    const push = await runEdgewatch(["rules", "push", bad, "--to", rules.publishUrl]);
    const pushRaw = await runEdgewatch(["rules", "push", bad, "--no-validate", "--to", rules.publishUrl]);
    expect([validate.code, push.code, pushRaw.code]).toEqual([1, 1, 1]);
    expect(helpOf([])).toMatch(/1\s+check failed: an invalid rules document or plugin configuration \(malformed JSON included\)/);
    expect(helpOf([])).not.toMatch(/malformed file/);
    expect(helpOf(["rules", "validate"])).toMatch(/1 any document invalid \(malformed JSON included/);
    expect(helpOf(["rules", "push"])).toMatch(/1 invalid document \(malformed JSON included/);
  }, 60_000);

  it("the rules README's example: /admin is closed to everyone but the office network, as the README says", async () => {
    const readme = readFileSync(join(ROOT, "assembly/rules/README.md"), "utf8");
    expect(readme).toMatch(/`admin-only`\s+answers `\/admin` with a 404 for every address \*\*except the office network\*\*/);
    const doc = JSON.parse(/### Document\s+```json\n([^]*?)\n```/.exec(readme)![1]) as { access: Array<{ id: string; cidrs?: string[] }> };
    const h = await FuzzHost.start({ configuration: JSON.stringify({ tracing: { enabled: false }, rules: doc }) });
    try {
      const get = (ip: string, path: string) => h.request({ ...peer(ip), headers: [[":method", "GET"], [":path", path], [":authority", "x"]] });
      const outsider = get("198.18.0.1", "/admin/users");
      expect([outsider.status, outsider.ruleHeader]).toEqual([404, "admin-only"]);
      expect(get("10.20.1.1", "/admin/users").status).toBe(200);
      expect(get("198.18.0.1", "/shop").status).toBe(200);
      // The README's recipe to close /admin to the office too: admin-only first, with the office prefix.
      const adminOnly = doc.access.find((r) => r.id === "admin-only")!;
      const rest = doc.access.filter((r) => r.id !== "admin-only");
      const closed = { ...doc, access: [{ ...adminOnly, cidrs: ["10.20.0.0/16", ...adminOnly.cidrs!] }, ...rest] };
      expect((await h.push(JSON.stringify({ tracing: { enabled: false }, rules: closed }))).accepted).toBe(true);
      expect(get("10.20.1.1", "/admin/users").status).toBe(404);
      expect(get("10.20.1.1", "/shop").status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

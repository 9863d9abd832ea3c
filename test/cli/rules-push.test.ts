// `edgewatch rules push FILE --to URL` against the rules service of `edgewatch rules serve`
// (the rules-service fixture plus its HTTP publish endpoint), real HTTP on loopback.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRulesServer, type RulesServer } from "../../harness/cli/rules-server.js";
import { closedPort, runEdgewatch } from "./helpers.js";

let srv: RulesServer;
let dir: string;

beforeAll(async () => {
  srv = await startRulesServer({ port: 0, publishPort: 0 });
  dir = mkdtempSync(join(tmpdir(), "ew-push-"));
});
afterAll(async () => {
  await srv.close();
});

describe("edgewatch rules push", () => {
  it("publishes a valid document, prints the new version, and the service serves it", async () => {
    const file = join(dir, "good.json");
    writeFileSync(file, JSON.stringify({ version: 1, mode: "deny", access: [{ id: "deny-doc", action: "deny", cidrs: ["203.0.113.0/24"] }] }));
    const before = srv.service.version;
    const r = await runEdgewatch(["rules", "push", file, "--to", srv.publishUrl]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`published .*good\\.json to ${srv.publishUrl}/publish: version ${before + 1}`));
    expect(srv.service.version).toBe(before + 1);
    const served = (await (await fetch(srv.rulesUrl)).json()) as { version: number; access: { id: string }[] };
    expect(served.version).toBe(before + 1);
    expect(served.access[0].id).toBe("deny-doc");
  });

  it("refuses an invalid document before it reaches the service (exit 1, filter's reason)", async () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ version: 1, access: [{ id: "x", action: "deny", cidrs: ["300.1.1.1/8"] }] }));
    const before = srv.service.version;
    const r = await runEdgewatch(["rules", "push", file, "--to", srv.publishUrl]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/invalid: .*\[cidr\]/);
    expect(srv.service.version).toBe(before);
  });

  it("an unreachable service is exit 3", async () => {
    const file = join(dir, "good2.json");
    writeFileSync(file, JSON.stringify({ version: 1 }));
    const r = await runEdgewatch(["rules", "push", file, "--no-validate", "--to", `http://127.0.0.1:${await closedPort()}`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/rules service unreachable .*ECONNREFUSED/);
  });
});

// Help text for every command and option; the exit-code epilogue; usage errors exit 2.
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../harness/cli/main.js";
import { runEdgewatch } from "./helpers.js";

function allCommands(cmd: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => [{ path: [...prefix, c.name()], cmd: c }, ...allCommands(c, [...prefix, c.name()])]);
}

describe("edgewatch --help", () => {
  it("documents every command and every option", () => {
    const program = buildProgram();
    const cmds = allCommands(program);
    expect(cmds.map((c) => c.path.join(" ")).sort()).toEqual(
      ["bench", "check", "demo", "doctor", "package", "report", "rules", "rules keygen", "rules push", "rules serve", "rules sign", "rules snapshot", "rules validate", "serve"].sort(),
    );
    for (const { path, cmd } of cmds) {
      expect(cmd.description().length, `${path.join(" ")} has a description`).toBeGreaterThan(20);
      for (const o of cmd.options) expect(o.description.length, `${path.join(" ")} ${o.flags} has a description`).toBeGreaterThan(5);
      const help = cmd.helpInformation();
      expect(help).toMatch(new RegExp(`Usage: edgewatch ${path.join(" ")}`));
    }
  });

  it("prints usage and the exit codes, exit 0; an unknown command or option is exit 2", async () => {
    const r = await runEdgewatch(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: edgewatch \[options\] \[command\]/);
    expect(r.stdout).toMatch(/Exit codes:\n\s+0\s+ok\n\s+1\s+check failed[^]*?\n\s+2\s+usage or input error[^]*?\n\s+3\s+environment missing/);
    for (const c of ["serve", "rules", "bench", "check", "doctor", "demo", "report"]) expect(r.stdout).toMatch(new RegExp(`\\n  ${c} `));
    const sub = await runEdgewatch(["doctor", "--help"]);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/--rules-max-age <seconds>/);
    const bad = await runEdgewatch(["doctor", "--admin", "http://127.0.0.1:1", "--bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option '--bogus'/);
  });
});

/**
 * Issue 12, defect 8: `npm test` failed on a fresh machine. The README's quick start is `npm ci` then
 * `npm test`, but the Prometheus tests need /usr/bin/prometheus and promtool (and the OCI image tests
 * skopeo), which only .ci/run installed; a fresh clone got a wall of failures instead of a way forward.
 * Fix: package.json "pretest" runs harness/build/provision.sh --bench (wrk too: the suite kills the
 * overhead bench and checks its wrk dies with it; without wrk that test timed out on a fresh machine
 * that had only run `npm test`): nothing when the tools are there; as
 * root with apt-get it installs the Debian package (policy-rc.d forbidding service starts, removed
 * afterwards); otherwise it stops at once with the exact command to run.
 * The script runs here with a fake PATH (fake `id`, `apt-get`, `sudo`) and fake binary paths, so no
 * real package is touched.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SCRIPT = join(ROOT, "harness/build/provision.sh");

interface Sandbox {
  dir: string;
  bin: string;
  env: NodeJS.ProcessEnv;
  log: string;
  policy: string;
  prometheus: string;
  promtool: string;
  skopeo: string;
}

/** A PATH with only the tools the script may use, plus fakes. */
function sandbox(opts: { uid: number; aptGet?: "installs" | "fails" | "none"; sudo?: boolean; toolsPresent?: boolean }): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), "ew-provision-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const tool of ["bash", "chmod", "rm", "cat", "dirname", "basename", "sed", "env"]) {
    const real = ["/usr/bin", "/bin"].map((d) => join(d, tool)).find((p) => existsSync(p));
    if (real) symlinkSync(real, join(bin, tool));
  }
  const log = join(dir, "calls.log");
  const policy = join(dir, "policy-rc.d");
  const prometheus = join(dir, "usr-bin/prometheus");
  const promtool = join(dir, "usr-bin/promtool");
  const skopeo = join(dir, "usr-bin/skopeo");
  mkdirSync(join(dir, "usr-bin"));
  const script = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!${join(bin, "bash")}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  script("id", `[ "$1" = "-u" ] && echo ${opts.uid}`);
  if (opts.sudo) script("sudo", 'exec "$@"');
  const aptGet = opts.aptGet ?? "installs";
  if (aptGet !== "none") {
    // Records each call and whether the service-start policy was in place during it.
    script(
      "apt-get",
      [
        `echo "apt-get $* | policy=$( [ -x '${policy}' ] && cat '${policy}' | tr -d '\\n' || echo none) | frontend=$DEBIAN_FRONTEND" >> '${log}'`,
        aptGet === "fails" ? '[ "$1" = "install" ] && { echo "E: Unable to locate package prometheus" >&2; exit 100; }' : "",
        `if [ "$1" = "install" ]; then for f in '${prometheus}' '${promtool}' '${skopeo}'; do printf '#!/bin/sh\\n' > "$f"; chmod +x "$f"; done; fi`,
        "exit 0",
      ].join("\n"),
    );
    symlinkSync(["/usr/bin/tr", "/bin/tr"].find((p) => existsSync(p))!, join(bin, "tr"));
  }
  if (opts.toolsPresent) {
    for (const p of [prometheus, promtool, skopeo]) {
      writeFileSync(p, "#!/bin/sh\n");
      chmodSync(p, 0o755);
    }
  }
  return {
    dir,
    bin,
    log,
    policy,
    prometheus,
    promtool,
    skopeo,
    env: { PATH: bin, PROMETHEUS_BIN: prometheus, PROMTOOL_BIN: promtool, SKOPEO_BIN: skopeo, EDGEWATCH_POLICY_RC_D: policy, HOME: dir },
  };
}

function run(s: Sandbox, args: string[] = []) {
  const started = Date.now();
  const r = spawnSync(join(s.bin, "bash"), [SCRIPT, ...args], { env: s.env, encoding: "utf8", timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started, calls: existsSync(s.log) ? readFileSync(s.log, "utf8") : "" };
}

describe("issue-12: npm test provisions prometheus/promtool or stops with the command to run", () => {
  it("package.json runs the provisioning step before the tests", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.pretest).toBe("bash harness/build/provision.sh --bench");
  });

  it("tools present: exit 0, prints nothing, installs nothing", () => {
    const s = sandbox({ uid: 0, toolsPresent: true });
    const r = run(s);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.calls).toBe("");
  });

  it("missing as root with apt-get: installs the Debian package with services forbidden, then removes the policy", () => {
    const s = sandbox({ uid: 0 });
    const r = run(s);
    expect(r.code, r.stderr).toBe(0);
    const calls = r.calls.trim().split("\n");
    expect(calls[0]).toMatch(/^apt-get update -qq \| policy=#!\/bin\/shexit 101 \| frontend=noninteractive$/);
    expect(calls[1]).toMatch(/^apt-get install -y -qq --no-install-recommends prometheus skopeo \| policy=#!\/bin\/shexit 101 \| frontend=noninteractive$/);
    expect(existsSync(s.prometheus) && existsSync(s.promtool) && existsSync(s.skopeo)).toBe(true);
    expect(existsSync(s.policy), "policy-rc.d removed afterwards").toBe(false);
    expect(r.stderr).toMatch(/installed: prometheus skopeo/);
  });

  it("an existing policy-rc.d is left in place", () => {
    const s = sandbox({ uid: 0 });
    writeFileSync(s.policy, "#!/bin/sh\nexit 0\n");
    chmodSync(s.policy, 0o755);
    expect(run(s).code).toBe(0);
    expect(readFileSync(s.policy, "utf8")).toBe("#!/bin/sh\nexit 0\n");
  });

  it("--bench adds wrk", () => {
    const s = sandbox({ uid: 0 });
    run(s, ["--bench"]);
    expect(readFileSync(s.log, "utf8")).toMatch(/^apt-get install -y -qq --no-install-recommends prometheus skopeo wrk /m);
  });

  it("--bench, missing and not root: the message names wrk and the command keeps --bench", () => {
    const s = sandbox({ uid: 1000, sudo: true });
    const r = run(s, ["--bench"]);
    expect(r.code).toBe(1);
    expect(r.calls).toBe("");
    expect(r.stderr).toContain(`missing: ${s.prometheus} ${s.promtool} ${s.skopeo} wrk`);
    expect(r.stderr).toContain("runs the real Prometheus, promtool, skopeo and wrk");
    expect(r.stderr).toContain(`sudo bash ${SCRIPT} --bench`);
  });

  it("missing and not root: stops at once with the exact command, calls no apt-get", () => {
    const s = sandbox({ uid: 1000, sudo: true });
    const r = run(s);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(5000);
    expect(r.calls).toBe("");
    expect(r.stderr).toContain(`missing: ${s.prometheus} ${s.promtool} ${s.skopeo}`);
    expect(r.stderr).toContain(`install them, then run npm test again:  sudo bash ${SCRIPT}`);
    expect(r.stderr).toMatch(/does not skip those tests/);
  });

  it("the printed command works: run as root it installs", () => {
    const s = sandbox({ uid: 1000, sudo: true });
    const cmd = /run npm test again: {2}sudo (bash .*)$/m.exec(run(s).stderr)![1].split(" ");
    const root = sandbox({ uid: 0 });
    const r = spawnSync(join(root.bin, "bash"), cmd.slice(1), { env: root.env, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(root.promtool)).toBe(true);
  });

  it("apt-get failing or no apt-get at all: exit 1 with what to do", () => {
    const failing = run(sandbox({ uid: 0, aptGet: "fails" }));
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/apt-get install prometheus skopeo failed/);
    const none = run(sandbox({ uid: 0, aptGet: "none" }));
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no apt-get here: install Prometheus 2\.x and skopeo so that .*prometheus, .*promtool and .*skopeo exist/);
  });
});

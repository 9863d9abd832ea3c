// Helpers for the stats tests that need the real Prometheus tools (Debian package `prometheus`).
// Missing binaries fail the test with a clear message; they are never skipped.
import { spawnSync } from "node:child_process";
import { PROMTOOL_BIN, requireBinary } from "../../harness/stats/prometheus-server.js";

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function promtool(args: string[], input?: string): ToolResult {
  requireBinary(PROMTOOL_BIN);
  const r = spawnSync(PROMTOOL_BIN, args, { input, encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `promtool check metrics` on an exposition: parse errors fail (exit 1, "error while linting");
 * lint findings exit 3. Envoy never writes # HELP, so "no help text" findings are expected and
 * filtered; anything else is returned.
 */
export function checkMetrics(exposition: string): { parseOk: boolean; problems: string[]; raw: ToolResult } {
  const raw = promtool(["check", "metrics"], exposition);
  const out = `${raw.stdout}\n${raw.stderr}`;
  const parseOk = (raw.status === 0 || raw.status === 3) && !/error while linting/.test(out);
  const problems = out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/ no help text$/.test(l));
  return { parseOk, problems, raw };
}

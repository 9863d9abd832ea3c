// Support for the packaging tests: the real skopeo (Debian package `skopeo`) and GNU tar.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";

export const SKOPEO_BIN = process.env.SKOPEO_BIN ?? "/usr/bin/skopeo";

/** Fails (never skips) when skopeo is missing, saying how to get it. */
export function requireSkopeo(): string {
  if (!existsSync(SKOPEO_BIN)) {
    throw new Error(`${SKOPEO_BIN} not found: install the Debian package (\`apt-get install -y skopeo\`) or run .ci/run, which installs it`);
  }
  return SKOPEO_BIN;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program with a time bound; never throws on a non-zero exit. */
export function run(bin: string, args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === "string") return reject(err); // ENOENT etc.
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export async function skopeo(args: string[]): Promise<Run> {
  const r = await run(requireSkopeo(), args);
  if (r.code !== 0) throw new Error(`skopeo ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r;
}

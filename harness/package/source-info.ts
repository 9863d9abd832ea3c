/**
 * Where a package comes from: the version (package.json), the source commit (git) and a creation
 * time that does not change between runs — SOURCE_DATE_EPOCH when set (reproducible-builds.org
 * convention), else the commit's committer time — so two runs on the same tree give the same digests.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface SourceInfo {
  name: string;
  version: string;
  description: string;
  /** Full commit hash of HEAD, with "-dirty" appended when tracked files have uncommitted changes. */
  revision?: string;
  dirty: boolean;
  /** Unix seconds; undefined when neither SOURCE_DATE_EPOCH nor a git commit is available. */
  createdEpoch?: number;
  createdFrom: "SOURCE_DATE_EPOCH" | "commit time" | "none";
}

/** Parse SOURCE_DATE_EPOCH: a non-negative integer of seconds. Throws a descriptive Error otherwise. */
export function parseSourceDateEpoch(value: string): number {
  if (!/^\d{1,12}$/.test(value.trim())) {
    throw new Error(`SOURCE_DATE_EPOCH must be a whole number of seconds since 1970 (got ${JSON.stringify(value)})`);
  }
  return Number(value.trim());
}

function git(root: string, args: string[]): string | undefined {
  try {
    return execFileSync("git", ["-C", root, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).trim();
  } catch {
    return undefined; // not a git checkout, or no git
  }
}

export function readSourceInfo(root: string, env: NodeJS.ProcessEnv = process.env): SourceInfo {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name?: string; version?: string; description?: string };
  const head = git(root, ["rev-parse", "--verify", "HEAD"]);
  const dirty = head !== undefined && (git(root, ["status", "--porcelain", "--untracked-files=no"]) ?? "") !== "";
  let createdEpoch: number | undefined;
  let createdFrom: SourceInfo["createdFrom"] = "none";
  if (env.SOURCE_DATE_EPOCH !== undefined && env.SOURCE_DATE_EPOCH !== "") {
    createdEpoch = parseSourceDateEpoch(env.SOURCE_DATE_EPOCH);
    createdFrom = "SOURCE_DATE_EPOCH";
  } else if (head) {
    const ct = git(root, ["log", "-1", "--format=%ct", head]);
    if (ct && /^\d+$/.test(ct)) {
      createdEpoch = Number(ct);
      createdFrom = "commit time";
    }
  }
  return {
    name: pkg.name ?? "edgewatch",
    version: pkg.version ?? "0.0.0",
    description: pkg.description ?? "",
    revision: head ? (dirty ? `${head}-dirty` : head) : undefined,
    dirty,
    createdEpoch,
    createdFrom,
  };
}

/** RFC 3339 in UTC, whole seconds (image-spec: `created` is an RFC 3339 date-time). */
export function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.000Z$/, "Z");
}

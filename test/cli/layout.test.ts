// Dependencies run one way: bench/ scripts may import harness/, harness/ never imports bench/ (issue 13).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (/\.(ts|mts|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

describe("repository layout", () => {
  it("no harness/ module imports from bench/", () => {
    const offenders: string[] = [];
    for (const f of tsFiles(join(ROOT, "harness"))) {
      const src = readFileSync(f, "utf8");
      for (const m of src.matchAll(/(?:from\s+|import\s*\(\s*)["']([^"']+)["']/g)) {
        const spec = m[1];
        if (!spec.startsWith(".")) continue;
        const target = relative(ROOT, resolve(f, "..", spec));
        if (target === "bench" || target.startsWith("bench/")) offenders.push(`${relative(ROOT, f)} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

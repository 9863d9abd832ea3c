/**
 * The conformance suite is written against Target / StartedTarget, the stack and the fixtures only:
 * no file here, and nothing in harness/stack it builds on, imports the embedded host
 * (harness/host/) or its HTTP front end (harness/proxy/). Otherwise a scenario could pass on the
 * embedded host by reading its internals and never run on Envoy.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(m?ts|m?js)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Every module specifier in a file: static and dynamic imports, re-exports, require(). */
export function importSpecifiers(source: string): string[] {
  const specs: string[] = [];
  const patterns = [/\bfrom\s+["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, /\bimport\s+["']([^"']+)["']/g, /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g];
  for (const re of patterns) for (const m of source.matchAll(re)) specs.push(m[1]!);
  return specs;
}

const FORBIDDEN = /(^|\/)harness\/(host|proxy)(\/|$)/;

function violations(dir: string): string[] {
  const out: string[] = [];
  for (const file of sourceFiles(dir)) {
    for (const spec of importSpecifiers(readFileSync(file, "utf8"))) {
      const target = spec.startsWith(".") ? relative(ROOT, resolve(file, "..", spec)) : spec;
      if (FORBIDDEN.test(target)) out.push(`${relative(ROOT, file)} imports ${spec}`);
    }
  }
  return out;
}

describe("conformance suite boundary", () => {
  it("finds every kind of import (so the scan can fail)", () => {
    // Built from parts so this file's own text does not contain such an import.
    const [host, proxy] = ["../../harness/" + "host/vm.js", "../../harness/" + "proxy/embedded-proxy.js"];
    const src = `import a from "${host}";\nexport { b } from '${proxy}';\nconst c = await import("${proxy}");\nimport "./side-effect.js";\nconst d = require("${host}");`;
    expect(importSpecifiers(src).sort()).toEqual([host, proxy, proxy, "./side-effect.js", host].sort());
    expect([host, proxy].every((p) => FORBIDDEN.test(relative(ROOT, resolve(ROOT, "test/conformance", p))))).toBe(true);
  });

  it("no file under test/conformance/ imports harness/host/ or harness/proxy/", () => {
    expect(sourceFiles(join(ROOT, "test/conformance")).length).toBeGreaterThan(3);
    expect(violations(join(ROOT, "test/conformance"))).toEqual([]);
  });

  it("neither does harness/stack/, the API the scenarios use", () => {
    expect(violations(join(ROOT, "harness/stack"))).toEqual([]);
  });
});

/**
 * Reference model of the blast-radius guard (issue 15, assembly/rules/blast-radius.ts), written from
 * the documented contract in assembly/rules/README.md, independently, with bigints and brute force:
 *   - an address is denied outright when, walking the rules whose CIDRs contain it from the most
 *     specific (longest prefix; equal prefixes in document order), the first rule that is an allow
 *     rule or an unconditional deny rule is the deny rule; log rules and deny rules with a path or
 *     header condition are skipped; with no such rule it is denied only in allow-list mode;
 *   - a document denies a whole family when every address of it is denied outright. Checked on the
 *     boundaries of its CIDRs (0, each start, each end + 1): the verdict is constant in between.
 */
import { cidrContains, type Addr } from "./net.js";
import type { RefRules } from "./schema.js";

export function deniesOutrightRef(rules: RefRules, a: Addr): boolean {
  const chain: Array<{ len: number; index: number; action: string; conditional: boolean }> = [];
  for (const r of rules.rules) {
    for (const c of r.cidrs) {
      if (!cidrContains(c, a)) continue;
      chain.push({ len: c.len, index: r.index, action: r.action, conditional: r.pathPrefix !== null || r.header !== null });
    }
  }
  chain.sort((x, y) => y.len - x.len || x.index - y.index);
  for (const e of chain) {
    if (e.action === "allow") return false;
    if (e.action === "deny" && !e.conditional) return true;
  }
  return rules.mode === "allow";
}

export function deniesWholeFamilyRef(rules: RefRules, v4: boolean): boolean {
  const bits = v4 ? 32n : 128n;
  const max = (1n << bits) - 1n;
  const points = new Set<bigint>([0n]);
  for (const r of rules.rules) {
    for (const c of r.cidrs) {
      if (c.v4 !== v4) continue;
      const host = (1n << (bits - BigInt(c.len))) - 1n;
      points.add(c.value);
      if ((c.value | host) < max) points.add((c.value | host) + 1n);
    }
  }
  for (const p of points) if (!deniesOutrightRef(rules, { v4, value: p })) return false;
  return true;
}

/** The guard's verdict without a client sample: rejected for a whole family unless overridden. */
export function wholeSpaceRejectedRef(rules: RefRules & { allowLargeBlastRadius?: boolean }): string | null {
  if (rules.allowLargeBlastRadius) return null;
  if (deniesWholeFamilyRef(rules, true)) return "denies every IPv4 address";
  if (deniesWholeFamilyRef(rules, false)) return "denies every IPv6 address";
  return null;
}

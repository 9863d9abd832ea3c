/**
 * Telemetry helpers for the conformance scenarios, over admin only: histogram buckets by `le`,
 * waiting for a histogram to show a count (Envoy merges histograms asynchronously after the flush an
 * admin request triggers with stats_flush_on_admin, so the read right after traffic may lag; the
 * embedded host flushes synchronously), and the metric families README.md's "Telemetry" section
 * documents, parsed from the README itself so the scenario and the document cannot drift apart.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { AdminReader, PromSnapshotView } from "../../../harness/stack/admin-reader.js";

const ROOT = resolve(import.meta.dirname, "../../..");

/** Cumulative bucket counts of one histogram series, by `le` ("+Inf" included). */
export function bucketCounts(prom: PromSnapshotView, family: string, labels: Record<string, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of prom.find(`${family}_bucket`, labels)) out.set(s.labels.le!, (out.get(s.labels.le!) ?? 0) + s.value);
  return out;
}

/**
 * Poll /stats/prometheus until `<family>_count{labels}` reaches `count`; returns that snapshot.
 * Never a fixed sleep: the histogram is there as soon as the proxy merged it.
 */
export async function untilHistogramCount(admin: AdminReader, family: string, labels: Record<string, string>, count: number, timeoutMs = 10_000): Promise<PromSnapshotView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const prom = await admin.prometheus();
    const got = prom.sum(`${family}_count`, labels);
    if (got >= count) return prom;
    if (Date.now() > deadline) throw new Error(`${family}_count${JSON.stringify(labels)} is ${got} after ${timeoutMs} ms, expected ${count}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Poll a metric (summed over the matching series) until `accept` holds; returns the last value. */
export async function untilMetric(admin: AdminReader, name: string, labels: Record<string, string>, accept: (v: number) => boolean, opts: { timeoutMs?: number; what?: string } = {}): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await admin.metric(name, labels);
    if (accept(v)) return v;
    if (Date.now() > deadline) throw new Error(`${opts.what ?? name} not reached within ${timeoutMs} ms (${name}${JSON.stringify(labels)} = ${v})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// -- README's metric families -----------------------------------------------------------------------

export interface DocumentedFamily {
  /** As written in the README, e.g. `edgewatch_requests_total{route,code,source[,method]}`. */
  text: string;
  /** Matches the family name (brace alternatives expanded, `*` = any suffix). */
  name: RegExp;
  /** A `*` pattern (a group of families, none of which has to exist in every configuration). */
  wildcard: boolean;
  /** Documented labels: required, and optional ones written `[,label]`. Undefined = not documented. */
  labels?: { required: string[]; optional: string[] };
  /** The table's type column, when given. */
  type?: string;
}

function familyFromToken(token: string, type: string | undefined): DocumentedFamily | null {
  if (!/^edgewatch_/.test(token)) return null;
  let namePart = token;
  let labels: DocumentedFamily["labels"];
  // A trailing {...} after a name character is the label set; a {a,b} inside the name is alternatives.
  const m = /^(.*[a-z0-9*])\{([^}]*)\}$/.exec(token);
  if (m) {
    namePart = m[1]!;
    const optional = [...m[2]!.matchAll(/\[,?\s*([a-z_]+)\]/g)].map((x) => x[1]!);
    const required = m[2]!.replace(/\[[^\]]*\]/g, "").split(",").map((x) => x.trim()).filter(Boolean);
    labels = { required, optional };
  }
  const source = namePart
    .split(/(\{[^}]*\}|\*)/)
    .map((part) => (part === "*" ? "[a-z0-9_]*" : part.startsWith("{") ? `(?:${part.slice(1, -1).split(",").map((x) => x.trim()).join("|")})` : part))
    .join("");
  return { text: token, name: new RegExp(`^${source}$`), wildcard: namePart.includes("*"), labels, type };
}

/** Every `edgewatch_…` family named in backquotes in README.md's "## Telemetry" section. */
export function documentedFamilies(readmePath = resolve(ROOT, "README.md")): DocumentedFamily[] {
  const readme = readFileSync(readmePath, "utf8");
  const start = readme.indexOf("\n## Telemetry\n");
  if (start < 0) throw new Error("README.md has no '## Telemetry' section");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const out: DocumentedFamily[] = [];
  for (const line of section.split("\n")) {
    const cells = line.startsWith("|") ? line.split("|").slice(1, -1).map((c) => c.trim()) : null;
    const type = cells && /^(counter|gauge|histogram)$/.test(cells[1] ?? "") ? cells[1] : undefined;
    for (const m of line.matchAll(/`([^`]+)`/g)) {
      const f = familyFromToken(m[1]!, cells && cells[0]!.includes(m[0]) ? type : undefined);
      if (f && !out.some((x) => x.text === f.text)) out.push(f);
    }
  }
  return out;
}

/** The family of an exposed sample name (`_bucket`/`_sum`/`_count` stripped for histograms). */
export function familyOf(prom: PromSnapshotView, sampleName: string): string {
  if (prom.doc.types.has(sampleName)) return sampleName;
  const base = sampleName.replace(/_(bucket|sum|count)$/, "");
  return prom.doc.types.get(base) === "histogram" ? base : sampleName;
}

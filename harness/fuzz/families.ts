/**
 * Fuzz families of the reliability campaign. Each family owns one or more FuzzHosts (the real
 * embedded host, call level) and checks every case against the properties of issue #8:
 *
 *   trap              no VM ever fails (WasmVm.failed, wasm.edgewatch.vm_failed) and requests flow;
 *   invalid-accepted  a document the reference validator rejects must be rejected;
 *   valid-rejected    a document the reference accepts must be accepted (schema drift);
 *   wrong-reason      a single-defect mutation is rejected with its documented reason;
 *   last-good-lost    after a rejection the probes answer exactly as before;
 *   enforcement       after an acceptance the probes answer as the reference evaluator says;
 *   counters          reload / failure counters move by exactly one per document;
 *   slow              a bounded input is processed within its time budget;
 *   propagation       forwarded trace headers are valid and follow W3C restart rules;
 *   client-address    the access decision uses the documented client address.
 */
import fc from "fast-check";
import { arbConfigCase, arbDocMutation, arbDocCase, arbRequestHeaders, arbRulesDoc, arbTraceparent, arbTracestate, arbXffCase, mutateDoc, DOC_MUTATIONS, XFF_DENIED, type DocMutation, type Mutated } from "./arbitraries.js";
import { FuzzHost, RULES_CLUSTER, COLLECTOR_CLUSTER, settle, type RequestOutcome } from "./host-driver.js";
import { getMember, removeMember, serialize, setMember, type J } from "./json-ast.js";
import { HeaderMap } from "../host/header-map.js";
import { Prng } from "./prng.js";
import { cidrContains, parseCidrRef, parseClientAddressRef, resolveClientRef, socketAddressText, addrText, type Addr } from "./reference/net.js";
import { parseJsonRef, type JValue } from "./reference/json.js";
import { evaluateRef, validatePluginConfiguration, validateRulesDocument, rulesValueSpan, type Reason, type RefRules } from "./reference/schema.js";
import { wholeSpaceRejectedRef } from "./reference/blast-radius.js";
import { isValidOutgoingTraceparent, isValidOutgoingTracestate, parseTraceparentRef, parseTracestateRef } from "./reference/w3c.js";

export type ViolationKind =
  | "trap" | "invalid-accepted" | "valid-rejected" | "wrong-reason" | "last-good-lost" | "enforcement" | "counters"
  | "slow" | "propagation" | "client-address" | "lost-request";

export interface Violation {
  family: string;
  caseIndex: number;
  kind: ViolationKind;
  message: string;
  mutation?: string;
  /** The input (base64 when binary; clipped). */
  input: string;
  /** Known issue id (a regression test in test/regressions) this violation matches, if any. */
  known?: string;
}

export interface FamilyStats {
  family: string;
  cases: number;
  accepted: number;
  rejected: number;
  requests: number;
  traps: number;
  violations: Violation[];
  /** Violations by kind (new ones only) and by known issue. */
  byKind: Record<string, number>;
  known: Record<string, number>;
  byMutation: Record<string, { cases: number; accepted: number; rejected: number }>;
  ms: number;
}

export interface FamilyRunner<C> {
  name: string;
  arb: fc.Arbitrary<C>;
  /** Run one case; returns the NEW violations (known ones are only counted). */
  run(c: C, index: number): Promise<Violation[]>;
  stats: FamilyStats;
  close(): Promise<void>;
}

function newStats(family: string): FamilyStats {
  return { family, cases: 0, accepted: 0, rejected: 0, requests: 0, traps: 0, violations: [], byKind: {}, known: {}, byMutation: {}, ms: 0 };
}

const MAX_KEPT_VIOLATIONS = 50;

function clip(b: Buffer | string, n = 600): string {
  if (typeof b === "string") return b.length > n ? `${b.slice(0, n)}…(${b.length} chars)` : b;
  const text = b.toString("utf8");
  const binary = !Buffer.from(text, "utf8").equals(b);
  if (binary) return `base64:${b.subarray(0, n).toString("base64")}${b.length > n ? `…(${b.length} bytes)` : ""}`;
  return clip(text, n);
}

// ------------------------------------------------------------------------------------------------
// Known issues (each has a failing regression test in test/regressions/); matched precisely.

export interface KnownIssue {
  id: string;
  matches(v: Violation, input: string): boolean;
}

/** Objects outside "$.rules" with a duplicate DECODED key whose spellings all differ in raw length. */
export function hasRawLengthBlindDuplicate(text: string): boolean {
  let doc: JValue;
  try { doc = parseJsonRef(Buffer.from(text, "utf8")); } catch { return false; }
  const walk = (v: JValue, path: string): boolean => {
    if (v.t === "arr") return v.items.some((x, i) => walk(x, `${path}[${i}]`));
    if (v.t !== "obj") return false;
    if (!(path === "$.rules" || path.startsWith("$.rules.") || path.startsWith("$.rules["))) {
      const groups = new Map<string, number[]>();
      for (const [k] of v.members) groups.set(k.v, [...(groups.get(k.v) ?? []), k.raw.length]);
      for (const lens of groups.values()) if (lens.length > 1 && new Set(lens).size === lens.length) return true;
    }
    return v.members.some(([k, x]) => walk(x, `${path}.${k.v}`));
  };
  return walk(doc, "$");
}

/** Decoded top-level keys of a JSON object text (empty when it does not parse). */
export function topLevelKeys(text: string): string[] {
  try {
    const v = parseJsonRef(Buffer.from(text, "utf8"));
    return v.t === "obj" ? v.members.map(([k]) => k.v) : [];
  } catch { return []; }
}

export const KNOWN_ISSUES: KnownIssue[] = [
  // Every issue-8 bug found so far is fixed (b96d5ba rules/config, f625129 tracing) and has a passing
  // regression test in test/regressions/; a recurrence counts as a NEW violation. Add an entry here
  // (with its failing regression test) only for a bug that is reported but not fixed yet.
];

function record(stats: FamilyStats, v: Violation, input: Buffer | string): Violation | null {
  const k = KNOWN_ISSUES.find((i) => i.matches(v, typeof input === "string" ? input : input.toString("utf8")));
  if (k) {
    v.known = k.id;
    stats.known[k.id] = (stats.known[k.id] ?? 0) + 1;
    if (stats.violations.filter((x) => x.known === k.id).length < 3) stats.violations.push(v);
    return null;
  }
  stats.byKind[v.kind] = (stats.byKind[v.kind] ?? 0) + 1;
  if (stats.violations.length < MAX_KEPT_VIOLATIONS) stats.violations.push(v);
  return v;
}

// ------------------------------------------------------------------------------------------------
// Probes: requests whose decision follows from the rules in force.

const REASONS: Reason[] = ["json", "schema", "cidr", "size", "version", "signature", "blast_radius"];

interface Probe { ip: string; port: number }
interface ProbeObs { key: string; status: number; rule: string | undefined; local: boolean }

const PROBE_HEADERS: Array<[string, string]> = [
  [":method", "GET"], [":path", "/probe"], [":authority", "edge.test"], [":scheme", "http"],
  ["x-tenant", "acme"], ["user-agent", "curl/8.0"],
];

function probeRequestRef(client: Addr | null) {
  const h = new Map(PROBE_HEADERS.map(([k, v]) => [k, v]));
  return { client, header: (n: string) => h.get(n), path: h.get(":path") };
}

function ipOf(a: Addr): string {
  return addrText(a);
}

/** Probe addresses for a rule set: inside each CIDR (first and last address), plus fixed ones. */
function probesFor(rules: RefRules | null, seed: number, max = 10): Probe[] {
  const r = new Prng(seed);
  const out = new Map<string, Probe>();
  const add = (ip: string) => { if (!out.has(ip)) out.set(ip, { ip, port: 40000 + r.int(0, 999) }); };
  const fixed = ["192.0.2.1", "10.0.0.1", "2001:db8::1", "::ffff:10.0.0.1", "198.51.100.7"];
  const cands: string[] = [];
  for (const rule of rules?.rules ?? []) {
    for (const c of rule.cidrs) {
      cands.push(ipOf(c));
      const bits = c.v4 ? 32 : 128;
      const last = c.value | ((1n << BigInt(bits - c.len)) - 1n);
      cands.push(ipOf({ v4: c.v4, value: last }));
    }
  }
  while (out.size < max - 2 && cands.length > 0) add(cands.splice(r.int(0, cands.length - 1), 1)[0]);
  for (const f of fixed) if (out.size < max) add(f);
  return [...out.values()];
}

function observe(host: FuzzHost, probes: Probe[]): ProbeObs[] {
  const obs: ProbeObs[] = [];
  for (const p of probes) {
    for (const vm of host.host.workers) {
      const o = host.request({ source: { ip: p.ip, port: p.port }, headers: PROBE_HEADERS }, vm);
      obs.push({ key: `${p.ip}@${vm.label}`, status: o.status, rule: o.ruleHeader, local: o.local });
    }
  }
  return obs;
}

/**
 * rules === null: no rules in force. With a rules service (pull) that is a cold start (policy
 * rules_service.cold_start); without one, an empty rule set (nothing will ever arrive).
 */
function expectedObs(rules: RefRules | null, coldStartDeny: boolean, p: Probe): { denied: boolean; status: number; rule: string | null } {
  if (rules === null) return coldStartDeny ? { denied: true, status: 503, rule: "_cold_start" } : { denied: false, status: 200, rule: null };
  const client = parseClientAddressRef(socketAddressText(p.ip, p.port));
  const d = evaluateRef(rules, probeRequestRef(client));
  return { denied: d.denied, status: d.denied ? d.status : 200, rule: d.ruleId };
}

function compareEnforcement(host: FuzzHost, rules: RefRules | null, coldStartDeny: boolean, probes: Probe[]): { obs: ProbeObs[]; problems: string[] } {
  const obs = observe(host, probes);
  const problems: string[] = [];
  const workers = host.host.workers.length;
  probes.forEach((p, i) => {
    const want = expectedObs(rules, coldStartDeny, p);
    for (let w = 0; w < workers; w++) {
      const o = obs[i * workers + w];
      const denied = o.local;
      if (denied !== want.denied || (denied && (o.status !== want.status || (o.rule ?? null) !== want.rule)) || (!denied && o.status !== 200)) {
        problems.push(`${o.key}: got ${o.status} rule=${o.rule ?? "-"}${o.local ? " (local)" : ""}, want ${want.denied ? `${want.status} rule=${want.rule}` : "200 (allowed)"}`);
      }
    }
  });
  return { obs, problems };
}

function sameObs(a: ProbeObs[], b: ProbeObs[]): string[] {
  const out: string[] = [];
  const m = new Map(a.map((o) => [o.key, o]));
  for (const o of b) {
    const x = m.get(o.key);
    if (!x || x.status !== o.status || x.rule !== o.rule || x.local !== o.local) {
      out.push(`${o.key}: before ${x?.status}/${x?.rule ?? "-"}, after ${o.status}/${o.rule ?? "-"}`);
    }
  }
  return out;
}

function failureCounts(host: FuzzHost): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const r of [...REASONS, "fetch"]) out[r] = host.reloadFailures(r);
  return out;
}

function delta(a: Record<string, bigint>, b: Record<string, bigint>, exclude: string[] = []): { total: bigint; by: Record<string, bigint> } {
  let total = 0n;
  const by: Record<string, bigint> = {};
  for (const k of Object.keys(b)) {
    if (exclude.includes(k)) continue;
    const d = b[k] - (a[k] ?? 0n);
    if (d !== 0n) by[k] = d;
    total += d;
  }
  return { total, by };
}

// ------------------------------------------------------------------------------------------------
// rules-push: rule documents inside the plugin configuration (Envoy ECDS / Istio WasmPlugin).

export interface RulesFamilyOptions {
  workers?: number;
  maxRulesBytes?: number;
  mutations?: readonly DocMutation[];
  /** Push budget for documents ≤ 1 MiB (ms). */
  budgetMs?: number;
}

const PUSH_MAX_RULES_BYTES = 1024 * 1024;

export async function rulesPushFamily(opts: RulesFamilyOptions = {}): Promise<FamilyRunner<{ doc: J; kind: DocMutation; seed: number }>> {
  const maxRulesBytes = opts.maxRulesBytes ?? PUSH_MAX_RULES_BYTES;
  // max_deny_fraction 1: the blast-radius guard judges only whole-space denial, which the reference models.
  const prefix = `{"tracing":{"enabled":false},"blast_radius":{"max_deny_fraction":1},"max_rules_bytes":${maxRulesBytes},"rules":`;
  const initialRules = `{"version":1,"access":[{"id":"seed","cidrs":["198.51.100.0/24","2001:db8:bad::/48"]}]}`;
  let host = await FuzzHost.start({ configuration: prefix + initialRules + "}", workers: opts.workers ?? 1 });
  const stats = newStats("rules-push");
  let current = validateRulesDocument(Buffer.from(initialRules)).value!;
  let currentText = initialRules;
  let currentConfig = prefix + initialRules + "}";
  let probes = probesFor(current, 1);
  let baseline = observe(host, probes);
  const budget = opts.budgetMs ?? 2000;
  const kinds = opts.mutations ?? DOC_MUTATIONS.filter((k) => k !== "invalid-utf8");

  const arb = fc.tuple(arbRulesDoc(6), arbDocMutation(kinds), fc.integer()).map(([doc, kind, seed]) => ({ doc, kind, seed }));

  async function restart(): Promise<void> {
    await host.close().catch(() => {});
    host = await FuzzHost.start({ configuration: currentConfig, workers: opts.workers ?? 1 });
    baseline = observe(host, probes);
  }

  return {
    name: "rules-push",
    arb,
    stats,
    async run(c, index) {
      const t0 = performance.now();
      const m: Mutated = mutateDoc(c.doc, c.kind, c.seed, { binary: false, maxRulesBytes });
      const docText = m.bytes.toString("utf8");
      const config = prefix + docText + "}";
      const configBytes = Buffer.from(config, "utf8");
      const ref = validatePluginConfiguration(configBytes);
      const found: Violation[] = [];
      const v = (kind: ViolationKind, message: string) => {
        const x = record(stats, { family: "rules-push", caseIndex: index, kind, message, mutation: m.mutation, input: clip(docText) }, docText);
        if (x) found.push(x);
      };
      const bm = (stats.byMutation[m.mutation] ??= { cases: 0, accepted: 0, rejected: 0 });
      bm.cases++;
      stats.cases++;
      const f0 = failureCounts(host);
      const ok0 = host.counter("edgewatch.rules_reload_total");
      const ver0 = host.gauge("edgewatch.rules_version");
      const res = await host.push(config);
      if (host.trapped()) {
        stats.traps++;
        v("trap", host.trapMessage());
        await restart();
        stats.ms += performance.now() - t0;
        return found;
      }
      if (res.code && res.code !== "PLUGIN_CONFIG_REJECTED") v("trap", `push failed with ${res.code}: ${res.message}`);
      if (res.ms > budget && configBytes.length <= 1024 * 1024) v("slow", `push of ${configBytes.length} bytes took ${Math.round(res.ms)} ms (budget ${budget} ms)`);
      if (m.mustBeInvalid && ref.valid) v("valid-rejected", `generator marked "${m.mutation}" invalid but the reference accepts it (generator bug)`);
      const identical = config === currentConfig;
      if (res.accepted) {
        stats.accepted++;
        bm.accepted++;
        if (!ref.valid && !identical) {
          v("invalid-accepted", `accepted, reference says: ${ref.errors.slice(0, 3).map((e) => `[${e.reason}] ${e.path}: ${e.message}`).join("; ")}`);
          // Whatever the filter applied is now the state to keep: re-baseline.
          baseline = observe(host, probes);
        }
        if (!identical) {
          const d = delta(f0, failureCounts(host));
          const ok = host.counter("edgewatch.rules_reload_total") - ok0;
          const rulesText = rulesValueSpan(configBytes)?.toString("utf8") ?? "";
          if (d.total !== 0n) v("counters", `accepted but failure counters moved: ${JSON.stringify(d.by, (_k, x) => (typeof x === "bigint" ? Number(x) : x))}`);
          if (!(ok === 1n || (ok === 0n && rulesText === currentText))) v("counters", `accepted: rules_reload_total moved by ${ok}`);
          const rules = ref.valid ? ref.value!.rules : null;
          if (rules && host.gauge("edgewatch.rules_version") !== BigInt(rules.version)) v("counters", `rules_version gauge ${host.gauge("edgewatch.rules_version")} ≠ ${rules.version}`);
          if (rules) {
            probes = probesFor(rules, c.seed);
            const e = compareEnforcement(host, rules, false, probes);
            stats.requests += e.obs.length;
            if (e.problems.length > 0) v("enforcement", e.problems.slice(0, 4).join("; "));
            baseline = e.obs;
            current = rules;
            currentText = rulesText;
          }
          currentConfig = config;
        }
      } else {
        stats.rejected++;
        bm.rejected++;
        if (ref.valid) v("valid-rejected", `rejected (${res.message}) but the reference accepts it`);
        const d = delta(f0, failureCounts(host));
        if (d.total !== 1n) v("counters", `rejected: failure counters moved by ${d.total} ${JSON.stringify(d.by, (_k, x) => (typeof x === "bigint" ? Number(x) : x))}`);
        const expect = ref.reason;
        if (d.total === 1n && expect && !d.by[expect]) v("wrong-reason", `rejected with ${Object.keys(d.by).join(",")}, expected ${expect}`);
        if (host.counter("edgewatch.rules_reload_total") !== ok0) v("counters", "rejected but rules_reload_total moved");
        if (host.gauge("edgewatch.rules_version") !== ver0) v("last-good-lost", `rules_version gauge changed ${ver0} → ${host.gauge("edgewatch.rules_version")}`);
        const after = observe(host, probes);
        stats.requests += after.length;
        const diff = sameObs(baseline, after);
        if (diff.length > 0) v("last-good-lost", diff.slice(0, 4).join("; "));
      }
      stats.ms += performance.now() - t0;
      return found;
    },
    async close() {
      await host.close();
    },
  };
}

// ------------------------------------------------------------------------------------------------
// rules-pull: documents as raw HTTP bodies from the rules service (fetched by ONE VM, published
// to every VM through shared data + queues). Bytes may be invalid UTF-8 and up to 10 MB.

export async function rulesPullFamily(opts: RulesFamilyOptions = {}): Promise<FamilyRunner<{ doc: J; kind: DocMutation; seed: number; versionMode: number }>> {
  const maxRulesBytes = opts.maxRulesBytes ?? PUSH_MAX_RULES_BYTES;
  const config = JSON.stringify({
    tracing: { enabled: false },
    blast_radius: { max_deny_fraction: 1 }, // only whole-space denial is judged (the reference models it)
    max_rules_bytes: maxRulesBytes,
    // lease_ms well above any stall of this process's own work between two cases (the oracle's
    // whole-space check of a big document, its probes): a stall past the lease hands the fetcher
    // role to another VM, the former fetcher drops the document its poll then receives ("the new
    // fetcher publishes"), and this fake service, which answers one poll per document, never serves
    // it again — a real one would answer the new fetcher's poll at once. Handover itself is tested
    // in test/rules/fetcher-failover.test.ts.
    rules_service: { cluster: RULES_CLUSTER, long_poll_ms: 60000, timeout_ms: 120000, tick_ms: 10, lease_ms: 60000, backoff_base_ms: 5, backoff_max_ms: 50 },
  });
  const workers = opts.workers ?? 2;
  let host = await FuzzHost.start({ configuration: config, workers });
  const stats = newStats("rules-pull");
  let known = 0;
  let current: RefRules | null = null;
  let probes: Probe[] = [];
  let baseline: ProbeObs[] = [];

  async function bootstrap(): Promise<void> {
    known++;
    const first = Buffer.from(JSON.stringify({ version: known, access: [{ id: "seed", cidrs: ["198.51.100.0/24", "2001:db8:bad::/48"] }] }));
    await host.serve(first);
    current = validateRulesDocument(first).value!;
    probes = probesFor(current, 1);
    // A VM that registered its notification queue after the publish catches up on its next tick:
    // take the baseline only once every worker enforces the seed rules (bounded wait).
    const deadline = performance.now() + 3000;
    let e = compareEnforcement(host, current, false, probes);
    while (e.problems.length > 0 && performance.now() < deadline) {
      await new Promise((res) => setTimeout(res, 20));
      e = compareEnforcement(host, current, false, probes);
    }
    if (e.problems.length > 0) throw new Error(`seed rules not enforced on every worker: ${e.problems.slice(0, 3).join("; ")}`);
    baseline = e.obs;
  }
  await bootstrap();
  const kinds = opts.mutations ?? DOC_MUTATIONS;
  const arb = fc.tuple(arbRulesDoc(6), arbDocMutation(kinds), fc.integer(), fc.integer({ min: 0, max: 19 }))
    .map(([doc, kind, seed, versionMode]) => ({ doc, kind, seed, versionMode }));

  return {
    name: "rules-pull",
    arb,
    stats,
    async run(c, index) {
      const t0 = performance.now();
      // Versions: mostly newer than the one in force; sometimes equal, older, or absent.
      const doc = structuredClone(c.doc) as J;
      let docVersion: number | null;
      if (c.versionMode < 15) docVersion = known + 1 + (c.versionMode % 3);
      else if (c.versionMode < 17) docVersion = known;
      else if (c.versionMode < 19) docVersion = Math.max(0, known - 1 - (c.versionMode % 2));
      else docVersion = null;
      if (docVersion === null) removeMember(doc, "version");
      else setMember(doc, "version", docVersion);
      const m = mutateDoc(doc, c.kind, c.seed, { binary: true, maxRulesBytes });
      const ref = validateRulesDocument(m.bytes, maxRulesBytes);
      const found: Violation[] = [];
      const v = (kind: ViolationKind, message: string) => {
        const x = record(stats, { family: "rules-pull", caseIndex: index, kind, message, mutation: m.mutation, input: clip(m.bytes) }, m.bytes);
        if (x) found.push(x);
      };
      const bm = (stats.byMutation[m.mutation] ??= { cases: 0, accepted: 0, rejected: 0 });
      bm.cases++;
      stats.cases++;
      const f0 = failureCounts(host);
      const ok0 = host.counter("edgewatch.rules_reload_total");
      const ver0 = host.gauge("edgewatch.rules_version");
      const served = await host.serve(m.bytes, { settleMs: 3000 });
      if (host.trapped()) {
        stats.traps++;
        v("trap", host.trapMessage());
        await host.close().catch(() => {});
        host = await FuzzHost.start({ configuration: config, workers });
        known = 0;
        await bootstrap();
        stats.ms += performance.now() - t0;
        return found;
      }
      if (!served.repolled) v("slow", `the fetcher did not ask again within 3 s of a ${m.bytes.length}-byte document`);
      const version = ref.valid ? ref.value!.version : null;
      // The fetcher's order: schema, version, then the blast-radius guard (whole-space only here).
      const guard = ref.valid ? wholeSpaceRejectedRef(ref.value!) : null;
      const d = delta(f0, failureCounts(host), ["fetch"]);
      const ok = host.counter("edgewatch.rules_reload_total") - ok0;
      if (ref.valid && version! > known && guard === null) {
        // must be accepted and enforced everywhere
        if (ok === 1n) { stats.accepted++; bm.accepted++; } else { stats.rejected++; bm.rejected++; }
        if (ok !== 1n) v("valid-rejected", `reference accepts version ${version} (> ${known}) but rules_reload_total moved by ${ok}; failures ${JSON.stringify(d.by, (_k, x) => (typeof x === "bigint" ? Number(x) : x))}`);
        if (d.total !== 0n) v("counters", `accepted but failure counters moved by ${d.total}`);
        const rules = ref.value!;
        if (host.gauge("edgewatch.rules_version") !== BigInt(rules.version)) v("counters", `rules_version gauge ${host.gauge("edgewatch.rules_version")} ≠ ${rules.version}`);
        known = rules.version;
        current = rules;
        probes = probesFor(rules, c.seed);
        const e = compareEnforcement(host, rules, false, probes);
        stats.requests += e.obs.length;
        if (e.problems.length > 0) v("enforcement", e.problems.slice(0, 4).join("; "));
        baseline = e.obs;
      } else {
        stats.rejected++;
        bm.rejected++;
        if (ok !== 0n) v("invalid-accepted", `accepted (rules_reload_total +${ok}), reference says: ${ref.valid ? (version! > known ? `blast radius: ${guard}` : `version ${version} ≤ ${known} in force`) : ref.errors.slice(0, 3).map((e) => `[${e.reason}] ${e.path}: ${e.message}`).join("; ")}`);
        const expectNothing = ref.valid && version === known; // same version: like a 304
        if (expectNothing) {
          if (d.total !== 0n) v("counters", `same version re-served: failure counters moved by ${d.total}`);
        } else {
          if (d.total !== 1n) v("counters", `rejected: failure counters moved by ${d.total} ${JSON.stringify(d.by, (_k, x) => (typeof x === "bigint" ? Number(x) : x))}`);
          const expect: Reason | null = ref.valid ? (version! > known ? "blast_radius" : "version") : ref.reason;
          if (d.total === 1n && expect && !d.by[expect]) v("wrong-reason", `rejected with ${Object.keys(d.by).join(",")}, expected ${expect}`);
        }
        if (host.gauge("edgewatch.rules_version") !== ver0) v("last-good-lost", `rules_version gauge changed ${ver0} → ${host.gauge("edgewatch.rules_version")}`);
        const after = observe(host, probes);
        stats.requests += after.length;
        const diff = sameObs(baseline, after);
        if (diff.length > 0) v("last-good-lost", diff.slice(0, 4).join("; "));
      }
      stats.ms += performance.now() - t0;
      return found;
    },
    async close() {
      await host.close();
    },
  };
}

// ------------------------------------------------------------------------------------------------
// plugin-config: whole plugin configurations (valid and mutated).

export async function pluginConfigFamily(opts: { budgetMs?: number } = {}): Promise<FamilyRunner<{ bytes: Buffer; mutation: string; mustBeInvalid: boolean; expectReason: Reason | null; seed: number }>> {
  const initial = JSON.stringify({ tracing: { enabled: false }, blast_radius: { max_deny_fraction: 1 }, rules: { version: 1, access: [{ id: "seed", cidrs: ["198.51.100.0/24"] }] } });
  let host = await FuzzHost.start({ configuration: initial, workers: 1 });
  const stats = newStats("plugin-config");
  let currentConfig = initial;
  let currentRef = validatePluginConfiguration(Buffer.from(initial)).value!;
  let probes = probesFor(currentRef.rules, 1);
  let baseline = observe(host, probes);
  const budget = opts.budgetMs ?? 2000;
  return {
    name: "plugin-config",
    arb: arbConfigCase(),
    stats,
    async run(c, index) {
      const t0 = performance.now();
      const text = c.bytes.toString("utf8");
      const ref = validatePluginConfiguration(c.bytes);
      const found: Violation[] = [];
      const v = (kind: ViolationKind, message: string) => {
        const x = record(stats, { family: "plugin-config", caseIndex: index, kind, message, mutation: c.mutation, input: clip(text) }, text);
        if (x) found.push(x);
      };
      const bm = (stats.byMutation[c.mutation] ??= { cases: 0, accepted: 0, rejected: 0 });
      bm.cases++;
      stats.cases++;
      const f0 = failureCounts(host);
      const res = await host.push(text);
      if (host.trapped()) {
        stats.traps++;
        v("trap", host.trapMessage());
        await host.close().catch(() => {});
        host = await FuzzHost.start({ configuration: currentConfig, workers: 1 });
        baseline = observe(host, probes);
        stats.ms += performance.now() - t0;
        return found;
      }
      if (res.code && res.code !== "PLUGIN_CONFIG_REJECTED") v("trap", `push failed with ${res.code}: ${res.message}`);
      if (res.ms > budget && c.bytes.length <= 1024 * 1024) v("slow", `configure of ${c.bytes.length} bytes took ${Math.round(res.ms)} ms (budget ${budget} ms)`);
      if (c.mustBeInvalid && ref.valid) v("valid-rejected", `generator marked "${c.mutation}" invalid but the reference accepts it (generator bug)`);
      const identical = text === currentConfig;
      if (res.accepted) {
        stats.accepted++;
        bm.accepted++;
        if (!ref.valid && !identical) {
          v("invalid-accepted", `accepted, reference says: ${ref.errors.slice(0, 3).map((e) => `[${e.reason}] ${e.path}: ${e.message}`).join("; ")}`);
          baseline = observe(host, probes);
        }
        if (ref.valid && !identical) {
          const cfg = ref.value!;
          probes = probesFor(cfg.rules, c.seed);
          // Probes carry no forwarding headers: every client_address source falls back to the peer.
          const pulls = cfg.rulesService.cluster.length > 0;
          const e = compareEnforcement(host, cfg.rules, pulls && cfg.rulesService.coldStartDeny, probes);
          stats.requests += e.obs.length;
          if (e.problems.length > 0) v("enforcement", e.problems.slice(0, 4).join("; "));
          baseline = e.obs;
          currentRef = cfg;
        }
        if (!identical) currentConfig = text;
      } else {
        stats.rejected++;
        bm.rejected++;
        if (ref.valid) v("valid-rejected", `rejected (${res.message}) but the reference accepts it`);
        const d = delta(f0, failureCounts(host), ["fetch"]);
        if (d.total !== 1n) v("counters", `rejected: failure counters moved by ${d.total}`);
        const expect = ref.reason;
        if (d.total === 1n && expect && !d.by[expect]) v("wrong-reason", `rejected with ${Object.keys(d.by).join(",")}, expected ${expect}`);
        const after = observe(host, probes);
        stats.requests += after.length;
        const diff = sameObs(baseline, after);
        if (diff.length > 0) v("last-good-lost", diff.slice(0, 4).join("; "));
      }
      void currentRef;
      stats.ms += performance.now() - t0;
      return found;
    },
    async close() {
      await host.close();
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Request-side families

function healthy(host: FuzzHost, o: RequestOutcome): string | null {
  if (host.trapped()) return host.trapMessage();
  if (o.status === 0) return "request reset";
  if (o.details === "wasm_fail_stream") return "filter failed the stream (503)";
  return null;
}

const TRACE_MODES = [
  { name: "always@0.5", trust: "always", rate: 0.5 },
  { name: "never@1", trust: "never", rate: 1 },
  { name: "never@0", trust: "never", rate: 0 },
] as const;

export interface TraceCase { tp: string | null; ts: string | null; ts2: string | null; mode: number }

export async function traceHeadersFamily(): Promise<FamilyRunner<TraceCase>> {
  const hosts = await Promise.all(TRACE_MODES.map((m) => FuzzHost.start({
    configuration: JSON.stringify({
      tracing: { trust_parent: m.trust, collector: { cluster: COLLECTOR_CLUSTER, flush_ms: 10, batch_max: 64 } },
      rules: { version: 1, access: [], sampling: { default_rate: m.rate } },
    }),
    workers: 1,
  })));
  const stats = newStats("trace-headers");
  const arb = fc.record({
    tp: fc.option(arbTraceparent, { freq: 8 }),
    ts: fc.option(arbTracestate, { freq: 3 }),
    // A second tracestate line now and then (W3C: lines are combined into one list).
    ts2: fc.oneof({ weight: 11, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arbTracestate }),
    mode: fc.integer({ min: 0, max: TRACE_MODES.length - 1 }),
  });
  return {
    name: "trace-headers",
    arb,
    stats,
    async run(c, index) {
      const t0 = performance.now();
      const host = hosts[c.mode];
      const mode = TRACE_MODES[c.mode];
      const headers: Array<[string, string]> = [[":method", "GET"], [":path", "/t"], [":authority", "edge.test"]];
      if (c.tp !== null) headers.push(["traceparent", c.tp]);
      const tsLines = [c.ts, c.ts2].filter((x): x is string => x !== null);
      for (const line of tsLines) headers.push(["tracestate", line]);
      const input = JSON.stringify({ mode: mode.name, traceparent: c.tp, tracestate: tsLines });
      const found: Violation[] = [];
      const v = (kind: ViolationKind, message: string) => {
        const x = record(stats, { family: "trace-headers", caseIndex: index, kind, message, input: clip(input) }, input);
        if (x) found.push(x);
      };
      stats.cases++;
      // Separate entries per line, as a codec delivers a repeated non-inline header.
      const o = host.request({ headers, rawAppend: true });
      stats.requests++;
      const bad = healthy(host, o);
      if (bad) {
        if (host.trapped()) stats.traps++;
        v("trap", bad);
        stats.ms += performance.now() - t0;
        return found;
      }
      if (o.status !== 200 || o.forwarded === null) { v("lost-request", `status ${o.status}`); stats.ms += performance.now() - t0; return found; }
      const tpOut = o.forwarded.getAll("traceparent");
      const tsOut = o.forwarded.getAll("tracestate");
      const inTp = c.tp === null ? null : parseTraceparentRef(c.tp);
      // W3C: several tracestate lines form ONE list (combined with ",").
      const tsIn = tsLines.length > 0 ? tsLines.join(",") : null;
      const inTs = tsIn === null ? null : parseTracestateRef(tsIn);
      if (tpOut === undefined || !isValidOutgoingTraceparent(tpOut)) v("propagation", `forwarded traceparent invalid: ${JSON.stringify(tpOut)}`);
      else {
        const outTrace = tpOut.slice(3, 35);
        const sampled = (parseInt(tpOut.slice(53, 55), 16) & 1) === 1;
        if (inTp !== null && outTrace !== inTp.traceId) v("propagation", `valid incoming trace id ${inTp.traceId} not kept (forwarded ${outTrace})`);
        if (inTp === null && c.tp !== null && /^[0-9a-f]{32}$/.test(c.tp.slice(3, 35)) && outTrace === c.tp.slice(3, 35)) v("propagation", "an invalid traceparent's trace id was continued (must restart)");
        if (mode.trust === "always" && inTp !== null && sampled !== ((inTp.flags & 1) === 1)) v("propagation", `trusted parent sampled=${inTp.flags & 1} but forwarded sampled=${sampled}`);
        if (mode.name === "never@1" && !sampled) v("propagation", "rate 1 (parent not trusted) but not sampled");
        if (mode.name === "never@0" && sampled) v("propagation", "rate 0 (parent not trusted) but sampled");
      }
      if (tsOut !== undefined) {
        const out = parseTracestateRef(tsOut);
        // Unchanged: the incoming lines, or the same lines combined into one (an HTTP field-line
        // combination, in order, ","-separated; an empty line adds no member), which the filter
        // sends when a list came in several lines.
        const unchanged = tsOut === tsIn || tsOut === tsLines.filter((l) => l !== "").join(",");
        if (out === null) v("propagation", `forwarded tracestate is not a valid list${unchanged ? " (forwarded unchanged)" : ""}: ${JSON.stringify(tsOut.slice(0, 160))}`);
        // A rewritten value must respect the 512-character limit (an untouched one MAY be longer: W3C "CAN decide to forward").
        if (!unchanged && tsOut.length > 512) v("propagation", `rewritten tracestate is ${tsOut.length} > 512 characters`);
        const vendor = (out?.members ?? []).filter(([k]) => k !== "ot");
        if (inTp === null && vendor.length > 0) v("propagation", "restarted trace forwarded vendor tracestate members");
        if (inTp !== null && inTs === null && vendor.length > 0) v("propagation", "invalid tracestate forwarded (must be dropped)");
        if (inTs !== null && inTp !== null) {
          const allowed = new Set(inTs.members.map(([k, x]) => `${k}=${x}`));
          for (const [k, x] of vendor) if (!allowed.has(`${k}=${x}`)) v("propagation", `forwarded member ${k}=${x} not in the incoming tracestate`);
          // Members may only be dropped to respect the 512 limit.
          const kept = new Set(vendor.map(([k, x]) => `${k}=${x}`));
          const lost = inTs.members.filter(([k, x]) => k !== "ot" && !kept.has(`${k}=${x}`));
          if (lost.length > 0 && tsOut.length + lost.reduce((n, [k, x]) => n + k.length + x.length + 2, 0) <= 512) {
            v("propagation", `incoming tracestate members dropped without need: ${lost.map(([k]) => k).join(",")}`);
          }
        }
        const ot = out?.members.find(([k]) => k === "ot")?.[1];
        if (mode.name === "never@0" && ot !== undefined && /(^|;)th:/.test(ot)) v("propagation", `unsampled context forwarded a th: ${ot}`);
        // th:0 (keep everything); "th:00" is the same threshold in a non-canonical spelling.
        if (mode.name === "never@1" && !(ot !== undefined && /(^|;)th:0+(;|$)/.test(ot))) v("propagation", `sampled at rate 1 without ot=th:0 (${tsOut.slice(0, 100)})`);
      } else if (mode.name === "never@1") v("propagation", "sampled at rate 1 without a tracestate carrying th:0");
      stats.ms += performance.now() - t0;
      return found;
    },
    async close() {
      for (const h of hosts) await h.close();
    },
  };
}

const XFF_RULES = { version: 1, access: [{ id: "deny-net", cidrs: ["198.51.100.0/24", "2001:db8:bad::/48", "203.0.113.7/32"] }] };

export type XffCase = { hops: number; source: "connection" | "xff" | "envoy_external"; lines: string[][]; separators: string[]; peer: string; external: string | null };

/** `oracleDenied`: CIDRs the ORACLE believes are denied (default: the ones configured) — self-tests plant a wrong one. */
export async function xffFamily(opts: { oracleDenied?: string[] } = {}): Promise<FamilyRunner<XffCase>> {
  const hosts = new Map<string, FuzzHost>();
  const hostFor = async (source: string, hops: number): Promise<FuzzHost> => {
    const key = `${source}/${hops}`;
    let h = hosts.get(key);
    if (!h) {
      h = await FuzzHost.start({ configuration: JSON.stringify({ tracing: { enabled: false }, client_address: { source, xff_trusted_hops: hops }, rules: XFF_RULES }), workers: 1 });
      hosts.set(key, h);
    }
    return h;
  };
  const denied = (opts.oracleDenied ?? XFF_RULES.access[0].cidrs).map((c) => parseCidrRef(c)!);
  const stats = newStats("xff");
  return {
    name: "xff",
    arb: arbXffCase as unknown as fc.Arbitrary<XffCase>,
    stats,
    async run(c, index) {
      const t0 = performance.now();
      const host = await hostFor(c.source, c.hops);
      const headers: Array<[string, string]> = [[":method", "GET"], [":path", "/x"], [":authority", "edge.test"]];
      c.lines.forEach((entries, i) => headers.push(["x-forwarded-for", entries.join(c.separators[i % c.separators.length])]));
      if (c.external !== null) headers.push(["x-envoy-external-address", c.external]);
      const peerPort = 41000;
      // What the filter sees: the host's header map, x-forwarded-for lines merged with "," as Envoy's
      // codecs merge every line of an inline header (HeaderMapImpl addViaMove → appendToHeader): in
      // Envoy the header is one entry whatever arrives.
      const o = host.request({ source: { ip: c.peer, port: peerPort }, headers });
      stats.requests++;
      stats.cases++;
      const input = JSON.stringify(c);
      const found: Violation[] = [];
      const v = (kind: ViolationKind, message: string) => {
        const x = record(stats, { family: "xff", caseIndex: index, kind, message, input: clip(input) }, input);
        if (x) found.push(x);
      };
      const bad = healthy(host, o);
      if (bad) { if (host.trapped()) stats.traps++; v("trap", bad); stats.ms += performance.now() - t0; return found; }
      const map = new HeaderMap("request");
      for (const [k, x] of headers) map.addCopy(k, x);
      const seen = map.entries();
      const client = resolveClientRef({ source: c.source, xffTrustedHops: c.hops }, seen, socketAddressText(c.peer, peerPort));
      const wantDeny = client !== null && denied.some((d) => cidrContains(d, client));
      if (o.local !== wantDeny || (wantDeny && (o.status !== 403 || o.ruleHeader !== "deny-net"))) {
        v("client-address", `expected ${wantDeny ? "deny" : "allow"} (client ${client ? addrText(client) : "unknown"}), got ${o.status}${o.local ? " local" : ""}`);
      }
      stats.ms += performance.now() - t0;
      return found;
    },
    async close() {
      for (const h of hosts.values()) await h.close();
    },
  };
}

const HEADER_RULES = {
  version: 1,
  access: [
    { id: "tenant-eq", cidrs: ["0.0.0.0/0", "::/0"], header: { name: "x-tenant", equals: "acme" }, action: "deny", status: 451 },
    { id: "ua-prefix", cidrs: ["0.0.0.0/0", "::/0"], header: { name: "User-Agent", prefix: "bot" }, action: "deny", status: 429 },
    { id: "key-contains", cidrs: ["10.0.0.0/8", "2001:db8::/32"], header: { name: "x-api-key", contains: "leak" }, action: "deny" },
    { id: "api-path", cidrs: ["198.51.100.0/24"], path_prefix: "/api", action: "deny", status: 404 },
    { id: "log-all", cidrs: ["0.0.0.0/1"], action: "log" },
    { id: "allow-203", cidrs: ["203.0.113.0/24"], action: "allow" },
  ],
};

export async function headerValuesFamily(): Promise<FamilyRunner<{ path: string; extra: Array<[string, string]>; many: number; peer: string }>> {
  const host = await FuzzHost.start({ configuration: JSON.stringify({ tracing: { enabled: false }, telemetry: { method_label: true, path_routes: [{ prefix: "/api", route: "api" }] }, rules: HEADER_RULES }), workers: 1 });
  const rules = validateRulesDocument(Buffer.from(JSON.stringify(HEADER_RULES))).value!;
  const stats = newStats("header-values");
  return {
    name: "header-values",
    arb: arbRequestHeaders,
    stats,
    async run(c, index) {
      const t0 = performance.now();
      const headers: Array<[string, string]> = [[":method", "GET"], [":path", c.path], [":authority", "edge.test"], ...c.extra];
      for (let i = 0; i < c.many; i++) headers.push([`x-filler-${i}`, "f".repeat(i % 50)]);
      const o = host.request({ source: { ip: c.peer, port: 42000 }, headers });
      stats.requests++;
      stats.cases++;
      const input = JSON.stringify({ path: c.path, extra: c.extra.map(([k, x]) => [k, x.length > 200 ? `${x.slice(0, 50)}…(${x.length})` : x]), many: c.many, peer: c.peer });
      const found: Violation[] = [];
      const v = (kind: ViolationKind, message: string) => {
        const x = record(stats, { family: "header-values", caseIndex: index, kind, message, input: clip(input) }, input);
        if (x) found.push(x);
      };
      const bad = healthy(host, o);
      if (bad) { if (host.trapped()) stats.traps++; v("trap", bad); stats.ms += performance.now() - t0; return found; }
      // What the filter reads: the first value of each header in the proxy's map (Envoy merges
      // repeated inline headers with ","; others stay separate entries).
      const map = new HeaderMap("request");
      for (const [k, x] of headers) map.addCopy(k.toLowerCase(), x);
      const client = parseClientAddressRef(socketAddressText(c.peer, 42000));
      const d = evaluateRef(rules, { client, header: (n) => map.get(n), path: map.get(":path") });
      if (o.local !== d.denied || (d.denied && (o.status !== d.status || o.ruleHeader !== d.ruleId))) {
        v("enforcement", `expected ${d.denied ? `${d.status} ${d.ruleId}` : "allow"}, got ${o.status} ${o.ruleHeader ?? "-"}`);
      }
      stats.ms += performance.now() - t0;
      return found;
    },
    async close() {
      await host.close();
    },
  };
}

export const FAMILY_FACTORIES: Record<string, () => Promise<FamilyRunner<unknown>>> = {
  "rules-push": () => rulesPushFamily() as Promise<FamilyRunner<unknown>>,
  "rules-pull": () => rulesPullFamily() as Promise<FamilyRunner<unknown>>,
  "plugin-config": () => pluginConfigFamily() as Promise<FamilyRunner<unknown>>,
  "trace-headers": () => traceHeadersFamily() as Promise<FamilyRunner<unknown>>,
  xff: () => xffFamily() as Promise<FamilyRunner<unknown>>,
  "header-values": () => headerValuesFamily() as Promise<FamilyRunner<unknown>>,
};

export { settle, XFF_DENIED, getMember, serialize };

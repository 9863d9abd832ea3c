/**
 * fast-check arbitraries for the reliability campaign (issue #8):
 *   - valid rule documents and plugin configurations, spelled many ways (escapes, whitespace,
 *     member order);
 *   - mutations of them into documented invalid classes (unknown fields, wrong types, numbers out of
 *     range, NaN-like tokens, duplicate keys, bad CIDRs, deep nesting, truncation, invalid UTF-8,
 *     oversize) and blind byte-level mutations;
 *   - request header values: traceparent / tracestate (valid, near-valid, garbage), X-Forwarded-For
 *     lists, arbitrary header values.
 * Mutations run on a seeded PRNG drawn by fast-check, so every case is reproducible from the seed.
 */
import fc from "fast-check";
import { clone, fromJs, getMember, isObj, nodes, num, obj, raw, removeMember, serialize, setMember, type J } from "./json-ast.js";
import { Prng } from "./prng.js";
import type { Reason } from "./reference/schema.js";

// ------------------------------------------------------------------------------------------------
// Addresses and CIDRs

const V4_NETS = [[10], [192, 0, 2], [198, 51, 100], [203, 0, 113], [172, 16], [100, 64]];

export const arbV4 = fc.tuple(fc.constantFrom(...V4_NETS), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.boolean())
  .map(([net, rest, fromNet]) => (fromNet ? [...net, ...rest.slice(net.length)] : rest).join("."));

export const arbV6Groups = fc.tuple(
  fc.constantFrom([0x2001, 0x0db8], [0xfe80, 0], [0x2001, 0x0db8, 0x0bad], [0, 0, 0, 0, 0, 0xffff], [0x64, 0xff9b]),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
  fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
).map(([prefix, rest, zero]) => rest.map((g, i) => (i < prefix.length ? prefix[i] : zero[i] ? 0 : g)));

/** RFC 5952-ish text of 8 groups, optionally compressed / uppercased / with leading zeros. */
export function v6Text(groups: number[], style: { compress: boolean; upper: boolean; pad: boolean }): string {
  const g = groups.map((x) => {
    let s = x.toString(16);
    if (style.pad) s = s.padStart(4, "0");
    return style.upper ? s.toUpperCase() : s;
  });
  if (!style.compress) return g.join(":");
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
  }
  if (bestLen < 1) return g.join(":");
  return g.slice(0, best).join(":") + "::" + g.slice(best + bestLen).join(":");
}

export const arbV6 = fc.tuple(arbV6Groups, fc.boolean(), fc.boolean(), fc.boolean())
  .map(([g, compress, upper, pad]) => v6Text(g, { compress, upper, pad }));

export const arbCidrText = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(arbV4, fc.option(fc.integer({ min: 0, max: 32 }))).map(([a, l]) => (l === null ? a : `${a}/${l}`)) },
  { weight: 3, arbitrary: fc.tuple(arbV6, fc.option(fc.integer({ min: 0, max: 128 }))).map(([a, l]) => (l === null ? a : `${a}/${l}`)) },
  { weight: 1, arbitrary: fc.tuple(arbV4, fc.integer({ min: 96, max: 128 })).map(([a, l]) => `::ffff:${a}/${l}`) },
);

export const BAD_CIDRS = [
  "10.0.0.0/33", "::/129", "256.1.1.1", "10.0.0.01", "010.0.0.0/8", "10.0.0.0/08", "10.0.0/8", "10.0.0.0.0",
  "1.2.3.4/", "/8", "", " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/-1", "10.0.0.0/+8", "::1%eth0", "[::1]", "[::1]/128",
  "1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "12345::", "g::1", "::ffff:1.2.3.256", "::1.2.3",
  "1.2.3.4:80", "fe80::1/64/64", "10.0.0.0/1000", "0x0a.0.0.0", "10.0.0.0\u0000", "１0.0.0.0", "10.0.0.0/3\u0662",
  "1.2.3.4/32/", "::ffff:10.0.0.1/200", "2001:db8::/0128", "a".repeat(46),
];

// ------------------------------------------------------------------------------------------------
// Rule documents (valid)

const arbRuleIdBase = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
const arbHeaderName = fc.constantFrom("x-tenant", "user-agent", "X-Api-Key", "x-env", "accept", "x.weird_name!");
const arbHeaderValue = fc.oneof(
  fc.constantFrom("", "acme", "bot", "curl/8.0", "prod", "a,b", "ü", "\u00ff"),
  fc.string({ maxLength: 12 }),
);

function cidrsTextOf(cidrs: string[], r: Prng): string {
  const seps = [" ", ",", ", ", "\t", "\n", "\r\n"];
  let out = "";
  for (const c of cidrs) {
    if (r.chance(0.15)) out += "# comment " + r.pick(["x", "10.0.0.0/8", "#", ""]) + "\n";
    out += c + r.pick(seps);
  }
  if (r.chance(0.2)) out += "  # trailing comment";
  return out;
}

export interface GenRules {
  doc: J;
}

export const arbRule = (i: number) =>
  fc.record({
    idBase: arbRuleIdBase,
    action: fc.constantFrom("deny", "deny", "deny", "log", "allow"),
    explicitAction: fc.boolean(),
    cidrs: fc.array(arbCidrText, { maxLength: 6 }),
    useText: fc.constantFrom(0, 0, 0, 1, 2),
    pathPrefix: fc.option(fc.constantFrom("/", "/probe", "/api", "/p", "/probe/x"), { freq: 4 }),
    header: fc.option(fc.record({ name: arbHeaderName, op: fc.constantFrom("equals", "prefix", "contains"), value: arbHeaderValue }), { freq: 5 }),
    status: fc.option(fc.integer({ min: 200, max: 599 }), { freq: 3 }),
    body: fc.option(fc.string({ maxLength: 40 }), { freq: 4 }),
    headers: fc.option(fc.dictionary(fc.constantFrom("x-reason", "Retry-After", "x-a", "cache-control"), fc.stringMatching(/^[ -~]{0,20}$/), { maxKeys: 3 }), { freq: 4 }),
    description: fc.option(fc.string({ maxLength: 30 }), { freq: 5 }),
    seed: fc.integer(),
  }).map((x): J => {
    const r = new Prng(x.seed);
    const members: Array<[string, J]> = [["id", `${x.idBase}-${i}`]];
    if (x.explicitAction || x.action !== "deny") members.push(["action", x.action]);
    if (x.useText === 0) members.push(["cidrs", x.cidrs]);
    else if (x.useText === 1) members.push(["cidrs_text", cidrsTextOf(x.cidrs, r)]);
    else {
      const k = Math.floor(x.cidrs.length / 2);
      members.push(["cidrs", x.cidrs.slice(0, k)], ["cidrs_text", cidrsTextOf(x.cidrs.slice(k), r)]);
    }
    if (x.pathPrefix !== null) members.push(["path_prefix", x.pathPrefix]);
    if (x.header !== null) members.push(["header", obj(["name", x.header.name], [x.header.op, x.header.value])]);
    if (x.status !== null) members.push(["status", x.status]);
    if (x.body !== null) members.push(["body", x.body]);
    if (x.headers !== null) members.push(["headers", fromJs(x.headers)]);
    if (x.description !== null) members.push(["description", x.description]);
    // member order is not significant
    for (let k = members.length - 1; k > 0; k--) {
      const j = r.int(0, k);
      [members[k], members[j]] = [members[j], members[k]];
    }
    return { $obj: members };
  });

export const arbSampling = fc.record({
  default_rate: fc.option(fc.oneof(fc.constantFrom(0, 1, 0.5, 0.25), fc.double({ min: 0, max: 1, noNaN: true })), { freq: 2 }),
  routes: fc.option(fc.dictionary(fc.constantFrom("api", "health", "default", "a b", "ü"), fc.double({ min: 0, max: 1, noNaN: true }), { maxKeys: 4 }), { freq: 2 }),
  always_keep_5xx: fc.option(fc.boolean(), { freq: 2 }),
  slow_threshold_ms: fc.option(fc.integer({ min: 0, max: 3_600_000 }), { freq: 2 }),
}).map((s) => fromJs(Object.fromEntries(Object.entries(s).filter(([, v]) => v !== null))));

export const arbRulesDoc = (maxRules = 8): fc.Arbitrary<J> =>
  fc.integer({ min: 0, max: maxRules }).chain((n) =>
    fc.record({
      version: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { freq: 8 }),
      mode: fc.option(fc.constantFrom("deny", "deny", "allow"), { freq: 2 }),
      access: fc.tuple(...Array.from({ length: n }, (_, i) => arbRule(i))),
      sampling: fc.option(arbSampling, { freq: 3 }),
      default_reply: fc.option(fc.record({ status: fc.integer({ min: 200, max: 599 }), body: fc.string({ maxLength: 20 }) }), { freq: 4 }),
      description: fc.option(fc.string({ maxLength: 30 }), { freq: 4 }),
    }).map((d): J => {
      const members: Array<[string, J]> = [];
      if (d.version !== null) members.push(["version", d.version]);
      if (d.mode !== null) members.push(["mode", d.mode]);
      members.push(["access", d.access]);
      if (d.sampling !== null) members.push(["sampling", d.sampling]);
      if (d.default_reply !== null) members.push(["default_reply", fromJs(d.default_reply)]);
      if (d.description !== null) members.push(["description", d.description]);
      return { $obj: members };
    }),
  );

// ------------------------------------------------------------------------------------------------
// Mutations

export interface Mutated {
  bytes: Buffer;
  /** Mutation class ("valid", "unknown-field", ...). */
  mutation: string;
  /** The mutation guarantees an invalid document. */
  mustBeInvalid: boolean;
  /** The reason a single-defect mutation must be rejected with (null: not asserted). */
  expectReason: Reason | null;
}

export const DOC_MUTATIONS = [
  "valid", "valid", "valid", "valid", "valid", "valid", "valid", "restyle", "restyle", "restyle", "unknown-field", "wrong-type", "out-of-range", "nan-token", "duplicate-key",
  "duplicate-key-escaped", "bad-cidr", "bad-cidrs-text", "missing-required", "bad-rule-id", "duplicate-rule-id",
  "bad-condition", "bad-reply", "deep-nesting", "truncated", "control-char", "not-object", "trailing-garbage",
  "byte-flip", "byte-insert", "byte-delete", "invalid-utf8", "huge-valid", "oversize", "too-many-rules", "empty",
  "lone-surrogate", "big-number",
] as const;
export type DocMutation = (typeof DOC_MUTATIONS)[number];

/** Mutations that build 0.3–1 MB documents (seconds per case): drawn rarely. */
export const HEAVY_DOC_MUTATIONS: readonly DocMutation[] = ["huge-valid", "oversize", "too-many-rules"];

/** Mutation kind: the light ones uniformly (with their repeats), each heavy one ≈ 0.5 % of cases. */
export function arbDocMutation(kinds: readonly DocMutation[] = DOC_MUTATIONS): fc.Arbitrary<DocMutation> {
  const light = kinds.filter((k) => !HEAVY_DOC_MUTATIONS.includes(k));
  const heavy = kinds.filter((k) => HEAVY_DOC_MUTATIONS.includes(k));
  if (heavy.length === 0) return fc.constantFrom(...light);
  return fc.oneof({ weight: 200 - 1 * heavy.length, arbitrary: fc.constantFrom(...light) }, { weight: heavy.length, arbitrary: fc.constantFrom(...heavy) });
}

/** A random object node of the document (the document itself included). */
function pickObject(doc: J, r: Prng, filter?: (path: string) => boolean): { path: string; node: J } {
  const objs = nodes(doc).filter((n) => isObj(n.node) && (!filter || filter(n.path)));
  return objs.length > 0 ? r.pick(objs) : { path: "$", node: doc };
}

function rulesOf(doc: J): J[] {
  const a = getMember(doc, "access");
  return Array.isArray(a) ? a : [];
}

function ensureRule(doc: J, r: Prng): J {
  const rules = rulesOf(doc);
  if (rules.length > 0) return r.pick(rules);
  const rule = obj(["id", "r0"], ["cidrs", ["192.0.2.0/24"]]);
  const a = getMember(doc, "access");
  if (Array.isArray(a)) a.push(rule);
  else setMember(doc, "access", [rule]);
  return rule;
}

const WRONG_VALUES: J[] = [null, true, 1, -1, "x", [], obj(), num("1.5"), [1], obj(["a", 1])];

/** Known fields of each object kind and a value of the WRONG type for each. */
const TYPE_SITES: Array<{ where: "doc" | "rule" | "sampling" | "reply" | "header"; key: string; wrong: J[] }> = [
  { where: "doc", key: "version", wrong: ["1", true, null, [1], obj()] },
  { where: "doc", key: "mode", wrong: [1, null, true, ["deny"], obj()] },
  { where: "doc", key: "access", wrong: [obj(), "[]", null, 1] },
  { where: "doc", key: "sampling", wrong: [[], "x", 1, null] },
  { where: "doc", key: "default_reply", wrong: [[], 403, null] },
  { where: "doc", key: "description", wrong: [1, null, ["d"], obj()] },
  { where: "rule", key: "id", wrong: [1, null, ["a"], obj(), true] },
  { where: "rule", key: "action", wrong: [1, null, ["deny"], true] },
  { where: "rule", key: "cidrs", wrong: ["10.0.0.0/8", obj(), 1, null, [1], [null], [["10.0.0.0/8"]]] },
  { where: "rule", key: "cidrs_text", wrong: [["10.0.0.0/8"], 1, null, obj()] },
  { where: "rule", key: "path_prefix", wrong: [1, null, ["/"], obj()] },
  { where: "rule", key: "header", wrong: ["x", [], null, 1] },
  { where: "rule", key: "status", wrong: ["403", null, true, [403]] },
  { where: "rule", key: "body", wrong: [1, null, ["b"], obj()] },
  { where: "rule", key: "headers", wrong: [[], "x", null, 1] },
  { where: "sampling", key: "default_rate", wrong: ["0.5", null, true, [0.5]] },
  { where: "sampling", key: "routes", wrong: [[], "x", null] },
  { where: "sampling", key: "always_keep_5xx", wrong: ["true", 1, null] },
  { where: "sampling", key: "slow_threshold_ms", wrong: ["100", null, true] },
];

const RANGE_SITES: Array<{ where: "doc" | "rule" | "sampling"; key: string; bad: J[] }> = [
  { where: "doc", key: "version", bad: [-1, num("1.5"), num("1e3"), num("1.0"), num("1234567890123456"), num("-0.0"), num("10000000000000000000000")] },
  { where: "doc", key: "mode", bad: ["Deny", "block", "", "deny "] },
  { where: "rule", key: "status", bad: [199, 600, 0, -403, num("403.0"), num("4.03e2"), num("99999999999999999999")] },
  { where: "rule", key: "action", bad: ["DENY", "reject", "", "log "] },
  { where: "sampling", key: "default_rate", bad: [-0.1, 1.0000001, num("1e400"), num("-1e400"), 2, num("1.5")] },
  { where: "sampling", key: "slow_threshold_ms", bad: [-1, 3_600_001, num("1.5"), num("1e3")] },
];

const NAN_TOKENS = ["NaN", "Infinity", "-Infinity", "+1", "01", ".5", "0x10", "1e", "-", "1_000", "1.", "--1", "1e+", "undefined", "nan", "True", "nul", "1.2.3"];

function siteNode(doc: J, where: "doc" | "rule" | "sampling" | "reply" | "header", r: Prng): J {
  if (where === "doc") return doc;
  if (where === "sampling") {
    let s = getMember(doc, "sampling");
    if (!isObj(s)) { s = obj(); setMember(doc, "sampling", s); }
    return s;
  }
  const rule = ensureRule(doc, r);
  if (where === "rule") return rule;
  if (where === "header") {
    let h = getMember(rule, "header");
    if (!isObj(h)) { h = obj(["name", "x-tenant"], ["equals", "a"]); setMember(rule, "header", h); }
    return h;
  }
  return rule;
}

function deepValue(depth: number, r: Prng): string {
  let s = r.pick(["1", '"x"', "null", "{}", "[]"]);
  for (let i = 0; i < depth; i++) s = r.chance(0.5) ? `[${s}]` : `{"k":${s}}`;
  return s;
}

const INVALID_UTF8: Buffer[] = [
  Buffer.from([0xff]), Buffer.from([0xfe]), Buffer.from([0xc0, 0x80]), Buffer.from([0xc1, 0xbf]), Buffer.from([0xe0, 0x80, 0x80]),
  Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xed, 0xbf, 0xbf]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xf5, 0x80, 0x80, 0x80]),
  Buffer.from([0xc3]), Buffer.from([0xe2, 0x82]), Buffer.from([0xf0, 0x9f, 0x98]), Buffer.from([0x80]), Buffer.from([0xbf]),
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
];

function escapedKey(k: string, r: Prng): string {
  // same decoded key, different spelling: escape one character
  if (k.length === 0) return "";
  const i = r.int(0, k.length - 1);
  const c = k.charCodeAt(i);
  return `${k.slice(0, i)}\\u${c.toString(16).padStart(4, "0")}${k.slice(i + 1)}`;
}

/** Insert an escaped-duplicate of an existing key of some object (same decoded key, other spelling). */
function duplicateEscaped(doc: J, r: Prng, _style: (j: J) => string): string | null {
  const site = pickObject(doc, r, () => true);
  const node = site.node as { $obj: Array<[string, J]> };
  if (node.$obj.length === 0) return null;
  const [k, v] = r.pick(node.$obj);
  if (k.length === 0) return null;
  const marker = `__dup_${r.int(0, 1e9)}`;
  node.$obj.push([marker, clone(v)]);
  // Plain spelling so the marker is found verbatim.
  const text = serialize(doc);
  return text.replace(JSON.stringify(marker), `"${escapedKey(k, r)}"`);
}

export interface MutationOptions {
  /** Bytes may be invalid UTF-8 (pull: the document is an HTTP body). */
  binary: boolean;
  /** max_rules_bytes in force (for oversize). */
  maxRulesBytes: number;
}

export function mutateDoc(doc0: J, kind: DocMutation, seed: number, opts: MutationOptions): Mutated {
  const r = new Prng(seed);
  const doc = clone(doc0);
  const styleOpts = { escapeRate: r.chance(0.3) ? r.next() * 0.3 : 0, wsRate: r.chance(0.3) ? r.next() * 0.5 : 0, indent: r.chance(0.2) ? 2 : 0, rand: () => r.next() };
  const style = (j: J) => serialize(j, styleOpts);
  const out = (text: string | Buffer, mustBeInvalid: boolean, expectReason: Reason | null): Mutated => ({
    bytes: Buffer.isBuffer(text) ? text : Buffer.from(text, "utf8"), mutation: kind, mustBeInvalid, expectReason,
  });
  switch (kind) {
    case "valid":
      return out(serialize(doc), false, null);
    case "restyle":
      return out(style(doc), false, null);
    case "unknown-field": {
      const site = pickObject(doc, r, (p) => !/\.headers$|\.routes$/.test(p));
      (site.node as { $obj: Array<[string, J]> }).$obj.push([r.pick(["Version", "acces", "extra", "", "ID", "cidr", "actions", "x"]), r.pick(WRONG_VALUES)]);
      return out(style(doc), true, "schema");
    }
    case "wrong-type": {
      const site = r.pick(TYPE_SITES);
      const node = siteNode(doc, site.where, r);
      setMember(node, site.key, clone(r.pick(site.wrong)));
      if (site.where === "rule" && site.key === "cidrs_text") removeMember(node, "cidrs");
      return out(style(doc), true, "schema");
    }
    case "out-of-range": {
      const site = r.pick(RANGE_SITES);
      const node = siteNode(doc, site.where, r);
      setMember(node, site.key, clone(r.pick(site.bad)));
      return out(style(doc), true, "schema");
    }
    case "nan-token": {
      const site = r.pick([...TYPE_SITES.filter((s) => s.where !== "header")]);
      const node = siteNode(doc, site.where, r);
      setMember(node, site.key, raw(r.pick(NAN_TOKENS)));
      return out(style(doc), true, "json");
    }
    case "duplicate-key": {
      const site = pickObject(doc, r, (p) => !/\.headers$/.test(p));
      const node = site.node as { $obj: Array<[string, J]> };
      if (node.$obj.length === 0) node.$obj.push(["description", "d"]);
      const [k, v] = r.pick(node.$obj);
      node.$obj.push([k, clone(v)]);
      return out(style(doc), true, "schema");
    }
    case "duplicate-key-escaped": {
      const text = duplicateEscaped(doc, r, style);
      return text === null ? out(style(doc), false, null) : out(text, false, null);
    }
    case "bad-cidr": {
      const rule = ensureRule(doc, r);
      const c = getMember(rule, "cidrs");
      const list = Array.isArray(c) ? c : [];
      list.splice(r.int(0, list.length), 0, r.pick(BAD_CIDRS));
      setMember(rule, "cidrs", list);
      return out(style(doc), true, "cidr");
    }
    case "bad-cidrs-text": {
      const rule = ensureRule(doc, r);
      const good = ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"];
      const bad = r.pick(BAD_CIDRS.filter((b) => b.trim().length > 0 && !/[ ,\t#\u0000]/.test(b)));
      const parts = [r.pick(good), bad, r.pick(good)];
      setMember(rule, "cidrs_text", parts.join(r.pick(["\n", " ", ","])));
      return out(style(doc), true, "cidr");
    }
    case "missing-required": {
      const rule = ensureRule(doc, r);
      if (r.chance(0.5)) removeMember(rule, "id");
      else { removeMember(rule, "cidrs"); removeMember(rule, "cidrs_text"); }
      return out(style(doc), true, "schema");
    }
    case "bad-rule-id": {
      const rule = ensureRule(doc, r);
      setMember(rule, "id", r.pick(["", "a b", "_default", "x".repeat(65), "ü", "a/b", "a:b", "rule\n", "a\u0000"]));
      return out(style(doc), true, "schema");
    }
    case "duplicate-rule-id": {
      const rule = ensureRule(doc, r);
      const a = getMember(doc, "access") as J[];
      const copy = clone(rule);
      a.push(copy);
      return out(style(doc), true, "schema");
    }
    case "bad-condition": {
      const rule = ensureRule(doc, r);
      const choices: Array<() => void> = [
        () => setMember(rule, "header", obj(["name", "x-a"])),
        () => setMember(rule, "header", obj(["equals", "a"])),
        () => setMember(rule, "header", obj(["name", "x-a"], ["equals", "a"], ["prefix", "b"])),
        () => setMember(rule, "header", obj(["name", "bad name"], ["equals", "a"])),
        () => setMember(rule, "header", obj(["name", ""], ["equals", "a"])),
        () => setMember(rule, "header", obj(["name", "x-a"], ["matches", "a"])),
        () => setMember(rule, "header", obj(["name", "x-a"], ["name", "x-b"], ["equals", "a"])),
        () => setMember(rule, "header", obj(["name", "x-a"], ["equals", "a".repeat(8193)])),
        () => setMember(rule, "path_prefix", r.pick(["", "api", " /api", "x".repeat(10)])),
        () => setMember(rule, "path_prefix", "/" + "a".repeat(1024)),
      ];
      r.pick(choices)();
      return out(style(doc), true, "schema");
    }
    case "bad-reply": {
      const target = r.chance(0.5) ? ensureRule(doc, r) : (() => { let d = getMember(doc, "default_reply"); if (!isObj(d)) { d = obj(); setMember(doc, "default_reply", d); } return d; })();
      const choices: Array<() => void> = [
        () => setMember(target, "headers", obj(["x-a", "a\r\nb"])),
        () => setMember(target, "headers", obj(["bad name", "a"])),
        () => setMember(target, "headers", obj([":status", "200"])),
        () => setMember(target, "headers", obj(["x-a", 1])),
        () => setMember(target, "headers", obj(["x-a", "a\u0000"])),
        () => setMember(target, "headers", obj(["x".repeat(129), "a"])),
        () => setMember(target, "headers", obj(["x-a", "v".repeat(8193)])),
        () => setMember(target, "headers", { $obj: Array.from({ length: 33 }, (_, i) => [`x-h${i}`, "v"] as [string, J]) }),
        () => setMember(target, "body", "b".repeat(65537)),
        () => setMember(target, "status", 100),
      ];
      r.pick(choices)();
      return out(style(doc), true, "schema");
    }
    case "deep-nesting": {
      // 33+ levels anywhere → json (depth); the top-level document counts as level 1.
      const depth = r.int(32, 200);
      setMember(doc, "description", raw(deepValue(depth, r)));
      return out(style(doc), true, "json");
    }
    case "truncated": {
      const text = Buffer.from(style(doc), "utf8");
      const cut = r.int(0, Math.max(0, text.length - 1));
      return out(text.subarray(0, cut), false, null);
    }
    case "control-char": {
      const rule = ensureRule(doc, r);
      const c = String.fromCharCode(r.pick([0, 1, 8, 9, 10, 13, 27, 31]));
      setMember(rule, "description", raw(`"a${c}b"`));
      return out(style(doc), true, "json");
    }
    case "not-object":
      return out(r.pick(["[]", '"rules"', "1", "null", "true", JSON.stringify([serialize(doc)])]), true, "schema");
    case "trailing-garbage":
      return out(style(doc) + r.pick(["x", "{}", ",", "]", " 1", "\u0000", "//c"]), true, "json");
    case "byte-flip":
    case "byte-insert":
    case "byte-delete": {
      const b = Buffer.from(style(doc), "utf8");
      const n = r.int(1, 4);
      let arr = [...b];
      for (let k = 0; k < n && arr.length > 0; k++) {
        const at = r.int(0, arr.length - 1);
        const byte = opts.binary ? r.int(0, 255) : r.pick([0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x30, 0x2e, 0x2f, 0x20, 0x61, 0x2d]);
        if (kind === "byte-flip") arr[at] = byte;
        else if (kind === "byte-insert") arr.splice(at, 0, byte);
        else arr.splice(at, 1);
      }
      const buf = Buffer.from(arr);
      return out(opts.binary ? buf : Buffer.from(buf.toString("utf8"), "utf8"), false, null);
    }
    case "invalid-utf8": {
      if (!opts.binary) return out(style(doc), false, null);
      // Inside a string value (utf8 error) or outside (syntax error): both reason json.
      const rule = ensureRule(doc, r);
      const marker = `__utf8_${r.int(0, 1e9)}`;
      setMember(rule, "description", `a${marker}b`);
      const text = Buffer.from(serialize(doc), "utf8");
      const at = text.indexOf(marker);
      const bad = r.pick(INVALID_UTF8);
      return out(Buffer.concat([text.subarray(0, at), bad, text.subarray(at + marker.length)]), true, "json");
    }
    case "huge-valid": {
      // Many CIDRs in one rule (cidrs_text) and many rules: must load (when under max_rules_bytes).
      const rulesN = r.int(1, 300);
      const a: J[] = [];
      for (let i = 0; i < rulesN; i++) a.push(obj(["id", `h${i}`], ["cidrs", [`10.${(i >> 8) & 255}.${i & 255}.0/24`]]));
      const lines: string[] = [];
      const cidrsN = r.int(1000, 20000);
      for (let i = 0; i < cidrsN; i++) lines.push(`${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.${r.int(0, 255)}/32`);
      a.push(obj(["id", "bulk"], ["cidrs_text", lines.join("\n")]));
      setMember(doc, "access", a);
      const text = serialize(doc);
      return out(text, Buffer.byteLength(text) > opts.maxRulesBytes, Buffer.byteLength(text) > opts.maxRulesBytes ? "size" : null);
    }
    case "oversize": {
      // The document VALUE must pass the limit: whitespace after it is not part of it where the
      // document is embedded in a plugin configuration (a push measures the value; seed 2, case
      // 34292 padded 1..19 bytes short of the limit and made up the rest with trailing spaces).
      const target = opts.maxRulesBytes + r.int(1, 4096);
      const pad = Math.max(0, target - Buffer.byteLength(serialize(doc)) - 20);
      setMember(doc, "description", "x".repeat(pad));
      const short = opts.maxRulesBytes + 1 - Buffer.byteLength(serialize(doc));
      if (short > 0) setMember(doc, "description", "x".repeat(pad + short));
      const text = serialize(doc) + " ".repeat(Math.max(0, target - Buffer.byteLength(serialize(doc))));
      return out(text, true, "size");
    }
    case "too-many-rules": {
      const a: J[] = [];
      for (let i = 0; i < 32768; i++) a.push(obj(["id", `r${i}`], ["cidrs", []]));
      setMember(doc, "access", a);
      const text = serialize(doc);
      return out(text, true, Buffer.byteLength(text) > opts.maxRulesBytes ? "size" : "schema");
    }
    case "empty":
      return out(r.pick(["", " ", "\n\t "]), true, "json");
    case "lone-surrogate": {
      // Escaped lone surrogates decode to U+FFFD: valid where any string is, invalid in ids/CIDRs.
      const rule = ensureRule(doc, r);
      const marker = `__sur_${r.int(0, 1e9)}`;
      const field = r.pick(["description", "body", "id"]);
      setMember(rule, field, marker);
      const text = serialize(doc).replace(marker, r.pick(["\\ud800", "\\udfff", "a\\udbff", "\\ud800\\ud800\\udc00", "\\udc00\\ud800"]));
      return out(text, field === "id", field === "id" ? "schema" : null);
    }
    case "big-number": {
      const site = r.pick([{ where: "doc" as const, key: "version" }, { where: "rule" as const, key: "status" }, { where: "sampling" as const, key: "slow_threshold_ms" }, { where: "sampling" as const, key: "default_rate" }]);
      const node = siteNode(doc, site.where, r);
      const digits = r.int(14, 400);
      const text = (r.chance(0.2) ? "-" : "") + "1" + "0".repeat(digits - 1) + (r.chance(0.3) ? "e" + r.int(-400, 400) : "");
      setMember(node, site.key, num(text));
      return out(style(doc), false, null);
    }
  }
}

export interface DocCase extends Mutated {
  seed: number;
}

export function arbDocCase(opts: MutationOptions & { maxRules?: number; mutations?: readonly DocMutation[] }): fc.Arbitrary<DocCase> {
  const kinds = opts.mutations ?? DOC_MUTATIONS;
  return fc.tuple(arbRulesDoc(opts.maxRules ?? 6), arbDocMutation(kinds), fc.integer())
    .map(([doc, kind, seed]) => ({ ...mutateDoc(doc, kind, seed, opts), seed }));
}

// ------------------------------------------------------------------------------------------------
// Plugin configurations

export const arbPluginConfigValid: fc.Arbitrary<J> = fc.record({
  client_address: fc.option(fc.record({
    source: fc.option(fc.constantFrom("connection", "envoy_external", "xff"), { nil: undefined }),
    xff_trusted_hops: fc.option(fc.integer({ min: 0, max: 16 }), { nil: undefined }),
  }), { freq: 2, nil: undefined }),
  telemetry: fc.option(fc.record({
    enabled: fc.option(fc.boolean(), { nil: undefined }),
    routes_cap: fc.option(fc.integer({ min: 1, max: 10000 }), { nil: undefined }),
    method_label: fc.option(fc.boolean(), { nil: undefined }),
    heartbeat_ms: fc.option(fc.integer({ min: 10, max: 3_600_000 }), { nil: undefined }),
    exact_codes: fc.option(fc.array(fc.integer({ min: 100, max: 599 }), { maxLength: 20 }), { nil: undefined }),
    path_routes: fc.option(fc.array(fc.record({ prefix: fc.constantFrom("/", "/api", "/probe", "/x/y"), route: fc.constantFrom("api", "probe", "r-1", "ü") }), { maxLength: 4 }), { nil: undefined }),
  }), { freq: 2, nil: undefined }),
  tracing: fc.option(fc.record({
    enabled: fc.option(fc.boolean(), { nil: undefined }),
    service_name: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
    trust_parent: fc.option(fc.constantFrom("always", "never", "trusted"), { nil: undefined }),
    trusted_cidrs: fc.option(fc.array(arbCidrText, { maxLength: 4 }), { nil: undefined }),
    collector: fc.option(fc.record({
      cluster: fc.option(fc.constantFrom("fuzz_collector", "no_such_cluster", ""), { nil: undefined }),
      authority: fc.option(fc.constantFrom("collector", "otel"), { nil: undefined }),
      path: fc.option(fc.constantFrom("/v1/traces", "/x"), { nil: undefined }),
      batch_max: fc.option(fc.integer({ min: 1, max: 100000 }), { nil: undefined }),
      buffer_max: fc.option(fc.integer({ min: 1, max: 100000 }), { nil: undefined }),
      flush_ms: fc.option(fc.integer({ min: 10, max: 3_600_000 }), { nil: undefined }),
      timeout_ms: fc.option(fc.integer({ min: 1, max: 3_600_000 }), { nil: undefined }),
    }), { nil: undefined }),
  }), { freq: 2, nil: undefined }),
  rules_service: fc.option(fc.record({
    cluster: fc.option(fc.constantFrom("fuzz_rules", "no_such_cluster"), { nil: undefined }),
    long_poll_ms: fc.option(fc.integer({ min: 0, max: 20000 }), { nil: undefined }),
    cold_start: fc.option(fc.constantFrom("allow", "deny"), { nil: undefined }),
  }).map((r) => ({ ...r, timeout_ms: (r.long_poll_ms ?? 30000) + 5000, tick_ms: 100, lease_ms: 2000 })), { freq: 5, nil: undefined }),
  max_rules_bytes: fc.option(fc.integer({ min: 1024, max: 64 * 1024 * 1024 }), { freq: 4, nil: undefined }),
  rules: fc.option(arbRulesDoc(4), { freq: 4, nil: undefined }),
}).map((c) => fromJs(Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined))));

export const CONFIG_MUTATIONS = [
  "valid", "valid", "valid", "valid", "valid", "restyle", "restyle", "restyle", "unknown-field", "wrong-type", "out-of-range", "nan-token", "duplicate-key",
  "duplicate-key-escaped", "cross-field", "shorthand-bypass", "bad-cidr", "deep-nesting", "truncated", "byte-flip",
  "huge-object", "rules-invalid", "empty-config", "not-object", "rules-oversize",
] as const;
export type ConfigMutation = (typeof CONFIG_MUTATIONS)[number];

const CONFIG_TYPE_SITES: Array<{ path: string[]; key: string; wrong: J[] }> = [
  { path: [], key: "client_address", wrong: ["xff", [], 1] },
  { path: ["client_address"], key: "source", wrong: [1, null, ["xff"]] },
  { path: ["client_address"], key: "xff_trusted_hops", wrong: ["1", true, null] },
  { path: [], key: "telemetry", wrong: [[], true] },
  { path: ["telemetry"], key: "enabled", wrong: ["true", 1] },
  { path: ["telemetry"], key: "routes_cap", wrong: ["10", null] },
  { path: ["telemetry"], key: "exact_codes", wrong: [200, "200", [num("200.5")], [null]] },
  { path: ["telemetry"], key: "path_routes", wrong: [obj(), ["/api"], [obj(["prefix", "/a"])], [obj(["prefix", 1], ["route", "r"])]] },
  { path: [], key: "tracing", wrong: [[], "on"] },
  { path: ["tracing"], key: "service_name", wrong: [1, null] },
  { path: ["tracing"], key: "trust_parent", wrong: [true, 0] },
  { path: ["tracing"], key: "trusted_cidrs", wrong: ["10.0.0.0/8", [1]] },
  { path: ["tracing"], key: "collector", wrong: ["fuzz_collector", []] },
  { path: ["tracing", "collector"], key: "batch_max", wrong: ["1", null] },
  { path: [], key: "rules_service", wrong: ["fuzz_rules", []] },
  { path: ["rules_service"], key: "cold_start", wrong: [true, 1] },
  { path: [], key: "max_rules_bytes", wrong: ["1024", null] },
  { path: [], key: "rules_cluster", wrong: [1, ["x"]] },
];

const CONFIG_RANGE_SITES: Array<{ path: string[]; key: string; bad: J[] }> = [
  { path: ["client_address"], key: "source", bad: ["XFF", "remote", ""] },
  { path: ["client_address"], key: "xff_trusted_hops", bad: [-1, 17, num("1.0")] },
  { path: ["telemetry"], key: "routes_cap", bad: [0, 10001, num("1e2")] },
  { path: ["telemetry"], key: "heartbeat_ms", bad: [9, 3_600_001] },
  { path: ["telemetry"], key: "exact_codes", bad: [[99], [600], Array.from({ length: 501 }, () => 200)] },
  { path: ["tracing"], key: "trust_parent", bad: ["sometimes", ""] },
  { path: ["tracing", "collector"], key: "batch_max", bad: [0, 100001] },
  { path: ["tracing", "collector"], key: "buffer_max", bad: [0, 1_000_001] },
  { path: ["tracing", "collector"], key: "flush_ms", bad: [9] },
  { path: ["tracing", "collector"], key: "path", bad: ["v1/traces"] },
  { path: ["rules_service"], key: "long_poll_ms", bad: [-1, 300001] },
  { path: ["rules_service"], key: "tick_ms", bad: [9, 60001] },
  { path: ["rules_service"], key: "cold_start", bad: ["open", ""] },
  { path: ["rules_service"], key: "path", bad: ["rules", ""] },
  { path: [], key: "max_rules_bytes", bad: [1023, 268_435_457] },
];

function at(doc: J, path: string[]): J {
  let n = doc;
  for (const k of path) {
    let c = getMember(n, k);
    if (!isObj(c)) { c = obj(); setMember(n, k, c); }
    n = c;
  }
  return n;
}

export function mutateConfig(cfg0: J, kind: ConfigMutation, seed: number): Mutated {
  const r = new Prng(seed);
  const doc = clone(cfg0);
  const styleOpts = { escapeRate: r.chance(0.3) ? r.next() * 0.3 : 0, wsRate: r.chance(0.3) ? r.next() * 0.5 : 0, rand: () => r.next() };
  const style = (j: J) => serialize(j, styleOpts);
  const out = (text: string, mustBeInvalid: boolean, expectReason: Reason | null): Mutated => ({
    bytes: Buffer.from(text, "utf8"), mutation: `config:${kind}`, mustBeInvalid, expectReason,
  });
  switch (kind) {
    case "valid":
      return out(serialize(doc), false, null);
    case "restyle":
      return out(style(doc), false, null);
    case "unknown-field": {
      const site = pickObject(doc, r, (p) => !p.startsWith("$.rules"));
      (site.node as { $obj: Array<[string, J]> }).$obj.push([r.pick(["rule", "Rules", "extra", "", "enable", "workers"]), r.pick(WRONG_VALUES)]);
      return out(style(doc), true, "schema");
    }
    case "wrong-type": {
      const s = r.pick(CONFIG_TYPE_SITES);
      setMember(at(doc, s.path), s.key, clone(r.pick(s.wrong)));
      return out(style(doc), true, "schema");
    }
    case "out-of-range": {
      const s = r.pick(CONFIG_RANGE_SITES);
      setMember(at(doc, s.path), s.key, clone(r.pick(s.bad)));
      return out(style(doc), true, "schema");
    }
    case "nan-token": {
      const s = r.pick(CONFIG_TYPE_SITES);
      setMember(at(doc, s.path), s.key, raw(r.pick(NAN_TOKENS)));
      return out(style(doc), true, "json");
    }
    case "duplicate-key": {
      const site = pickObject(doc, r, (p) => !p.startsWith("$.rules") && !/\.headers$/.test(p));
      const node = site.node as { $obj: Array<[string, J]> };
      if (node.$obj.length === 0) node.$obj.push(["max_rules_bytes", 4096]);
      const [k, v] = r.pick(node.$obj);
      node.$obj.push([k, clone(v)]);
      return out(style(doc), true, "schema");
    }
    case "duplicate-key-escaped": {
      const text = duplicateEscaped(doc, r, style);
      return out(text ?? style(doc), false, null);
    }
    case "cross-field": {
      const choices: Array<() => void> = [
        () => { const rs = at(doc, ["rules_service"]); setMember(rs, "cluster", "fuzz_rules"); setMember(rs, "long_poll_ms", 5000); setMember(rs, "timeout_ms", 5000); },
        () => { const rs = at(doc, ["rules_service"]); setMember(rs, "backoff_base_ms", 500); setMember(rs, "backoff_max_ms", 100); },
        () => { const rs = at(doc, ["rules_service"]); setMember(rs, "tick_ms", 100); setMember(rs, "lease_ms", 150); },
        () => { const rs = at(doc, ["rules_service"]); setMember(rs, "cluster", "fuzz_rules"); setMember(rs, "authority", ""); },
        () => { const c = at(doc, ["tracing", "collector"]); setMember(c, "backoff_base_ms", 500); setMember(c, "backoff_max_ms", 100); },
        () => { setMember(at(doc, ["rules_service"]), "cluster", "a"); setMember(doc, "rules_cluster", "b"); },
        () => { setMember(at(doc, ["tracing", "collector"]), "cluster", "a"); setMember(doc, "collector_cluster", "b"); },
      ];
      r.pick(choices)();
      return out(style(doc), true, "schema");
    }
    case "shorthand-bypass": {
      // The same invalid combination as "cross-field", with the cluster named by the rules_cluster shorthand.
      removeMember(doc, "rules_service");
      const rs = at(doc, ["rules_service"]);
      if (r.chance(0.5)) { setMember(rs, "long_poll_ms", 60000); }
      else { setMember(rs, "authority", ""); }
      setMember(doc, "rules_cluster", "fuzz_rules");
      return out(style(doc), true, "schema");
    }
    case "bad-cidr": {
      const t = at(doc, ["tracing"]);
      setMember(t, "trusted_cidrs", ["10.0.0.0/8", r.pick(BAD_CIDRS.filter((b) => Buffer.byteLength(b) <= 64))]);
      return out(style(doc), true, "cidr");
    }
    case "deep-nesting": {
      setMember(at(doc, ["telemetry"]), "path_routes", raw(deepValue(r.int(32, 100), r)));
      return out(style(doc), true, "json");
    }
    case "truncated": {
      const text = style(doc);
      return out(text.slice(0, r.int(0, Math.max(0, text.length - 1))), false, null);
    }
    case "byte-flip": {
      const b = [...Buffer.from(style(doc), "utf8")];
      for (let k = 0; k < r.int(1, 3) && b.length > 0; k++) b[r.int(0, b.length - 1)] = r.pick([0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x30, 0x2e, 0x2d, 0x61]);
      return out(Buffer.from(b).toString("utf8"), false, null);
    }
    case "huge-object": {
      // A config object with many members (unknown ones: must be rejected, and quickly).
      const n = r.int(1000, 3000);
      const site = r.pick([["telemetry"], ["tracing"], ["rules_service"], ["client_address"], []]);
      const node = at(doc, site) as { $obj: Array<[string, J]> };
      for (let i = 0; i < n; i++) node.$obj.push([`k${i}`, i]);
      return out(serialize(doc), true, "schema");
    }
    case "rules-invalid": {
      const m = mutateDoc(getMember(doc, "rules") ?? obj(["access", []]), r.pick(["unknown-field", "wrong-type", "out-of-range", "bad-cidr", "duplicate-rule-id", "bad-condition"] as const), r.int(0, 1e9), { binary: false, maxRulesBytes: 1 << 30 });
      setMember(doc, "rules", raw(m.bytes.toString("utf8")));
      return out(style(doc), m.mustBeInvalid, m.expectReason);
    }
    case "empty-config":
      return out(r.pick(["", " ", "\n"]), false, null);
    case "not-object":
      return out(r.pick(["[]", "1", '"x"', "null"]), true, "schema");
    case "rules-oversize": {
      setMember(doc, "max_rules_bytes", 1024);
      setMember(doc, "rules", obj(["description", "x".repeat(r.int(1100, 5000))], ["access", []]));
      return out(style(doc), true, "size");
    }
  }
}

export function arbConfigCase(): fc.Arbitrary<DocCase> {
  return fc.tuple(arbPluginConfigValid, fc.constantFrom(...CONFIG_MUTATIONS), fc.integer())
    .map(([cfg, kind, seed]) => ({ ...mutateConfig(cfg, kind, seed), seed }));
}

// ------------------------------------------------------------------------------------------------
// Headers

const HEX = "0123456789abcdef";
const hexOf = (n: number, r: Prng) => Array.from({ length: n }, () => HEX[r.int(0, 15)]).join("");

export const TRACEPARENT_MUTATIONS = [
  "valid", "valid", "future-version", "uppercase", "zero-trace", "zero-parent", "short", "long", "bad-dash", "ff-version",
  "non-hex", "ows", "garbage", "empty", "latin1", "huge",
] as const;

export const arbTraceparent = fc.tuple(fc.constantFrom(...TRACEPARENT_MUTATIONS), fc.integer()).map(([kind, seed]) => {
  const r = new Prng(seed);
  const tid = hexOf(32, r), pid = hexOf(16, r), fl = r.pick(["00", "01", "02", "03", "ff", hexOf(2, r)]);
  const valid = `00-${tid}-${pid}-${fl}`;
  switch (kind) {
    case "valid": return valid;
    case "future-version": return `${r.pick(["01", "cc", "fe"])}-${tid}-${pid}-${fl}${r.pick(["", "-", "-extra", "x", "-" + hexOf(8, r)])}`;
    case "uppercase": { const i = r.int(0, 54); return valid.slice(0, i) + valid[i].toUpperCase() + valid.slice(i + 1); }
    case "zero-trace": return `00-${"0".repeat(32)}-${pid}-${fl}`;
    case "zero-parent": return `00-${tid}-${"0".repeat(16)}-${fl}`;
    case "short": return valid.slice(0, r.int(0, 54));
    case "long": return valid + r.pick(["0", "-", "-00", " x"]);
    case "bad-dash": { const i = r.pick([2, 35, 52]); return valid.slice(0, i) + r.pick(["_", "0", " "]) + valid.slice(i + 1); }
    case "ff-version": return `ff-${tid}-${pid}-${fl}`;
    case "non-hex": { const i = r.pick([r.int(3, 34), r.int(36, 51), 53, 0]); return valid.slice(0, i) + r.pick(["g", "z", "-", "G", " "]) + valid.slice(i + 1); }
    case "ows": return r.pick([" ", "\t", "  "]) + valid + r.pick(["", " ", "\t"]);
    case "garbage": return Array.from({ length: r.int(0, 80) }, () => String.fromCharCode(r.int(0x20, 0x7e))).join("");
    case "empty": return "";
    case "latin1": return valid.slice(0, 20) + String.fromCharCode(r.int(0x80, 0xff)) + valid.slice(21);
    case "huge": return valid + "-" + "a".repeat(r.int(1000, 20000));
  }
});

export const TRACESTATE_MUTATIONS = [
  "valid", "valid", "ot", "ot-bad", "dup", "too-many", "bad-key", "bad-value", "empty-members", "long", "garbage", "empty", "latin1",
] as const;

const arbTsKey = (r: Prng): string => r.chance(0.7)
  ? r.pick(["a", "vendor", "rojo", "congo", "x1", "k_-*/"]) + (r.chance(0.5) ? String(r.int(0, 99)) : "")
  : `${r.pick(["t1", "tenant", "0a"])}@${r.pick(["sys", "dt", "x"])}`;
const arbTsValue = (r: Prng): string => r.pick(["00f067aa0ba902b7", "t61rcWkgMzE", "v", "a b", "x~!", "1-2-3"]);

export const arbTracestate = fc.tuple(fc.constantFrom(...TRACESTATE_MUTATIONS), fc.integer()).map(([kind, seed]) => {
  const r = new Prng(seed);
  const members = () => {
    const n = r.int(1, 6);
    const keys = new Set<string>();
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const k = arbTsKey(r);
      if (keys.has(k)) continue;
      keys.add(k);
      out.push(`${k}=${arbTsValue(r)}`);
    }
    return out;
  };
  const join = (m: string[]) => m.join(r.pick([",", ", ", " , ", ",\t"]));
  switch (kind) {
    case "valid": return join(members());
    case "ot": {
      const sub = [r.chance(0.7) ? `th:${hexOf(r.int(1, 14), r)}` : null, r.chance(0.5) ? `rv:${hexOf(14, r)}` : null, r.chance(0.3) ? "p:8" : null].filter((x) => x !== null);
      return join([`ot=${sub.join(";") || "th:0"}`, ...members().filter((m) => !m.startsWith("ot="))]);
    }
    case "ot-bad": return join([`ot=${r.pick(["th:", "th:ZZ", "rv:123", ":x", "th:0;;", "TH:1", "th:123456789abcdef", "rv:" + hexOf(15, r)])}`, ...members()]);
    case "dup": { const m = members(); return join([...m, m[0]]); }
    case "too-many": return join(Array.from({ length: r.int(33, 40) }, (_, i) => `k${i}=v`));
    case "bad-key": return join([...members(), `${r.pick(["A", "1a", "a@", "@b", "a@b@c", "a".repeat(257), "a b", "é"])}=v`]);
    case "bad-value": return join([...members(), `k=${r.pick(["", "a,b", "a=b", "v".repeat(257), "\u0001", "é"])}`]);
    case "empty-members": return r.pick([",", ",,,", " , "]) + join(members()) + r.pick([",", ",,", ""]);
    case "long": return join(Array.from({ length: r.int(5, 32) }, (_, i) => `k${i}=${"v".repeat(r.int(50, 256))}`));
    case "garbage": return Array.from({ length: r.int(0, 120) }, () => String.fromCharCode(r.int(0x20, 0x7e))).join("");
    case "empty": return "";
    case "latin1": return join(members()) + `,k=${String.fromCharCode(r.int(0x80, 0xff))}`;
  }
});

/** X-Forwarded-For entries: good addresses (denied and allowed), ports, brackets, junk. */
export const XFF_DENIED = ["198.51.100.7", "198.51.100.200", "2001:db8:bad::1", "203.0.113.7"];
export const XFF_ALLOWED = ["192.0.2.1", "10.9.8.7", "2001:db8::42", "100.64.0.1"];

export const arbXffEntry = fc.tuple(fc.integer({ min: 0, max: 11 }), fc.integer()).map(([k, seed]) => {
  const r = new Prng(seed);
  const addr = r.pick([...XFF_DENIED, ...XFF_ALLOWED]);
  const port = r.int(1, 65535);
  const v6 = addr.includes(":");
  switch (k) {
    case 0: case 1: case 2: return addr;
    case 3: return v6 ? `[${addr}]:${port}` : `${addr}:${port}`;
    case 4: return v6 ? `[${addr}]` : `::ffff:${addr}`;
    case 5: return r.pick([" ", "\t", "  "]) + addr + r.pick(["", " ", "\t"]);
    case 6: return "";
    case 7: return r.pick(["unknown", "_hidden", "1.2.3", "::g", "[::1", "1.2.3.4:99999", "1.2.3.4:", "01.2.3.4", "[2001:db8::1]x", "fe80::1%eth0", "[fe80::1%25eth0]:80"]);
    case 8: return v6 ? `${addr}%zone` : `${addr}:${String(port).padStart(5, "0")}`;
    case 9: return addr.toUpperCase();
    case 10: return String.fromCharCode(r.int(0x80, 0xff)) + addr;
    default: return `${addr}:${port}`;
  }
});

export const arbXffCase = fc.record({
  hops: fc.integer({ min: 0, max: 3 }),
  source: fc.constantFrom("connection", "xff", "xff", "xff", "envoy_external"),
  lines: fc.array(fc.array(arbXffEntry, { minLength: 0, maxLength: 6 }), { minLength: 0, maxLength: 4 }),
  separators: fc.array(fc.constantFrom(",", ", ", " ,", ",,", "\t,"), { minLength: 8, maxLength: 8 }),
  peer: fc.constantFrom(...XFF_DENIED.filter((a) => !a.includes(":")), ...XFF_ALLOWED.filter((a) => !a.includes(":")), "2001:db8:bad::9", "::ffff:198.51.100.7"),
  external: fc.option(arbXffEntry, { freq: 2 }),
});

/** Arbitrary header values as latin1 strings (one char per byte), including high bytes and long ones. */
export const arbHeaderBytes = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n\u0000]/g, "")) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b.filter((x) => x !== 0 && x !== 10 && x !== 13)).toString("latin1")) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 32000 }).map((n) => "v".repeat(n)) },
  { weight: 2, arbitrary: fc.constantFrom("acme", "bot", "prod", "curl/8.0", "a,b", "", " ", "ü", "Ã¼") },
);

export const arbRequestHeaders = fc.record({
  path: fc.oneof(fc.constantFrom("/", "/probe", "/api/x", "/p", "/probe/x?y=1", "//", ""), fc.string({ maxLength: 30 }).map((s) => "/" + s)),
  extra: fc.array(fc.tuple(fc.constantFrom("x-tenant", "user-agent", "x-api-key", "x-env", "accept", "x.weird_name!", "x-other"), arbHeaderBytes), { maxLength: 8 }),
  many: fc.integer({ min: 0, max: 200 }),
  peer: fc.constantFrom("192.0.2.1", "198.51.100.7", "10.1.2.3", "2001:db8::1", "203.0.113.7", "::ffff:10.0.0.1"),
});

export { serialize };

// Blast radius of a rule document: which client addresses it would deny outright, measured before the
// document is applied (issue 15). Pure functions over a built RuleSet; no host calls.
//
// "Denied" means denied for EVERY request from that address, whatever its path and headers. Walking
// an address's chain of rules from the most specific CIDR (the same chain access.ts evaluates):
//   - an unconditional deny rule          → denied;
//   - an allow rule (with or without a condition: a matching request passes) → not denied;
//   - a log rule (dry run) or a deny rule with a path/header condition → skipped, the next less
//     specific rule decides (a conditional deny stops only some requests);
//   - end of the chain: denied in allow-list mode (the implicit "_default"), passes in deny-list mode.
// So `{"id": "admin-only", "cidrs": ["0.0.0.0/0"], "path_prefix": "/admin"}` denies nobody outright,
// while an allow-list document with no allow rule denies everyone.
//
// Two measurements:
//   - whole-space: does the document deny every IPv4 (resp. IPv6) address? One sweep over the sorted
//     CIDR index (entries nest or are disjoint, so a stack of open entries gives the chain of every
//     elementary interval between CIDR boundaries); exits at the first address that is not denied.
//   - sample: how many of the proxy's recently seen client addresses (filter/client-sample.ts) it
//     denies: one index lookup and chain walk per sampled address.
import { RuleSet, Rule, RuleAction, RulesMode } from "./rule-set";
import { maskV4, maskHi, maskLo } from "./cidr";

const PASS: i32 = 0;
const DENY: i32 = 1;
const SKIP: i32 = 2;

@inline function classify(rule: Rule): i32 {
  if (rule.action == RuleAction.Allow) return PASS;
  if (rule.action == RuleAction.Deny && !rule.hasCondition()) return DENY;
  return SKIP;
}

@inline function classOf(set: RuleSet, ri: i32): i32 {
  return ri < set.rules.length ? classify(unchecked(set.rules[ri])) : SKIP;
}

/** The document denies every request from this IPv4 address. */
export function deniesV4(set: RuleSet, addr: u32): bool {
  const idx = set.index;
  let e = idx.lookup4(addr);
  while (e >= 0) {
    const c = classOf(set, idx.rule4(e));
    if (c != SKIP) return c == DENY;
    e = idx.parent4(e);
  }
  return set.mode == RulesMode.Allow;
}

/** The document denies every request from this IPv6 address. */
export function deniesV6(set: RuleSet, hi: u64, lo: u64): bool {
  const idx = set.index;
  let e = idx.lookup6(hi, lo);
  while (e >= 0) {
    const c = classOf(set, idx.rule6(e));
    if (c != SKIP) return c == DENY;
    e = idx.parent6(e);
  }
  return set.mode == RulesMode.Allow;
}

// Stack of open entries for the sweeps (grown on demand; depth ≤ distinct prefix lengths × rules
// sharing a prefix).
let stackEndHi = new StaticArray<u64>(64);
let stackEndLo = new StaticArray<u64>(64);
let stackDenied = new StaticArray<bool>(64);

function ensureStack(n: i32): void {
  if (n < stackDenied.length) return;
  const cap = stackDenied.length * 2;
  const a = new StaticArray<u64>(cap), b = new StaticArray<u64>(cap), c = new StaticArray<bool>(cap);
  for (let i = 0; i < stackDenied.length; i++) {
    unchecked(a[i] = stackEndHi[i]);
    unchecked(b[i] = stackEndLo[i]);
    unchecked(c[i] = stackDenied[i]);
  }
  stackEndHi = a; stackEndLo = b; stackDenied = c;
}

/** Every IPv4 address is denied outright. */
export function deniesAllV4(set: RuleSet): bool {
  const idx = set.index;
  const n = idx.n4;
  const uncovered = set.mode == RulesMode.Allow; // verdict for addresses no CIDR covers
  if (n == 0) return uncovered;
  let cursor: u64 = 0; // first address not classified yet
  let sp = 0;
  for (let i = 0; i < n; i++) {
    const s = <u64>idx.start4(i);
    const end = <u64>(<u32>s | ~maskV4(<i32>idx.len4(i)));
    while (sp > 0 && unchecked(stackEndLo[sp - 1]) < s) {
      const te = unchecked(stackEndLo[sp - 1]);
      if (cursor <= te) {
        if (!unchecked(stackDenied[sp - 1])) return false;
        cursor = te + 1;
      }
      sp--;
    }
    const enclosing = sp > 0 ? unchecked(stackDenied[sp - 1]) : uncovered;
    if (cursor < s) {
      if (!enclosing) return false;
      cursor = s;
    }
    const c = classOf(set, idx.rule4(i));
    ensureStack(sp);
    unchecked(stackEndLo[sp] = end);
    unchecked(stackDenied[sp] = c == SKIP ? enclosing : c == DENY);
    sp++;
  }
  while (sp > 0) {
    const te = unchecked(stackEndLo[sp - 1]);
    if (cursor <= te) {
      if (!unchecked(stackDenied[sp - 1])) return false;
      cursor = te + 1;
    }
    sp--;
  }
  return cursor > 0xffffffff || uncovered;
}

@inline function lt128(ah: u64, al: u64, bh: u64, bl: u64): bool { return ah < bh || (ah == bh && al < bl); }

/** Every IPv6 address is denied outright. */
export function deniesAllV6(set: RuleSet): bool {
  const idx = set.index;
  const n = idx.n6;
  const uncovered = set.mode == RulesMode.Allow;
  if (n == 0) return uncovered;
  let ch: u64 = 0, cl: u64 = 0; // cursor
  let done = false;             // cursor moved past ffff…ffff
  let sp = 0;
  for (let i = 0; i < n; i++) {
    const sh = idx.hi6At(i), sl = idx.lo6At(i);
    const len = idx.len6(i);
    const eh = sh | ~maskHi(len), el = sl | ~maskLo(len);
    while (sp > 0 && lt128(unchecked(stackEndHi[sp - 1]), unchecked(stackEndLo[sp - 1]), sh, sl)) {
      const th = unchecked(stackEndHi[sp - 1]), tl = unchecked(stackEndLo[sp - 1]);
      if (!done && !lt128(th, tl, ch, cl)) {
        if (!unchecked(stackDenied[sp - 1])) return false;
        cl = tl + 1;
        ch = cl == 0 ? th + 1 : th;
        if (cl == 0 && ch == 0) done = true;
      }
      sp--;
    }
    const enclosing = sp > 0 ? unchecked(stackDenied[sp - 1]) : uncovered;
    if (!done && lt128(ch, cl, sh, sl)) {
      if (!enclosing) return false;
      ch = sh; cl = sl;
    }
    const c = classOf(set, idx.rule6(i));
    ensureStack(sp);
    unchecked(stackEndHi[sp] = eh);
    unchecked(stackEndLo[sp] = el);
    unchecked(stackDenied[sp] = c == SKIP ? enclosing : c == DENY);
    sp++;
  }
  while (sp > 0) {
    const th = unchecked(stackEndHi[sp - 1]), tl = unchecked(stackEndLo[sp - 1]);
    if (!done && !lt128(th, tl, ch, cl)) {
      if (!unchecked(stackDenied[sp - 1])) return false;
      cl = tl + 1;
      ch = cl == 0 ? th + 1 : th;
      if (cl == 0 && ch == 0) done = true;
    }
    sp--;
  }
  return done || uncovered;
}

/** Sample entries: 16 bytes each, u64 hi then u64 lo; IPv4 as ::ffff:a.b.c.d (hi 0, lo 0xffff_xxxxxxxx). */
export const SAMPLE_ENTRY_BYTES: i32 = 16;
export const V4_MAPPED_HI: u64 = 0;
export const V4_MAPPED_TAG: u64 = 0x0000ffff00000000;

@inline export function isV4Entry(hi: u64, lo: u64): bool { return hi == 0 && (lo >> 32) == 0xffff; }

/** How many of the `count` sample entries at `p` the document denies outright. */
export function countDenied(set: RuleSet, p: usize, count: i32): i32 {
  let denied = 0;
  for (let i = 0; i < count; i++) {
    const hi = load<u64>(p + <usize>i * 16), lo = load<u64>(p + <usize>i * 16 + 8);
    const d = isV4Entry(hi, lo) ? deniesV4(set, <u32>lo) : deniesV6(set, hi, lo);
    if (d) denied++;
  }
  return denied;
}

/** What the guard measured for one document. */
export class BlastMeasure {
  sampled: i32 = 0;
  denied: i32 = 0;
  wholeV4: bool = false;
  wholeV6: bool = false;
}

export function measureBlastRadius(set: RuleSet, sample: usize, count: i32): BlastMeasure {
  const m = new BlastMeasure();
  m.wholeV4 = deniesAllV4(set);
  m.wholeV6 = deniesAllV6(set);
  m.sampled = count;
  m.denied = count > 0 ? countDenied(set, sample, count) : 0;
  return m;
}

/**
 * The document is too broad: it denies a whole address family, or more than `maxFraction` of at
 * least `minClients` sampled clients. The document's own allow_large_blast_radius is applied by the
 * caller.
 */
export function exceedsLimits(m: BlastMeasure, maxFraction: f64, minClients: i32): bool {
  if (m.wholeV4 || m.wholeV6) return true;
  if (m.sampled == 0 || m.sampled < minClients) return false;
  return <f64>m.denied > maxFraction * <f64>m.sampled;
}

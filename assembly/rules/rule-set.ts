// An immutable, fully built rule snapshot. Streams hold a reference to the snapshot that was current
// when they started, so a reload never shows a half-built set: a reload builds a new RuleSet aside
// and swaps one reference (root.rules = next).
import { CidrIndex } from "./cidr-index";
import { sendLocalResponseRaw } from "../host/stream";

export namespace RuleAction {
  export const Allow: i32 = 0;   // matched an allow rule / no rule matched in deny-list mode
  export const Deny: i32 = 1;    // send the rule's local reply
  export const Log: i32 = 2;     // dry run: counted and logged, request continues
}

export namespace RulesMode {
  /** Deny list (default): addresses pass unless a deny rule matches. */
  export const Deny: i32 = 0;
  /** Allow list: only addresses matching an allow rule pass. */
  export const Allow: i32 = 1;
}

export namespace HeaderMatch {
  export const None: i32 = 0;
  export const Equals: i32 = 1;
  export const Prefix: i32 = 2;
  export const Contains: i32 = 3;
}

/** The response header naming the rule that denied a request. */
export const RULE_HEADER = "x-edgewatch-rule";
/** Rule id of the implicit deny in allow-list mode (ids starting with '_' are reserved). */
export const DEFAULT_RULE_ID = "_default";

export class SamplingRules {
  defaultRate: f64 = 1.0;        // "default_rate" 0..1
  alwaysKeep5xx: bool = true;    // "always_keep_5xx"
  slowThresholdMs: i64 = 0;      // "slow_threshold_ms": 0 = off
  /** "routes": per-route head-sampling rates (route label → 0..1). */
  routes: Map<string, f64> = new Map<string, f64>();
  /** Head-sampling probability for a route label. */
  rateFor(route: string): f64 {
    if (this.routes.size > 0 && this.routes.has(route)) return this.routes.get(route);
    return this.defaultRate;
  }
}

/** One access rule, with its reply pre-encoded so a deny allocates nothing. */
export class Rule {
  id: string = "";
  action: i32 = RuleAction.Deny;
  /** Condition: request path starts with these bytes (null: no condition). */
  pathPrefix: ArrayBuffer | null = null;
  /** Condition on one request header (lower-case name). */
  headerName: ArrayBuffer | null = null;
  headerOp: i32 = HeaderMatch.None;
  headerValue: ArrayBuffer | null = null;
  /** Local reply for deny. */
  status: u32 = 403;
  body: ArrayBuffer = new ArrayBuffer(0);
  /** Serialized header pairs (incl. x-edgewatch-rule: <id>) for proxy_send_local_response. */
  replyHeaders: ArrayBuffer = new ArrayBuffer(0);
  /** Response code details ("edgewatch_denied:<id>"). */
  details: ArrayBuffer = new ArrayBuffer(0);
  /** Number of CIDRs the document listed for this rule (after parsing). */
  cidrCount: i32 = 0;
  /** Decision returned when this rule decides (pre-built: no allocation per request). */
  decision: AccessDecision = new AccessDecision();
  /** proxy_define_metric id of this rule's decisions counter (0 = not defined yet in this VM). */
  metricId: u32 = 0;

  @inline hasCondition(): bool { return this.pathPrefix !== null || this.headerOp != HeaderMatch.None; }
}

export class AccessDecision {
  action: i32 = RuleAction.Allow;
  /** Id of the matched rule ("" when none). */
  ruleId: string = "";
  /** The rule whose reply a Deny sends (null for the shared "no match" decision). */
  rule: Rule | null = null;
  /** For Deny: send the rule's configured local reply (status, body, headers incl. the rule-id header). */
  sendLocalReply(): void {
    const r = this.rule;
    if (r === null) {
      sendLocalResponseRaw(403, DEFAULT_DETAILS, EMPTY, DEFAULT_HEADERS);
      return;
    }
    sendLocalResponseRaw(r.status, r.details, r.body, r.replyHeaders);
  }
}

// @ts-ignore: decorator
@lazy const EMPTY = new ArrayBuffer(0);
// @ts-ignore: decorator
@lazy const DEFAULT_DETAILS = String.UTF8.encode("edgewatch_denied");
// @ts-ignore: decorator
@lazy const DEFAULT_HEADERS = new ArrayBuffer(4); // zero pairs

/** Shared decision for "nothing matched" in deny-list mode. */
// @ts-ignore: decorator
@lazy export const NO_MATCH: AccessDecision = new AccessDecision();

export class RuleSet {
  version: i64 = 0;
  sampling: SamplingRules = new SamplingRules();
  /** Number of CIDRs indexed (gauge). */
  cidrCount: i32 = 0;
  /** RulesMode.Deny (deny list) or RulesMode.Allow (allow list). */
  mode: i32 = RulesMode.Deny;
  rules: Rule[] = [];
  index: CidrIndex = new CidrIndex();
  /** The implicit deny of allow-list mode (rule id "_default", reply from "default_reply"). */
  defaultDeny: Rule = new Rule();
  /** "push" (plugin configuration) or "pull" (rules service). */
  origin: string = "push";
  /** "allow_large_blast_radius": the author accepts a document the blast-radius guard would reject. */
  allowLargeBlastRadius: bool = false;

  /** Bytes of the CIDR lookup tables (the per-VM memory that scales with the list). */
  tableBytes(): i32 { return this.index.tableBytes(); }
}

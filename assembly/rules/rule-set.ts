// CONTRACT STUB (the rules engineer replaces the bodies, keeping these signatures).
// An immutable, fully built rule snapshot. Streams hold a reference to the snapshot that was current
// when they started, so a reload never shows a half-built set.

export namespace RuleAction {
  export const Allow: i32 = 0;   // matched an allow rule / no rule matched in deny-list mode
  export const Deny: i32 = 1;    // send the rule's local reply
  export const Log: i32 = 2;     // dry run: counted and logged, request continues
}

export class SamplingRules {
  defaultRate: f64 = 1.0;        // "default_rate" 0..1
  alwaysKeep5xx: bool = true;    // "always_keep_5xx"
  slowThresholdMs: i64 = 0;      // "slow_threshold_ms": 0 = off
  /** Head-sampling probability for a route label. */
  rateFor(route: string): f64 { return this.defaultRate; }
}

export class AccessDecision {
  action: i32 = RuleAction.Allow;
  /** Id of the matched rule ("" when none). */
  ruleId: string = "";
  /** For Deny: send the rule's configured local reply (status, body, headers incl. the rule-id header). */
  sendLocalReply(): void {}
}

export class RuleSet {
  version: i64 = 0;
  sampling: SamplingRules = new SamplingRules();
  /** Number of CIDRs indexed (gauge). */
  cidrCount: i32 = 0;
}

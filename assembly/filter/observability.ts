// CONTRACT STUB (the telemetry/tracing engineer owns this file and keeps these members).
import { FilterSettings } from "../config/settings";
import { RuleSet } from "../rules/rule-set";
import { RootContextBase } from "../abi/contexts";

export class Observability {
  constructor(public readonly root: RootContextBase) {}
  /** on_configure succeeded with these settings (define metrics, arm exporter). */
  configure(settings: FilterSettings): void {}
  /** A new rule snapshot is in force (rules-version gauge etc. are owned by the rules code). */
  onRulesApplied(rules: RuleSet): void {}
  /** Root tick (period = settings.telemetry.heartbeatMs or shorter when the rules fetcher needs it). */
  onTick(): void {}
  /** An http_call response arrived; return true if the token was ours (span export). */
  onHttpCallResponse(token: u32, headerCount: u32, bodySize: u32, trailerCount: u32): bool { return false; }
  onDelete(): void {}
}

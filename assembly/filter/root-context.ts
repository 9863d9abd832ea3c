// CONTRACT STUB (the rules/reload engineer owns this file and keeps these members).
import { RootContextBase, HttpContextBase } from "../abi/contexts";
import { FilterSettings } from "../config/settings";
import { RuleSet } from "../rules/rule-set";
import { Observability } from "./observability";
import { EdgewatchHttp } from "./http-context";

export class EdgewatchRoot extends RootContextBase {
  /** Parsed plugin configuration (replaced atomically on a successful on_configure). */
  settings: FilterSettings = new FilterSettings();
  /** Current rule snapshot; null until the first rules arrive (cold start, see rules_service.cold_start). */
  rules: RuleSet | null = null;
  /** Telemetry + tracing state of this root (heartbeat, metric ids, span exporter). */
  observability: Observability = new Observability(this);

  createHttpContext(id: u32): HttpContextBase {
    return new EdgewatchHttp(id, this);
  }
}

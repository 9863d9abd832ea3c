// Rules metrics. Names are Envoy stat names given to proxy_define_metric (the host prefixes
// "wasmcustom."); Istio-style "key=.=value;.;" segments become labels through stats_tags.
//   edgewatch.rules_version                      gauge   version of the rules in force
//   edgewatch.rules_last_check_seconds           gauge   unix time the rules in force were last confirmed current:
//                                                        pull: any valid answer of the rules service (a new
//                                                        document accepted, 304 / a long poll that ended with
//                                                        no change, the same document or version again);
//                                                        push / no rules_service: every tick of the VM's newest
//                                                        root (the plugin configuration IS the source)
//   edgewatch.rules_last_change_seconds          gauge   unix time of the last accepted NEW document
//   edgewatch.rules_reload_total                 counter accepted documents (once per document per proxy)
//   edgewatch.rules_cidrs                        gauge   CIDRs in force
//   edgewatch.reason=.=<r>;.;rules_reload_failures_total   counter rejected documents / failed fetches
//   edgewatch.rule=.=<id>;.;action=.=<deny|log>;.;decisions_total  counter, from decideAccess
// Metric ids are per VM (module globals); every VM updates the same Envoy stat.
import { defineCounter, defineGauge, incrementMetric, recordMetric } from "../host/metrics";
import { Rule, RuleAction } from "./rule-set";

let versionGauge: u32 = 0;
let lastCheckGauge: u32 = 0;
let lastChangeGauge: u32 = 0;
let reloadCounter: u32 = 0;
let cidrsGauge: u32 = 0;
const failureIds = new Map<string, u32>();
const decisionIds = new Map<string, u32>();

function ensure(): void {
  if (versionGauge == 0) versionGauge = defineGauge("edgewatch.rules_version");
  if (lastCheckGauge == 0) lastCheckGauge = defineGauge("edgewatch.rules_last_check_seconds");
  if (lastChangeGauge == 0) lastChangeGauge = defineGauge("edgewatch.rules_last_change_seconds");
  if (reloadCounter == 0) reloadCounter = defineCounter("edgewatch.rules_reload_total");
  if (cidrsGauge == 0) cidrsGauge = defineGauge("edgewatch.rules_cidrs");
}

/** Define the rules metrics now (on_configure), so they show up at 0 before the first event. */
export function defineRulesMetrics(): void { ensure(); }

/** Gauges for the rule set in force in this VM. */
export function setRulesGauges(version: i64, cidrs: i32): void {
  ensure();
  recordMetric(versionGauge, <u64>version);
  recordMetric(cidrsGauge, <u64>cidrs);
}

/** An accepted document (count once per document per proxy: the caller de-duplicates): a change and a check. */
export function countReloadSuccess(unixSeconds: u64): void {
  ensure();
  incrementMetric(reloadCounter, 1);
  recordMetric(lastChangeGauge, unixSeconds);
  recordMetric(lastCheckGauge, unixSeconds);
}

/** The rules in force were confirmed current without a change (304, same document, push-mode tick). */
export function recordRulesCheck(unixSeconds: u64): void {
  ensure();
  recordMetric(lastCheckGauge, unixSeconds);
}

export function countReloadFailure(reason: string): void {
  let id: u32 = 0;
  if (failureIds.has(reason)) id = failureIds.get(reason);
  else {
    id = defineCounter("edgewatch.reason=.=" + reason + ";.;rules_reload_failures_total");
    failureIds.set(reason, id);
  }
  incrementMetric(id, 1);
}

function actionLabel(action: i32): string {
  return action == RuleAction.Log ? "log" : (action == RuleAction.Deny ? "deny" : "allow");
}

/** decisions_total for a rule; the id is defined on first use and cached per VM (by id+action). */
export function countDecision(rule: Rule): void {
  let id = rule.metricId;
  if (id == 0) {
    const key = rule.id + "|" + actionLabel(rule.action);
    if (decisionIds.has(key)) id = decisionIds.get(key);
    else {
      id = defineCounter("edgewatch.rule=.=" + rule.id + ";.;action=.=" + actionLabel(rule.action) + ";.;decisions_total");
      decisionIds.set(key, id);
    }
    rule.metricId = id;
  }
  incrementMetric(id, 1);
}

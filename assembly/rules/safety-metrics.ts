// Metrics of the rule-delivery safety rails (issue 15). Rejections are counted in
// rules_reload_failures_total{reason="signature"|"blast_radius"} (rules/metrics.ts); these add:
//   edgewatch.rules_signature_verified_total          counter  documents whose signature verified (once per document per proxy)
//   edgewatch.rules_blast_radius_sampled_clients      gauge    sampled clients the last checked document was measured against
//   edgewatch.rules_blast_radius_denied_clients       gauge    of those, how many it denies outright
//   edgewatch.rules_blast_radius_overrides_total      counter  documents applied over the guard's limits (allow_large_blast_radius)
//   edgewatch.rules_client_sample_size                gauge    distinct client addresses in the proxy's sample now
import { defineCounter, defineGauge, incrementMetric, recordMetric } from "../host/metrics";

let verified: u32 = 0;
let sampled: u32 = 0;
let denied: u32 = 0;
let overrides: u32 = 0;
let sampleSize: u32 = 0;

function ensure(): void {
  if (verified == 0) verified = defineCounter("edgewatch.rules_signature_verified_total");
  if (sampled == 0) sampled = defineGauge("edgewatch.rules_blast_radius_sampled_clients");
  if (denied == 0) denied = defineGauge("edgewatch.rules_blast_radius_denied_clients");
  if (overrides == 0) overrides = defineCounter("edgewatch.rules_blast_radius_overrides_total");
  if (sampleSize == 0) sampleSize = defineGauge("edgewatch.rules_client_sample_size");
}

/** Define them at 0 (on_configure), so dashboards and doctor see them before the first event. */
export function defineSafetyMetrics(): void { ensure(); }

export function countSignatureVerified(): void { ensure(); incrementMetric(verified, 1); }

export function recordBlastRadius(sampledClients: i32, deniedClients: i32): void {
  ensure();
  recordMetric(sampled, <u64>sampledClients);
  recordMetric(denied, <u64>deniedClients);
}

export function countBlastRadiusOverride(): void { ensure(); incrementMetric(overrides, 1); }

export function recordClientSampleSize(n: i32): void { ensure(); recordMetric(sampleSize, <u64>n); }

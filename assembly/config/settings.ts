// Filter settings parsed from the plugin configuration (JSON, buffer 7 in on_configure).
// Contract between the configuration parser (config/), the rules and reload code (rules/, filter/
// root-context.ts) and the request path (filter/http-context.ts, telemetry/, tracing/).
// Every field has a safe default; the JSON spelling is given next to each field.

/** Where the client address for access rules comes from ("client_address"). */
export namespace ClientAddressSource {
  /** "connection": the downstream peer (property source.address). Default; not spoofable. */
  export const Connection: i32 = 0;
  /** "envoy_external": x-envoy-external-address, which Envoy itself sets after its XFF handling. */
  export const EnvoyExternal: i32 = 1;
  /** "xff": X-Forwarded-For, skipping `xff_trusted_hops` entries from the right (Envoy xff_num_trusted_hops). */
  export const Xff: i32 = 2;
}

export class ClientAddressSettings {
  source: i32 = ClientAddressSource.Connection; // "source": "connection" | "envoy_external" | "xff"
  xffTrustedHops: i32 = 0;                        // "xff_trusted_hops": 0..16
}

export class PathRoute {
  constructor(public prefix: string, public route: string) {}
}

export class TelemetrySettings {
  enabled: bool = true;                   // "enabled"
  routesCap: i32 = 100;                   // "routes_cap": max distinct route label values per VM; overflow → "other"
  exactCodes: i32[] = [200, 204, 301, 302, 304, 400, 401, 403, 404, 429, 500, 502, 503, 504]; // "exact_codes"
  pathRoutes: PathRoute[] = [];           // "path_routes": [{"prefix": "/api", "route": "api"}] fallback when xds.route_name is absent
  methodLabel: bool = false;              // "method_label": add method=GET|POST|…|OTHER to requests_total
  heartbeatMs: i32 = 1000;                // "heartbeat_ms": tick period (heartbeat, memory gauge, span flush)
}

export class CollectorSettings {
  cluster: string = "";                   // "cluster": Envoy cluster of the OTLP/HTTP collector ("" = no export)
  authority: string = "collector";        // "authority": :authority of the export request
  path: string = "/v1/traces";            // "path"
  batchMax: i32 = 256;                    // "batch_max": spans per request
  bufferMax: i32 = 4096;                  // "buffer_max": spans kept while the collector is down (oldest dropped)
  flushMs: i32 = 1000;                    // "flush_ms"
  timeoutMs: i32 = 2000;                  // "timeout_ms"
  backoffBaseMs: i32 = 200;               // "backoff_base_ms"
  backoffMaxMs: i32 = 10000;              // "backoff_max_ms"
}

export class TracingSettings {
  enabled: bool = true;                   // "enabled"
  serviceName: string = "edgewatch";      // "service_name" (OTLP resource service.name)
  /** "trust_parent": honour an incoming sampled flag: "always" | "never" | "trusted" (from trusted_cidrs). */
  trustParent: i32 = 0;                   // 0 always, 1 never, 2 trusted-sources only
  trustedCidrs: string[] = [];            // "trusted_cidrs": client CIDRs whose sampled flag is honoured (trust_parent "trusted")
  collector: CollectorSettings = new CollectorSettings(); // "collector"
}

export class RulesServiceSettings {
  cluster: string = "";                   // "cluster": Envoy cluster of the rules service ("" = push only)
  authority: string = "rules";            // "authority"
  path: string = "/rules";                // "path"
  longPollMs: i32 = 30000;                // "long_poll_ms": server-side wait for a change
  timeoutMs: i32 = 35000;                 // "timeout_ms": http_call timeout (> long_poll_ms)
  backoffBaseMs: i32 = 100;               // "backoff_base_ms"
  backoffMaxMs: i32 = 5000;               // "backoff_max_ms"
  /** "cold_start": "allow" (fail-open, default) | "deny" — policy until the first rules arrive. */
  coldStartDeny: bool = false;
  leaseMs: i32 = 2000;                    // "lease_ms": fetcher leadership lease (renewed every tick)
  tickMs: i32 = 100;                      // "tick_ms": root tick period while pulling (lease, retries, catch-up)
}

/** One trusted rules-signing key ("rules_signing.keys[]"). */
export class TrustedKey {
  constructor(public id: string, public key: ArrayBuffer) {}   // "key_id", "public_key" (32 raw bytes)
}

export class SigningSettings {
  /** "keys": when non-empty, every rules document (pushed or pulled) must carry a valid signature. */
  keys: TrustedKey[] = [];
}

export class BlastRadiusSettings {
  maxDenyFraction: f64 = 0.5;             // "max_deny_fraction": reject documents denying more of the sampled clients
  minClients: i32 = 20;                   // "min_clients": below this many sampled clients the fraction is not judged
  sampleSize: i32 = 1024;                 // "sample_size": distinct client addresses kept per proxy
}

export class FilterSettings {
  clientAddress: ClientAddressSettings = new ClientAddressSettings(); // "client_address"
  telemetry: TelemetrySettings = new TelemetrySettings();             // "telemetry"
  tracing: TracingSettings = new TracingSettings();                   // "tracing"
  rulesService: RulesServiceSettings = new RulesServiceSettings();    // "rules_service"
  maxRulesBytes: i32 = 16 * 1024 * 1024;                              // "max_rules_bytes"
  signing: SigningSettings = new SigningSettings();                   // "rules_signing"
  blastRadius: BlastRadiusSettings = new BlastRadiusSettings();       // "blast_radius"
}

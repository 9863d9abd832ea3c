// The fixed set of reload-failure reasons (label `reason` of rules_reload_failures_total).
export namespace Reason {
  /** Not JSON: syntax error, invalid UTF-8, nesting deeper than 32. */
  export const Json = "json";
  /** Valid JSON, wrong document: unknown field, wrong type, missing or duplicate id, bad value. */
  export const Schema = "schema";
  /** A CIDR or address that does not parse. */
  export const Cidr = "cidr";
  /** Document larger than max_rules_bytes. */
  export const Size = "size";
  /** Pulled document whose version is older than the one in force. */
  export const Version = "version";
  /** Rules service unreachable, timed out, or answered an unexpected status. */
  export const Fetch = "fetch";
  /** Signing keys configured, and the document is unsigned, signed by an unknown key, or the signature does not verify. */
  export const Signature = "signature";
  /** The document would deny a whole address family or too many of the proxy's recent clients (blast_radius). */
  export const BlastRadius = "blast_radius";
  /** A rules snapshot (binary form) that is truncated, corrupt (checksum), of another format, or malformed. */
  export const Snapshot = "snapshot";
}

export const ALL_REASONS: string[] = [Reason.Json, Reason.Schema, Reason.Cidr, Reason.Size, Reason.Version, Reason.Fetch, Reason.Signature, Reason.BlastRadius, Reason.Snapshot];

// CONTRACT STUB (the rules engineer replaces the body, keeping the signature).
import { ClientAddressSettings } from "../config/settings";
import { RuleSet, AccessDecision } from "./rule-set";

/**
 * Called from on_request_headers (request headers readable): resolves the client address per
 * `clientAddress`, evaluates `rules` (CIDR trie + optional header/path conditions) and returns the
 * decision. Never allocates on the no-match path beyond what the host calls need; never traps.
 */
export function decideAccess(rules: RuleSet, clientAddress: ClientAddressSettings): AccessDecision {
  return new AccessDecision();
}

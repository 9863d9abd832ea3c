// tracing.trusted_cidrs: clients whose sampled flag is honoured when trust_parent is "trusted".
// CIDR and address parsing reuse the rules code (rules/cidr.ts, read-only); the client address is
// resolved the same way the access rules resolve it (settings client_address).
import { ClientAddressSettings } from "../config/settings";
import { parseCidr, ipIsV4, ipV4, ipHi, ipLo, ipPrefix, maskV4, maskHi, maskLo } from "../rules/cidr";
import { resolveClientAddress } from "../rules/access";

export class TrustedSources {
  private v4Net: u32[] = [];
  private v4Len: i32[] = [];
  private v6Hi: u64[] = [];
  private v6Lo: u64[] = [];
  private v6Len: i32[] = [];
  /** Entries that did not parse (configuration is the parser's job; they are ignored here). */
  invalid: i32 = 0;

  configure(cidrs: string[]): void {
    for (let i = 0; i < cidrs.length; i++) {
      const b = String.UTF8.encode(cidrs[i]);
      if (!parseCidr(changetype<usize>(b), b.byteLength)) { this.invalid++; continue; }
      if (ipIsV4) {
        this.v4Net.push(ipV4);
        this.v4Len.push(ipPrefix);
      } else {
        this.v6Hi.push(ipHi);
        this.v6Lo.push(ipLo);
        this.v6Len.push(ipPrefix);
      }
    }
  }

  get empty(): bool { return this.v4Net.length == 0 && this.v6Hi.length == 0; }

  /** Resolve the client address per `client` and test it; false when unknown. */
  containsClient(client: ClientAddressSettings): bool {
    if (this.empty) return false;
    if (!resolveClientAddress(client)) return false;
    return this.containsParsed();
  }

  /** Test the address last parsed by rules/cidr.ts. */
  containsParsed(): bool {
    if (ipIsV4) {
      const a = ipV4;
      for (let i = 0; i < this.v4Net.length; i++) {
        if ((a & maskV4(unchecked(this.v4Len[i]))) == unchecked(this.v4Net[i])) return true;
      }
      return false;
    }
    const h = ipHi, l = ipLo;
    for (let i = 0; i < this.v6Hi.length; i++) {
      const n = unchecked(this.v6Len[i]);
      if ((h & maskHi(n)) == unchecked(this.v6Hi[i]) && (l & maskLo(n)) == unchecked(this.v6Lo[i])) return true;
    }
    return false;
  }
}

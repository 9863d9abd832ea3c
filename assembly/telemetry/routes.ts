// Route labels with bounded cardinality.
//   - Index 0 is "unknown" (no route name, no path-prefix match), index 1 is "other" (overflow).
//   - Every other label is a sanitized route name (labels.ts); at most `cap` distinct ones per
//     table (one table per root context, so per VM in practice). A new name past the cap maps to
//     "other" and is reported as an overflow.
//   - Raw names are memoized in a ByteMap (bounded) so the request path resolves a name it has seen
//     with one hash and one compare, without building a string.
import { ByteMap } from "./byte-map";
import { sanitizeLabel } from "./labels";

export const ROUTE_UNKNOWN: i32 = 0;
export const ROUTE_OTHER: i32 = 1;
const OVERFLOW_BIT: i32 = 0x40000000;

export class RouteTable {
  labels: string[] = ["unknown", "other"];
  /** UTF-8 of each label (span attributes), built on first use. */
  private labelBytes: Array<ArrayBuffer | null> = [null, null];
  private byLabel: Map<string, i32> = new Map<string, i32>();
  private byRaw: ByteMap;
  readonly cap: i32;
  /** Set by resolve(): the last name overflowed the cap (count it). */
  overflowed: bool = false;

  constructor(cap: i32) {
    const c = cap < 0 ? 0 : cap;
    this.byRaw = new ByteMap(c * 4 + 64);
    this.cap = c;
    this.byLabel.set("unknown", ROUTE_UNKNOWN);
    this.byLabel.set("other", ROUTE_OTHER);
  }

  /** Distinct route labels in use (excluding "unknown" and "other"). */
  get distinct(): i32 { return this.labels.length - 2; }

  label(i: i32): string { return unchecked(this.labels[i]); }

  /** UTF-8 bytes of label i (cached). */
  labelUtf8(i: i32): ArrayBuffer {
    while (this.labelBytes.length <= i) this.labelBytes.push(null);
    let b = unchecked(this.labelBytes[i]);
    if (b === null) {
      b = String.UTF8.encode(unchecked(this.labels[i]));
      this.labelBytes[i] = b;
    }
    return b;
  }

  /** Route index of raw route-name bytes. Sets `overflowed`. Allocates only for a name not seen yet. */
  resolve(p: usize, len: i32): i32 {
    this.overflowed = false;
    if (len <= 0) return ROUTE_UNKNOWN;
    const v = this.byRaw.get(p, len, -1);
    if (v >= 0) {
      this.overflowed = (v & OVERFLOW_BIT) != 0;
      return v & ~OVERFLOW_BIT;
    }
    let idx: i32;
    if (this.byRaw.full && this.distinct >= this.cap) {
      // Nothing new can be added: a name we have not memoized is an overflow.
      this.overflowed = true;
      return ROUTE_OTHER;
    }
    idx = this.intern(sanitizeLabel(p, len));
    const value = this.overflowed ? (idx | OVERFLOW_BIT) : idx;
    this.byRaw.set(p, len, value);
    return idx;
  }

  /** Route index of a (sanitized) label; sets `overflowed` when the cap is reached. */
  intern(label: string): i32 {
    this.overflowed = false;
    if (label.length == 0) return ROUTE_UNKNOWN;
    if (this.byLabel.has(label)) return this.byLabel.get(label);
    if (this.distinct >= this.cap) {
      this.overflowed = true;
      return ROUTE_OTHER;
    }
    const idx = this.labels.length;
    this.labels.push(label);
    this.byLabel.set(label, idx);
    return idx;
  }
}

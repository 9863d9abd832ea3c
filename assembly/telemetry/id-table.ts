// Metric ids by a non-negative i64 key (route, code class, source, method packed by recorder.ts):
// open addressing with linear probing, one probe sequence per lookup and no allocation except when
// it grows (a Map needs has() then get(), because get() of a missing key would trap). Never shrinks:
// the keys are bounded by routes_cap × status classes × sources × methods.
export const ABSENT: u32 = u32.MAX_VALUE;

export class IdTable {
  private keys: StaticArray<i64> = new StaticArray<i64>(64);
  private ids: StaticArray<u32> = new StaticArray<u32>(64);
  private mask: i32 = 63;
  private count: i32 = 0;

  constructor() { this.keys.fill(-1); }

  /** The id stored for `key` (≥ 0), or ABSENT (an id the host refused is stored as 0). */
  get(key: i64): u32 {
    const keys = this.keys;
    let i = hash(key) & this.mask;
    while (true) {
      const k = unchecked(keys[i]);
      if (k == key) return unchecked(this.ids[i]);
      if (k < 0) return ABSENT;
      i = (i + 1) & this.mask;
    }
  }

  set(key: i64, id: u32): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const keys = this.keys;
    let i = hash(key) & this.mask;
    while (true) {
      const k = unchecked(keys[i]);
      if (k == key) { unchecked(this.ids[i] = id); return; }
      if (k < 0) break;
      i = (i + 1) & this.mask;
    }
    unchecked(keys[i] = key);
    unchecked(this.ids[i] = id);
    this.count++;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldIds = this.ids;
    const cap = (this.mask + 1) * 2;
    this.keys = new StaticArray<i64>(cap);
    this.keys.fill(-1);
    this.ids = new StaticArray<u32>(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let j = 0; j < oldKeys.length; j++) {
      const k = unchecked(oldKeys[j]);
      if (k >= 0) this.set(k, unchecked(oldIds[j]));
    }
  }
}

// @ts-ignore: decorator
@inline
function hash(key: i64): i32 {
  const h = <u64>key * 0x9e3779b97f4a7c15;
  return <i32>(h >> 40);
}

// A bounded open-addressing hash map from byte strings to i32 values, for the request path:
// a lookup hashes the bytes (FNV-1a) and compares in place — no string is built, nothing allocated.
// Keys are copied into an arena on insert. When `maxEntries` is reached, inserts are refused (the
// caller decides what a miss means), so memory stays bounded whatever the traffic.

export class ByteMap {
  private slots: StaticArray<i32>;     // entry index + 1, 0 = empty
  private mask: i32;
  private keyOff: StaticArray<i32>;
  private keyLen: StaticArray<i32>;
  private hashes: StaticArray<u32>;
  private values: StaticArray<i32>;
  private arena: ArrayBuffer;
  private arenaLen: i32 = 0;
  size: i32 = 0;
  readonly maxEntries: i32;

  constructor(maxEntries: i32) {
    if (maxEntries < 1) maxEntries = 1;
    this.maxEntries = maxEntries;
    let cap = 8;
    while (cap < maxEntries * 2) cap <<= 1;
    this.slots = new StaticArray<i32>(cap);
    this.mask = cap - 1;
    this.keyOff = new StaticArray<i32>(maxEntries);
    this.keyLen = new StaticArray<i32>(maxEntries);
    this.hashes = new StaticArray<u32>(maxEntries);
    this.values = new StaticArray<i32>(maxEntries);
    this.arena = new ArrayBuffer(256);
  }

  get full(): bool { return this.size >= this.maxEntries; }

  /** Value stored for the key, or `missing`. */
  get(p: usize, len: i32, missing: i32): i32 {
    const h = fnv1a(p, len);
    let i = <i32>h & this.mask;
    while (true) {
      const e = unchecked(this.slots[i]);
      if (e == 0) return missing;
      const k = e - 1;
      if (unchecked(this.hashes[k]) == h && unchecked(this.keyLen[k]) == len &&
          memory.compare(changetype<usize>(this.arena) + <usize>unchecked(this.keyOff[k]), p, <usize>len) == 0) {
        return unchecked(this.values[k]);
      }
      i = (i + 1) & this.mask;
    }
    return missing;
  }

  /** Insert (key must be absent). Returns false when the map is full. */
  set(p: usize, len: i32, value: i32): bool {
    if (this.size >= this.maxEntries) return false;
    const h = fnv1a(p, len);
    // arena
    if (this.arenaLen + len > this.arena.byteLength) {
      let cap = this.arena.byteLength << 1;
      while (cap < this.arenaLen + len) cap <<= 1;
      const nb = new ArrayBuffer(cap);
      memory.copy(changetype<usize>(nb), changetype<usize>(this.arena), <usize>this.arenaLen);
      this.arena = nb;
    }
    memory.copy(changetype<usize>(this.arena) + <usize>this.arenaLen, p, <usize>len);
    const k = this.size;
    unchecked(this.keyOff[k] = this.arenaLen);
    unchecked(this.keyLen[k] = len);
    unchecked(this.hashes[k] = h);
    unchecked(this.values[k] = value);
    this.arenaLen += len;
    this.size++;
    let i = <i32>h & this.mask;
    while (unchecked(this.slots[i]) != 0) i = (i + 1) & this.mask;
    unchecked(this.slots[i] = k + 1);
    return true;
  }
}

export function fnv1a(p: usize, len: i32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < len; i++) {
    h ^= <u32>load<u8>(p + <usize>i);
    h *= 0x01000193;
  }
  return h;
}

/**
 * Guest linear memory access. Views are cached and re-acquired when the underlying ArrayBuffer
 * was detached by memory.grow (a guest call, including the host-initiated malloc, may grow it).
 * Every accessor bounds-checks and reports failure instead of throwing, so host calls can return
 * InvalidMemoryAccess like cpp-host's WasmVm::getMemory/setWord.
 */
import { marshalPairsInto, pairsSizeOf } from "./pairs.js";

export type Allocator = (size: number) => number;

/** Names up to this length are cached by GuestMemory.name (header names, property paths). */
const NAME_CACHE_MAX_LEN = 64;
const NAME_CACHE_SLOTS = 16;
/** Strings up to this length are copied into guest memory by a JS loop instead of latin1Write. */
const SHORT_STRING = 16;

export class GuestMemory {
  private buf: Buffer;
  private dv: DataView;
  private allocator: Allocator | null = null;
  private readonly names: string[] = new Array<string>(NAME_CACHE_SLOTS).fill("");
  private readonly lowerNames: Array<string | null> = new Array<string | null>(NAME_CACHE_SLOTS).fill(null);
  /** The bytes of names[slot] at slot * NAME_CACHE_MAX_LEN (compared a word at a time). */
  private readonly nameBytes = new Uint8Array(NAME_CACHE_SLOTS * NAME_CACHE_MAX_LEN);
  private readonly nameWords = new DataView(this.nameBytes.buffer);

  constructor(private readonly memory: WebAssembly.Memory) {
    this.buf = Buffer.from(memory.buffer);
    this.dv = new DataView(memory.buffer);
  }

  setAllocator(fn: Allocator): void {
    this.allocator = fn;
  }

  /** Re-acquire views if the buffer was detached (grown). */
  private sync(): void {
    // A grown memory detaches the old ArrayBuffer, whose views then report length 0.
    if (this.buf.length === 0) {
      this.buf = Buffer.from(this.memory.buffer);
      this.dv = new DataView(this.memory.buffer);
    }
  }

  get size(): number {
    this.sync();
    return this.buf.length;
  }

  /** The whole linear memory (read-only use: vm-memory.ts counts its written pages). */
  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  private ok(ptr: number, len: number): boolean {
    return ptr >= 0 && len >= 0 && ptr + len <= this.buf.length;
  }

  /** View (no copy) valid until the next guest call. null when out of bounds. */
  view(ptr: number, len: number): Buffer | null {
    this.sync();
    ptr >>>= 0;
    len >>>= 0;
    if (!this.ok(ptr, len)) return null;
    return this.buf.subarray(ptr, ptr + len);
  }

  /** Copy out. */
  copy(ptr: number, len: number): Buffer | null {
    const v = this.view(ptr, len);
    return v === null ? null : Buffer.from(v);
  }

  latin1(ptr: number, len: number): string | null {
    this.sync();
    ptr >>>= 0;
    len >>>= 0;
    if (!this.ok(ptr, len)) return null;
    return this.buf.latin1Slice(ptr, ptr + len);
  }

  /**
   * latin1(), for short names the guest passes again and again (header names, property paths):
   * a string seen recently with the same bytes is returned again (no new string, its hash already
   * computed for the Map lookups that follow). The bytes are always compared in full.
   */
  name(ptr: number, len: number): string | null {
    const slot = this.nameSlot(ptr, len);
    return slot < 0 ? (slot === -1 ? null : this.buf.latin1Slice(ptr >>> 0, (ptr >>> 0) + (len >>> 0))) : this.names[slot];
  }

  /** name(), lower-cased (header names: Envoy's header maps hold lower-case keys); cached alike. */
  lowerName(ptr: number, len: number): string | null {
    const slot = this.nameSlot(ptr, len);
    if (slot < 0) return slot === -1 ? null : this.buf.latin1Slice(ptr >>> 0, (ptr >>> 0) + (len >>> 0)).toLowerCase();
    let lower = this.lowerNames[slot];
    if (lower === null) {
      lower = this.names[slot].toLowerCase();
      this.lowerNames[slot] = lower;
    }
    return lower;
  }

  /** The cache slot holding the bytes at ptr (filled now if needed); -1 out of bounds, -2 not cacheable. */
  private nameSlot(ptr: number, len: number): number {
    this.sync();
    ptr >>>= 0;
    len >>>= 0;
    if (!this.ok(ptr, len)) return -1;
    if (len === 0 || len > NAME_CACHE_MAX_LEN) return -2;
    const buf = this.buf;
    const slot = (len * 31 + buf[ptr] * 7 + buf[ptr + len - 1]) & (NAME_CACHE_SLOTS - 1);
    const base = slot * NAME_CACHE_MAX_LEN;
    const bytes = this.nameBytes;
    if (this.names[slot].length === len) {
      // Four bytes per compare (a string's charCodeAt per byte costs several times more).
      const dv = this.dv;
      const words = this.nameWords;
      let i = 0;
      for (; i + 4 <= len; i += 4) if (dv.getUint32(ptr + i) !== words.getUint32(base + i)) break;
      if (i + 4 > len) for (; i < len; i++) if (buf[ptr + i] !== bytes[base + i]) break;
      if (i === len) return slot;
    }
    this.names[slot] = buf.latin1Slice(ptr, ptr + len);
    this.lowerNames[slot] = null;
    for (let i = 0; i < len; i++) bytes[base + i] = buf[ptr + i];
    return slot;
  }

  utf8(ptr: number, len: number): string | null {
    this.sync();
    ptr >>>= 0;
    len >>>= 0;
    if (!this.ok(ptr, len)) return null;
    return this.buf.utf8Slice(ptr, ptr + len);
  }

  getU32(ptr: number): number | null {
    this.sync();
    ptr >>>= 0;
    if (!this.ok(ptr, 4)) return null;
    return this.dv.getUint32(ptr, true);
  }

  setU32(ptr: number, v: number): boolean {
    this.sync();
    ptr >>>= 0;
    if (!this.ok(ptr, 4)) return false;
    this.dv.setUint32(ptr, v >>> 0, true);
    return true;
  }

  setU64(ptr: number, v: bigint): boolean {
    this.sync();
    ptr >>>= 0;
    if (!this.ok(ptr, 8)) return false;
    // setBigUint64 takes the value modulo 2^64 itself (ToBigUint64): no BigInt.asUintN copy.
    this.dv.setBigUint64(ptr, v, true);
    return true;
  }

  /** A u64 given as its low and high u32 halves (no BigInt). */
  setU64Words(ptr: number, lo: number, hi: number): boolean {
    this.sync();
    ptr >>>= 0;
    if (!this.ok(ptr, 8)) return false;
    this.dv.setUint32(ptr, lo >>> 0, true);
    this.dv.setUint32(ptr + 4, hi >>> 0, true);
    return true;
  }

  setBytes(ptr: number, data: Uint8Array): boolean {
    this.sync();
    ptr >>>= 0;
    if (!this.ok(ptr, data.length)) return false;
    this.buf.set(data, ptr);
    return true;
  }

  /** Calls the guest allocator; 0 on failure. Views are re-synced afterwards. */
  alloc(size: number): number {
    if (this.allocator === null) return 0;
    const p = this.allocator(size) >>> 0;
    this.sync();
    if (p === 0 || !this.ok(p, size)) return 0;
    return p;
  }

  /**
   * cpp-host WasmBase::copyToPointerSize: allocate in the guest, copy, write {ptr,size}.
   * Empty data writes ptr=0,size=0 without calling malloc.
   */
  copyToPointerSize(data: Uint8Array, ptrPtr: number, sizePtr: number): boolean {
    let p = 0;
    if (data.length > 0) {
      p = this.alloc(data.length);
      if (p === 0) return false;
      this.buf.set(data, p);
    }
    return this.setU32(ptrPtr, p) && this.setU32(sizePtr, data.length);
  }

  /** Same, for a byte string (latin1). */
  copyLatin1ToPointerSize(s: string, ptrPtr: number, sizePtr: number): boolean {
    let p = 0;
    if (s.length > 0) {
      p = this.alloc(s.length);
      if (p === 0) return false;
      if (s.length <= SHORT_STRING) {
        // A native write costs more than a short JS byte loop (route names, ":status" values).
        const buf = this.buf;
        for (let i = 0; i < s.length; i++) buf[p + i] = s.charCodeAt(i);
      } else {
        this.buf.latin1Write(s, p);
      }
    }
    return this.setU32(ptrPtr, p) && this.setU32(sizePtr, s.length);
  }

  /** Serializes pairs straight into a guest allocation (cpp-host get_header_map_pairs). Empty → (0,0). */
  copyPairsToPointerSize(keys: readonly string[], values: readonly string[], ptrPtr: number, sizePtr: number): boolean {
    const n = keys.length;
    if (n === 0) return this.setU32(ptrPtr, 0) && this.setU32(sizePtr, 0);
    const size = pairsSizeOf(keys, values);
    const p = this.alloc(size);
    if (p === 0) return false;
    marshalPairsInto(this.buf, this.dv, p, keys, values);
    return this.setU32(ptrPtr, p) && this.setU32(sizePtr, size);
  }
}

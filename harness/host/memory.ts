/**
 * Guest linear memory access. Views are cached and re-acquired when the underlying ArrayBuffer
 * was detached by memory.grow (a guest call, including the host-initiated malloc, may grow it).
 * Every accessor bounds-checks and reports failure instead of throwing, so host calls can return
 * InvalidMemoryAccess like cpp-host's WasmVm::getMemory/setWord.
 */
import { marshalPairsInto, pairsSize } from "./pairs.js";

export type Allocator = (size: number) => number;

export class GuestMemory {
  private buf: Buffer;
  private dv: DataView;
  private allocator: Allocator | null = null;

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
      this.buf.latin1Write(s, p);
    }
    return this.setU32(ptrPtr, p) && this.setU32(sizePtr, s.length);
  }

  /** Serializes pairs straight into a guest allocation (cpp-host get_header_map_pairs). Empty → (0,0). */
  copyPairsToPointerSize(keys: readonly string[], values: readonly string[], ptrPtr: number, sizePtr: number): boolean {
    if (keys.length === 0) return this.setU32(ptrPtr, 0) && this.setU32(sizePtr, 0);
    const size = pairsSize(keys, values);
    const p = this.alloc(size);
    if (p === 0) return false;
    marshalPairsInto(this.buf, p, keys, values);
    return this.setU32(ptrPtr, p) && this.setU32(sizePtr, size);
  }
}

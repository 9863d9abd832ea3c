/**
 * A body buffer (Envoy Buffer::Instance) as a list of chunks. proxy_set_buffer_bytes follows
 * Envoy context.cc Buffer::copyFrom: start=0 prepends after draining `length` bytes, start>=size
 * appends, anything in between is BadArgument.
 */
export class BodyBuffer {
  private chunks: Buffer[] = [];
  private len = 0;

  constructor(initial?: Buffer) {
    if (initial && initial.length > 0) {
      this.chunks.push(initial);
      this.len = initial.length;
    }
  }

  get length(): number {
    return this.len;
  }

  add(data: Buffer): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.len += data.length;
  }

  prepend(data: Buffer): void {
    if (data.length === 0) return;
    this.chunks.unshift(data);
    this.len += data.length;
  }

  drain(n: number): void {
    let left = Math.min(n, this.len);
    this.len -= left;
    while (left > 0) {
      const c = this.chunks[0];
      if (c.length <= left) {
        this.chunks.shift();
        left -= c.length;
      } else {
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
  }

  /** Moves all of other's data to the end of this buffer. */
  move(other: BodyBuffer): void {
    if (other === this) return;
    for (const c of other.chunks) this.chunks.push(c);
    this.len += other.len;
    other.chunks = [];
    other.len = 0;
  }

  /** Contiguous copy of [start, start+length). */
  slice(start: number, length: number): Buffer {
    if (this.chunks.length === 1) return this.chunks[0].subarray(start, start + length);
    return this.toBuffer().subarray(start, start + length);
  }

  toBuffer(): Buffer {
    if (this.chunks.length === 0) return Buffer.alloc(0);
    if (this.chunks.length > 1) {
      const one = Buffer.concat(this.chunks, this.len);
      this.chunks = [one];
    }
    return this.chunks[0];
  }

  clear(): void {
    this.chunks = [];
    this.len = 0;
  }
}

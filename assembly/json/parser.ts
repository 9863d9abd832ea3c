// A non-throwing, byte-level JSON parser (RFC 8259) for untrusted rule documents and plugin
// configurations. AssemblyScript has no catchable exceptions: an abort or an out-of-bounds access
// traps and Envoy marks the whole VM failed, so every input must end in a value or an error here.
//
// Design:
// - Input is raw UTF-8 bytes; the parser validates UTF-8 inside strings (no overlongs, no
//   surrogates, ≤ U+10FFFF), rejects control characters in strings, and rejects any non-ASCII byte
//   outside strings.
// - Depth (arrays + objects) and size are limited by the caller; nothing recurses deeper than the
//   depth limit.
// - Output is a flat "tape" (simdjson style) instead of a tree of objects: 4 u32 per value
//   [kind|flags, start, end-or-count, next]. Strings and numbers are not decoded at parse time;
//   they point back into the source, so a 100,000-element array of CIDR strings costs one tape entry
//   each and no allocation. `next` is the index after a value's subtree, so skipping is O(1).

export namespace JsonKind {
  export const Null: u32 = 1;
  export const False: u32 = 2;
  export const True: u32 = 3;
  export const Number: u32 = 4;
  export const String: u32 = 5;
  export const Array: u32 = 6;
  export const Object: u32 = 7;
}

/** String contains a backslash escape (raw bytes differ from the value). */
const FLAG_ESCAPED: u32 = 0x100;
/** Number is an integer literal (no fraction, no exponent). */
const FLAG_INTEGER: u32 = 0x200;

export namespace JsonErrorKind {
  export const None: i32 = 0;
  export const Syntax: i32 = 1;
  export const Utf8: i32 = 2;
  export const Depth: i32 = 3;
  export const Size: i32 = 4;
}

export const JSON_DEFAULT_MAX_DEPTH: i32 = 32;

const SLOT: i32 = 4;
/** Containers keep their element count in the kind word's upper bits. */
const COUNT_SHIFT: u32 = 10;
export const JSON_MAX_ELEMENTS: i32 = (1 << 22) - 1;

export class JsonDoc {
  /** Source bytes (kept alive while the doc is used). */
  src: ArrayBuffer;
  base: usize;
  len: i32;
  tape: StaticArray<u32>;
  count: i32 = 0;
  errorKind: i32 = JsonErrorKind.None;
  errorOffset: i32 = 0;
  errorMessage: string = "";

  constructor(src: ArrayBuffer, base: usize, len: i32) {
    this.src = src;
    this.base = base;
    this.len = len;
    this.tape = new StaticArray<u32>(64 * SLOT);
  }

  get ok(): bool { return this.errorKind == JsonErrorKind.None; }

  // ---- tape accessors (callers only pass indices < count) ----
  @inline kind(n: i32): u32 { return unchecked(this.tape[n * SLOT]) & 0xff; }
  @inline start(n: i32): i32 { return <i32>unchecked(this.tape[n * SLOT + 1]); }
  @inline end(n: i32): i32 { return <i32>unchecked(this.tape[n * SLOT + 2]); }
  /** Element count of an array / member count of an object. */
  @inline size(n: i32): i32 { return <i32>(unchecked(this.tape[n * SLOT]) >>> COUNT_SHIFT); }
  /** Byte offset just past a value (strings: the closing quote's offset; containers: after the bracket). */
  @inline endOffset(n: i32): i32 {
    const k = this.kind(n);
    return <i32>unchecked(this.tape[n * SLOT + 2]) + (k == JsonKind.String ? 1 : 0);
  }
  /** Index of the value after n's subtree. */
  @inline next(n: i32): i32 { return <i32>unchecked(this.tape[n * SLOT + 3]); }
  @inline isEscaped(n: i32): bool { return (unchecked(this.tape[n * SLOT]) & FLAG_ESCAPED) != 0; }
  @inline isInteger(n: i32): bool { return (unchecked(this.tape[n * SLOT]) & FLAG_INTEGER) != 0; }

  /** Byte length of a string's raw (still escaped) content. */
  @inline rawLength(n: i32): i32 { return this.end(n) - this.start(n); }
  @inline rawPtr(n: i32): usize { return this.base + <usize>this.start(n); }

  /** Does string node n equal the ASCII literal `lit` (no escapes needed for our keys)? */
  equalsAscii(n: i32, lit: string): bool {
    if (this.kind(n) != JsonKind.String) return false;
    if (this.isEscaped(n)) return this.stringValue(n) == lit;
    const l = this.rawLength(n);
    if (l != lit.length) return false;
    const p = this.rawPtr(n);
    for (let i = 0; i < l; i++) {
      if (<u32>load<u8>(p + <usize>i) != <u32>lit.charCodeAt(i)) return false;
    }
    return true;
  }

  /** Decoded string value as UTF-8 bytes. */
  stringBytes(n: i32): ArrayBuffer {
    const l = this.rawLength(n);
    const p = this.rawPtr(n);
    if (!this.isEscaped(n)) {
      const out = new ArrayBuffer(l);
      memory.copy(changetype<usize>(out), p, <usize>l);
      return out;
    }
    // Escapes only shrink the text (\uXXXX → ≤ 3 bytes, a surrogate pair → 4 bytes for 12).
    const tmp = new ArrayBuffer(l);
    const w = unescapeInto(p, l, changetype<usize>(tmp));
    return tmp.slice(0, w);
  }

  stringValue(n: i32): string {
    if (!this.isEscaped(n)) return String.UTF8.decodeUnsafe(this.rawPtr(n), <usize>this.rawLength(n));
    const b = this.stringBytes(n);
    return String.UTF8.decode(b);
  }

  /** Numeric value (f64) of a number node. */
  numberValue(n: i32): f64 {
    return parseNumber(this.base + <usize>this.start(n), this.end(n) - this.start(n));
  }

  /** Integer value, valid when isInteger(n) and |value| < 2^53 (see integerFits). */
  integerValue(n: i32): i64 {
    return <i64>this.numberValue(n);
  }

  /** true when n is an integer literal whose magnitude fits 2^53 exactly. */
  integerFits(n: i32): bool {
    if (this.kind(n) != JsonKind.Number || !this.isInteger(n)) return false;
    let digits = this.end(n) - this.start(n);
    if (load<u8>(this.base + <usize>this.start(n)) == 0x2d) digits--;
    return digits <= 15;
  }

  /** For an object node: index of the member value whose key equals `key`, or -1. */
  member(obj: i32, key: string): i32 {
    if (this.kind(obj) != JsonKind.Object) return -1;
    let k = obj + 1;
    const stop = this.next(obj);
    while (k < stop) {
      const v = k + 1;
      if (this.equalsAscii(k, key)) return v;
      k = this.next(v);
    }
    return -1;
  }
}

// ---------------------------------------------------------------------------------------------

/** Parse `len` bytes at `base` (inside `src`). Always returns a doc; check `ok`. */
export function parseJson(src: ArrayBuffer, base: usize, len: i32, maxDepth: i32 = JSON_DEFAULT_MAX_DEPTH): JsonDoc {
  const doc = new JsonDoc(src, base, len);
  const p = new Parser(doc, maxDepth);
  p.run();
  return doc;
}

export function parseJsonBuffer(src: ArrayBuffer, maxDepth: i32 = JSON_DEFAULT_MAX_DEPTH): JsonDoc {
  return parseJson(src, changetype<usize>(src), src.byteLength, maxDepth);
}

class Parser {
  pos: i32 = 0;
  end: i32;
  base: usize;
  failed: bool = false;

  constructor(public doc: JsonDoc, public maxDepth: i32) {
    this.end = doc.len;
    this.base = doc.base;
  }

  run(): void {
    this.skipWs();
    if (this.pos >= this.end) { this.fail(JsonErrorKind.Syntax, "empty document"); return; }
    this.value(0);
    if (this.failed) return;
    this.skipWs();
    if (this.pos < this.end) this.fail(JsonErrorKind.Syntax, "unexpected data after the top-level value");
  }

  fail(kind: i32, msg: string): void {
    if (this.failed) return;
    this.failed = true;
    const d = this.doc;
    d.errorKind = kind;
    d.errorOffset = this.pos;
    d.errorMessage = msg + " at byte " + this.pos.toString();
  }

  @inline byte(i: i32): u32 { return <u32>load<u8>(this.base + <usize>i); }

  skipWs(): void {
    let i = this.pos;
    const e = this.end;
    while (i < e) {
      const c = this.byte(i);
      if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) i++;
      else break;
    }
    this.pos = i;
  }

  /** Append a tape slot; returns its index. */
  push(kindFlags: u32, start: i32, endOrCount: i32): i32 {
    const d = this.doc;
    const n = d.count;
    let tape = d.tape;
    if ((n + 1) * SLOT > tape.length) {
      const grown = new StaticArray<u32>(tape.length * 2);
      memory.copy(changetype<usize>(grown), changetype<usize>(tape), <usize>tape.length << 2);
      d.tape = grown;
      tape = grown;
    }
    const o = n * SLOT;
    unchecked(tape[o] = kindFlags);
    unchecked(tape[o + 1] = <u32>start);
    unchecked(tape[o + 2] = <u32>endOrCount);
    unchecked(tape[o + 3] = <u32>(n + 1));
    d.count = n + 1;
    return n;
  }

  @inline setNext(n: i32, next: i32): void { unchecked(this.doc.tape[n * SLOT + 3] = <u32>next); }
  @inline setSizeEnd(n: i32, size: i32, end: i32): void {
    const o = n * SLOT;
    unchecked(this.doc.tape[o] = (unchecked(this.doc.tape[o]) & 0x3ff) | (<u32>size << COUNT_SHIFT));
    unchecked(this.doc.tape[o + 2] = <u32>end);
  }

  value(depth: i32): void {
    if (this.pos >= this.end) { this.fail(JsonErrorKind.Syntax, "unexpected end of input"); return; }
    const c = this.byte(this.pos);
    if (c == 0x7b) this.object(depth + 1);
    else if (c == 0x5b) this.array(depth + 1);
    else if (c == 0x22) this.string();
    else if (c == 0x2d || (c >= 0x30 && c <= 0x39)) this.number();
    else if (c == 0x74) this.literal("true", JsonKind.True);
    else if (c == 0x66) this.literal("false", JsonKind.False);
    else if (c == 0x6e) this.literal("null", JsonKind.Null);
    else this.fail(JsonErrorKind.Syntax, "unexpected character");
  }

  literal(word: string, kind: u32): void {
    const l = word.length;
    if (this.pos + l > this.end) { this.fail(JsonErrorKind.Syntax, "invalid literal"); return; }
    for (let i = 0; i < l; i++) {
      if (this.byte(this.pos + i) != <u32>word.charCodeAt(i)) { this.fail(JsonErrorKind.Syntax, "invalid literal"); return; }
    }
    this.push(kind, this.pos, this.pos + l);
    this.pos += l;
  }

  number(): void {
    const s = this.pos;
    let i = s;
    const e = this.end;
    let integer = true;
    if (this.byte(i) == 0x2d) i++;
    if (i >= e) { this.pos = i; this.fail(JsonErrorKind.Syntax, "invalid number"); return; }
    let c = this.byte(i);
    if (c == 0x30) {
      i++;
    } else if (c >= 0x31 && c <= 0x39) {
      while (i < e && this.byte(i) >= 0x30 && this.byte(i) <= 0x39) i++;
    } else { this.pos = i; this.fail(JsonErrorKind.Syntax, "invalid number"); return; }
    if (i < e && this.byte(i) == 0x2e) {
      integer = false;
      i++;
      const ds = i;
      while (i < e && this.byte(i) >= 0x30 && this.byte(i) <= 0x39) i++;
      if (i == ds) { this.pos = i; this.fail(JsonErrorKind.Syntax, "invalid number: digits expected after '.'"); return; }
    }
    if (i < e && (this.byte(i) == 0x65 || this.byte(i) == 0x45)) {
      integer = false;
      i++;
      if (i < e && (this.byte(i) == 0x2b || this.byte(i) == 0x2d)) i++;
      const ds = i;
      while (i < e && this.byte(i) >= 0x30 && this.byte(i) <= 0x39) i++;
      if (i == ds) { this.pos = i; this.fail(JsonErrorKind.Syntax, "invalid number: digits expected in exponent"); return; }
    }
    this.push(JsonKind.Number | (integer ? FLAG_INTEGER : 0), s, i);
    this.pos = i;
  }

  /** Scans a string starting at the opening quote; validates escapes, control chars and UTF-8. */
  string(): void {
    const s = this.pos + 1;
    let i = s;
    const e = this.end;
    const base = this.base;
    let escaped = false;
    let err = 0;
    while (true) {
      // Fast path: 8 bytes at a time while none is a quote, control or non-ASCII byte and every
      // backslash starts a "\n" (the separator of a big cidrs_text: one every ~15 bytes). One exit
      // branch per word, taken only to leave the fast path: a branch on "this word has a backslash"
      // would go either way every other word of a big cidrs_text and mispredict about as often.
      // The step stays 8 whatever the bytes are (a data-dependent step would chain each load to
      // the previous word's flags): a backslash in byte 7 is carried, and the next word's byte 0
      // must be its 'n'. Flag words: borrows only propagate upwards, so a flag is exact at the
      // lowest flagged byte and a higher one may be a false positive, never a false negative; a
      // false positive only ends the fast path early. The 'n' after a real backslash is exact
      // (0x5c ^ 'n' = 0x32 does not borrow). On leaving, jump to the lowest flagged byte, or back
      // to a carried backslash.
      let seen: u64 = 0;
      let carry: u64 = 0;
      while (i + 8 <= e) {
        const v = load<u64>(base + <usize>i);
        const quote = v ^ 0x2222222222222222;
        const bslash = v ^ 0x5c5c5c5c5c5c5c5c;
        const nv = v ^ 0x6e6e6e6e6e6e6e6e;
        // Unmasked flag words: only their bits 7, 15, … 63 mean anything; one mask at the end.
        const other = ((quote - 0x0101010101010101) & ~quote) | (v - 0x2020202020202020) | v;
        const bs = (bslash - 0x0101010101010101) & ~bslash;
        const isN = (nv - 0x0101010101010101) & ~nv;
        const stop = (other | (((bs << 8) | carry) & ~isN)) & 0x8080808080808080;
        if (stop != 0) {
          i = carry != 0 ? i - 1 : i + <i32>(ctz(stop | (bs & 0x8080808080808080)) >> 3);
          carry = 0;
          break;
        }
        seen |= bs;
        carry = (bs >>> 63) << 7;
        i += 8;
      }
      if (carry != 0) i--;
      if ((seen & 0x8080808080808080) != 0) escaped = true;
      if (i >= e) { err = 1; break; }
      const c = <u32>load<u8>(base + <usize>i);
      if (c == 0x22) break;
      if (c == 0x5c) {
        escaped = true;
        if (i + 1 >= e) { err = 2; break; }
        const x = <u32>load<u8>(base + <usize>i + 1);
        if (x == 0x6e || x == 0x22 || x == 0x5c || x == 0x2f || x == 0x62 || x == 0x66 || x == 0x72 || x == 0x74) {
          i += 2;
        } else if (x == 0x75) {
          if (i + 6 > e) { err = 3; break; }
          if ((hexValue(<u32>load<u8>(base + <usize>i + 2)) | hexValue(<u32>load<u8>(base + <usize>i + 3)) |
               hexValue(<u32>load<u8>(base + <usize>i + 4)) | hexValue(<u32>load<u8>(base + <usize>i + 5))) < 0) { err = 4; break; }
          i += 6;
        } else { err = 5; break; }
        continue;
      }
      if (c < 0x20) { err = 6; break; }
      if (c < 0x80) { i++; continue; }
      const w = utf8SequenceLength(base, i, e);
      if (w == 0) { err = 7; break; }
      i += w;
    }
    if (err != 0) {
      this.pos = i;
      if (err == 1) this.fail(JsonErrorKind.Syntax, "unterminated string");
      else if (err == 2) this.fail(JsonErrorKind.Syntax, "unterminated escape");
      else if (err == 3) this.fail(JsonErrorKind.Syntax, "truncated \\u escape");
      else if (err == 4) this.fail(JsonErrorKind.Syntax, "invalid \\u escape");
      else if (err == 5) this.fail(JsonErrorKind.Syntax, "invalid escape");
      else if (err == 6) this.fail(JsonErrorKind.Syntax, "control character in string");
      else this.fail(JsonErrorKind.Utf8, "invalid UTF-8");
      return;
    }
    this.push(JsonKind.String | (escaped ? FLAG_ESCAPED : 0), s, i);
    this.pos = i + 1;
  }

  array(depth: i32): void {
    if (depth > this.maxDepth) { this.fail(JsonErrorKind.Depth, "nesting deeper than " + this.maxDepth.toString()); return; }
    const n = this.push(JsonKind.Array, this.pos, 0);
    this.pos++;
    this.skipWs();
    let count = 0;
    if (this.pos < this.end && this.byte(this.pos) == 0x5d) {
      this.pos++;
    } else {
      while (true) {
        this.skipWs();
        this.value(depth);
        if (this.failed) return;
        count++;
        if (count > JSON_MAX_ELEMENTS) { this.fail(JsonErrorKind.Size, "more than " + JSON_MAX_ELEMENTS.toString() + " elements"); return; }
        this.skipWs();
        if (this.pos >= this.end) { this.fail(JsonErrorKind.Syntax, "unterminated array"); return; }
        const c = this.byte(this.pos);
        if (c == 0x2c) { this.pos++; continue; }
        if (c == 0x5d) { this.pos++; break; }
        this.fail(JsonErrorKind.Syntax, "expected ',' or ']'");
        return;
      }
    }
    this.setSizeEnd(n, count, this.pos);
    this.setNext(n, this.doc.count);
  }

  object(depth: i32): void {
    if (depth > this.maxDepth) { this.fail(JsonErrorKind.Depth, "nesting deeper than " + this.maxDepth.toString()); return; }
    const n = this.push(JsonKind.Object, this.pos, 0);
    this.pos++;
    this.skipWs();
    let count = 0;
    if (this.pos < this.end && this.byte(this.pos) == 0x7d) {
      this.pos++;
    } else {
      while (true) {
        this.skipWs();
        if (this.pos >= this.end || this.byte(this.pos) != 0x22) { this.fail(JsonErrorKind.Syntax, "expected a string key"); return; }
        this.string();
        if (this.failed) return;
        this.skipWs();
        if (this.pos >= this.end || this.byte(this.pos) != 0x3a) { this.fail(JsonErrorKind.Syntax, "expected ':'"); return; }
        this.pos++;
        this.skipWs();
        this.value(depth);
        if (this.failed) return;
        count++;
        if (count > JSON_MAX_ELEMENTS) { this.fail(JsonErrorKind.Size, "more than " + JSON_MAX_ELEMENTS.toString() + " members"); return; }
        this.skipWs();
        if (this.pos >= this.end) { this.fail(JsonErrorKind.Syntax, "unterminated object"); return; }
        const c = this.byte(this.pos);
        if (c == 0x2c) { this.pos++; continue; }
        if (c == 0x7d) { this.pos++; break; }
        this.fail(JsonErrorKind.Syntax, "expected ',' or '}'");
        return;
      }
    }
    this.setSizeEnd(n, count, this.pos);
    this.setNext(n, this.doc.count);
  }
}

// ---------------------------------------------------------------------------------------------

/** Hex digit value or -1. */
export function hexValue(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return <i32>(l - 0x61 + 10);
  return -1;
}

/** Length (2..4) of the valid UTF-8 sequence starting at base+i (first byte ≥ 0x80), or 0. */
export function utf8SequenceLength(base: usize, i: i32, end: i32): i32 {
  const b0 = <u32>load<u8>(base + <usize>i);
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    if (i + 1 >= end) return 0;
    const b1 = <u32>load<u8>(base + <usize>i + 1);
    return (b1 & 0xc0) == 0x80 ? 2 : 0;
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (i + 2 >= end) return 0;
    const b1 = <u32>load<u8>(base + <usize>i + 1);
    const b2 = <u32>load<u8>(base + <usize>i + 2);
    let lo: u32 = 0x80, hi: u32 = 0xbf;
    if (b0 == 0xe0) lo = 0xa0;          // no overlongs
    else if (b0 == 0xed) hi = 0x9f;     // no UTF-16 surrogates
    if (b1 < lo || b1 > hi) return 0;
    return (b2 & 0xc0) == 0x80 ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (i + 3 >= end) return 0;
    const b1 = <u32>load<u8>(base + <usize>i + 1);
    const b2 = <u32>load<u8>(base + <usize>i + 2);
    const b3 = <u32>load<u8>(base + <usize>i + 3);
    let lo: u32 = 0x80, hi: u32 = 0xbf;
    if (b0 == 0xf0) lo = 0x90;          // no overlongs
    else if (b0 == 0xf4) hi = 0x8f;     // ≤ U+10FFFF
    if (b1 < lo || b1 > hi) return 0;
    return ((b2 & 0xc0) == 0x80 && (b3 & 0xc0) == 0x80) ? 4 : 0;
  }
  return 0;
}

function hex4(p: usize): u32 {
  return (<u32>hexValue(<u32>load<u8>(p)) << 12) | (<u32>hexValue(<u32>load<u8>(p + 1)) << 8)
    | (<u32>hexValue(<u32>load<u8>(p + 2)) << 4) | <u32>hexValue(<u32>load<u8>(p + 3));
}

/**
 * Decode the (already validated) escaped string content at p[0..len) into out as UTF-8; returns
 * the number of bytes written (≤ len). Lone surrogates become U+FFFD.
 */
export function unescapeInto(p: usize, len: i32, out: usize): i32 {
  let i = 0;
  let w = 0;
  while (i < len) {
    const c = <u32>load<u8>(p + <usize>i);
    if (c != 0x5c) { store<u8>(out + <usize>w, <u8>c); w++; i++; continue; }
    const x = <u32>load<u8>(p + <usize>i + 1);
    i += 2;
    let ch: u32 = 0;
    if (x == 0x6e) ch = 0x0a;
    else if (x == 0x74) ch = 0x09;
    else if (x == 0x72) ch = 0x0d;
    else if (x == 0x62) ch = 0x08;
    else if (x == 0x66) ch = 0x0c;
    else if (x == 0x75) {
      let cp = hex4(p + <usize>i);
      i += 4;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        // A high surrogate must be followed by \uDC00..\uDFFF.
        if (i + 6 <= len && load<u8>(p + <usize>i) == 0x5c && load<u8>(p + <usize>i + 1) == 0x75) {
          const lo = hex4(p + <usize>i + 2);
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
          } else cp = 0xfffd;
        } else cp = 0xfffd;
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        cp = 0xfffd;
      }
      w += writeUtf8(out + <usize>w, cp);
      continue;
    } else ch = x; // '"', '\\', '/'
    store<u8>(out + <usize>w, <u8>ch);
    w++;
  }
  return w;
}

function writeUtf8(out: usize, cp: u32): i32 {
  if (cp < 0x80) { store<u8>(out, <u8>cp); return 1; }
  if (cp < 0x800) {
    store<u8>(out, <u8>(0xc0 | (cp >> 6)));
    store<u8>(out + 1, <u8>(0x80 | (cp & 0x3f)));
    return 2;
  }
  if (cp < 0x10000) {
    store<u8>(out, <u8>(0xe0 | (cp >> 12)));
    store<u8>(out + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    store<u8>(out + 2, <u8>(0x80 | (cp & 0x3f)));
    return 3;
  }
  store<u8>(out, <u8>(0xf0 | (cp >> 18)));
  store<u8>(out + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
  store<u8>(out + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(out + 3, <u8>(0x80 | (cp & 0x3f)));
  return 4;
}

// @ts-ignore: decorator
@lazy const POW10: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/**
 * Value of an already validated JSON number. Exact for integers below 2^53 and for decimals with
 * ≤ 15 significant digits and small exponents (all this filter needs: rates, ms, statuses).
 */
export function parseNumber(p: usize, len: i32): f64 {
  let i = 0;
  let neg = false;
  if (load<u8>(p) == 0x2d) { neg = true; i++; }
  let mant: u64 = 0;
  let digits = 0;
  let exp: i32 = 0;
  while (i < len) {
    const c = <u32>load<u8>(p + <usize>i);
    if (c < 0x30 || c > 0x39) break;
    if (digits < 19) { mant = mant * 10 + <u64>(c - 0x30); if (mant != 0) digits++; }
    else exp++;
    i++;
  }
  if (i < len && load<u8>(p + <usize>i) == 0x2e) {
    i++;
    while (i < len) {
      const c = <u32>load<u8>(p + <usize>i);
      if (c < 0x30 || c > 0x39) break;
      if (digits < 19) { mant = mant * 10 + <u64>(c - 0x30); if (mant != 0) digits++; exp--; }
      i++;
    }
  }
  if (i < len) {
    const c = <u32>load<u8>(p + <usize>i);
    if (c == 0x65 || c == 0x45) {
      i++;
      let eneg = false;
      if (i < len && load<u8>(p + <usize>i) == 0x2d) { eneg = true; i++; }
      else if (i < len && load<u8>(p + <usize>i) == 0x2b) i++;
      let e: i32 = 0;
      while (i < len) {
        const d = <u32>load<u8>(p + <usize>i);
        if (d < 0x30 || d > 0x39) break;
        if (e < 100000) e = e * 10 + <i32>(d - 0x30);
        i++;
      }
      exp += eneg ? -e : e;
    }
  }
  let v = <f64>mant;
  if (mant != 0) {
    if (exp > 0) {
      while (exp > 22) { v *= 1e22; exp -= 22; if (!isFinite(v)) break; }
      if (isFinite(v)) v *= unchecked(POW10[exp]);
    } else if (exp < 0) {
      let e = -exp;
      while (e > 22) { v /= 1e22; e -= 22; if (v == 0) break; }
      if (v != 0) v /= unchecked(POW10[e]);
    }
  }
  return neg ? -v : v;
}

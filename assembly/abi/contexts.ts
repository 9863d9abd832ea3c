// Context objects and their registry, written for Envoy's lifecycle (not the SDK's FastEdge one):
// - several root contexts may live in one VM: a plugin-configuration update creates a new root
//   (on_context_create(new, 0) → on_vm_start → on_configure) while the old one lives until
//   on_done/on_delete (Envoy wasm.cc / cpp-host context.cc);
// - on_done/on_delete arrive for root ids as well as stream ids; an unknown id never traps;
// - a paused hook is never re-invoked: the filter must call proxy_continue_stream itself.
import { Action } from "./status";

export class RootContextBase {
  constructor(public readonly id: u32) {}
  onVmStart(vmConfigurationSize: u32): bool { return true; }
  onConfigure(pluginConfigurationSize: u32): bool { return true; }
  onTick(): void {}
  onQueueReady(token: u32): void {}
  onHttpCallResponse(token: u32, headerCount: u32, bodySize: u32, trailerCount: u32): void {}
  /** true: done now (on_delete follows); false: call proxy_done() later. */
  onDone(): bool { return true; }
  onDelete(): void {}
  createHttpContext(id: u32): HttpContextBase { return new HttpContextBase(id, this); }
}

export class HttpContextBase {
  // Not readonly: a root may recycle stream objects (EdgewatchRoot pools them) and re-bind them.
  constructor(public id: u32, public root: RootContextBase) {}
  onRequestHeaders(headerCount: u32, endOfStream: bool): i32 { return Action.Continue; }
  onRequestBody(bodySize: u32, endOfStream: bool): i32 { return Action.Continue; }
  onRequestTrailers(trailerCount: u32): i32 { return Action.Continue; }
  onResponseHeaders(headerCount: u32, endOfStream: bool): i32 { return Action.Continue; }
  onResponseBody(bodySize: u32, endOfStream: bool): i32 { return Action.Continue; }
  onResponseTrailers(trailerCount: u32): i32 { return Action.Continue; }
  /** Envoy HTTP order: on_log → on_done → on_delete. */
  onLog(): void {}
  onDone(): void {}
  onDelete(): void {}
}

let rootFactory: (id: u32) => RootContextBase = (id: u32): RootContextBase => new RootContextBase(id);
export const roots = new Map<u32, RootContextBase>();
/**
 * Stream contexts by id: open addressing over u32 ids (linear probing, tombstones), so a stream's
 * create / lookup / delete allocates nothing (a Map allocates and rehashes as streams come and go).
 * Id 0 marks an empty slot and 0xFFFFFFFF a deleted one; Envoy never gives a stream either id
 * (root ids start at 1 and ids count up per VM), and a stream with such an id is simply ignored.
 */
class StreamTable {
  private keys: StaticArray<u32> = new StaticArray<u32>(64);
  private vals: StaticArray<HttpContextBase | null> = new StaticArray<HttpContextBase | null>(64);
  private mask: u32 = 63;
  count: i32 = 0;
  private used: i32 = 0; // live + tombstones

  get(id: u32): HttpContextBase | null {
    if (id == 0 || id == TOMB) return null;
    const keys = this.keys;
    let i = hashId(id) & this.mask;
    while (true) {
      const k = unchecked(keys[i]);
      if (k == id) return unchecked(this.vals[i]);
      if (k == 0) return null;
      i = (i + 1) & this.mask;
    }
  }

  set(id: u32, v: HttpContextBase): void {
    if (id == 0 || id == TOMB) return;
    if ((this.used + 1) * 2 > <i32>(this.mask + 1)) this.rebuild(this.count * 4 > <i32>(this.mask + 1) ? (this.mask + 1) * 2 : this.mask + 1);
    const keys = this.keys;
    let i = hashId(id) & this.mask;
    let tomb: i32 = -1;
    while (true) {
      const k = unchecked(keys[i]);
      if (k == id) { unchecked(this.vals[i] = v); return; }
      if (k == 0) break;
      if (k == TOMB && tomb < 0) tomb = <i32>i;
      i = (i + 1) & this.mask;
    }
    if (tomb >= 0) i = <u32>tomb; else this.used++;
    unchecked(keys[i] = id);
    unchecked(this.vals[i] = v);
    this.count++;
  }

  delete(id: u32): void {
    if (id == 0 || id == TOMB) return;
    const keys = this.keys;
    let i = hashId(id) & this.mask;
    while (true) {
      const k = unchecked(keys[i]);
      if (k == id) {
        unchecked(this.vals[i] = null);
        this.count--;
        if (unchecked(keys[(i + 1) & this.mask]) != 0) {
          unchecked(keys[i] = TOMB);
          return;
        }
        // Nothing probes past an empty slot: free this one and the tombstones just before it,
        // so a table with streams coming and going does not fill up with tombstones.
        let j = i;
        while (true) {
          unchecked(keys[j] = 0);
          this.used--;
          j = (j - 1) & this.mask;
          if (unchecked(keys[j]) != TOMB) break;
        }
        return;
      }
      if (k == 0) return;
      i = (i + 1) & this.mask;
    }
  }

  private rebuild(cap: u32): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new StaticArray<u32>(<i32>cap);
    this.vals = new StaticArray<HttpContextBase | null>(<i32>cap);
    this.mask = cap - 1;
    this.count = 0;
    this.used = 0;
    for (let j = 0; j < oldKeys.length; j++) {
      const k = unchecked(oldKeys[j]);
      const v = unchecked(oldVals[j]);
      if (k != 0 && k != TOMB && v !== null) this.set(k, v);
    }
  }
}

const TOMB: u32 = 0xffffffff;

// @ts-ignore: decorator
@inline
function hashId(id: u32): u32 { return (id * 0x9e3779b1) >> 7; }

const streams = new StreamTable();

/** Stream contexts alive in this VM. */
export function streamCount(): i32 { return streams.count; }

export function setRootContextFactory(factory: (id: u32) => RootContextBase): void {
  rootFactory = factory;
}

export function createRoot(id: u32): void {
  if (!roots.has(id)) roots.set(id, rootFactory(id));
}

// The stream whose callbacks run now: a request's callbacks mostly follow one another, so one
// compare usually replaces the table lookup of every callback.
let lastStreamId: u32 = 0;
let lastStream: HttpContextBase | null = null;
// Streams of one VM belong to its newest root, mostly: one compare instead of two map lookups.
let lastRootId: u32 = 0;
let lastRoot: RootContextBase | null = null;

export function createStream(id: u32, rootId: u32): void {
  if (streams.get(id) !== null) return;
  let root: RootContextBase;
  if (rootId == lastRootId && lastRoot !== null) {
    root = lastRoot!;
  } else {
    if (!roots.has(rootId)) createRoot(rootId);
    root = roots.get(rootId);
    lastRootId = rootId;
    lastRoot = root;
  }
  const s = root.createHttpContext(id);
  streams.set(id, s);
  lastStreamId = id;
  lastStream = s;
}

/** Forget a stream (proxy_on_delete). */
export function deleteStream(id: u32): void {
  streams.delete(id);
  if (lastStreamId == id) { lastStreamId = 0; lastStream = null; }
}

/** Forget a root context (proxy_on_delete). */
export function deleteRoot(id: u32): void {
  roots.delete(id);
  if (lastRootId == id) { lastRootId = 0; lastRoot = null; }
}

export function rootOrNull(id: u32): RootContextBase | null {
  return roots.has(id) ? roots.get(id) : null;
}

export function streamOrNull(id: u32): HttpContextBase | null {
  if (id == lastStreamId && id != 0) return lastStream;
  const s = streams.get(id);
  if (s === null) return null;
  lastStreamId = id;
  lastStream = s;
  return s;
}

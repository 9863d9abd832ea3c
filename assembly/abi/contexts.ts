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
export const streams = new Map<u32, HttpContextBase>();

export function setRootContextFactory(factory: (id: u32) => RootContextBase): void {
  rootFactory = factory;
}

export function createRoot(id: u32): void {
  if (!roots.has(id)) roots.set(id, rootFactory(id));
}

// The stream whose callbacks run now: a request's callbacks mostly follow one another, so one
// compare usually replaces the map lookups (has + get) of every callback.
let lastStreamId: u32 = 0;
let lastStream: HttpContextBase | null = null;

export function createStream(id: u32, rootId: u32): void {
  if (streams.has(id)) return;
  if (!roots.has(rootId)) createRoot(rootId);
  const s = roots.get(rootId).createHttpContext(id);
  streams.set(id, s);
  lastStreamId = id;
  lastStream = s;
}

/** Forget a stream (proxy_on_delete). */
export function deleteStream(id: u32): void {
  streams.delete(id);
  if (lastStreamId == id) { lastStreamId = 0; lastStream = null; }
}

export function rootOrNull(id: u32): RootContextBase | null {
  return roots.has(id) ? roots.get(id) : null;
}

export function streamOrNull(id: u32): HttpContextBase | null {
  if (id == lastStreamId && id != 0) return lastStream;
  if (!streams.has(id)) return null;
  const s = streams.get(id);
  lastStreamId = id;
  lastStream = s;
  return s;
}

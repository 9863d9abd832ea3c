/**
 * Shared queues (proxy-wasm-cpp-host src/shared_queue.cc): identity (vm_id, name) → token
 * (never 0); register creates or re-binds the notification target to the registering VM and
 * root context (last registrant wins); enqueue posts on_queue_ready to the target VM's event
 * loop asynchronously (never inside the hostcall); any VM may dequeue (FIFO).
 */
import { WasmResult } from "./abi/status.js";

export interface QueueTarget {
  onQueueReady(rootId: number, token: number): void;
  readonly failed: boolean;
  readonly closed: boolean;
}

interface Queue {
  vmId: string;
  name: string;
  items: Buffer[];
  target: QueueTarget;
  rootId: number;
}

export class SharedQueueStore {
  private readonly tokens = new Map<string, number>();
  private readonly queues = new Map<number, Queue>();
  private nextToken = 1;

  register(vmId: string, name: string, target: QueueTarget, rootId: number): number {
    const key = `${vmId}\u0000${name}`;
    let token = this.tokens.get(key);
    if (token === undefined) {
      token = this.nextToken++;
      if (this.nextToken === 0x1_0000_0000) this.nextToken = 1;
      this.tokens.set(key, token);
      this.queues.set(token, { vmId, name, items: [], target, rootId });
    } else {
      const q = this.queues.get(token)!;
      q.target = target;
      q.rootId = rootId;
    }
    return token;
  }

  resolve(vmId: string, name: string): number {
    return this.tokens.get(`${vmId}\u0000${name}`) ?? 0;
  }

  enqueue(token: number, data: Buffer): WasmResult {
    const q = this.queues.get(token);
    if (!q) return WasmResult.NotFound;
    q.items.push(Buffer.from(data));
    const { target, rootId } = q;
    // Posted to the target's dispatcher; runs after the current VM call and I/O.
    setImmediate(() => {
      if (!target.failed && !target.closed) target.onQueueReady(rootId, token);
    });
    return WasmResult.Ok;
  }

  dequeue(token: number): Buffer | WasmResult.NotFound | WasmResult.Empty {
    const q = this.queues.get(token);
    if (!q) return WasmResult.NotFound;
    const item = q.items.shift();
    return item === undefined ? WasmResult.Empty : item;
  }

  size(token: number): number {
    return this.queues.get(token)?.items.length ?? 0;
  }
}

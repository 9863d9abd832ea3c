/**
 * Many streams open at once in one VM, finished in any order: the filter's stream registry
 * (assembly/abi/contexts.ts: an open-addressing table with tombstones, the last stream cached) and its
 * pooled stream objects must find every stream and mix up none. Each stream is counted once in
 * requests_seen_total (on_request_headers) and once in requests_total (on_log, which needs the
 * stream's own state: its route), so a lost or confused stream shows as a count mismatch.
 * Driven call by call (harness/driver/filter-driver.ts), because a proxy cannot choose the order.
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { FilterDriver } from "../../harness/driver/filter-driver.js";
import { REPO_ROOT } from "../tracing/support/as-module.js";
import { Prng } from "../../harness/fuzz/prng.js";

const WASM = resolve(REPO_ROOT, "build/edgewatch.wasm");

describe("stream registry under concurrency", () => {
  it("opens up to 600 streams at a time, finishes them in random order, loses and confuses none", () => {
    const d = new FilterDriver({ wasmPath: WASM, configuration: JSON.stringify({ tracing: { enabled: false } }) });
    const x = d.exports;
    const rng = new Prng(7);
    let nextId = 1000;
    const opened: number[] = [];
    let total = 0;
    for (let wave = 0; wave < 8; wave++) {
      const n = 100 + (wave * 70);
      for (let i = 0; i < n; i++) {
        const id = nextId++;
        x.proxy_on_context_create(id, d.rootId);
        // No header map in this phase: the filter reads nothing but still counts the request.
        x.proxy_on_request_headers(id, 0, 1);
        opened.push(id);
      }
      // finish about two thirds of the open streams, in random order
      for (let k = opened.length - 1; k > 0; k--) {
        const j = rng.int(0, k);
        [opened[k], opened[j]] = [opened[j], opened[k]];
      }
      const finish = opened.splice(0, Math.floor(opened.length * 2 / 3));
      for (const id of finish) {
        x.proxy_on_log(id);
        x.proxy_on_done(id);
        x.proxy_on_delete(id);
        total++;
      }
    }
    for (const id of opened) { x.proxy_on_log(id); x.proxy_on_done(id); x.proxy_on_delete(id); total++; }
    expect(total).toBe(nextId - 1000);
    expect(d.metric("edgewatch.requests_seen_total")).toBe(BigInt(total));
    let counted = 0n;
    for (const [name, v] of d.snapshot()) if (name.endsWith(";.;requests_total")) counted += v;
    expect(counted).toBe(BigInt(total));
    // Callbacks for a deleted or unknown stream are ignored, never trapped on.
    x.proxy_on_log(1000);
    x.proxy_on_delete(123456);
    expect(d.metric("edgewatch.requests_seen_total")).toBe(BigInt(total));
  });
});

// OTLP/HTTP JSON span exporter (per root context, i.e. per VM in practice).
//
//   - Finished spans go into a bounded SpanStore (binary records). A batch is encoded only when it
//     is sent, on the root's tick every flush_ms, or as soon as batch_max spans are waiting.
//   - One export call at a time (proxy_http_call to collector.cluster, POST collector.path,
//     content-type application/json). The request path never waits for it.
//   - Success = a 2xx answer. A reset/timeout (0 headers), 408, 429 or 5xx is retried with
//     exponential backoff (backoff_base_ms · 2^(n-1), ≤ backoff_max_ms, jittered to 50-100 %);
//     other answers (400 etc.: the collector rejects the data) drop the batch (OTLP/HTTP spec).
//   - The buffer is bounded by buffer_max spans, counting the batch held for a retry: when full, the
//     OLDEST spans go first — the held batch if it is only waiting for its backoff, else the oldest
//     queued span. Every span is accounted for exactly once: exported, dropped, or still buffered.
//
// Metrics: edgewatch.trace_spans_exported_total,
// edgewatch.reason=.=<buffer_full|rejected|shutdown|no_collector>;.;trace_spans_dropped_total,
// edgewatch.trace_export_failures_total (one per failed attempt), edgewatch.trace_spans_buffered (gauge).
// Every kept span (edgewatch.reason=.=<r>;.;trace_spans_kept_total, observability.ts) ends up in
// exactly one of exported / dropped{reason} / buffered, so kept = exported + dropped + buffered:
//   buffer_full  the buffer was full (oldest first) or everything was in flight;
//   rejected     the collector refused the batch (a non-retryable answer such as 400);
//   shutdown     the root context went away with spans still buffered;
//   no_collector tracing is on but no tracing.collector.cluster is configured (nothing to send to).
import { CollectorSettings } from "../config/settings";
import { SpanStore, SpanFields } from "./span-store";
import { ByteWriter } from "./byte-writer";
import { encodeBatch } from "./otlp-json";
import { HeaderPair, serializePairs } from "../abi/pairs";
import { httpCallRaw } from "../host/http-call";
import { getHeaderBytes } from "../host/headers";
import { MapType } from "../abi/status";
import { defineCounter, defineGauge, incrementMetric, recordMetric } from "../host/metrics";
import { random64 } from "./random";

// @ts-ignore: decorator
@lazy const STATUS_KEY: ArrayBuffer = String.UTF8.encode(":status");

export namespace DropReason {
  export const BufferFull: i32 = 0;
  export const Rejected: i32 = 1;
  export const Shutdown: i32 = 2;
  export const NoCollector: i32 = 3;
}
export const DROP_REASON_NAMES: string[] = ["buffer_full", "rejected", "shutdown", "no_collector"];

export class SpanExporter {
  enabled: bool = false;
  private cfg: CollectorSettings = new CollectorSettings();
  private cluster: ArrayBuffer = new ArrayBuffer(0);
  private headerPairs: ArrayBuffer = new ArrayBuffer(0);
  private serviceName: ArrayBuffer = new ArrayBuffer(0);
  store: SpanStore = new SpanStore(1, 1024);
  private writer: ByteWriter = new ByteWriter(4096);

  /** Token of the export call in flight (0 = none). */
  inflightToken: u32 = 0;
  private inflightSinceNs: u64 = 0;
  /** Spans encoded in `writer` and not yet acknowledged (in flight or waiting for a retry). */
  heldCount: i32 = 0;
  /** Consecutive failed attempts. */
  failures: i32 = 0;
  nextAttemptNs: u64 = 0;
  private lastFlushNs: u64 = 0;

  exportedId: u32 = 0;
  /** edgewatch.reason=.=<r>;.;trace_spans_dropped_total ids, by DropReason. */
  droppedIds: StaticArray<u32> = new StaticArray<u32>(4);
  failuresId: u32 = 0;
  bufferedId: u32 = 0;
  private lastBuffered: i64 = 0;

  /** `tracing`: tracing.enabled (spans are kept); without a collector they are dropped as no_collector. */
  configure(cfg: CollectorSettings, serviceName: string, tracing: bool): void {
    this.cfg = cfg;
    this.enabled = cfg.cluster.length > 0;
    if (!this.enabled) {
      // Nothing to export to: only the drop counter that accounts for the kept spans.
      if (tracing) this.defineDropped(DropReason.NoCollector);
      return;
    }
    this.cluster = String.UTF8.encode(cfg.cluster);
    this.serviceName = String.UTF8.encode(serviceName);
    const h = new Array<HeaderPair>();
    h.push(new HeaderPair(":method", "POST"));
    h.push(new HeaderPair(":path", cfg.path));
    h.push(new HeaderPair(":authority", cfg.authority));
    h.push(new HeaderPair(":scheme", "http"));
    h.push(new HeaderPair("content-type", "application/json"));
    h.push(new HeaderPair("user-agent", "edgewatch-wasm"));
    this.headerPairs = serializePairs(h);
    const cap = cfg.bufferMax > 0 ? cfg.bufferMax : 1;
    this.store = new SpanStore(cap, 16384);
    this.writer = new ByteWriter(4096);
    this.inflightToken = 0;
    this.heldCount = 0;
    this.failures = 0;
    this.nextAttemptNs = 0;
    this.lastFlushNs = 0;
    this.exportedId = defineCounter("edgewatch.trace_spans_exported_total");
    this.defineDropped(DropReason.BufferFull);
    this.defineDropped(DropReason.Rejected);
    this.defineDropped(DropReason.Shutdown);
    this.failuresId = defineCounter("edgewatch.trace_export_failures_total");
    this.bufferedId = defineGauge("edgewatch.trace_spans_buffered");
  }

  /** Spans held (queued + awaiting acknowledgement). */
  get buffered(): i32 { return this.store.count + this.heldCount; }

  private defineDropped(reason: i32): void {
    unchecked(this.droppedIds[reason] = defineCounter("edgewatch.reason=.=" + DROP_REASON_NAMES[reason] + ";.;trace_spans_dropped_total"));
  }

  /** A kept span with no collector to go to (tracing on, no tracing.collector.cluster). */
  dropNoCollector(): void { this.drop(1, DropReason.NoCollector); }

  /** Queue a finished span (on_log). Never blocks; may start an export when a batch is full. */
  add(f: SpanFields, now: u64): void {
    if (!this.enabled) { this.dropNoCollector(); return; }
    const max = this.cfg.bufferMax > 0 ? this.cfg.bufferMax : 1;
    if (this.store.count + this.heldCount >= max) {
      if (this.heldCount > 0 && this.inflightToken == 0) {
        // The oldest spans are the batch waiting for its retry: give it up.
        this.drop(this.heldCount, DropReason.BufferFull);
        this.heldCount = 0;
      } else if (this.store.count > 0) {
        this.store.dropOldest(1);
        this.drop(1, DropReason.BufferFull);
      } else {
        // Everything is in flight: the new span cannot be kept.
        this.drop(1, DropReason.BufferFull);
        return;
      }
    }
    if (this.store.push(f)) this.drop(1, DropReason.BufferFull);
    if (this.store.count >= this.cfg.batchMax && this.inflightToken == 0) this.flush(now);
    // Published at once (one gauge update per kept span), so kept = exported + dropped + buffered
    // holds at any scrape, not only after the next tick.
    this.publishBuffered();
  }

  /** Root tick: flush every flush_ms (or when a batch is full), honouring the retry backoff. */
  onTick(now: u64): void {
    if (!this.enabled) return;
    if (this.inflightToken != 0) {
      // A call the host never answered (should not happen: Envoy answers resets and timeouts):
      // give up waiting after twice the call timeout and retry the batch.
      const limit = <u64>(this.cfg.timeoutMs > 0 ? this.cfg.timeoutMs : 2000) * 2_000_000;
      if (now - this.inflightSinceNs > limit) {
        this.inflightToken = 0;
        this.failed(now);
      }
      this.publishBuffered();
      return;
    }
    const flushNs = <u64>(this.cfg.flushMs > 0 ? this.cfg.flushMs : 1000) * 1_000_000;
    if (this.heldCount > 0 || this.store.count >= this.cfg.batchMax || now - this.lastFlushNs >= flushNs - flushNs / 20) {
      this.flush(now);
    }
    this.publishBuffered();
  }

  /** Send the held batch (retry) or the next one. */
  flush(now: u64): void {
    if (!this.enabled || this.inflightToken != 0) return;
    if (now < this.nextAttemptNs) return;
    if (this.heldCount == 0) {
      if (this.store.count == 0) { this.lastFlushNs = now; return; }
      const n = this.store.count < this.cfg.batchMax ? this.store.count : (this.cfg.batchMax > 0 ? this.cfg.batchMax : 1);
      encodeBatch(this.writer, this.store, n, this.serviceName);
      this.store.dropOldest(n);
      this.heldCount = n;
    }
    this.lastFlushNs = now;
    const token = httpCallRaw(this.cluster, this.headerPairs, this.writer.ptr, this.writer.len,
      <u32>(this.cfg.timeoutMs > 0 ? this.cfg.timeoutMs : 0));
    if (token == 0) {
      this.failed(now);
      return;
    }
    this.inflightToken = token;
    this.inflightSinceNs = now;
  }

  /** on_http_call_response for the root; true when the token was ours. */
  onResponse(token: u32, headerCount: u32, now: u64): bool {
    if (token == 0 || token != this.inflightToken) return false;
    this.inflightToken = 0;
    let status: i32 = 0;
    if (headerCount > 0) {
      const s = getHeaderBytes(MapType.HttpCallResponseHeaders, STATUS_KEY);
      if (s !== null) status = parseInt3(s);
    }
    if (status >= 200 && status < 300) {
      incrementMetric(this.exportedId, this.heldCount);
      this.heldCount = 0;
      this.failures = 0;
      this.nextAttemptNs = 0;
      // Drain a backlog without waiting for the next tick.
      if (this.store.count >= this.cfg.batchMax) this.flush(now);
    } else if (status == 0 || status == 408 || status == 429 || status >= 500) {
      this.failed(now);
    } else {
      // The collector refuses this data: retrying would not help.
      incrementMetric(this.failuresId, 1);
      this.drop(this.heldCount, DropReason.Rejected);
      this.heldCount = 0;
    }
    this.publishBuffered();
    return true;
  }

  /** Root context going away: whatever is still buffered is lost. */
  close(): void {
    if (!this.enabled) return;
    this.drop(this.store.count + this.heldCount, DropReason.Shutdown);
    this.store.dropOldest(this.store.count);
    this.heldCount = 0;
    this.inflightToken = 0;
    this.publishBuffered();
  }

  private failed(now: u64): void {
    incrementMetric(this.failuresId, 1);
    this.failures++;
    const base = <u64>(this.cfg.backoffBaseMs > 0 ? this.cfg.backoffBaseMs : 100);
    const max = <u64>(this.cfg.backoffMaxMs > 0 ? this.cfg.backoffMaxMs : 10000);
    const shift = this.failures - 1 < 20 ? this.failures - 1 : 20;
    let delayMs = base << <u64>shift;
    if (delayMs > max) delayMs = max;
    // Jitter to 50..100 % so VMs that failed together do not retry together.
    delayMs = delayMs / 2 + (random64() % (delayMs / 2 + 1));
    this.nextAttemptNs = now + delayMs * 1_000_000;
  }

  private drop(n: i32, reason: i32): void {
    if (n > 0) incrementMetric(unchecked(this.droppedIds[reason]), n);
  }

  private publishBuffered(): void {
    const b = <i64>this.buffered;
    if (b != this.lastBuffered) {
      incrementMetric(this.bufferedId, b - this.lastBuffered);
      this.lastBuffered = b;
    }
  }
}

function parseInt3(b: ArrayBuffer): i32 {
  if (b.byteLength != 3) return 0;
  const p = changetype<usize>(b);
  let v: i32 = 0;
  for (let i = 0; i < 3; i++) {
    const d = <i32>load<u8>(p + <usize>i) - 0x30;
    if (d < 0 || d > 9) return 0;
    v = v * 10 + d;
  }
  return v;
}

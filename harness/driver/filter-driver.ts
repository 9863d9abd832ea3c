/**
 * A minimal, fast proxy-wasm host for micro-benchmarks of the product filter (build/edgewatch.wasm):
 * one VM, one root context, streams driven call by call (on_request_headers → on_response_headers →
 * on_log → on_done → on_delete) with every host call the filter makes answered by a cheap JS stub
 * (header maps, properties, metrics as plain counters, WASI random, an http_call recorder).
 *
 * What a timing from this driver covers: the guest code plus the JS↔wasm transitions and the
 * stubs' own work (a Map lookup and a copy into guest memory per value read). It excludes the
 * network, the emulated proxy and Envoy's C++ host (whose host calls cost more: ~0.1–0.3 µs each,
 * reference performance.md §2). Differences between configurations isolate a feature's cost. The
 * module is compiled on Envoy's V8 settings (host/wasm-engine.ts: TurboFan only), as the embedded host does.
 */
import { readFileSync } from "node:fs";
import { randomFillSync } from "node:crypto";
import type { StatsStoreApi } from "../stats/types.js";
import { compileForEnvoySync } from "../host/wasm-engine.js";
import { marshalPairsInto, pairsSizeOf, parsePairs } from "../host/pairs.js";

export interface DriverOptions {
  wasmPath: string;
  /** Plugin configuration JSON (buffer 7). */
  configuration: string;
  /** Also feed every metric into this stats store (as Envoy's "wasmcustom.<name>" stats). */
  stats?: StatsStoreApi;
  /** Count every host call by import name in `callCounts` (host calls per request; costs a wrapper per call). */
  countCalls?: boolean;
}

export interface RequestSpec {
  headers: Array<[string, string]>;
  routeName?: string | null;
  sourceAddress?: string;
  status?: number;
  /** Extra response headers. */
  responseHeaders?: Array<[string, string]>;
  /** Filter clock advanced between request and response headers (simulated upstream latency). */
  latencyMs?: number;
}

export interface HttpCallRecord {
  token: number;
  cluster: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

type Map_ = Array<[string, string]>;

export class FilterDriver {
  readonly instance: WebAssembly.Instance;
  readonly exports: any;
  private mem!: WebAssembly.Memory;
  private u8!: Uint8Array;
  private buf!: Buffer;
  private dv!: DataView;
  private encCache = new Map<string, Buffer>();
  /** Time spent inside guest calls (incl. the host calls they make), ns; see timeGuest. */
  guestNs = 0;
  /** Time each proxy_on_* call of request() (adds ~2 clock reads per call). */
  timeGuest = false;
  /** Answer every http_call with this status at the end of the stream that made it (null = leave pending). */
  autoAnswer: number | null = null;
  private answeredUpTo = 0;
  /** Keep answered http_call records (false: only count them, for long benches). */
  keepCalls = true;
  httpCallCount = 0;
  httpCallBytes = 0;
  readonly rootId = 1;
  private nextId = 2;
  private config: Buffer;

  // current stream state
  private reqHeaders: Map_ | null = null;
  private respHeaders: Map_ | null = null;
  private routeName: string | null = null;
  private sourceAddress = "192.0.2.10:40000";
  private responseCode = 0;

  // observations
  readonly metrics = new Map<number, { name: string; type: number; value: bigint; samples: number[] }>();
  /** Metrics by id >> 2 (fast path of increment/record). */
  private metricList: Array<{ name: string; type: number; value: bigint; samples: number[] } | undefined> = [];
  /** Keep histogram samples (tests); off for benches. */
  keepSamples = true;
  private metricByName = new Map<string, number>();
  private nextMetric = 1;
  readonly httpCalls: HttpCallRecord[] = [];
  private nextToken = 4;
  localReplies = 0;
  hostCalls = 0;
  /** Host calls by import name ("env.proxy_get_property"…), when constructed with countCalls. */
  readonly callCounts = new Map<string, number>();
  private shared = new Map<string, { value: Buffer; cas: number }>();
  private cas = 1;
  logs: string[] = [];
  tickPeriodMs = 0;
  /** proxy_define_metric calls so far (metric-id caching check). */
  defineCalls = 0;
  /** Added to the wall clock the filter sees (fast-forward timers and backoff). */
  clockOffsetNs = 0n;
  /** Fixed clock (ns) instead of the wall clock, when set. */
  fixedClockNs: bigint | null = null;

  private readonly epochOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

  nowNs(): bigint {
    if (this.fixedClockNs !== null) return this.fixedClockNs + this.clockOffsetNs;
    return process.hrtime.bigint() + this.epochOffsetNs + this.clockOffsetNs;
  }

  /** Move the filter's clock forward. */
  advance(ms: number): void { this.clockOffsetNs += BigInt(Math.round(ms * 1e6)); }

  constructor(opts: DriverOptions) {
    this.config = Buffer.from(opts.configuration, "utf8");
    const stats = opts.stats;
    const module = compileForEnvoySync(readFileSync(opts.wasmPath));
    const self = this;
    const env: Record<string, Function> = {
      proxy_log(level: number, ptr: number, len: number) {
        self.hostCalls++;
        const msg = self.str(ptr, len);
        if (level >= 3) self.logs.push(msg);
        return 0;
      },
      proxy_get_current_time_nanoseconds(out: number) {
        self.hostCalls++;
        self.view().setBigUint64(out, self.nowNs(), true);
        return 0;
      },
      proxy_set_tick_period_milliseconds(ms: number) { self.tickPeriodMs = ms; return 0; },
      proxy_get_header_map_value(type: number, kp: number, kl: number, rp: number, rs: number) {
        self.hostCalls++;
        const m = self.mapOf(type);
        if (m === null) return 2;
        const k = self.str(kp, kl);
        for (const [hk, hv] of m) if (hk === k) { self.writeOut(self.enc(hv), rp, rs); return 0; }
        return 1;
      },
      proxy_get_header_map_pairs(type: number, rp: number, rs: number) {
        self.hostCalls++;
        const m = self.mapOf(type);
        if (m === null || m.length === 0) { self.view().setUint32(rp, 0, true); self.view().setUint32(rs, 0, true); return 0; }
        self.writePairsOut(m, rp, rs);
        return 0;
      },
      proxy_replace_header_map_value(type: number, kp: number, kl: number, vp: number, vl: number) {
        self.hostCalls++;
        const m = self.mapOf(type);
        if (m === null) return 2;
        const k = self.str(kp, kl).toLowerCase();
        const v = self.str(vp, vl);
        // Envoy setCopy: the one line of a key replaces ALL its lines (kept in place when there was one).
        const i = m.findIndex(([hk]) => hk === k);
        if (i < 0) { m.push([k, v]); return 0; }
        m[i] = [k, v];
        for (let j = m.length - 1; j > i; j--) if (m[j][0] === k) m.splice(j, 1);
        return 0;
      },
      proxy_remove_header_map_value(type: number, kp: number, kl: number) {
        self.hostCalls++;
        const m = self.mapOf(type);
        if (m === null) return 2;
        const k = self.str(kp, kl).toLowerCase();
        for (let i = m.length - 1; i >= 0; i--) if (m[i][0] === k) m.splice(i, 1);
        return 0;
      },
      proxy_get_property(pp: number, pl: number, rp: number, rs: number) {
        self.hostCalls++;
        const path = self.str(pp, pl);
        if (path === "xds\0route_name") {
          if (self.routeName === null) return 1;
          self.writeOut(self.enc(self.routeName, "utf8"), rp, rs);
          return 0;
        }
        if (path === "source\0address") { self.writeOut(self.enc(self.sourceAddress), rp, rs); return 0; }
        if (path === "response\0code") {
          const b = Buffer.alloc(8);
          b.writeBigInt64LE(BigInt(self.responseCode));
          self.writeOut(b, rp, rs);
          return 0;
        }
        if (path.startsWith("request\0headers\0")) {
          // Envoy's CEL headers map: the lines of a repeated header joined with "," (getAllOfHeaderAsString).
          const m = self.reqHeaders;
          if (m === null) return 1;
          const k = path.slice(16).toLowerCase();
          let v: string | undefined;
          for (const [hk, hv] of m) if (hk === k) v = v === undefined ? hv : v + "," + hv;
          if (v === undefined) return 1;
          self.writeOut(self.enc(v), rp, rs);
          return 0;
        }
        return 1;
      },
      proxy_get_buffer_bytes(type: number, start: number, len: number, rp: number, rs: number) {
        self.hostCalls++;
        if (type !== 7) return 1;
        self.writeOut(self.config.subarray(start, start + len), rp, rs);
        return 0;
      },
      proxy_send_local_response() { self.hostCalls++; self.localReplies++; return 0; },
      proxy_http_call(cp: number, cl: number, hp: number, hl: number, bp: number, bl: number, _tp: number, _tl: number, _timeout: number, tokenOut: number) {
        self.hostCalls++;
        const token = self.nextToken;
        self.nextToken += 4;
        self.httpCallCount++;
        self.httpCallBytes += bl;
        self.httpCalls.push({
          token, cluster: self.str(cp, cl), headers: parsePairs(self.u8.slice(hp, hp + hl)),
          body: Buffer.from(self.u8.subarray(bp, bp + bl)),
        });
        self.view().setUint32(tokenOut, token, true);
        return 0;
      },
      proxy_define_metric(type: number, np: number, nl: number, out: number) {
        self.hostCalls++;
        self.defineCalls++;
        const name = self.str(np, nl);
        let id = self.metricByName.get(name);
        if (id === undefined) {
          id = (self.nextMetric++ << 2) | type;
          self.metricByName.set(name, id);
          const rec = { name, type, value: 0n, samples: [] as number[] };
          self.metrics.set(id, rec);
          self.metricList[id >> 2] = rec;
          if (stats) {
            if (type === 0) stats.counter("wasmcustom." + name);
            else if (type === 1) stats.gauge("wasmcustom." + name);
            else stats.histogram("wasmcustom." + name);
          }
        }
        self.view().setUint32(out, id, true);
        return 0;
      },
      proxy_increment_metric(id: number, delta: bigint) {
        self.hostCalls++;
        const m = self.metricList[id >> 2];
        if (!m) return 1;
        m.value += delta;
        if (stats) {
          if (m.type === 0) stats.counter("wasmcustom." + m.name).add(delta);
          else if (m.type === 1) stats.gauge("wasmcustom." + m.name).add(delta);
        }
        return 0;
      },
      proxy_record_metric(id: number, value: bigint) {
        self.hostCalls++;
        const m = self.metricList[id >> 2];
        if (!m) return 1;
        if (m.type === 2) { m.value += 1n; if (self.keepSamples) m.samples.push(Number(value)); } else if (m.type === 1) m.value = value; else m.value += value;
        if (stats) {
          if (m.type === 2) stats.histogram("wasmcustom." + m.name).record(Number(value));
          else if (m.type === 1) stats.gauge("wasmcustom." + m.name).set(value);
          else stats.counter("wasmcustom." + m.name).add(value);
        }
        return 0;
      },
      proxy_get_shared_data(kp: number, kl: number, rp: number, rs: number, casOut: number) {
        self.hostCalls++;
        const e = self.shared.get(self.str(kp, kl));
        if (!e) return 1;
        self.writeOut(e.value, rp, rs);
        self.view().setUint32(casOut, e.cas, true);
        return 0;
      },
      proxy_set_shared_data(kp: number, kl: number, vp: number, vl: number, cas: number) {
        self.hostCalls++;
        const k = self.str(kp, kl);
        const e = self.shared.get(k);
        if (e && cas !== 0 && cas !== e.cas) return 8;
        self.shared.set(k, { value: Buffer.from(self.u8.subarray(vp, vp + vl)), cas: self.cas++ });
        return 0;
      },
      proxy_register_shared_queue(_np: number, _nl: number, out: number) { self.view().setUint32(out, 1, true); return 0; },
      proxy_resolve_shared_queue(_vp: number, _vl: number, _np: number, _nl: number, out: number) { self.view().setUint32(out, 1, true); return 0; },
      proxy_enqueue_shared_queue() { return 0; },
      proxy_dequeue_shared_queue() { return 7; },
      proxy_set_effective_context() { return 0; },
      proxy_get_status() { return 1; },
      proxy_continue_stream() { return 0; },
      proxy_close_stream() { return 0; },
      proxy_done() { return 1; },
      proxy_get_metric() { return 2; },
      proxy_get_log_level(out: number) { self.view().setUint32(out, 2, true); return 0; },
      proxy_set_property() { return 0; },
      proxy_add_header_map_value() { return 0; },
      proxy_set_header_map_pairs() { return 0; },
      proxy_get_header_map_size() { return 0; },
      proxy_get_buffer_status() { return 1; },
      proxy_set_buffer_bytes() { return 0; },
    };
    const wasi: Record<string, Function> = {
      random_get(ptr: number, len: number) {
        self.hostCalls++;
        randomFillSync(self.u8, ptr, len);
        return 0;
      },
      clock_time_get(_id: number, _prec: bigint, out: number) {
        self.view().setBigUint64(out, process.hrtime.bigint(), true);
        return 0;
      },
      fd_write() { return 0; },
      proc_exit() { return 0; },
      environ_get() { return 0; },
      environ_sizes_get(a: number, b: number) { self.view().setUint32(a, 0, true); self.view().setUint32(b, 0, true); return 0; },
      args_get() { return 0; },
      args_sizes_get(a: number, b: number) { self.view().setUint32(a, 0, true); self.view().setUint32(b, 0, true); return 0; },
    };
    const imports: WebAssembly.Imports = { env: {}, wasi_snapshot_preview1: {} };
    for (const imp of WebAssembly.Module.imports(module)) {
      const table = imp.module === "env" ? env : wasi;
      const fn = table[imp.name];
      if (!fn) throw new Error(`filter-driver: no stub for import ${imp.module}.${imp.name}`);
      let bound = fn;
      if (opts.countCalls) {
        const key = `${imp.module}.${imp.name}`;
        const counts = this.callCounts;
        bound = (...args: unknown[]) => { counts.set(key, (counts.get(key) ?? 0) + 1); return fn(...args); };
      }
      (imports[imp.module] as Record<string, Function>)[imp.name] = bound;
    }
    this.instance = new WebAssembly.Instance(module, imports);
    this.exports = this.instance.exports;
    this.mem = this.exports.memory;
    this.refresh();
    if (this.exports._start) this.exports._start();
    this.exports.proxy_on_context_create(this.rootId, 0);
    if (!this.exports.proxy_on_vm_start(this.rootId, 0)) throw new Error("on_vm_start failed");
    if (!this.exports.proxy_on_configure(this.rootId, this.config.length)) {
      throw new Error(`on_configure rejected the configuration: ${this.logs.join(" | ")}`);
    }
  }

  private refresh(): void {
    // A grown memory detaches the old ArrayBuffer (byteLength 0): cheaper than reading mem.buffer.
    if (!this.u8 || this.u8.byteLength === 0) {
      this.u8 = new Uint8Array(this.mem.buffer);
      this.buf = Buffer.from(this.mem.buffer);
      this.dv = new DataView(this.mem.buffer);
    }
  }
  /** Encoded bytes of a string (cached: benches repeat the same values). */
  private enc(s: string, encoding: "latin1" | "utf8" = "latin1"): Buffer {
    let b = this.encCache.get(s);
    if (b === undefined) {
      b = Buffer.from(s, encoding);
      if (this.encCache.size > 50_000) this.encCache.clear();
      this.encCache.set(s, b);
    }
    return b;
  }
  private view(): DataView { this.refresh(); return this.dv; }
  private str(p: number, l: number): string {
    this.refresh();
    return this.buf.latin1Slice(p, p + l);
  }
  private writeOut(b: Buffer | Uint8Array, rp: number, rs: number): void {
    if (b.length === 0) { this.view().setUint32(rp, 0, true); this.view().setUint32(rs, 0, true); return; }
    const ptr = this.exports.malloc(b.length) >>> 0;
    this.refresh();
    this.u8.set(b, ptr);
    this.dv.setUint32(rp, ptr, true);
    this.dv.setUint32(rs, b.length, true);
  }
  /**
   * The pairs serialized straight into a guest allocation, as the embedded host does (host/pairs.ts):
   * no Buffer per call, so the driver's own CPU per request does not hide the filter's (a Buffer per
   * string made the method label look 4.5 µs dearer than without it).
   */
  private writePairsOut(m: Map_, rp: number, rs: number): void {
    const keys = m.map((p) => p[0]);
    const values = m.map((p) => p[1]);
    const size = pairsSizeOf(keys, values);
    const ptr = this.exports.malloc(size) >>> 0;
    this.refresh();
    marshalPairsInto(this.buf, this.dv, ptr, keys, values);
    this.dv.setUint32(rp, ptr, true);
    this.dv.setUint32(rs, size, true);
  }
  private mapOf(type: number): Map_ | null {
    if (type === 0) return this.reqHeaders;
    if (type === 2) return this.respHeaders;
    if (type === 6) return this.callResponseHeaders;
    return null;
  }
  private callResponseHeaders: Map_ | null = null;

  /** Request headers as the filter left them after the last on_request_headers. */
  lastRequestHeaders: Map_ = [];

  /** Drive one complete stream; returns the request headers as forwarded upstream. */
  request(spec: RequestSpec): Map_ {
    const id = this.nextId++;
    const x = this.exports;
    this.routeName = spec.routeName === undefined ? null : spec.routeName;
    this.sourceAddress = spec.sourceAddress ?? "192.0.2.10:40000";
    this.reqHeaders = spec.headers.map(([k, v]) => [k, v] as [string, string]);
    this.respHeaders = null;
    this.responseCode = 0;
    const timed = this.timeGuest;
    let t = timed ? process.hrtime.bigint() : 0n;
    x.proxy_on_context_create(id, this.rootId);
    const localBefore = this.localReplies;
    x.proxy_on_request_headers(id, this.reqHeaders.length, 1);
    if (timed) { this.guestNs += Number(process.hrtime.bigint() - t); }
    const forwarded = this.reqHeaders;
    this.lastRequestHeaders = forwarded;
    const status = this.localReplies > localBefore ? 403 : (spec.status ?? 200);
    this.responseCode = status;
    this.respHeaders = [[":status", String(status)], ...(spec.responseHeaders ?? [])];
    if (spec.latencyMs) this.advance(spec.latencyMs);
    if (timed) t = process.hrtime.bigint();
    x.proxy_on_response_headers(id, this.respHeaders.length, 1);
    x.proxy_on_log(id);
    x.proxy_on_done(id);
    x.proxy_on_delete(id);
    if (this.autoAnswer !== null) {
      while (this.answeredUpTo < this.httpCalls.length) {
        const c = this.httpCalls[this.answeredUpTo++];
        this.answerHttpCall(c.token, this.autoAnswer);
      }
      if (!this.keepCalls) { this.httpCalls.length = 0; this.answeredUpTo = 0; }
    }
    if (timed) { this.guestNs += Number(process.hrtime.bigint() - t); }
    this.reqHeaders = null;
    this.respHeaders = null;
    return forwarded;
  }

  tick(): void { this.exports.proxy_on_tick(this.rootId); }

  /** Answer an http_call (status 0 = reset: no headers). */
  answerHttpCall(token: number, status: number): void {
    this.callResponseHeaders = status === 0 ? null : [[":status", String(status)]];
    this.exports.proxy_on_http_call_response(this.rootId, token, status === 0 ? 0 : 1, 0, 0);
    this.callResponseHeaders = null;
  }

  /** Histogram samples recorded under a stat name. */
  samples(name: string): number[] {
    const id = this.metricByName.get(name);
    return id === undefined ? [] : this.metrics.get(id)!.samples;
  }

  /** All metrics as name → value. */
  snapshot(): Map<string, bigint> {
    const out = new Map<string, bigint>();
    for (const m of this.metrics.values()) out.set(m.name, m.value);
    return out;
  }

  metric(name: string): bigint | undefined {
    const id = this.metricByName.get(name);
    return id === undefined ? undefined : this.metrics.get(id)!.value;
  }

  memoryBytes(): number { return this.mem.buffer.byteLength; }
}


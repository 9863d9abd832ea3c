/**
 * Envoy-faithful stats store for the embedded host: counters, gauges, histograms keyed by their full
 * Envoy name ("wasmcustom.…"), shared by every VM of the process, rendered like Envoy's admin handlers.
 *
 * Behaviours emulated (Envoy source file in brackets):
 *  - counters and gauges are uint64, visible immediately; add/set marks the stat "used" for `?usedonly`
 *    [source/common/stats/allocator_impl.cc CounterImpl/GaugeImpl]. Values wrap modulo 2^64 like a
 *    release build (a gauge subtracted below zero reads as a huge number, as in Envoy).
 *  - histograms record into a pending (thread-local in Envoy) log-linear histogram; nothing is visible
 *    until a stats flush merges it into the interval + cumulative histograms; a histogram is "used"
 *    only once it has been merged with data [source/common/stats/thread_local_store.cc
 *    ParentHistogramImpl::merge/used, ThreadLocalHistogramImpl::recordValue].
 *  - flushes happen every `flushIntervalMs` (bootstrap stats_flush_interval, default 5 s) and, with
 *    `flushOnAdmin`, on each admin stats request [source/server/server.cc flushStats,
 *    source/server/admin/stats_handler.cc].
 *  - bucket bounds: first `histogramBucketSettings` entry whose StringMatcher matches the full name,
 *    else Envoy's defaults [source/common/stats/histogram_impl.cc HistogramSettingsImpl::buckets].
 *  - tags: stats_tags regexes run once per stat at creation [source/common/stats/tag_producer_impl.cc].
 *
 * Hot path (`counter.add`, `gauge.set`, `histogram.record`, and the by-slot calls the host's metric
 * hostcalls use): O(1), no allocation in the common case, and few cache lines — counter and gauge
 * values sit in one typed-array slab per store (a JS number while below 2^53, a bigint above), and
 * histogram samples are appended to one sample log per store, binned into each histogram's
 * open-addressing table of bin counts (circllhist.ts PendingBins) when the log fills or before a
 * flush merges them into sorted bins. On the embedded proxy, where Node's own HTTP work between two
 * requests evicts the caches, one scattered object per stat cost a cache miss per update (~3 µs of a
 * request's filter cost, measured with caches flushed between requests).
 */
import type { HistogramBucketSetting, StatsConfig } from "../config/proxy-config.js";
import {
  BinSet,
  DEFAULT_BUCKETS,
  PendingBins,
  binKey,
  computeStatistics,
  type HistogramStatistics,
} from "./circllhist.js";
import { renderStatsJson, renderStatsText } from "./json-format.js";
import type { HistogramView, NumericView, RenderOptions, StatsSnapshot } from "./model.js";
import { DEFAULT_CUSTOM_NAMESPACES, renderPrometheusText } from "./prometheus-format.js";
import { TagExtractor, type Tag } from "./tag-extractor.js";
import type { CounterStat, GaugeStat, HistogramStat, StatsStoreApi } from "./types.js";

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// Number(bigint) is a V8 runtime call on every hot-path add/set/record; a 64-bit typed-array store
// and two 32-bit loads are not. The store takes the value modulo 2^64 (ToBigInt64/ToBigUint64),
// which is the stats' own arithmetic (uint64 wrapping), so the results are those of Number().
const I64 = new BigInt64Array(1);
const U64 = new BigUint64Array(I64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const WORDS = new Uint32Array(I64.buffer);
const SIGNED_WORDS = new Int32Array(I64.buffer);
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;

/** Number(v) of v as an unsigned 64-bit value (v modulo 2^64), correctly rounded. */
export function u64ToNumber(v: bigint): number {
  U64[0] = v;
  return WORDS[HI] * 4294967296 + WORDS[LO];
}

/** Number(v) of v as a signed 64-bit value (v modulo 2^64, two's complement), correctly rounded. */
export function i64ToNumber(v: bigint): number {
  I64[0] = v;
  return SIGNED_WORDS[HI] * 4294967296 + WORDS[LO];
}

interface Named {
  readonly name: string;
  readonly tagExtractedName: string;
  readonly tags: readonly Tag[];
}

/**
 * Counter and gauge values of one store, in typed arrays indexed by a stat's slot. A request's
 * updates then touch a few lines of two arrays shared by every stat, not one scattered object per
 * stat: on a proxy whose own work between two requests evicts the caches, each scattered object was
 * a cache (and TLB) miss per update. Each value is a JS number below 2^53 (flags bit 1 clear) or a
 * uint64 bigint kept aside (bit 1 set); bit 0 is Envoy's used() flag.
 */
class NumericSlab {
  lo = new Float64Array(256);
  flags = new Uint8Array(256);
  private readonly big = new Map<number, bigint>();
  size = 0;

  alloc(): number {
    if (this.size === this.lo.length) {
      const lo = new Float64Array(this.size * 2);
      const flags = new Uint8Array(this.size * 2);
      lo.set(this.lo);
      flags.set(this.flags);
      this.lo = lo;
      this.flags = flags;
    }
    return this.size++;
  }

  /** Add modulo 2^64 (counters and gauges alike: uint64 arithmetic, wrapping like a release build). */
  add(slot: number, delta: bigint): void {
    const flags = this.flags;
    if (flags[slot] < 2) {
      const lo = this.lo;
      const s = lo[slot] + i64ToNumber(delta);
      flags[slot] = 1;
      if (s >= 0 && s <= MAX_SAFE) {
        lo[slot] = s;
        return;
      }
      this.big.set(slot, BigInt(lo[slot]));
      flags[slot] = 3;
    }
    this.big.set(slot, BigInt.asUintN(64, this.big.get(slot)! + delta));
  }

  set(slot: number, value: bigint): void {
    const n = u64ToNumber(value);
    if (n >= 0 && n <= MAX_SAFE) {
      this.lo[slot] = n;
      this.flags[slot] = 1;
      this.big.delete(slot);
    } else {
      this.big.set(slot, BigInt.asUintN(64, value));
      this.flags[slot] = 3;
    }
  }

  value(slot: number): bigint {
    return this.flags[slot] >= 2 ? this.big.get(slot)! : BigInt(this.lo[slot]);
  }

  used(slot: number): boolean {
    return (this.flags[slot] & 1) !== 0;
  }

  /** Value back to 0, the used flag kept. */
  reset(slot: number): void {
    this.lo[slot] = 0;
    this.flags[slot] &= 1;
    this.big.delete(slot);
  }
}

class CounterImpl implements CounterStat, NumericView {
  constructor(
    readonly name: string,
    readonly tagExtractedName: string,
    readonly tags: readonly Tag[],
    private readonly slab: NumericSlab,
    /** Index into the store's numeric slab (StatsStore.addNumeric's argument). */
    readonly slot: number,
  ) {}

  get used(): boolean {
    return this.slab.used(this.slot);
  }

  add(delta: bigint): void {
    this.slab.add(this.slot, delta);
  }

  value(): bigint {
    return this.slab.value(this.slot);
  }

  /** Admin /reset_counters (CounterImpl::reset keeps the used flag). */
  reset(): void {
    this.slab.reset(this.slot);
  }
}

class GaugeImpl implements GaugeStat, NumericView {
  constructor(
    readonly name: string,
    readonly tagExtractedName: string,
    readonly tags: readonly Tag[],
    private readonly slab: NumericSlab,
    readonly slot: number,
  ) {}

  get used(): boolean {
    return this.slab.used(this.slot);
  }

  add(delta: bigint): void {
    this.slab.add(this.slot, delta);
  }

  set(value: bigint): void {
    this.slab.set(this.slot, value);
  }

  value(): bigint {
    return this.slab.value(this.slot);
  }
}

/**
 * Histogram samples recorded since the last drain, in arrival order: (histogram slot, value) pairs
 * appended to two typed arrays. A record writes the next entry (a line just written by the previous
 * one) instead of a hash table per histogram (four scattered objects per sample); the log is sorted
 * into the histograms' pending bins when it fills, at a flush, and when a count is asked for. Samples
 * stay invisible until a flush merges them either way (Envoy's thread-local histograms).
 */
class SampleLog {
  static readonly CAPACITY = 8192;
  readonly slots = new Int32Array(SampleLog.CAPACITY);
  readonly values = new Float64Array(SampleLog.CAPACITY);
  n = 0;
}

class HistogramImpl implements HistogramStat, HistogramView {
  readonly pending = new PendingBins();
  private intervalBins = BinSet.EMPTY;
  private cumulativeBins = BinSet.EMPTY;
  private merged = false;
  cumulative: HistogramStatistics;
  interval: HistogramStatistics;

  constructor(
    readonly name: string,
    readonly tagExtractedName: string,
    readonly tags: readonly Tag[],
    readonly buckets: readonly number[],
    private readonly store: StatsStore,
    /** Index of this histogram in its store (StatsStore.recordHistogram's argument). */
    readonly slot: number,
  ) {
    this.cumulative = computeStatistics(BinSet.EMPTY, buckets);
    this.interval = this.cumulative;
  }

  record(value: number): void {
    this.store.recordHistogram(this.slot, value);
  }

  get used(): boolean {
    return this.merged;
  }

  /** Samples recorded but not yet merged (not visible in any output). */
  get pendingCount(): number {
    this.store.drainSamples();
    return this.pending.total;
  }

  /** ParentHistogramImpl::merge: only once used; the interval histogram is replaced each flush. */
  merge(): void {
    this.store.drainSamples();
    if (!this.merged && this.pending.total === 0) return;
    this.intervalBins = this.pending.drain();
    this.cumulativeBins = this.cumulativeBins.merge(this.intervalBins);
    this.cumulative = computeStatistics(this.cumulativeBins, this.buckets);
    this.interval = computeStatistics(this.intervalBins, this.buckets);
    this.merged = true;
  }

  cumulativeDetails = () => this.cumulativeBins.details();
  intervalDetails = () => this.intervalBins.details();
}

/** Envoy StringMatcher (prefix / exact / suffix / safe_regex full match). */
function stringMatcher(match: HistogramBucketSetting["match"]): (s: string) => boolean {
  if (match.exact !== undefined) return (s) => s === match.exact;
  if (match.prefix !== undefined) return (s) => s.startsWith(match.prefix!);
  if (match.suffix !== undefined) return (s) => s.endsWith(match.suffix!);
  if (match.safeRegex !== undefined) {
    const re = new RegExp(`^(?:${match.safeRegex})$`);
    return (s) => re.test(s);
  }
  throw new Error("histogram_bucket_settings: match needs one of exact, prefix, suffix, safeRegex");
}

function validateBuckets(buckets: readonly number[]): number[] {
  // data-plane-api stats.proto HistogramBucketSettings.buckets: min_items 1, unique, each > 0.
  if (buckets.length === 0) throw new Error("histogram_bucket_settings: buckets must not be empty");
  const seen = new Set<number>();
  for (const b of buckets) {
    if (!(b > 0) || !Number.isFinite(b)) throw new Error(`histogram_bucket_settings: bucket ${b} must be > 0`);
    if (seen.has(b)) throw new Error(`histogram_bucket_settings: duplicate bucket ${b}`);
    seen.add(b);
  }
  // Rendered `le` lines must be increasing; sort ascending.
  return [...buckets].sort((a, b) => a - b);
}

export const DEFAULT_STATS_CONFIG: StatsConfig = {
  flushIntervalMs: 5000,
  flushOnAdmin: false,
  histogramBucketSettings: [],
  statsTags: [],
};

export class StatsStore implements StatsStoreApi {
  private readonly counters = new Map<string, CounterImpl>();
  private readonly gauges = new Map<string, GaugeImpl>();
  private readonly histograms = new Map<string, HistogramImpl>();
  private readonly numeric = new NumericSlab();
  private readonly histogramBySlot: HistogramImpl[] = [];
  private readonly samples = new SampleLog();
  private readonly tagExtractor: TagExtractor;
  private readonly bucketRules: Array<{ matches: (s: string) => boolean; buckets: readonly number[] }>;
  private timer: NodeJS.Timeout | undefined;
  private flushCount = 0;
  readonly customNamespaces: readonly string[];

  constructor(
    readonly cfg: StatsConfig = DEFAULT_STATS_CONFIG,
    opts: { customNamespaces?: readonly string[] } = {},
  ) {
    if (!(cfg.flushIntervalMs >= 1)) throw new Error(`stats flushIntervalMs must be >= 1 (got ${cfg.flushIntervalMs})`);
    this.tagExtractor = new TagExtractor(cfg.statsTags ?? [], { useAllDefaultTags: cfg.useAllDefaultTags ?? true });
    this.bucketRules = (cfg.histogramBucketSettings ?? []).map((s) => ({
      matches: stringMatcher(s.match),
      buckets: validateBuckets(s.buckets),
    }));
    this.customNamespaces = opts.customNamespaces ?? DEFAULT_CUSTOM_NAMESPACES;
  }

  private named(name: string): Named {
    const { tagExtractedName, tags } = this.tagExtractor.extract(name);
    return { name, tagExtractedName, tags };
  }

  counter(name: string): CounterStat {
    let c = this.counters.get(name);
    if (!c) {
      const n = this.named(name);
      c = new CounterImpl(name, n.tagExtractedName, n.tags, this.numeric, this.numeric.alloc());
      this.counters.set(name, c);
    }
    return c;
  }

  gauge(name: string): GaugeStat {
    let g = this.gauges.get(name);
    if (!g) {
      const n = this.named(name);
      g = new GaugeImpl(name, n.tagExtractedName, n.tags, this.numeric, this.numeric.alloc());
      this.gauges.set(name, g);
    }
    return g;
  }

  histogram(name: string): HistogramStat {
    let h = this.histograms.get(name);
    if (!h) {
      const n = this.named(name);
      h = new HistogramImpl(name, n.tagExtractedName, n.tags, this.bucketsFor(name), this, this.histogramBySlot.length);
      this.histograms.set(name, h);
      this.histogramBySlot.push(h);
    }
    return h;
  }

  // Hot path for the host's metric calls: the stat's slot (CounterImpl/GaugeImpl/HistogramImpl .slot)
  // instead of the stat object, so an update touches the store's arrays only.

  /** counter.add / gauge.add by slot. */
  addNumeric(slot: number, delta: bigint): void {
    this.numeric.add(slot, delta);
  }

  /** counter.value / gauge.value by slot. */
  numericValue(slot: number): bigint {
    return this.numeric.value(slot);
  }

  /** gauge.set by slot. */
  setNumeric(slot: number, value: bigint): void {
    this.numeric.set(slot, value);
  }

  /** histogram.record by slot: appended to the sample log (binned at the next drain). */
  recordHistogram(slot: number, value: number): void {
    const log = this.samples;
    let i = log.n;
    if (i === SampleLog.CAPACITY) {
      this.drainSamples();
      i = 0;
    }
    log.slots[i] = slot;
    log.values[i] = value;
    log.n = i + 1;
  }

  /** Bin every logged sample into its histogram's pending bins (before a merge or a count). */
  drainSamples(): void {
    const log = this.samples;
    const n = log.n;
    log.n = 0;
    const bySlot = this.histogramBySlot;
    for (let i = 0; i < n; i++) bySlot[log.slots[i]].pending.add(binKey(log.values[i]));
  }

  /** Bucket bounds a histogram with this full name gets. */
  bucketsFor(name: string): readonly number[] {
    for (const r of this.bucketRules) if (r.matches(name)) return r.buckets;
    return DEFAULT_BUCKETS;
  }

  /** Tag extraction result for a full name (without creating a stat). */
  extractTags(name: string): { tagExtractedName: string; tags: readonly Tag[] } {
    return this.tagExtractor.extract(name);
  }

  flush(): void {
    for (const h of this.histograms.values()) h.merge();
    this.flushCount++;
  }

  /** Number of flushes so far (tests: wait for the periodic flush). */
  get flushes(): number {
    return this.flushCount;
  }

  /** Periodic flush like Envoy's stats_flush_interval timer; unref'd so it never keeps Node alive. */
  startFlushTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.flush(), this.cfg.flushIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Admin POST /reset_counters. */
  resetCounters(): void {
    for (const c of this.counters.values()) c.reset();
  }

  snapshot(): StatsSnapshot {
    return {
      counters: [...this.counters.values()],
      gauges: [...this.gauges.values()],
      histograms: [...this.histograms.values()],
    };
  }

  renderPrometheus(opts?: RenderOptions): string {
    return renderPrometheusText(this.snapshot(), opts, this.customNamespaces);
  }

  renderJson(opts?: RenderOptions): unknown {
    return renderStatsJson(this.snapshot(), opts);
  }

  renderText(opts?: RenderOptions): string {
    return renderStatsText(this.snapshot(), opts);
  }
}

/**
 * Contract between the embedded host (harness/host/, which records wasm metrics) and the stats store
 * (harness/stats/, which keeps and renders them like Envoy's stats store and admin handlers).
 *
 * Names passed in are Envoy's *full* stat names, e.g. "wasmcustom.edgewatch.route=.=api;.;requests_total"
 * (the host prefixes every proxy_define_metric name with "wasmcustom." as Envoy does).
 * One stat per name, shared by every VM of the process (Envoy: all workers update one stat).
 */
export interface CounterStat {
  readonly name: string;
  /** Where the value lives in the store (the store's addNumeric/numericValue take it). */
  readonly slot: number;
  add(delta: bigint): void;
  value(): bigint;
}

export interface GaugeStat {
  readonly name: string;
  /** Where the value lives in the store (addNumeric/setNumeric/numericValue). */
  readonly slot: number;
  add(delta: bigint): void;
  set(value: bigint): void;
  value(): bigint;
}

export interface HistogramStat {
  readonly name: string;
  /** The histogram's index in the store (recordHistogram). */
  readonly slot: number;
  /** Record one sample into the pending (thread-local in Envoy) histogram; visible after flush(). */
  record(value: number): void;
}

export interface StatsStoreApi {
  counter(name: string): CounterStat;
  gauge(name: string): GaugeStat;
  histogram(name: string): HistogramStat;
  // By slot, for the host's per-request metric calls: an update touches the store's arrays, not a
  // stat object of its own (see stats-store.ts NumericSlab, SampleLog).
  addNumeric(slot: number, delta: bigint): void;
  setNumeric(slot: number, value: bigint): void;
  numericValue(slot: number): bigint;
  recordHistogram(slot: number, value: number): void;
  /** Envoy stats flush: merge pending histogram samples into the cumulative histograms. */
  flush(): void;
  /** GET /stats/prometheus body (Envoy text format; wasmcustom. stripped; tags extracted). */
  renderPrometheus(opts?: { usedOnly?: boolean; filter?: RegExp }): string;
  /** GET /stats?format=json body, as Envoy's JSON stats handler shapes it. */
  renderJson(opts?: { usedOnly?: boolean; filter?: RegExp }): unknown;
  /** GET /stats body (plain text "name: value" lines). */
  renderText(opts?: { usedOnly?: boolean; filter?: RegExp }): string;
}

// The proxy's sample of recently seen client addresses, for the blast-radius guard (issue 15).
//
// One sample per proxy, in shared data (key "edgewatch.clients"), so every VM measures a new document
// against the same addresses. It is kept cheaply:
//   - per request (decideAccess, after the client address is resolved): offerClient() puts the
//     address in this VM's pending set of at most PENDING_MAX distinct addresses: a few compares, no
//     host call, no allocation; once the set is full an address replaces a random slot with
//     probability PENDING_MAX / (distinct addresses offered since the last flush), i.e. reservoir
//     sampling over the interval;
//   - per root tick: flushClientSample() merges the pending set into the shared sample with one
//     get and one compare-and-swap set (a few retries on a lost race).
// The shared sample is a list of DISTINCT addresses, oldest first, at most blast_radius.sample_size
// entries: a new address is appended (the oldest dropped), a known one moves to the newest end. So a
// client counts once however many requests it sends: denying one flooding address is not a large
// blast radius, denying most of the distinct clients is.
import { ipIsV4, ipV4, ipHi, ipLo } from "../rules/cidr";
import { V4_MAPPED_TAG, SAMPLE_ENTRY_BYTES } from "../rules/blast-radius";
import { getSharedData, setSharedData } from "../host/shared";
import { WasmResult } from "../abi/status";
import { randomU64 } from "../host/time";

export const KEY_CLIENTS = "edgewatch.clients";
/** Distinct addresses one VM contributes per tick at most. */
export const PENDING_MAX: i32 = 16;
const MAGIC: u32 = 0x31535745; // "EWS1"
/** Blob header: u32 magic, u32 entry count; then the entries, oldest first. */
export const SAMPLE_HEADER: i32 = 8;

const PENDING: usize = memory.data(PENDING_MAX * 16);
let pendingCount: i32 = 0;
let offered: u32 = 0;
let rng: u64 = 0;

@inline function nextRandom(): u64 {
  let x = rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  rng = x;
  return x;
}

/** Offer the client address just resolved (cidr.ts globals) to this VM's pending set. */
export function offerClient(): void {
  const hi: u64 = ipIsV4 ? 0 : ipHi;
  const lo: u64 = ipIsV4 ? (V4_MAPPED_TAG | <u64>ipV4) : ipLo;
  const n = pendingCount;
  for (let i = 0; i < n; i++) {
    const p = PENDING + <usize>(i << 4);
    if (load<u64>(p + 8) == lo && load<u64>(p) == hi) return;
  }
  offered++;
  let slot = n;
  if (n >= PENDING_MAX) {
    if (rng == 0) { rng = randomU64() | 1; }
    const j = <i32>(nextRandom() % <u64>offered);
    if (j >= PENDING_MAX) return;
    slot = j;
  } else {
    pendingCount = n + 1;
  }
  const p = PENDING + <usize>(slot << 4);
  store<u64>(p, hi);
  store<u64>(p + 8, lo);
}

/** Addresses waiting for the next flush (tests). */
export function pendingClients(): i32 { return pendingCount; }

/** Entries in a sample blob (0 for a missing or foreign blob). */
export function sampleCount(blob: ArrayBuffer | null): i32 {
  if (blob === null || blob.byteLength < SAMPLE_HEADER) return 0;
  const p = changetype<usize>(blob);
  if (load<u32>(p) != MAGIC) return 0;
  const n = <i32>load<u32>(p + 4);
  if (n < 0 || SAMPLE_HEADER + n * SAMPLE_ENTRY_BYTES > blob.byteLength) return 0;
  return n;
}

/** Pointer to the first entry of a blob (valid when sampleCount(blob) > 0). */
export function sampleEntries(blob: ArrayBuffer): usize { return changetype<usize>(blob) + SAMPLE_HEADER; }

/**
 * A new blob: the entries of `old` that are not among the `n` new ones at `add`, then the new ones,
 * keeping the newest `capacity` entries.
 */
export function mergeSample(old: ArrayBuffer | null, capacity: i32, add: usize, n: i32): ArrayBuffer {
  const oldCount = sampleCount(old);
  const op = oldCount > 0 ? sampleEntries(old!) : 0;
  // Old entries not re-seen survive (in their order); then the new ones.
  let keep = 0;
  const keepFlags = new StaticArray<bool>(oldCount);
  for (let i = 0; i < oldCount; i++) {
    const e = op + <usize>(i << 4);
    const hi = load<u64>(e), lo = load<u64>(e + 8);
    let seen = false;
    for (let j = 0; j < n; j++) {
      const a = add + <usize>(j << 4);
      if (load<u64>(a + 8) == lo && load<u64>(a) == hi) { seen = true; break; }
    }
    unchecked(keepFlags[i] = !seen);
    if (!seen) keep++;
  }
  const newCount = min(n, capacity);
  const total = min(capacity, keep + newCount);
  let skipOld = keep + newCount - total; // oldest survivors that no longer fit
  const blob = new ArrayBuffer(SAMPLE_HEADER + total * SAMPLE_ENTRY_BYTES);
  const out = changetype<usize>(blob);
  store<u32>(out, MAGIC);
  let w = 0;
  for (let i = 0; i < oldCount; i++) {
    if (!unchecked(keepFlags[i])) continue;
    if (skipOld > 0) { skipOld--; continue; }
    memory.copy(out + SAMPLE_HEADER + <usize>(w << 4), op + <usize>(i << 4), 16);
    w++;
  }
  for (let j = n - newCount; j < n; j++) {
    memory.copy(out + SAMPLE_HEADER + <usize>(w << 4), add + <usize>(j << 4), 16);
    w++;
  }
  store<u32>(out + 4, <u32>w);
  return blob;
}

/** mergeSample with this VM's pending addresses. */
export function mergePending(old: ArrayBuffer | null, capacity: i32): ArrayBuffer {
  return mergeSample(old, capacity, PENDING, pendingCount);
}

/** Forget the pending addresses (after a flush). */
export function clearPending(): void {
  pendingCount = 0;
  offered = 0;
}

/**
 * Merge this VM's pending addresses into the proxy's sample (root tick). Returns the sample size
 * after the merge, or -1 when there was nothing to merge.
 */
export function flushClientSample(capacity: i32): i32 {
  const n = pendingCount;
  if (n == 0) return -1;
  let size = -1;
  for (let attempt = 0; attempt < 4; attempt++) {
    const sv = getSharedData(KEY_CLIENTS);
    if (sv.status != WasmResult.Ok && sv.status != WasmResult.NotFound) break;
    const blob = mergePending(sv.status == WasmResult.Ok ? sv.value : null, capacity);
    // A first writer creates the key unconditionally (cas 0); a lost race only loses a few addresses.
    const r = setSharedData(KEY_CLIENTS, blob, sv.status == WasmResult.Ok ? sv.cas : 0);
    if (r == WasmResult.Ok) { size = sampleCount(blob); break; }
  }
  clearPending();
  return size;
}

/** The proxy's sample now (one host call; a copy). */
export function readClientSample(): ArrayBuffer | null {
  const sv = getSharedData(KEY_CLIENTS);
  if (sv.status != WasmResult.Ok) return null;
  return sv.value;
}

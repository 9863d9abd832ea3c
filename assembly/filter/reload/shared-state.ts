// Shared-data keys and the small records stored under them. Shared data is namespaced by vm_id
// and global across the main thread and every worker VM (reference envoy-host.md §5); a get copies
// the value, a set with a non-zero cas is atomic compare-and-swap, and nothing can be deleted.
import { getSharedData, setSharedData, SharedValue } from "../../host/shared";
import { WasmResult } from "../../abi/status";
import { xxh64 } from "../../rules/xxh64";

/** Fetcher lease: u64 holder token, u64 expiry (unix ms). */
export const KEY_LEADER = "edgewatch.leader";
/** Snapshot blob of the last published pulled rules (rules/snapshot.ts). */
export const KEY_RULES = "edgewatch.rules";
/** Small record read on every tick: u64 version, then the ETag bytes. Written after KEY_RULES. */
export const KEY_RULES_VERSION = "edgewatch.rules.version";
/** Notification queues of every VM, one name per line. */
export const KEY_QUEUES = "edgewatch.queues";
/** De-duplication of rules_reload_total across VMs: u64 digest, u64 unix ms. */
export const KEY_COUNTED = "edgewatch.rules.counted";
export const QUEUE_PREFIX = "edgewatch.notify.";
/** Pushed rules parsed once per proxy (reload/push-cache.ts): the entry's key, then the snapshot. */
export const KEY_PUSH_CACHE = "edgewatch.rules.push";
/** The push cache entry's key (digests, lengths, signature proof): read first, so a miss copies 160 bytes. */
export const KEY_PUSH_CACHE_META = "edgewatch.rules.push.meta";
/** The document value (configuration bytes) the push cache entry was built from (compared byte for byte on a hit). */
export const KEY_PUSH_CACHE_TEXT = "edgewatch.rules.push.text";
/** The entry's key, then the configuration around the document value (compared byte for byte on a whole-configuration hit). */
export const KEY_PUSH_CACHE_FRAME = "edgewatch.rules.push.frame";
/** Registry size cap (VMs that died without on_delete leave names behind). */
export const MAX_QUEUES: i32 = 256;

export class VersionRecord {
  constructor(public version: i64, public etag: string) {}
}

export function readVersionRecord(): VersionRecord | null {
  const sv = getSharedData(KEY_RULES_VERSION);
  const b = sv.value;
  if (sv.status != WasmResult.Ok || b === null || b.byteLength < 8) return null;
  const p = changetype<usize>(b);
  const v = load<i64>(p);
  const etag = b.byteLength > 8 ? String.UTF8.decodeUnsafe(p + 8, <usize>(b.byteLength - 8)) : "";
  return new VersionRecord(v, etag);
}

export function writeVersionRecord(version: i64, etag: string): void {
  const e = String.UTF8.encode(etag);
  const b = new ArrayBuffer(8 + e.byteLength);
  store<i64>(changetype<usize>(b), version);
  memory.copy(changetype<usize>(b) + 8, changetype<usize>(e), <usize>e.byteLength);
  setSharedData(KEY_RULES_VERSION, b, 0);
}

// ---- lease ----------------------------------------------------------------------------------

function leaseRecord(token: u64, expiry: u64): ArrayBuffer {
  const b = new ArrayBuffer(16);
  store<u64>(changetype<usize>(b), token);
  store<u64>(changetype<usize>(b) + 8, expiry);
  return b;
}

/**
 * Take or renew the lease for `token` until nowMs + leaseMs if it is free, expired or already
 * ours. Atomic: the write is a CAS against the value just read. Returns true when we hold it.
 */
export function acquireLease(token: u64, nowMs: u64, leaseMs: u64): bool {
  let sv = getSharedData(KEY_LEADER);
  if (sv.status == WasmResult.NotFound) {
    // Create a free record first; a later CAS decides who gets it (a cas of 0 would be unconditional).
    setSharedData(KEY_LEADER, leaseRecord(0, 0), 0);
    sv = getSharedData(KEY_LEADER);
  }
  if (sv.status != WasmResult.Ok || sv.cas == 0) return false;
  let holder: u64 = 0, expiry: u64 = 0;
  const b = sv.value;
  if (b !== null && b.byteLength == 16) {
    holder = load<u64>(changetype<usize>(b));
    expiry = load<u64>(changetype<usize>(b) + 8);
  }
  if (holder != token && expiry > nowMs && holder != 0) return false;
  return setSharedData(KEY_LEADER, leaseRecord(token, nowMs + leaseMs), sv.cas) == WasmResult.Ok;
}

/** Give the lease up if we hold it (VM shutting down). */
export function releaseLease(token: u64): void {
  const sv = getSharedData(KEY_LEADER);
  const b = sv.value;
  if (sv.status != WasmResult.Ok || b === null || b.byteLength != 16 || sv.cas == 0) return;
  if (load<u64>(changetype<usize>(b)) != token) return;
  setSharedData(KEY_LEADER, leaseRecord(0, 0), sv.cas);
}

/** Current holder token (0 = none / expired). */
export function leaseHolder(nowMs: u64): u64 {
  const sv = getSharedData(KEY_LEADER);
  const b = sv.value;
  if (sv.status != WasmResult.Ok || b === null || b.byteLength != 16) return 0;
  if (load<u64>(changetype<usize>(b) + 8) <= nowMs) return 0;
  return load<u64>(changetype<usize>(b));
}

// ---- queue registry -------------------------------------------------------------------------

export function readRegistry(): string[] {
  const sv = getSharedData(KEY_QUEUES);
  if (sv.status != WasmResult.Ok || sv.value === null) return new Array<string>(0);
  return splitLines(String.UTF8.decode(sv.value!));
}

function splitLines(s: string): string[] {
  const out = new Array<string>(0);
  if (s.length == 0) return out;
  const parts = s.split("\n");
  for (let i = 0; i < parts.length; i++) if (parts[i].length > 0) out.push(parts[i]);
  return out;
}

/** Add or remove `name` with a CAS retry loop; returns true when the registry reflects it. */
export function updateRegistry(name: string, add: bool): bool {
  for (let attempt = 0; attempt < 32; attempt++) {
    const sv: SharedValue = getSharedData(KEY_QUEUES);
    let names = new Array<string>(0);
    let cas: u32 = 0;
    if (sv.status == WasmResult.Ok) {
      cas = sv.cas;
      if (sv.value !== null) names = splitLines(String.UTF8.decode(sv.value!));
    } else if (sv.status != WasmResult.NotFound) {
      return false;
    }
    const at = names.indexOf(name);
    if (add && at >= 0) return true;
    if (!add && at < 0) return true;
    if (add) {
      names.push(name);
      while (names.length > MAX_QUEUES) names.shift();
    } else {
      names.splice(at, 1);
    }
    if (cas == 0) {
      // Key does not exist yet: create it empty, then retry with a real cas.
      setSharedData(KEY_QUEUES, new ArrayBuffer(0), 0);
      continue;
    }
    if (setSharedData(KEY_QUEUES, String.UTF8.encode(names.join("\n")), cas) == WasmResult.Ok) return true;
  }
  return false;
}

// ---- counting once per document per proxy -----------------------------------------------

/** 64-bit digest of a document: XXH64 (four lanes: ~0.1 ms for a 1.6 MB document). Not cryptographic. */
export function digest(p: usize, len: i32, seed: u64): u64 {
  return xxh64(p, <usize>len, seed);
}

/** p[0..n) == q[0..n), 8 bytes at a time whatever the alignment (std memory.compare goes byte by byte unless both are aligned alike). */
export function bytesEqual(p: usize, q: usize, n: usize): bool {
  let i: usize = 0;
  while (i + 8 <= n) {
    if (load<u64>(p + i) != load<u64>(q + i)) return false;
    i += 8;
  }
  while (i < n) {
    if (load<u8>(p + i) != load<u8>(q + i)) return false;
    i++;
  }
  return true;
}

/**
 * true for the first VM to report `d` within `windowMs` (every VM validates a pushed
 * configuration; the counter should move once per document).
 */
export function claimCount(d: u64, nowMs: u64, windowMs: u64): bool {
  for (let attempt = 0; attempt < 8; attempt++) {
    const sv = getSharedData(KEY_COUNTED);
    const b = sv.value;
    if (sv.status == WasmResult.Ok && b !== null && b.byteLength == 16) {
      if (load<u64>(changetype<usize>(b)) == d && load<u64>(changetype<usize>(b) + 8) + windowMs > nowMs) return false;
    }
    const rec = new ArrayBuffer(16);
    store<u64>(changetype<usize>(rec), d);
    store<u64>(changetype<usize>(rec) + 8, nowMs);
    if (sv.status == WasmResult.NotFound) {
      setSharedData(KEY_COUNTED, new ArrayBuffer(0), 0);
      continue;
    }
    if (sv.status != WasmResult.Ok) return true;
    if (setSharedData(KEY_COUNTED, rec, sv.cas) == WasmResult.Ok) return true;
  }
  return false;
}

// Pull delivery: ONE fetcher per proxy, rules handed to every VM through shared data + queues.
//
// Every VM (main thread and each worker; all share one vm_id, so one shared-data namespace) runs
// this agent from the tick of its newest pull-enabled root context:
//  1. first tick: register its own queue "edgewatch.notify.<random hex>" (binds notifications to
//     this VM) and add the name to the registry (KEY_QUEUES, CAS). Done on the tick and not in
//     on_configure so Envoy's throw-away canary VM never registers or leads.
//  2. every tick: take or renew the fetcher lease (KEY_LEADER, CAS, lease_ms); compare the small
//     version record with what this VM applied and load the snapshot if behind (catch-up for a VM
//     that started late or missed a notification).
//  3. the lease holder long-polls the rules service with proxy_http_call:
//       GET <path>?version=<v>&wait_ms=<long_poll_ms>   If-None-Match: "<etag>"
//     200 → validate → publish (snapshot to KEY_RULES, then KEY_RULES_VERSION), apply locally,
//           enqueue the version to every other registered queue; re-poll at once. The body is a
//           JSON document, or — when the service answers Content-Type SNAPSHOT_MEDIA_TYPE, which
//           the fetcher asks for — a rules snapshot built by this filter's own code (checked, then
//           published as received: no JSON parse, no sort, no re-encode).
//     304 → re-poll at once. Error / 5xx / reset / timeout → counted (reason fetch), exponential
//           backoff with jitter, rules in force stay.
//  4. on_queue_ready: drain the queue, read the snapshot ONCE, decode, swap.
// A VM whose root goes away releases the lease (another VM takes over on its next tick) and
// leaves the registry.
import { RuleSet } from "../../rules/rule-set";
import { RulesServiceSettings, SigningSettings, BlastRadiusSettings } from "../../config/settings";
import { SIGNATURE_HEADER, DocSignature, parseSignatureHeader, signatureParseError, checkSignature } from "../../rules/signing";
import { guardRules } from "./safety";
import { countSignatureVerified } from "../../rules/safety-metrics";
import { buildRulesFromBytes, RulesBuild } from "../../rules/document";
import { encodeSnapshot, decodeSnapshot, snapshotError, snapshotVersion, snapshotSourceDigest, SNAPSHOT_MEDIA_TYPE, SNAPSHOT_FORMAT } from "../../rules/snapshot";
import { Reason } from "../../rules/reasons";
import { countReloadFailure, countReloadSuccess, recordRulesCheck, setRulesGauges } from "../../rules/metrics";
import {
  KEY_RULES, QUEUE_PREFIX, readVersionRecord, writeVersionRecord, acquireLease, releaseLease,
  readRegistry, updateRegistry,
} from "./shared-state";
import { getSharedData, setSharedData, registerQueue, resolveQueue, enqueue, dequeue } from "../../host/shared";
import { httpCall, httpCallResponseBody, lastHttpCallStatus } from "../../host/http-call";
import { getHeader } from "../../host/headers";
import { HeaderPair } from "../../abi/pairs";
import { WasmResult, MapType } from "../../abi/status";
import { nowNanos, randomU64, monotonicNanos } from "../../host/time";
import { logInfo, logWarn, logDebug } from "../../host/log";

/** Hook installed by the root-context module: swap `set` into every pull-enabled root of this VM. */
let applyHook: (set: RuleSet) => void = (set: RuleSet): void => {};
export function setApplyHook(f: (set: RuleSet) => void): void { applyHook = f; }

export function nowMs(): u64 { return nowNanos() / 1000000; }

/** ns → "1.234" (ms, 3 decimals). */
function ms(ns: u64): string {
  const us = ns / 1000;
  const frac = (us % 1000).toString();
  return (us / 1000).toString() + "." + (frac.length == 1 ? "00" : (frac.length == 2 ? "0" : "")) + frac;
}

function hex64(v: u64): string {
  let s = v.toString(16);
  while (s.length < 16) s = "0" + s;
  return s;
}

export class PullAgent {
  /** Identity of this VM in the lease and queue name. */
  token: u64 = 0;
  queueName: string = "";
  queueToken: u32 = 0;
  registered: bool = false;
  /** Id of the root context this agent ticks from (the newest pull-enabled root). */
  rootId: u32 = 0;
  settings: RulesServiceSettings = new RulesServiceSettings();
  maxRulesBytes: i32 = 16 * 1024 * 1024;
  /** Issue 15: trusted signing keys and blast-radius limits of the active root's configuration. */
  signing: SigningSettings = new SigningSettings();
  blastRadius: BlastRadiusSettings = new BlastRadiusSettings();

  /** Pulled rules in force in this VM (null: none yet). */
  current: RuleSet | null = null;
  appliedVersion: i64 = -1;

  // fetcher state (meaningful while leader)
  leader: bool = false;
  inflight: u32 = 0;
  inflightSince: u64 = 0;
  /** Root context that issued the in-flight call (Envoy cancels it when that root is deleted). */
  inflightRoot: u32 = 0;
  /** Root context whose callback is running (polls are issued only from the active root). */
  callbackRoot: u32 = 0;
  nextAttemptMs: u64 = 0;
  failures: i32 = 0;
  /** ETag of the last document seen (applied or rejected), sent as If-None-Match. */
  etag: string = "";
  /** ETag of the document in force (published by this proxy); a 304 for it confirms the rules are current. */
  inForceEtag: string = "";
  /** Version to send as ?version= (last published). */
  knownVersion: i64 = -1;
  queueTokens: Map<string, u32> = new Map<string, u32>();
  buildNs: u64 = 0;

  ensureIdentity(): void {
    if (this.token == 0) {
      let t = randomU64();
      if (t == 0) t = 1;
      this.token = t;
      this.queueName = QUEUE_PREFIX + hex64(t);
    }
  }

  /** A pull-enabled root finished on_configure: it becomes the one that ticks the agent. */
  attach(rootId: u32, s: RulesServiceSettings, maxRulesBytes: i32): void {
    this.ensureIdentity();
    const changedService = this.settings.cluster != s.cluster || this.settings.path != s.path || this.settings.authority != s.authority;
    this.rootId = rootId;
    this.settings = s;
    this.maxRulesBytes = maxRulesBytes;
    // A new root must re-register so queue notifications reach a live context.
    this.registered = false;
    if (changedService) { this.etag = ""; this.inForceEtag = ""; this.nextAttemptMs = 0; this.failures = 0; }
  }

  setSafety(signing: SigningSettings, blastRadius: BlastRadiusSettings): void {
    this.signing = signing;
    this.blastRadius = blastRadius;
  }

  /** The root `rootId` is going away; `successor` is another pull root of this VM (0 = none). */
  detach(rootId: u32, successor: u32): void {
    if (this.inflight != 0 && this.inflightRoot == rootId) {
      // Envoy cancels the outstanding call of a deleted root: poll again from the active root.
      this.inflight = 0;
      this.nextAttemptMs = 0;
    }
    if (this.rootId != rootId) return;
    if (successor != 0) {
      this.rootId = successor;
      this.registered = false;
      return;
    }
    this.rootId = 0;
    if (this.leader) releaseLease(this.token);
    this.leader = false;
    if (this.queueName.length > 0) updateRegistry(this.queueName, false);
    this.registered = false;
  }

  /**
   * Load the published snapshot if this VM is behind (on_configure, tick, queue). Reads the small
   * version record first; the snapshot itself is read once per change.
   */
  catchUp(): bool {
    const rec = readVersionRecord();
    if (rec === null || rec.version <= this.appliedVersion) return false;
    const sv = getSharedData(KEY_RULES);
    if (sv.status != WasmResult.Ok) return false;
    const t0 = monotonicNanos();
    const set = decodeSnapshot(sv.value, "pull");
    if (set === null) {
      countReloadFailure(Reason.Snapshot);
      logWarn("edgewatch: shared rules snapshot rejected (reason=snapshot): " + snapshotError + "; keeping rules version " + this.appliedVersion.toString());
      // Do not retry the same blob on every tick.
      this.appliedVersion = rec.version;
      return false;
    }
    if (set.version <= this.appliedVersion) return false;
    this.install(set);
    logDebug("edgewatch: rules version " + set.version.toString() + " loaded from the shared snapshot in " + ms(monotonicNanos() - t0) + " ms");
    return true;
  }

  install(set: RuleSet): void {
    this.current = set;
    this.appliedVersion = set.version;
    if (set.version > this.knownVersion) this.knownVersion = set.version;
    setRulesGauges(set.version, set.cidrCount);
    applyHook(set);
  }

  onTick(rootId: u32): void {
    if (rootId != this.rootId || this.settings.cluster.length == 0) return;
    if (!this.registered) {
      const t = registerQueue(this.queueName);
      if (t != 0) {
        this.queueToken = t;
        this.registered = updateRegistry(this.queueName, true);
      }
    }
    this.catchUp();
    const now = nowMs();
    const wasLeader = this.leader;
    this.leader = acquireLease(this.token, now, <u64>this.settings.leaseMs);
    if (this.leader && !wasLeader) {
      logInfo("edgewatch: this VM is now the rules fetcher (" + this.queueName + ")");
      const rec = readVersionRecord();
      if (rec !== null && rec.version > this.knownVersion) {
        this.knownVersion = rec.version;
        if (rec.etag.length > 0) this.etag = rec.etag;
      }
      if (rec !== null && rec.version >= this.knownVersion) this.inForceEtag = rec.etag;
    }
    if (!this.leader) return;
    // A call Envoy never answered (should not happen: Envoy always calls back) is dropped.
    if (this.inflight != 0 && now > this.inflightSince + <u64>this.settings.timeoutMs + 5000) this.inflight = 0;
    if (this.inflight == 0 && now >= this.nextAttemptMs) this.poll(now);
  }

  onQueueReady(token: u32): void {
    if (token != this.queueToken) return;
    // Drain: several notifications may have piled up; the snapshot is read once.
    let n = 0;
    while (n < 1024 && dequeue(token) !== null) n++;
    this.catchUp();
  }

  ownsCall(token: u32): bool { return token != 0 && token == this.inflight; }

  /** Poll now if this callback runs on the active root; else leave it to the active root's tick. */
  repoll(now: u64): void {
    this.nextAttemptMs = 0;
    if (this.leader && this.callbackRoot == this.rootId) this.poll(now);
  }

  poll(now: u64): void {
    const s = this.settings;
    const v = this.knownVersion < 0 ? 0 : this.knownVersion;
    let path = s.path;
    path += (path.indexOf("?") >= 0 ? "&" : "?") + "version=" + v.toString() + "&wait_ms=" + s.longPollMs.toString();
    const headers = new Array<HeaderPair>(0);
    headers.push(new HeaderPair(":method", "GET"));
    headers.push(new HeaderPair(":path", path));
    headers.push(new HeaderPair(":authority", s.authority));
    // A rules snapshot in this filter's format if the service has one, else the JSON document.
    headers.push(new HeaderPair("accept", SNAPSHOT_ACCEPT));
    if (this.etag.length > 0) headers.push(new HeaderPair("if-none-match", this.etag));
    const t = httpCall(s.cluster, headers, null, <u32>s.timeoutMs);
    if (t == 0) {
      this.fetchFailed(now, "proxy_http_call refused (status " + lastHttpCallStatus.toString() + "; unknown cluster \"" + s.cluster + "\"?)");
      return;
    }
    this.inflight = t;
    this.inflightSince = now;
    this.inflightRoot = this.rootId;
  }

  fetchFailed(now: u64, why: string): void {
    countReloadFailure(Reason.Fetch);
    const delay = this.backOff(now);
    logWarn("edgewatch: rules fetch failed (reason=fetch): " + why + "; retry in " + delay.toString() + " ms; keeping rules version " + this.appliedVersion.toString());
  }

  /** Exponential backoff with jitter in [delay/2, delay]; sets nextAttemptMs, returns the delay. */
  backOff(now: u64): u64 {
    this.failures++;
    const s = this.settings;
    let delay = <u64>s.backoffBaseMs;
    for (let i = 1; i < this.failures && delay < <u64>s.backoffMaxMs; i++) delay *= 2;
    if (delay > <u64>s.backoffMaxMs) delay = <u64>s.backoffMaxMs;
    // Jitter: uniformly in [delay/2, delay].
    const jitter = delay / 2 == 0 ? 0 : randomU64() % (delay / 2 + 1);
    delay = delay / 2 + jitter;
    this.nextAttemptMs = now + delay;
    return delay;
  }

  rejected(reason: string, message: string): void {
    countReloadFailure(reason);
    logWarn("edgewatch: pulled rules rejected (reason=" + reason + "): " + message + "; keeping rules version " + this.appliedVersion.toString());
  }

  onHttpCallResponse(rootId: u32, token: u32, headerCount: u32, bodySize: u32, trailerCount: u32): void {
    this.inflight = 0;
    this.callbackRoot = rootId;
    const now = nowMs();
    if (headerCount == 0) {
      this.fetchFailed(now, "connection reset or no response");
      return;
    }
    const st = getHeader(MapType.HttpCallResponseHeaders, ":status");
    const et = getHeader(MapType.HttpCallResponseHeaders, "etag");
    const status = st === null ? "" : st;
    const etag = et === null ? "" : et;
    const fast = now - this.inflightSince < 5;
    if (status == "304") {
      // Not modified (a long poll that ended with no change, or a plain conditional GET): a check
      // when what we asked about is the document in force, not one we rejected.
      this.failures = 0;
      if (this.etag == this.inForceEtag) recordRulesCheck(now / 1000);
      // Re-poll at once; a server that does not hold the request gets one poll per tick.
      if (fast) this.nextAttemptMs = now + <u64>this.settings.tickMs;
      else this.repoll(now);
      return;
    }
    if (status != "200") {
      this.fetchFailed(now, "rules service answered " + (status.length > 0 ? status : "no status"));
      return;
    }
    if (etag.length > 0 && etag == this.etag && this.appliedVersion >= 0) {
      // Same document again (server ignored If-None-Match): nothing to do; a check when it is the
      // document in force (not a rejected one served again).
      if (etag == this.inForceEtag) recordRulesCheck(now / 1000);
      this.nextAttemptMs = now + <u64>this.settings.tickMs;
      return;
    }
    if (<i32>bodySize > this.maxRulesBytes || bodySize > 0x7fffffff) {
      if (etag.length > 0) this.etag = etag;
      this.rejected(Reason.Size, "rule document is " + bodySize.toString() + " bytes, max_rules_bytes is " + this.maxRulesBytes.toString());
      this.afterReject(now, etag);
      return;
    }
    const body = httpCallResponseBody(bodySize);
    // Safety step 1 (issue 15): with signing keys, the signature over the exact body bytes, before
    // anything parses them.
    const keys = this.signing.keys;
    if (keys.length > 0) {
      const h = getHeader(MapType.HttpCallResponseHeaders, SIGNATURE_HEADER);
      let sig: DocSignature | null = null;
      let chkMessage = "";
      if (h !== null) {
        sig = parseSignatureHeader(h);
        if (sig === null) chkMessage = SIGNATURE_HEADER + " response header: " + signatureParseError;
      }
      if (chkMessage.length == 0) {
        const chk = checkSignature(keys, sig, changetype<usize>(body), body.byteLength, "pulled document (" + SIGNATURE_HEADER + " response header)");
        if (!chk.ok) chkMessage = chk.message;
      }
      if (chkMessage.length > 0) {
        if (etag.length > 0) this.etag = etag;
        this.rejected(Reason.Signature, chkMessage);
        this.afterReject(now, etag);
        return;
      }
    }
    const ct = getHeader(MapType.HttpCallResponseHeaders, "content-type");
    const isSnapshot = ct !== null && isSnapshotType(ct);
    if (isSnapshot && snapshotVersion(body) >= 0 && snapshotVersion(body) < this.knownVersion) {
      // Stale snapshot: rejected on its header, before the checksum and the load.
      if (etag.length > 0) this.etag = etag;
      this.rejected(Reason.Version, "snapshot version " + snapshotVersion(body).toString() + " is older than version " + this.knownVersion.toString() + " in force");
      this.afterReject(now, etag);
      return;
    }
    const t0 = monotonicNanos();
    const res = isSnapshot ? loadSnapshotBody(body) : buildRulesFromBytes(body, this.maxRulesBytes, "pull");
    this.buildNs = monotonicNanos() - t0;
    if (etag.length > 0) this.etag = etag;
    if (!res.ok) {
      this.rejected(res.reason, res.message);
      this.afterReject(now, etag);
      return;
    }
    const set = res.rules!;
    if (set.version <= this.knownVersion) {
      if (set.version < this.knownVersion) {
        this.rejected(Reason.Version, "document version " + set.version.toString() + " is older than version " + this.knownVersion.toString() + " in force");
        this.afterReject(now, etag);
        return;
      }
      // Same version as published: treat like 304 (a valid document: the rules in force are current).
      this.inForceEtag = etag;
      recordRulesCheck(now / 1000);
      if (fast) this.nextAttemptMs = now + <u64>this.settings.tickMs;
      else this.repoll(now);
      return;
    }
    if (!this.leader) {
      // Lost the lease while polling: the new fetcher publishes.
      return;
    }
    // Safety step 2: the blast-radius guard (this fetcher is the proxy's only judge of the document).
    const guard = guardRules(set, this.blastRadius, null, now, "pull");
    if (!guard.ok) {
      this.rejected(Reason.BlastRadius, guard.message);
      this.afterReject(now, etag);
      return;
    }
    if (keys.length > 0) countSignatureVerified();
    this.failures = 0;
    this.publish(set, etag, now, isSnapshot ? body : null);
    this.repoll(now);
  }

  /**
   * After a rejected document: back off like a failed fetch (a service that keeps answering bad
   * documents, each with a new ETag, must not be polled in a tight loop). The next poll carries
   * the rejected document's ETag, so a well-behaved service holds it until something changes.
   */
  afterReject(now: u64, etag: string): void {
    this.backOff(now);
  }

  /** `received`: the snapshot as fetched (already checked), published without re-encoding. */
  publish(set: RuleSet, etag: string, now: u64, received: ArrayBuffer | null = null): void {
    const t0 = monotonicNanos();
    const blob = received !== null ? received : encodeSnapshot(set);
    setSharedData(KEY_RULES, blob, 0);
    writeVersionRecord(set.version, etag);
    this.knownVersion = set.version;
    this.inForceEtag = etag;
    countReloadSuccess(now / 1000);
    logInfo("edgewatch: rules version " + set.version.toString() + " published (" + set.cidrCount.toString() + " CIDRs, " +
      set.rules.length.toString() + " rules, snapshot " + blob.byteLength.toString() + " bytes; " +
      (received !== null ? "received as a snapshot" + sourceNote(blob) + ", checked and loaded in " : "parse+index ") + ms(this.buildNs) +
      " ms, shared in " + ms(monotonicNanos() - t0) + " ms)");
    this.install(set);
    // Notify every other VM.
    const names = readRegistry();
    const msg = new ArrayBuffer(8);
    store<i64>(changetype<usize>(msg), set.version);
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name == this.queueName) continue;
      let qt: u32 = 0;
      if (this.queueTokens.has(name)) qt = this.queueTokens.get(name);
      if (qt == 0) {
        qt = resolveQueue("", name);
        if (qt != 0) this.queueTokens.set(name, qt);
      }
      if (qt == 0 || enqueue(qt, msg) != WasmResult.Ok) {
        // The VM behind it is gone: drop it from the registry.
        this.queueTokens.delete(name);
        updateRegistry(name, false);
        logDebug("edgewatch: dropped stale rules queue " + name);
      }
    }
  }
}

/** Accept header of a poll: this filter's snapshot format first, the JSON document otherwise. */
const SNAPSHOT_ACCEPT = SNAPSHOT_MEDIA_TYPE + "; format=" + SNAPSHOT_FORMAT.toString() + ", application/json;q=0.5";

function isSnapshotType(ct: string): bool {
  const t = ct.trim().toLowerCase();
  return t == SNAPSHOT_MEDIA_TYPE || t.startsWith(SNAPSHOT_MEDIA_TYPE + ";");
}

/** A fetched rules snapshot → rule set (or the reason it is rejected: reason "snapshot"). */
function loadSnapshotBody(body: ArrayBuffer): RulesBuild {
  const out = new RulesBuild();
  const set = decodeSnapshot(body, "pull");
  if (set === null) {
    out.reason = Reason.Snapshot;
    out.message = "rules snapshot: " + snapshotError;
    return out;
  }
  out.rules = set;
  return out;
}

function sourceNote(blob: ArrayBuffer): string {
  const d = snapshotSourceDigest(blob);
  return d.length > 0 ? " of document sha256 " + d.substring(0, 16) + "…" : "";
}

/** The agent of this VM (module globals are per VM). */
export const agent = new PullAgent();

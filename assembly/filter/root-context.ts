// Root context of the edgewatch filter: configuration, rule delivery (push and pull), ticks.
//
// Push: the rules travel inside the plugin configuration ("rules": {...}); Envoy creates a NEW root
// context for every configuration change (same VM, reference envoy-host.md §3.5), so on_configure
// parses and validates everything and returns false on any error: Envoy rejects the update and the
// previous root (with the last good rules) keeps serving.
// A snapshot configuration (config/snapshot-frame.ts: binary, settings + a pre-built rules snapshot,
// Envoy BytesValue) is a push whose rules every VM loads like a pulled snapshot (reload/push-snapshot.ts).
// Pull: see reload/pull.ts. Pulled rules, once any were fetched, take precedence over pushed ones
// (which then only serve as the bootstrap set until the first fetch).
// A reload builds a complete RuleSet aside and swaps one reference: requests never wait for a
// reload and never see a half-built set.
import { RootContextBase, HttpContextBase, roots } from "../abi/contexts";
import { FilterSettings } from "../config/settings";
import { RuleSet } from "../rules/rule-set";
import { Observability } from "./observability";
import { EdgewatchHttp } from "./http-context";
import { BufferType } from "../abi/status";
import { getBufferBytes } from "../host/buffers";
import { parseConfiguration } from "../config/parse";
import { buildRulesFromNode, buildRulesFromBytes, RulesBuild } from "../rules/document";
import { checkSignature } from "../rules/signing";
import { guardRules, DocKey, digest2 } from "./reload/safety";
import { flushClientSample } from "./client-sample";
import { defineSafetyMetrics, countSignatureVerified, recordClientSampleSize } from "../rules/safety-metrics";
import { Reason } from "../rules/reasons";
import { countReloadFailure, countReloadSuccess, recordRulesCheck, setRulesGauges, defineRulesMetrics } from "../rules/metrics";
import { agent, setApplyHook, nowMs } from "./reload/pull";
import { digest, claimCount } from "./reload/shared-state";
import { CACHE_HEADER, DOC_SEED, admitPush, documentRange, loadCachedConfiguration, loadCachedRules, storeCachedRules, republishCachedRules } from "./reload/push-cache";
import { isSnapshotFrame, readSnapshotFrame, SnapshotFrame } from "../config/snapshot-frame";
import { loadPushedSnapshot } from "./reload/push-snapshot";
import { setTickPeriod } from "../host/time";
import { logInfo, logWarn } from "../host/log";

export class EdgewatchRoot extends RootContextBase {
  /** Parsed plugin configuration (replaced atomically on a successful on_configure). */
  settings: FilterSettings = new FilterSettings();
  /** Current rule snapshot; null until the first rules arrive (cold start, see rules_service.cold_start). */
  rules: RuleSet | null = null;
  /** Telemetry + tracing state of this root (heartbeat, metric ids, span exporter). */
  observability: Observability = new Observability(this);
  /** Pulls rules from rules_service (settings.rulesService.cluster set). */
  pulls: bool = false;

  /** Stream objects of deleted streams, reused: no allocation per request once warm. */
  private spare: EdgewatchHttp[] = [];

  createHttpContext(id: u32): HttpContextBase {
    const n = this.spare.length;
    if (n == 0) return new EdgewatchHttp(id, this);
    const h = this.spare.pop();
    h.reuse(id);
    return h;
  }

  /** A stream was deleted (on_delete): keep its object for the next stream (bounded). */
  recycle(h: EdgewatchHttp): void {
    if (this.spare.length < 1024) this.spare.push(h);
  }

  onConfigure(pluginConfigurationSize: u32): bool {
    defineRulesMetrics();
    defineSafetyMetrics();
    let buf: ArrayBuffer | null = null;
    if (pluginConfigurationSize > 0) buf = getBufferBytes(BufferType.PluginConfiguration, 0, pluginConfigurationSize);
    // Envoy runs on_configure for the same configuration in the canary, the main thread and every
    // worker: the first VM parses and validates it and leaves its rules in the push cache
    // (reload/push-cache.ts); a VM with the byte-identical configuration parses only the settings
    // around the document and loads the rules snapshot.
    // A snapshot configuration (binary: settings + a pre-built rules snapshot) is loaded, not parsed.
    let frame: SnapshotFrame | null = null;
    if (isSnapshotFrame(buf)) {
      frame = readSnapshotFrame(buf!);
      if (!frame.ok) return this.reject(Reason.Snapshot, "plugin configuration: snapshot frame: " + frame.message);
    }
    const whole = buf !== null && frame === null ? loadCachedConfiguration(buf) : null;
    const cfg = whole !== null ? whole.cfg : (frame !== null ? parseConfiguration(buf, true, frame.settingsStart, frame.settingsLen) : parseConfiguration(buf));
    if (!cfg.ok) return this.reject(cfg.reason, cfg.message);
    const settings = cfg.settings;

    // Push: build the rule set before touching any state. The document is "rules" (an object in the
    // configuration) or "rules_text" (the document as a string: the form that can be signed; its
    // decoded bytes are what is verified and parsed).
    let pushed: RuleSet | null = null;
    let pushedDigest: u64 = 0;
    let cachedParse = false;
    if (frame !== null) {
      const sp = loadPushedSnapshot(buf!, frame, cfg);
      if (!sp.ok) return this.reject(sp.reason, sp.message);
      pushed = sp.rules;
      pushedDigest = sp.key!.d1;
      const guard = guardRules(sp.rules!, settings.blastRadius, sp.key, nowMs(), "push");
      if (!guard.ok) return this.reject(Reason.BlastRadius, guard.message);
      if (sp.signed && guard.first) countSignatureVerified();
    } else if (whole !== null) {
      // Same bytes as a configuration this proxy accepted: its size and signer were checked again
      // on the settings (loadCachedConfiguration), the blast-radius guard runs below.
      const hit = whole.hit;
      pushed = hit.rules;
      pushedDigest = hit.digest;
      cachedParse = true;
      const guard = guardRules(hit.rules, settings.blastRadius, new DocKey(hit.digest, hit.digest2, hit.textLen), nowMs(), "push");
      if (!guard.ok) return this.reject(Reason.BlastRadius, guard.message);
      if (hit.signed && guard.first) countSignatureVerified();
    } else if (cfg.rulesNode >= 0 || cfg.rulesTextNode >= 0) {
      const doc = cfg.doc!;
      let text: usize = 0;
      let textLen: i32 = 0;
      let textBuf: ArrayBuffer | null = null;
      if (cfg.rulesNode >= 0) {
        text = doc.base + <usize>doc.start(cfg.rulesNode);
        textLen = cfg.rulesBytes;
      } else {
        textBuf = doc.stringBytes(cfg.rulesTextNode);
        text = changetype<usize>(textBuf);
        textLen = textBuf.byteLength;
      }
      // Size, and with signing keys the signer: known before anything else (safety step 1, issue 15).
      const admitted = admitPush(cfg, textLen);
      if (!admitted.ok) return this.reject(admitted.reason, admitted.message);
      const keys = settings.signing.keys;
      const proof = admitted.proof;
      pushedDigest = digest(text, textLen, DOC_SEED);
      // The same document under other settings: load the snapshot instead of re-parsing the JSON.
      // A hit also needs the same signer and signature, verified by the VM that stored it.
      const range = documentRange(cfg);
      const hit = loadCachedRules(pushedDigest, textLen, doc.base, range, proof);
      let pushedDigest2: u64 = 0;
      if (hit !== null) {
        pushed = hit.rules;
        pushedDigest2 = hit.digest2;
        cachedParse = true;
      } else {
        if (proof !== null) {
          const chk = checkSignature(keys, cfg.signature, text, textLen, "$.rules_text");
          if (!chk.ok) return this.reject(Reason.Signature, chk.message);
        }
        let res: RulesBuild;
        if (cfg.rulesNode >= 0) res = buildRulesFromNode(doc, cfg.rulesNode, "$.rules", "push", CACHE_HEADER);
        else {
          res = buildRulesFromBytes(textBuf!, settings.maxRulesBytes, "push", CACHE_HEADER);
          if (!res.ok) res.message = "$.rules_text: " + res.message;
        }
        if (!res.ok) return this.reject(res.reason, res.message);
        pushed = res.rules;
        pushedDigest2 = digest2(text, textLen);
      }
      // Safety step 2: the blast-radius guard, same verdict on every VM of the proxy.
      const guard = guardRules(pushed!, settings.blastRadius, new DocKey(pushedDigest, pushedDigest2, textLen), nowMs(), "push");
      if (!guard.ok) return this.reject(Reason.BlastRadius, guard.message);
      if (proof !== null && guard.first) countSignatureVerified();
      if (hit !== null) republishCachedRules(hit, doc.base, doc.len, range);
      else storeCachedRules(pushedDigest, pushedDigest2, textLen, pushed!, proof, doc.base, doc.len, range);
    }

    // Accepted: commit.
    this.settings = settings;
    this.pulls = settings.rulesService.cluster.length > 0;
    this.observability.configure(settings);
    if (this.pulls) {
      agent.attach(this.id, settings.rulesService, settings.maxRulesBytes);
      agent.setSafety(settings.signing, settings.blastRadius);
      agent.catchUp();
    }
    if (this.pulls && agent.current !== null) {
      this.swap(agent.current!);
    } else if (pushed !== null) {
      const set = pushed!;
      if (claimCount(pushedDigest, nowMs(), 5000)) countReloadSuccess(nowMs() / 1000);
      setRulesGauges(set.version, set.cidrCount);
      this.swap(set);
      logInfo("edgewatch: rules version " + set.version.toString() + " applied from plugin configuration (" +
        set.cidrCount.toString() + " CIDRs, " + set.rules.length.toString() + " rules, " + set.tableBytes().toString() + " table bytes" +
        (frame !== null ? ", loaded from a snapshot configuration" : (whole !== null ? ", loaded from the proxy's parse of the same configuration" : (cachedParse ? ", loaded from the proxy's parse of the same text" : ""))) + ")");
    } else if (!this.pulls) {
      // Neither pushed rules nor a rules service: no access rules (not a cold start: nothing will arrive).
      setRulesGauges(0, 0);
      this.swap(new RuleSet());
    }
    if (this.pulls) {
      // The fetcher needs a faster tick than telemetry (which armed its own period in configure).
      // Envoy arms the timer only when the period goes from 0 to > 0, so reset it first, else the
      // first tick would still come after the longer period.
      let tick = this.observability.tickPeriodMs(settings);
      if (settings.rulesService.tickMs < tick) tick = settings.rulesService.tickMs;
      setTickPeriod(0);
      setTickPeriod(<u32>tick);
    }
    return true;
  }

  /** Log + count a rejected configuration; Envoy keeps the previous one (and its rules). */
  reject(reason: string, message: string): bool {
    countReloadFailure(reason);
    // Say what keeps serving only when this VM has a previous root: a canary VM (every rejected
    // configuration is first tried there) and a first load have none, and Envoy says itself what it
    // does then (keeps the previous configuration, or fails the filter's creation).
    const old = this.currentVersionText();
    logWarn("edgewatch: configuration rejected (reason=" + reason + "): " + message + (old.length > 0 ? "; keeping " + old : ""));
    return false;
  }

  /** What keeps serving on this VM after a rejection ("" when this VM has no previous root). */
  currentVersionText(): string {
    const list = roots.values();
    let best: i64 = -1;
    let others = false;
    for (let i = 0; i < list.length; i++) {
      const r = changetype<EdgewatchRoot>(list[i]);
      if (r === this) continue;
      others = true;
      if (r.rules !== null && r.rules!.version > best) best = r.rules!.version;
    }
    if (!others) return "";
    return best >= 0 ? "rules version " + best.toString() : "the previous configuration";
  }

  /** Atomically replace the rule snapshot for new requests. */
  swap(set: RuleSet): void {
    this.rules = set;
    this.observability.onRulesApplied(set);
  }

  onTick(): void {
    // The proxy's client sample for the blast-radius guard: this VM's recent addresses, merged once a tick.
    const sampled = flushClientSample(this.settings.blastRadius.sampleSize);
    if (sampled >= 0) recordClientSampleSize(sampled);
    if (this.pulls) agent.onTick(this.id);
    else if (this.isNewestRoot()) {
      // Push (or no rules at all): the rules come with the plugin configuration, which Envoy keeps
      // current, so they are confirmed current on every tick (rules_last_check_seconds; a pulling
      // proxy records it on each valid answer of the rules service instead). Only the VM's newest
      // root does it: an old root still draining may hold a configuration that was replaced.
      recordRulesCheck(nowMs() / 1000);
    }
    this.observability.onTick();
  }

  isNewestRoot(): bool {
    const list = roots.values();
    for (let i = 0; i < list.length; i++) if (list[i].id > this.id) return false;
    return true;
  }

  onQueueReady(token: u32): void {
    agent.onQueueReady(token);
  }

  onHttpCallResponse(token: u32, headerCount: u32, bodySize: u32, trailerCount: u32): void {
    if (agent.ownsCall(token)) {
      agent.onHttpCallResponse(this.id, token, headerCount, bodySize, trailerCount);
      return;
    }
    this.observability.onHttpCallResponse(token, headerCount, bodySize, trailerCount);
  }

  onDelete(): void {
    if (this.pulls) {
      // Hand the agent to another pull root of this VM, if any.
      let successor: u32 = 0;
      const list = roots.values();
      for (let i = 0; i < list.length; i++) {
        const r = changetype<EdgewatchRoot>(list[i]);
        if (r !== this && r.pulls && r.id > successor) successor = r.id;
      }
      agent.detach(this.id, successor);
    }
    this.observability.onDelete();
  }
}

/** Swap pulled rules into every pull-enabled root of this VM. */
function applyPulled(set: RuleSet): void {
  const list = roots.values();
  for (let i = 0; i < list.length; i++) {
    const r = changetype<EdgewatchRoot>(list[i]);
    if (r.pulls) r.swap(set);
  }
}

setApplyHook(applyPulled);

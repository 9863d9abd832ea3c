// Push of a snapshot configuration (config/snapshot-frame.ts): the plugin configuration carries a
// pre-built rules snapshot instead of a JSON document. Envoy runs on_configure for it in the canary,
// the main thread and every worker (reference envoy-host.md §3.5); each VM checks and loads the
// snapshot itself, the way a pulled snapshot is loaded (rules/snapshot.ts: header, checksum, every
// table entry), with the tables used in place in the configuration buffer. No push cache: loading
// the snapshot IS the cheap path the cache exists to reach.
// Order (issue 15's safety steps): size, then the signature over the snapshot's exact bytes, then
// the load; the blast-radius guard runs in root-context.ts like for any pushed rules.
import { RuleSet } from "../../rules/rule-set";
import { decodeSnapshot, snapshotError } from "../../rules/snapshot";
import { checkSignature } from "../../rules/signing";
import { Reason } from "../../rules/reasons";
import { ConfigResult } from "../../config/parse";
import { SnapshotFrame } from "../../config/snapshot-frame";
import { DocKey } from "./safety";

export class PushedSnapshot {
  reason: string = "";
  message: string = "";
  rules: RuleSet | null = null;
  /** Identity of this snapshot for the guard's shared record and the once-per-document counter. */
  key: DocKey | null = null;
  signed: bool = false;
  get ok(): bool { return this.reason.length == 0; }
}

function rejected(reason: string, message: string): PushedSnapshot {
  const r = new PushedSnapshot();
  r.reason = reason;
  r.message = message;
  return r;
}

/** Check and load the snapshot of the snapshot configuration `buf` (frame checked, settings parsed into `cfg`). */
export function loadPushedSnapshot(buf: ArrayBuffer, frame: SnapshotFrame, cfg: ConfigResult): PushedSnapshot {
  const settings = cfg.settings;
  const len = frame.snapshotLen;
  if (len > settings.maxRulesBytes) {
    return rejected(Reason.Size, "plugin configuration: the snapshot is " + len.toString() + " bytes, max_rules_bytes is " + settings.maxRulesBytes.toString());
  }
  const p = changetype<usize>(buf) + <usize>frame.snapshotOffset;
  const keys = settings.signing.keys;
  if (keys.length > 0) {
    const chk = checkSignature(keys, cfg.signature, p, len, "the snapshot of the snapshot configuration ($.rules_signature)");
    if (!chk.ok) return rejected(Reason.Signature, chk.message);
  }
  const set = decodeSnapshot(buf, "push", frame.snapshotOffset);
  if (set === null) return rejected(Reason.Snapshot, "plugin configuration: rules snapshot: " + snapshotError);
  const out = new PushedSnapshot();
  out.rules = set;
  out.signed = keys.length > 0;
  // The header checksum covers every byte (XXH64 of the payload seeds it); the recorded source
  // document's sha256 (zero when not recorded) is the second, independent word.
  out.key = new DocKey(load<u64>(p + 56), load<u64>(p + 24), len);
  return out;
}

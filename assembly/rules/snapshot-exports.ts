// Exports that let tools run the filter's own rules code outside a proxy, so a rules snapshot is
// built by exactly the code that will load it (its semantics cannot drift from the filter's):
// `edgewatch rules snapshot`, the rules service (harness/rules/snapshot-builder.ts) and tests call
// them on an instance of the product .wasm. Envoy never calls them.
//
// Protocol: the caller allocates input buffers with the exported `malloc` (pinned ArrayBuffers),
// passes their pointers, and reads the result with edgewatch_result_ptr/len. The input buffers are
// unpinned here (ownership passes to the module); the result stays alive until the next call.
import { __unpin } from "rt/itcms";
import { buildRulesFromBytes } from "./document";
import { encodeSnapshot, decodeSnapshot, snapshotError, SNAPSHOT_FORMAT, snapshotSourceDigest } from "./snapshot";
import { Reason } from "./reasons";

let result: ArrayBuffer = new ArrayBuffer(0);

function take(ptr: usize, len: u32): ArrayBuffer {
  const b = changetype<ArrayBuffer>(ptr);
  __unpin(ptr);
  return <u32>b.byteLength == len ? b : b.slice(0, <i32>len);
}

function setText(s: string): void { result = String.UTF8.encode(s); }

/** Snapshot format this build writes and reads. */
export function edgewatch_snapshot_format(): u32 { return SNAPSHOT_FORMAT; }

/**
 * Validate and index the rule document at doc[0..docLen) exactly as a pulled document, then encode
 * its snapshot with the document's sha256 (32 bytes at `sha`, or 0) in the header.
 * 0: result = the snapshot. 1: rejected, result = "reason\tmessage" (the filter's own reason).
 */
export function edgewatch_build_snapshot(doc: usize, docLen: u32, maxBytes: u32, sha: usize): u32 {
  const text = take(doc, docLen);
  let digest: ArrayBuffer | null = null;
  if (sha != 0) digest = take(sha, 32);
  const res = buildRulesFromBytes(text, <i32>min(maxBytes, 0x7fffffff), "pull");
  if (!res.ok) {
    setText(res.reason + "\t" + res.message);
    return 1;
  }
  result = encodeSnapshot(res.rules!, 0, digest);
  return 0;
}

/**
 * Check and load a snapshot the way the fetcher does. 0: result = "version cidrs rules tableBytes
 * flags sourceSha256" (sourceSha256 "-" when not recorded). 1: result = "snapshot\tmessage".
 */
export function edgewatch_inspect_snapshot(buf: usize, len: u32): u32 {
  const b = take(buf, len);
  const set = decodeSnapshot(b, "pull");
  if (set === null) {
    setText(Reason.Snapshot + "\t" + snapshotError);
    return 1;
  }
  const d = snapshotSourceDigest(b);
  setText(set.version.toString() + " " + set.cidrCount.toString() + " " + set.rules.length.toString() + " " +
    set.tableBytes().toString() + " " + (set.allowLargeBlastRadius ? "1" : "0") + " " + (d.length > 0 ? d : "-"));
  return 0;
}

export function edgewatch_result_ptr(): usize { return changetype<usize>(result); }
export function edgewatch_result_len(): u32 { return <u32>result.byteLength; }

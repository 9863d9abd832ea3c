// Snapshot configuration: a BINARY plugin configuration that carries the settings and a pre-built
// rules snapshot (rules/snapshot.ts, the same bytes a rules service serves), so a push loads the
// rules like a pull does — no JSON document, no CIDR parsing, no sort — in the canary and in every
// VM. Envoy hands a `google.protobuf.BytesValue` configuration to the filter byte for byte
// (source/extensions/common/wasm/plugin.cc anyToBytes: StringValue → value, BytesValue → value).
// Built by `edgewatch rules snapshot <rules.json> --plugin <settings.json>`
// (harness/rules/snapshot-configuration.ts writes the same layout).
//
// Layout, little-endian:
//    0 u32 magic "EWPC"      4 u32 frame format (1)      8 u32 S: settings bytes      12 u32 reserved (0)
//   16 the settings: a JSON object, S bytes (the plugin configuration without "rules"/"rules_text";
//      its "rules_signature" signs the snapshot bytes)
//   16 + S zero padding to O = (16 + S + 7) & ~7
//    O the rules snapshot, to the end of the configuration.
// A configuration starting with the magic is this frame; anything else is the JSON configuration.

export const FRAME_MAGIC: u32 = 0x43505745; // "EWPC"
export const FRAME_FORMAT: u32 = 1;
export const FRAME_HEADER_BYTES: i32 = 16;

/** Does the plugin configuration `buf` start with the snapshot configuration's magic? */
export function isSnapshotFrame(buf: ArrayBuffer | null): bool {
  return buf !== null && buf.byteLength >= 4 && load<u32>(changetype<usize>(buf)) == FRAME_MAGIC;
}

/** Where the settings and the snapshot stand in a snapshot configuration (or why it is malformed). */
export class SnapshotFrame {
  message: string = "";
  settingsStart: i32 = FRAME_HEADER_BYTES;
  settingsLen: i32 = 0;
  snapshotOffset: i32 = 0;
  snapshotLen: i32 = 0;
  get ok(): bool { return this.message.length == 0; }
}

/** Check the frame of the snapshot configuration `buf` (isSnapshotFrame(buf) holds). */
export function readSnapshotFrame(buf: ArrayBuffer): SnapshotFrame {
  const f = new SnapshotFrame();
  const len = buf.byteLength;
  const p = changetype<usize>(buf);
  if (len < FRAME_HEADER_BYTES) {
    f.message = "truncated: " + len.toString() + " bytes, shorter than the " + FRAME_HEADER_BYTES.toString() + "-byte header";
    return f;
  }
  const format = load<u32>(p + 4);
  if (format != FRAME_FORMAT) {
    f.message = "frame format " + format.toString() + " is not supported (this filter reads format " + FRAME_FORMAT.toString() + "); rebuild it with this filter's `edgewatch rules snapshot --plugin`";
    return f;
  }
  const s = load<u32>(p + 8);
  if (load<u32>(p + 12) != 0) { f.message = "reserved header field is not zero"; return f; }
  if (<u64>s > <u64>(len - FRAME_HEADER_BYTES)) {
    f.message = "the header says " + s.toString() + " settings bytes, only " + (len - FRAME_HEADER_BYTES).toString() + " follow";
    return f;
  }
  const end = FRAME_HEADER_BYTES + <i32>s;
  const o = (end + 7) & ~7;
  if (o > len) { f.message = "truncated: the snapshot would start at byte " + o.toString() + " of " + len.toString(); return f; }
  for (let i = end; i < o; i++) {
    if (load<u8>(p + <usize>i) != 0) { f.message = "padding after the settings is not zero"; return f; }
  }
  f.settingsLen = <i32>s;
  f.snapshotOffset = o;
  f.snapshotLen = len - o;
  return f;
}

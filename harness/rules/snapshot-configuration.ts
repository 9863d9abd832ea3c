/**
 * The "snapshot configuration": a BINARY plugin configuration carrying the settings and a
 * pre-built rules snapshot (format in assembly/rules/README.md, "Snapshot format"; built by
 * snapshot-builder.ts), so a push loads rules the way a pull does. Envoy hands a
 * `google.protobuf.BytesValue` configuration to the filter byte for byte (Envoy
 * source/extensions/common/wasm/plugin.cc, anyToBytes).
 * The filter reads it in assembly/config/snapshot-frame.ts; this is the one place the harness
 * writes and reads the frame. Spec: issue #13 (the shared SNAPSHOT-CONFIG.md).
 *
 * Layout, little-endian:
 *    0 u32 magic "EWPC"      4 u32 frame format (1)      8 u32 S: settings bytes      12 u32 reserved (0)
 *   16 the settings: a JSON object, S bytes of UTF-8 (the plugin configuration without "rules" and
 *      "rules_text"; its "rules_signature" signs the snapshot bytes)
 *   16 + S zero padding to O = (16 + S + 7) & ~7
 *    O the rules snapshot, to the end of the configuration.
 * A configuration starting with the magic is this frame; anything else is the JSON configuration.
 */

export const SNAPSHOT_CONFIGURATION_MAGIC = 0x43505745; // "EWPC" read as a little-endian u32
export const SNAPSHOT_CONFIGURATION_FORMAT = 1;
const HEADER_BYTES = 16;
/** Settings members a snapshot configuration cannot carry: the snapshot is its rules. */
export const RULES_MEMBERS = ["rules", "rules_text"] as const;

/** Does `bytes` start with the snapshot configuration's magic ("EWPC")? */
export function isSnapshotConfiguration(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x45 && bytes[1] === 0x57 && bytes[2] === 0x50 && bytes[3] === 0x43;
}

/**
 * The frame around settings and a snapshot, nothing checked: `encodeSnapshotConfiguration` for
 * the checked way. `format` other than 1 only for testing the filter's refusal of other formats.
 */
export function frameSnapshotConfiguration(settings: string | Uint8Array, snapshot: Uint8Array, format = SNAPSHOT_CONFIGURATION_FORMAT): Buffer {
  const s = typeof settings === "string" ? Buffer.from(settings, "utf8") : settings;
  const offset = (HEADER_BYTES + s.length + 7) & ~7;
  const out = Buffer.alloc(offset + snapshot.length); // zero-filled: reserved field and padding
  out.writeUInt32LE(SNAPSHOT_CONFIGURATION_MAGIC, 0);
  out.writeUInt32LE(format, 4);
  out.writeUInt32LE(s.length, 8);
  out.set(s, HEADER_BYTES);
  out.set(snapshot, offset);
  return out;
}

/**
 * A snapshot configuration of `settings` (an object, or its JSON text, written as given) and
 * `snapshot`. Throws an Error when the settings are not a JSON object or carry rules of their own.
 */
export function encodeSnapshotConfiguration(settings: object | string, snapshot: Uint8Array): Buffer {
  const text = typeof settings === "string" ? settings : JSON.stringify(settings);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`snapshot configuration: the settings are not JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error("snapshot configuration: the settings must be a JSON object (the plugin configuration without rules)");
  }
  const own = RULES_MEMBERS.filter((k) => Object.prototype.hasOwnProperty.call(parsed, k));
  if (own.length > 0) {
    throw new Error(`snapshot configuration: the settings contain ${own.map((k) => `"${k}"`).join(" and ")}; the snapshot carries the rules, so remove ${own.length > 1 ? "them" : "it"} from the settings`);
  }
  return frameSnapshotConfiguration(text, snapshot);
}

export interface SnapshotConfigurationParts {
  /** The settings JSON (UTF-8 decoded; the filter parses the same bytes). */
  settingsText: string;
  /** The settings bytes as framed (a view into the given bytes). */
  settings: Uint8Array;
  /** The rules snapshot (a view into the given bytes). */
  snapshot: Uint8Array;
  /** Frame format (1). */
  format: number;
}

/**
 * Split a snapshot configuration into settings and snapshot, with the frame checks the filter
 * makes (the same conditions; its messages are the filter's, reason `snapshot`). The settings
 * and the snapshot themselves are not judged here: the filter does that (SnapshotBuilder.inspect,
 * validateWithFilter).
 */
export function readSnapshotConfiguration(bytes: Uint8Array): SnapshotConfigurationParts | { error: string } {
  if (!isSnapshotConfiguration(bytes)) return { error: 'not a snapshot configuration (it does not start with "EWPC")' };
  if (bytes.length < HEADER_BYTES) return { error: `truncated: ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = view.getUint32(4, true);
  if (format !== SNAPSHOT_CONFIGURATION_FORMAT) {
    return { error: `frame format ${format} is not supported (this harness reads format ${SNAPSHOT_CONFIGURATION_FORMAT})` };
  }
  const s = view.getUint32(8, true);
  if (view.getUint32(12, true) !== 0) return { error: "reserved header field is not zero" };
  if (s > bytes.length - HEADER_BYTES) return { error: `the header says ${s} settings bytes, only ${bytes.length - HEADER_BYTES} follow` };
  const end = HEADER_BYTES + s;
  const offset = (end + 7) & ~7;
  if (offset > bytes.length) return { error: `truncated: the snapshot would start at byte ${offset} of ${bytes.length}` };
  for (let i = end; i < offset; i++) if (bytes[i] !== 0) return { error: "padding after the settings is not zero" };
  const settings = bytes.subarray(HEADER_BYTES, end);
  return {
    settingsText: new TextDecoder().decode(settings),
    settings,
    snapshot: bytes.subarray(offset),
    format,
  };
}

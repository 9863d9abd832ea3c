/**
 * `edgewatch rules snapshot`: a rules document's snapshot built by the filter's own .wasm; with
 * --plugin, the snapshot configuration (harness/rules/snapshot-configuration.ts: the settings and
 * the snapshot in one binary plugin configuration, pushed to Envoy as a BytesValue), optionally
 * signed; with --check, a snapshot or a snapshot configuration checked and described.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { signRules } from "../signing/rules-signing.js";
import { encodeSnapshotConfiguration, isSnapshotConfiguration, readSnapshotConfiguration } from "../rules/snapshot-configuration.js";
import { SnapshotBuilder, type SnapshotInfo } from "../rules/snapshot-builder.js";
import { checkWasm } from "./env.js";
import { EXIT, usageError } from "./exit-codes.js";
import type { SigningKey } from "./commands/rules-signing.js";
import { validateWithFilter } from "./validate.js";

export interface SnapshotOptions {
  out?: string;
  check?: boolean;
  wasm: string;
  maxBytes: number;
  /** Settings file: write a snapshot configuration. */
  plugin?: string;
  /** Sign the snapshot into the settings' rules_signature (with plugin). */
  signer?: SigningKey | null;
}

/** Print a verdict line; returns the exit code. */
function verdict(ok: boolean, file: string, text: string): number {
  process.stdout.write(`${ok ? "valid" : "invalid"}: ${file}: ${text}\n`);
  return ok ? EXIT.OK : EXIT.CHECK_FAILED;
}

/** What --check says about a snapshot the filter loaded. */
function describeSnapshot(info: SnapshotInfo, format: number): string {
  return (
    `snapshot format ${format}, rules version ${info.version} (${info.cidrs} CIDRs, ${info.rules} rules, ${info.tableBytes} table bytes` +
    `${info.allowLargeBlastRadius ? ", allow_large_blast_radius" : ""}); source document sha256 ${info.sourceSha256 ?? "not recorded"}`
  );
}

/** The settings' member names, and who signed the snapshot, for a description. */
function describeSettings(settingsText: string): string {
  let keys: string[] = [];
  let signedBy = "";
  try {
    const s = JSON.parse(settingsText) as Record<string, unknown>;
    keys = Object.keys(s);
    const sig = s.rules_signature as { key_id?: unknown } | undefined;
    if (sig && typeof sig.key_id === "string") signedBy = `, snapshot signed by key ${sig.key_id}`;
  } catch {
    // The filter's verdict names the problem.
  }
  return `settings ${keys.length ? keys.join(", ") : "{}"} (${Buffer.byteLength(settingsText)} bytes${signedBy})`;
}

/** The settings file as an object; usage errors name the file. */
function readSettings(path: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw usageError(`--plugin ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, "give the plugin configuration's settings as a JSON object (without \"rules\")");
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw usageError(`--plugin ${path}: the settings must be a JSON object`);
  return v as Record<string, unknown>;
}

export async function runSnapshot(file: string, opts: SnapshotOptions): Promise<number> {
  const settings = opts.plugin ? readSettings(opts.plugin) : undefined;
  await checkWasm(resolve(opts.wasm));
  let builder: SnapshotBuilder;
  try {
    builder = await SnapshotBuilder.load(resolve(opts.wasm));
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const bytes = readFileSync(file);
  if (opts.check) return isSnapshotConfiguration(bytes) ? checkSnapshotConfiguration(file, bytes, builder, opts.wasm) : checkSnapshot(file, bytes, builder);

  const r = builder.build(bytes, opts.maxBytes);
  if (!r.ok) return verdict(false, file, `[${r.reason}] ${r.message}`);
  if (!settings) {
    const out = opts.out ?? `${file}.snapshot`;
    writeFileSync(out, r.snapshot!);
    process.stdout.write(`wrote ${out}: ${r.snapshot!.length} bytes, snapshot format ${builder.format}, document sha256 ${r.sourceSha256}\n`);
    return EXIT.OK;
  }

  if (opts.signer) settings.rules_signature = signRules(r.snapshot!, opts.signer.key, opts.signer.keyId);
  let configuration: Buffer;
  try {
    configuration = encodeSnapshotConfiguration(settings, r.snapshot!);
  } catch (err) {
    throw usageError(`--plugin ${opts.plugin}: ${(err as Error).message}`);
  }
  // The filter judges the whole configuration (settings schema, max_rules_bytes, signature) before it is written.
  const v = await validateWithFilter(resolve(opts.wasm), configuration);
  if (!v.accepted) return verdict(false, `${file} with --plugin ${opts.plugin}`, `${v.reason ? `[${v.reason}] ` : ""}${v.message}`);
  const out = opts.out ?? `${file}.plugin.bin`;
  writeFileSync(out, configuration);
  process.stdout.write(
    `wrote ${out}: ${configuration.length} bytes, snapshot configuration: ${describeSettings(JSON.stringify(settings))}, ` +
      `snapshot of ${r.snapshot!.length} bytes (format ${builder.format}), document sha256 ${r.sourceSha256}; accepted by the filter\n`,
  );
  return EXIT.OK;
}

function checkSnapshot(file: string, bytes: Buffer, builder: SnapshotBuilder): number {
  const info = builder.inspect(bytes);
  if (!info.ok) return verdict(false, file, `[${info.reason}] ${info.message}`);
  return verdict(true, file, describeSnapshot(info, builder.format));
}

/** The snapshot (as the fetcher loads it), then the filter's verdict on the whole configuration (frame, settings, size, signature). */
async function checkSnapshotConfiguration(file: string, bytes: Buffer, builder: SnapshotBuilder, wasm: string): Promise<number> {
  const parts = readSnapshotConfiguration(bytes);
  const info = "error" in parts ? null : builder.inspect(parts.snapshot);
  if (info && !info.ok) return verdict(false, file, `[${info.reason}] ${info.message}`);
  // A bad frame too is worded by the filter (it says which format it reads).
  const v = await validateWithFilter(resolve(wasm), bytes);
  if (!v.accepted) return verdict(false, file, `${v.reason ? `[${v.reason}] ` : ""}${v.message}`);
  if ("error" in parts) return verdict(false, file, `[snapshot] snapshot frame: ${parts.error} (the filter accepted it: harness/rules/snapshot-configuration.ts and the filter disagree)`);
  return verdict(true, file, `snapshot configuration (frame format ${parts.format}): ${describeSettings(parts.settingsText)}; ${describeSnapshot(info!, builder.format)}`);
}

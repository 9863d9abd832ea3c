/**
 * `edgewatch rules validate [FILE|-]… [--config PROXY]`: every verdict is the filter's own.
 *
 * Each rules document is read as raw bytes (a file, or stdin for `-`) and handed to the filter
 * without decoding, inside a plugin configuration `{…,"rules":<bytes>}` exactly as a push delivers
 * it; invalid UTF-8, a byte order mark, duplicate keys and number spellings reach the filter's own
 * parser unchanged, so the CLI and the filter cannot disagree. Bytes that are not one JSON value
 * (something follows the first value) are never spliced — that could change the meaning of the
 * surrounding configuration — and go to the filter on their own instead, which rejects them.
 *
 * The filter's complaint is placed in the file it came from: a byte offset ("… at byte N") or a JSON
 * path ("$.rules.access[0]: …") becomes FILE:LINE:COLUMN. Text from files is printed with control
 * characters escaped. With --config alone, the proxy config's whole plugin configuration is validated
 * on its own (like `envoy --mode validate`), errors placed in proxy.yaml or in its
 * plugin.configuration_file.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { CliError, EXIT, usageError } from "./exit-codes.js";
import { locateByteOffset, locateJsonPath, parseFilterPath, type Location } from "./document-location.js";
import { spliceRules, type Delivery } from "./rules-splice.js";
import { escapeTerminal } from "./terminal-text.js";
import { validateWithFilter, type FilterVerdict } from "./validate.js";

export interface ValidateOptions {
  wasm: string;
  config?: string;
  verbose?: boolean;
  json?: boolean;
  /** Print nothing for valid documents (rules push validates first). */
  quietOk?: boolean;
}

export interface Verdict {
  /** What was checked, as the user named it ("<stdin>" for -). */
  file: string;
  valid: boolean;
  reason?: string;
  message: string;
  /** The file the complaint points into, and where. */
  source?: string;
  line?: number;
  column?: number;
  hint?: string;
  log: string[];
}

interface Input {
  name: string;
  bytes?: Uint8Array;
  /** Why it could not be read (→ exit 2). */
  error?: string;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];
const BYTE_OFFSET = / at byte (\d+)$/;
const LEADING_PATH = /^(\$[^\s:]*): /;
/** The filter names what it parsed ("plugin configuration: …"); the CLI names the file instead. */
const CONFIG_PREFIX = /^plugin configuration: /;
/** The yaml package's and JSON.parse's own positions in a proxy config that does not parse. */
const TEXT_POSITION = /at line (\d+),? column (\d+)/;

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function readInputs(files: string[]): Promise<Input[]> {
  if (files.filter((f) => f === "-").length > 1) throw usageError("stdin (-) can be given only once");
  const out: Input[] = [];
  for (const f of files) {
    if (f === "-") {
      out.push({ name: "<stdin>", bytes: await readStdin() });
      continue;
    }
    try {
      out.push({ name: f, bytes: readFileSync(f) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      out.push({ name: f, error: code === "ENOENT" ? "rules file not found" : code === "EISDIR" ? "is a directory" : `cannot read: ${code ?? (err as Error).message}` });
    }
  }
  return out;
}

function startsWithBom(b: Uint8Array): boolean {
  return b.length >= 3 && UTF8_BOM.every((x, i) => b[i] === x);
}

/** Hints for byte-level problems the filter reports as malformed JSON. */
function byteHint(bytes: Uint8Array, offset: number | undefined, message: string): string | undefined {
  if (startsWithBom(bytes) && (offset === undefined || offset <= 3)) {
    return "the file starts with a UTF-8 byte order mark (EF BB BF); the filter rejects it in a pushed or pulled document (JSON sent over a network must not have one, RFC 8259 §8.1): save the file as UTF-8 without BOM";
  }
  if (/invalid UTF-8/.test(message)) return "the bytes there are not valid UTF-8; the filter accepts only UTF-8 text: save the file as UTF-8";
  return undefined;
}

export interface ConfigContext {
  /** The proxy config (for messages). */
  path: string;
  plugin: Record<string, unknown>;
  /**
   * Where non-rules paths point. `binary`: a snapshot configuration file, whose settings sit inside a
   * binary frame: the filter's paths and offsets are not placed in it.
   */
  source: { path: string; text: string; base: Array<string | number>; binary?: boolean };
}

/** Place the filter's complaint about one rules document (`name`, delivered as `d`) in that document. */
export function placeRulesVerdict(input: { name: string }, bytes: Uint8Array, d: Delivery, v: Pick<FilterVerdict, "reason" | "message" | "log">, ctx?: ConfigContext): Verdict {
  let message = v.message.replace(CONFIG_PREFIX, "");
  let location: Location | undefined;
  let source: string | undefined;
  let offset: number | undefined;
  const off = BYTE_OFFSET.exec(message);
  if (off) {
    const at = Number(off[1]) - d.offset;
    if (at >= 0 && at <= bytes.length) {
      offset = at;
      location = locateByteOffset(bytes, at);
      source = input.name;
      message = message.slice(0, off.index);
    }
  } else {
    const p = LEADING_PATH.exec(message);
    const path = p ? parseFilterPath(p[1]) : undefined;
    if (path) {
      const inRules = d.spliced ? path[0] === "rules" : true;
      if (inRules) {
        source = input.name;
        location = locateJsonPath(Buffer.from(bytes).toString("utf8"), d.spliced ? path.slice(1) : path);
      } else if (ctx) {
        source = ctx.source.path;
        if (!ctx.source.binary) location = locateJsonPath(ctx.source.text, path, ctx.source.base);
      }
    }
  }
  return {
    file: input.name,
    valid: false,
    reason: v.reason,
    message,
    source,
    line: location?.line,
    column: location?.column,
    hint: byteHint(bytes, offset, message),
    log: v.log,
  };
}

async function validateRulesInput(input: Input, opts: ValidateOptions, ctx: ConfigContext | undefined): Promise<Verdict> {
  const bytes = input.bytes!;
  const d = spliceRules(ctx?.plugin ?? {}, bytes);
  const v = await validateWithFilter(resolve(opts.wasm), d.configuration);
  if (v.accepted) {
    if (!d.spliced) {
      // The lexical scan said "not one JSON value" yet the filter took the bytes as a configuration.
      throw new CliError(`${input.name}: internal error: the document was not spliced but the filter accepted it`, EXIT.USAGE);
    }
    return { file: input.name, valid: true, message: v.message, log: v.log };
  }
  return placeRulesVerdict(input, bytes, d, v, ctx);
}

/** Load --config: the plugin configuration and where its text lives. Errors → an invalid verdict. */
async function loadConfigContext(configPath: string, keepRules: boolean): Promise<{ ctx?: ConfigContext; configuration?: Uint8Array; verdict?: Verdict }> {
  const { readProxyConfigDocument, pluginConfigurationFile, buildProxyConfig, snapshotSettings } = await import("./config-file.js");
  const { isSnapshotConfiguration } = await import("../rules/snapshot-configuration.js");
  const invalid = (message: string, source = configPath): { verdict: Verdict } => ({
    verdict: { file: configPath, valid: false, reason: "config", message, source, log: [] },
  });
  let doc: { abs: string; text: string; raw: unknown };
  try {
    doc = readProxyConfigDocument(configPath);
  } catch (err) {
    if (err instanceof CliError && /^cannot read/.test(err.message)) throw err;
    const message = (err as Error).message.replace(`${resolve(configPath)}: `, "");
    const at = TEXT_POSITION.exec(message);
    const v = invalid(at ? message.slice(0, at.index).replace(/[\s:]+$/, "") : message).verdict;
    return { verdict: at ? { ...v, line: Number(at[1]), column: Number(at[2]) } : v };
  }
  if (doc.raw === null || typeof doc.raw !== "object" || Array.isArray(doc.raw)) return invalid("expected a mapping at the top level");
  const raw = doc.raw as Record<string, unknown>;
  let cfgFile: string | undefined;
  try {
    cfgFile = pluginConfigurationFile(raw, dirname(doc.abs), configPath);
    // The rest of the proxy config (routes, clusters, listener …) must hold too, as Envoy's validate
    // mode checks the whole bootstrap; the plugin configuration is the filter's to judge.
    const { configuration_file: _f, configurationFile: _g, configuration: _c, ...pluginRest } = (raw.plugin ?? {}) as Record<string, unknown>;
    buildProxyConfig({ ...raw, plugin: pluginRest }, dirname(doc.abs), configPath);
  } catch (err) {
    if (err instanceof CliError) return invalid(err.message.replace(`${configPath}: `, ""));
    throw err;
  }
  if (cfgFile !== undefined) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(cfgFile);
    } catch (err) {
      throw usageError(`cannot read plugin configuration file ${cfgFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (isSnapshotConfiguration(bytes)) {
      // Binary: the filter judges the whole configuration as it is; rules files are then checked as
      // rules under its settings (without rules_signature, which signs the snapshot, not a file).
      const { rules_signature: _sig, ...settings } = snapshotSettings(bytes);
      return { configuration: bytes, ctx: withoutSigning({ path: configPath, plugin: settings, source: { path: cfgFile, text: "", base: [], binary: true } }) };
    }
    const text = bytes.toString("utf8");
    let plugin: Record<string, unknown> = {};
    if (keepRules) {
      // The whole configuration goes to the filter as its raw bytes.
      return { configuration: bytes, ctx: { path: configPath, plugin, source: { path: cfgFile, text, base: [] } } };
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
      plugin = parsed as Record<string, unknown>;
    } catch {
      return { verdict: undefined, configuration: bytes, ctx: { path: configPath, plugin: {}, source: { path: cfgFile, text, base: [] } } };
    }
    return { ctx: withoutSigning({ path: configPath, plugin, source: { path: cfgFile, text, base: [] } }) };
  }
  const inline = (raw.plugin as Record<string, unknown> | undefined)?.configuration;
  let plugin: Record<string, unknown>;
  if (inline === undefined || inline === null || inline === "") plugin = {};
  else if (typeof inline === "string") {
    // A JSON string inside the YAML: the filter gets it verbatim.
    const ctx = { path: configPath, plugin: {}, source: { path: configPath, text: doc.text, base: ["plugin", "configuration"] } };
    if (keepRules) return { configuration: Buffer.from(inline, "utf8"), ctx };
    try {
      plugin = JSON.parse(inline) as Record<string, unknown>;
    } catch {
      return { configuration: Buffer.from(inline, "utf8"), ctx };
    }
  } else if (typeof inline === "object" && !Array.isArray(inline)) plugin = inline as Record<string, unknown>;
  else return invalid("plugin.configuration must be a mapping or a JSON string");
  const ctx: ConfigContext = { path: configPath, plugin, source: { path: configPath, text: doc.text, base: ["plugin", "configuration"] } };
  return keepRules ? { ctx, configuration: Buffer.from(JSON.stringify(plugin), "utf8") } : { ctx: withoutSigning(ctx) };
}

/**
 * Rules files checked as the rules of a --config plugin configuration are checked as "rules" objects,
 * unsigned: signing keys (rules_signing) in the configuration would refuse every unsigned object, so
 * they are left out. Signed documents are checked by `rules sign` / the proxy itself.
 */
function withoutSigning(ctx: ConfigContext): ConfigContext {
  const { rules_signing: _keys, ...plugin } = ctx.plugin;
  return { ...ctx, plugin };
}

/** Validate a whole plugin configuration (bytes) on its own and place the complaint in its source. */
async function validateConfiguration(configPath: string, ctx: ConfigContext, configuration: Uint8Array, opts: ValidateOptions): Promise<Verdict> {
  const v = await validateWithFilter(resolve(opts.wasm), configuration);
  const label = `${configPath} (plugin configuration)`;
  if (v.accepted) return { file: label, valid: true, message: v.message, log: v.log };
  let message = v.message.replace(CONFIG_PREFIX, "");
  let location: Location | undefined;
  let offset: number | undefined;
  // A configuration_file is a document of its own (offsets are its bytes); an inline one sits in the YAML.
  const own = ctx.source.base.length === 0;
  const off = BYTE_OFFSET.exec(message);
  if (ctx.source.binary) {
    // A snapshot configuration: the filter's message as it is (its paths and byte offsets are in
    // the settings JSON inside the binary frame, not lines of the file).
  } else if (off) {
    message = message.slice(0, off.index);
    if (own) {
      offset = Number(off[1]);
      location = locateByteOffset(configuration, offset);
    } else location = locateJsonPath(ctx.source.text, [], ctx.source.base);
  } else {
    const p = LEADING_PATH.exec(message);
    const path = p ? parseFilterPath(p[1]) : undefined;
    if (path) location = locateJsonPath(ctx.source.text, path, ctx.source.base);
  }
  return {
    file: label,
    valid: false,
    reason: v.reason,
    message,
    source: ctx.source.path,
    line: location?.line,
    column: location?.column,
    hint: own && !ctx.source.binary ? byteHint(configuration, offset, message) : undefined,
    log: v.log,
  };
}

function print(v: Verdict, opts: ValidateOptions): void {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(v)}\n`);
    return;
  }
  const e = escapeTerminal;
  if (v.valid) {
    if (!opts.quietOk) process.stdout.write(`valid: ${e(v.file)}: ${e(v.message)}\n`);
  } else {
    const where = v.source !== undefined ? `${e(v.source)}${v.line !== undefined ? `:${v.line}:${v.column}` : ""}` : e(v.file);
    const label = v.source !== undefined && v.source !== v.file && !v.file.startsWith(v.source) ? `${e(v.file)}: ` : "";
    process.stdout.write(`invalid: ${label}${where}: ${v.reason ? `[${v.reason}] ` : ""}${e(v.message)}\n`);
    if (v.hint) process.stdout.write(`  hint: ${v.hint}\n`);
  }
  if (opts.verbose) for (const l of v.log) process.stderr.write(`  filter: ${e(l)}\n`);
}

/**
 * Validate each input; returns the exit code: 0 all valid, 1 any invalid (malformed JSON included),
 * 2 any input that could not be read (the others are still checked).
 */
export async function runValidate(files: string[], opts: ValidateOptions): Promise<number> {
  if (files.length === 0 && !opts.config) throw usageError("nothing to validate: give rules files, - for stdin, or --config PROXY_CONFIG");
  const { checkWasm } = await import("./env.js");
  await checkWasm(resolve(opts.wasm));
  const inputs = await readInputs(files);
  let code: number = EXIT.OK;
  let ctx: ConfigContext | undefined;
  if (opts.config) {
    const loaded = await loadConfigContext(opts.config, files.length === 0);
    if (loaded.verdict) {
      print(loaded.verdict, opts);
      return EXIT.CHECK_FAILED;
    }
    ctx = loaded.ctx!;
    if (loaded.configuration) {
      // The configuration as given (whole, or not parseable JSON): the filter judges it on its own.
      const v = await validateConfiguration(opts.config, ctx, loaded.configuration, opts);
      print(v, opts);
      if (!v.valid) {
        for (const i of inputs) print({ file: i.name, valid: false, reason: "config", message: `not checked: the plugin configuration of ${opts.config} is invalid`, log: [] }, opts);
        return EXIT.CHECK_FAILED;
      }
      if (files.length === 0) return EXIT.OK;
    }
  }
  for (const input of inputs) {
    if (input.error) {
      if (opts.json) process.stdout.write(`${JSON.stringify({ file: input.name, valid: false, error: input.error })}\n`);
      process.stderr.write(`edgewatch: error: ${escapeTerminal(input.name)}: ${input.error}\n`);
      code = EXIT.USAGE;
      continue;
    }
    const v = await validateRulesInput(input, opts, ctx);
    print(v, opts);
    if (!v.valid && code === EXIT.OK) code = EXIT.CHECK_FAILED;
  }
  return code;
}

/**
 * The check `rules push` and `rules sign` run before sending or signing (unless --no-validate):
 * the filter's own validation, quiet when the file is valid. On failure the command's exit code is
 * set and false returned — the caller stops without sending or signing anything.
 */
export async function validateBeforeUse(file: string, wasm: string): Promise<boolean> {
  const code = await runValidate([file], { wasm, quietOk: true });
  if (code === EXIT.OK) return true;
  process.exitCode = code;
  return false;
}

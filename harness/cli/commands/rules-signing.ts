/**
 * `edgewatch rules keygen` and `edgewatch rules sign` (issue 15: signed rule documents), and the
 * private-key loading `rules push --sign` shares. A private key comes from a file (`--key-file`) or
 * the EDGEWATCH_SIGNING_KEY environment variable (PEM text), never from a command-line argument
 * (arguments end up in shell history and `ps` output).
 */
import { closeSync, existsSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import type { Command } from "commander";
import type { KeyObject } from "node:crypto";
import { DEFAULT_WASM } from "../env.js";
import { EXIT, usageError } from "../exit-codes.js";
import {
  SIGNATURE_HEADER, SIGNING_KEY_ENV, generateSigningKey, parsePrivateKey, rawPublicKey, signRules, signatureHeaderValue,
  signedPushMembers, signingSection, validKeyId, defaultKeyId,
} from "../../signing/rules-signing.js";

export interface SigningKey {
  key: KeyObject;
  keyId: string;
  /** Where it came from, for messages ("file k.pem", "$EDGEWATCH_SIGNING_KEY"). */
  source: string;
}

/** The signing key from --key-file, else $EDGEWATCH_SIGNING_KEY; a usage error when neither is there. */
export function loadSigningKey(opts: { keyFile?: string; keyId?: string }): SigningKey {
  let pem: string;
  let source: string;
  if (opts.keyFile) {
    source = `file ${opts.keyFile}`;
    try {
      pem = readFileSync(opts.keyFile, "utf8");
    } catch (err) {
      throw usageError(`cannot read the signing key ${opts.keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const mode = statSync(opts.keyFile).mode & 0o777;
    if ((mode & 0o077) !== 0) process.stderr.write(`warning: ${opts.keyFile} is readable by others (mode ${mode.toString(8)}); chmod 600 it\n`);
  } else if (process.env[SIGNING_KEY_ENV]) {
    source = `$${SIGNING_KEY_ENV}`;
    pem = process.env[SIGNING_KEY_ENV]!;
  } else {
    throw usageError(`no signing key: give --key-file PATH or set ${SIGNING_KEY_ENV} to the PEM text`, "create one with `edgewatch rules keygen --out KEY.pem`");
  }
  let key: KeyObject;
  try {
    key = parsePrivateKey(pem, source);
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const keyId = opts.keyId ?? defaultKeyId(rawPublicKey(key));
  if (!validKeyId(keyId)) throw usageError(`--key-id must match [A-Za-z0-9_.-]{1,64}: ${JSON.stringify(keyId)}`);
  return { key, keyId, source };
}

function writePrivateKey(path: string, pem: string, force: boolean): void {
  if (existsSync(path)) {
    if (!force) throw usageError(`${path} exists; not overwriting a key (use --force to replace it)`);
    unlinkSync(path);
  }
  let fd: number;
  try {
    // Created with 0600 from the start (umask can only remove bits): never readable by others, not even briefly.
    fd = openSync(path, "wx", 0o600);
  } catch (err) {
    throw usageError(`cannot create ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    writeSync(fd, pem);
  } finally {
    closeSync(fd);
  }
}

export function registerRulesSigning(rules: Command): void {
  rules
    .command("keygen")
    .description("create an Ed25519 signing key: the private key goes to a file (mode 0600), the public key and key id are printed for rules_signing")
    .requiredOption("--out <file>", "where to write the private key (PKCS#8 PEM)")
    .option("--key-id <id>", "key id to configure ([A-Za-z0-9_.-]{1,64}; default: derived from the public key)")
    .option("--force", "replace an existing file")
    .option("--json", "print {key_id, public_key, private_key_file} as JSON")
    .addHelpText(
      "after",
      `
The private key never belongs in a plugin configuration (the filter refuses one): keep it where
documents are signed. Configure the printed public key under "rules_signing" in the plugin
configuration; for a rotation, add the new key next to the old one, re-sign, then remove the old one.
Exit codes: 0 written, 2 usage error (file exists without --force, bad key id, cannot write).

Example:
  edgewatch rules keygen --out ops-2026-07.pem --key-id ops-2026-07`,
    )
    .action((opts: { out: string; keyId?: string; force?: boolean; json?: boolean }) => {
      if (opts.keyId !== undefined && !validKeyId(opts.keyId)) throw usageError(`--key-id must match [A-Za-z0-9_.-]{1,64}: ${JSON.stringify(opts.keyId)}`);
      const g = generateSigningKey(opts.keyId);
      writePrivateKey(opts.out, g.privateKeyPem, opts.force === true);
      const section = signingSection([g]);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ key_id: g.keyId, public_key: g.publicKey.toString("base64"), private_key_file: opts.out }, null, 2)}\n`);
      } else {
        process.stdout.write(
          `wrote the private key to ${opts.out} (mode 0600: keep it secret; never put it in a plugin configuration)\n` +
          `key_id      ${g.keyId}\npublic_key  ${g.publicKey.toString("base64")}\n\n` +
          `plugin configuration (add to rules_signing.keys for a rotation):\n  "rules_signing": ${JSON.stringify(section)}\n`,
        );
      }
      process.exitCode = EXIT.OK;
    });

  rules
    .command("sign")
    .description("sign a rules document's exact bytes (Ed25519) with a key from --key-file or $EDGEWATCH_SIGNING_KEY")
    .argument("<file>", "rules document (signed byte for byte: do not reformat it afterwards)")
    .option("--key-file <file>", `private key (PEM) written by \`rules keygen\`; default: $${SIGNING_KEY_ENV}`)
    .option("--key-id <id>", "key id as configured in rules_signing (default: derived from the public key)")
    .option("--format <format>", "json: {key_id, sig} (a detached signature file, for `rules serve --signature`); header: the x-edgewatch-signature header line of a rules service; plugin: {rules_text, rules_signature} to merge into a plugin configuration", "json")
    .option("--out <file>", "write the output to a file instead of stdout")
    .option("--no-validate", "sign without validating the document with the filter first")
    .option("--wasm <path>", "filter module used for validation", DEFAULT_WASM)
    .addHelpText(
      "after",
      `
The signature covers the exact bytes of FILE: the filter verifies the bytes it parses. For push, the
document travels as the string "rules_text" (its decoded bytes are FILE's bytes) next to
"rules_signature"; for pull, a rules service serves FILE byte for byte with the header
  ${SIGNATURE_HEADER}: key_id=<id>;sig=<base64>
The key is never taken from an argument: use --key-file or $${SIGNING_KEY_ENV}.
Exit codes: 0 signed, 1 the document is invalid, 2 usage error (no key, unreadable file, bad format), 3 the filter build is missing.

Examples:
  edgewatch rules sign rules.json --key-file ops.pem --format plugin > signed-rules.json
  EDGEWATCH_SIGNING_KEY="$(cat ops.pem)" edgewatch rules sign rules.json --out rules.sig`,
    )
    .action(async (file: string, opts: { keyFile?: string; keyId?: string; format: string; out?: string; validate: boolean; wasm: string }) => {
      if (!["json", "header", "plugin"].includes(opts.format)) throw usageError(`--format must be json, header or plugin, not ${JSON.stringify(opts.format)}`);
      if (!existsSync(file)) throw usageError(`rules file not found: ${file}`);
      const signer = loadSigningKey(opts);
      if (opts.validate) {
        const { validateBeforeUse } = await import("../rules-validate.js");
        if (!(await validateBeforeUse(file, opts.wasm))) return;
      }
      const bytes = readFileSync(file);
      const sig = signRules(bytes, signer.key, signer.keyId);
      let text: string;
      if (opts.format === "json") text = `${JSON.stringify(sig)}\n`;
      else if (opts.format === "header") text = `${SIGNATURE_HEADER}: ${signatureHeaderValue(sig)}\n`;
      else {
        try {
          text = `${JSON.stringify(signedPushMembers(bytes, sig))}\n`;
        } catch (err) {
          throw usageError(`${file}: ${(err as Error).message}`);
        }
      }
      if (opts.out) {
        try {
          const fd = openSync(opts.out, "w");
          try { writeSync(fd, text); } finally { closeSync(fd); }
        } catch (err) {
          throw usageError(`cannot write ${opts.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        process.stderr.write(`signed ${file} (${bytes.length} bytes) with key ${signer.keyId} (${signer.source}) → ${opts.out}\n`);
      } else {
        process.stdout.write(text);
      }
      process.exitCode = EXIT.OK;
    });
}

/** A detached signature file ({key_id, sig}) as `rules sign --format json` writes it. */
export function readSignatureFile(path: string): { key_id: string; sig: string } {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw usageError(`${path}: not a signature file (${(err as Error).message})`, "create one with `edgewatch rules sign FILE --out FILE.sig`");
  }
  const o = v as { key_id?: unknown; sig?: unknown };
  if (!o || typeof o.key_id !== "string" || typeof o.sig !== "string" || !validKeyId(o.key_id)) {
    throw usageError(`${path}: expected {"key_id": "...", "sig": "..."} as written by \`edgewatch rules sign\``);
  }
  return { key_id: o.key_id, sig: o.sig };
}

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { parseDuration, parseHttpUrl, parseIntOption } from "../args.js";
import { DEFAULT_WASM, checkWasm } from "../env.js";
import { EXIT, checkFailed, usageError } from "../exit-codes.js";
import { escapeTerminal } from "../terminal-text.js";
import { registerRulesSigning, loadSigningKey } from "./rules-signing.js";
// Heavy modules (the embedded host, yaml) load inside the actions so `--help` stays fast.

export function registerRules(program: Command): void {
  const rules = program
    .command("rules")
    .description("rules documents: validate one through the filter's own .wasm, or publish one to a rules service")
    .addHelpText(
      "after",
      `
A rules document is the JSON the filter reads under "rules" in its plugin configuration (or fetches
from a rules service): {"version": n, "mode": "deny"|"allow", "access": [...], "sampling": {...}}.`,
    );

  rules
    .command("validate")
    .description(
      "validate rules documents (or a whole plugin configuration with --config) with the filter itself: the .wasm is loaded on the embedded host with {\"rules\": <FILE>} and its verdict printed",
    )
    .argument("[files...]", "rules documents (JSON); - reads one from stdin")
    .option("--wasm <path>", "filter module", DEFAULT_WASM)
    .option(
      "--config <file>",
      "proxy config (as for serve): alone, validate its whole plugin configuration; with files, validate each file as the rules of that plugin configuration",
    )
    .option("-v, --verbose", "print the filter's log lines")
    .option("--json", "print one JSON object per document (JSON Lines)")
    .addHelpText(
      "after",
      `
The file's bytes reach the filter unchanged (no decoding by the CLI): invalid UTF-8, a byte order
mark (rejected, as the filter rejects it in a pushed or pulled document), duplicate keys. One verdict
line per document; a rejection is placed in the file it came from:
  invalid: rules.json:4:23: [cidr] $.rules.access[0].cidrs[1]: bad CIDR "10.0.0.0/33"
With --config, a plugin.configuration_file that is a snapshot configuration (binary, from
\`rules snapshot --plugin\`) is judged by the filter as it is, its rejection reported without a
line:column; files are then validated as rules under its settings.

Exit codes: 0 every document valid, 1 any document invalid (malformed JSON included: the filter's
reason is printed), 2 usage or I/O error (unreadable file, bad module; the other files are still
checked), 3 the filter build is missing.

Examples:
  edgewatch rules validate rules.json
  edgewatch rules validate a.json b.json --json
  curl -s http://rules.internal/v1/rules | edgewatch rules validate -
  edgewatch rules validate --config proxy.yaml              # the whole plugin configuration
  edgewatch rules validate --config proxy.yaml rules.json   # rules.json as that configuration's rules`,
    )
    .action(async (files: string[], opts: { wasm: string; config?: string; verbose?: boolean; json?: boolean }) => {
      const { runValidate } = await import("../rules-validate.js");
      process.exitCode = await runValidate(files, opts);
    });

  registerRulesServe(rules);
  registerRulesSigning(rules);
  registerRulesSnapshot(rules);

  rules
    .command("push")
    .description("publish a rules document to a rules service (the rules-service fixture's publish endpoint) and print the new version")
    .argument("<file>", "rules document (JSON)")
    .requiredOption(
      "--to <url>",
      "the rules service's publish endpoint: its base URL (`rules serve` prints it; --publish-port, default 8082) or the full POST URL — not the port the filter fetches from",
      parseHttpUrl("--to"),
    )
    .option("--timeout <time>", "request timeout", parseDuration, 10_000)
    .option("--no-validate", "skip validating the document with the filter before publishing")
    .option("--verbatim", "serve the document byte for byte (no version rewrite); with --no-validate, to test the filter's rejection path")
    .option("--sign", "sign the published bytes (Ed25519) with the key from --key-file or $EDGEWATCH_SIGNING_KEY; served with an x-edgewatch-signature header")
    .option("--key-file <file>", "private key (PEM) from `rules keygen`; implies --sign")
    .option("--key-id <id>", "key id as configured in rules_signing (default: derived from the public key)")
    .option("--wasm <path>", "filter module used for validation", DEFAULT_WASM)
    .addHelpText(
      "after",
      `
The service must offer the publish endpoint of \`edgewatch rules serve\` (POST /publish → {"version": n}),
which listens on its own port (--publish-port, default 8082); the filter fetches from the other one
(--port, default 8081), which answers only the rules path. A bare origin in --to gets /publish appended.
The document is validated with the filter first (as \`rules validate\`), so a bad document never
reaches the service; --no-validate publishes it anyway (to test the filter's rejection path).
With --sign (or --key-file), the version is set to the service's next version first (unless
--verbatim), then the exact bytes are signed and published verbatim with their signature, which
the service serves as the x-edgewatch-signature header: proxies with rules_signing keys verify it.
Exit codes: 0 published, 1 invalid document (malformed JSON included, as for \`rules validate\`) or
the service refused it, 2 usage or I/O error (bad option, unreadable file), 3 the service is unreachable.

Example:
  edgewatch rules serve                      # rules on :8081 (for the filter), publish on :8082
  edgewatch rules push rules.json --to http://127.0.0.1:8082`,
    )
    .action(async (file: string, opts: { to: string; timeout: number; validate: boolean; verbatim?: boolean; sign?: boolean; keyFile?: string; keyId?: string; wasm: string }) => {
      if (!existsSync(file)) throw usageError(`rules file not found: ${file}`);
      const signer = opts.sign || opts.keyFile ? loadSigningKey(opts) : null;
      if (opts.validate) {
        const { validateBeforeUse } = await import("../rules-validate.js");
        if (!(await validateBeforeUse(file, opts.wasm))) return;
      }
      const { readFileSync } = await import("node:fs");
      const { pushRules } = await import("../rules-push.js");
      const bytes = readFileSync(file);
      if (!opts.verbatim) {
        // The service rewrites "version" in a JSON object, so it needs one (validation already said so).
        try {
          JSON.parse(bytes.toString("utf8"));
        } catch (err) {
          throw checkFailed(`${escapeTerminal(file)}: not a JSON document (${(err as Error).message}); the service can only publish JSON`, "publish it byte for byte with --verbatim, or fix it (edgewatch rules validate FILE)");
        }
      }
      if (signer !== null) {
        const { serviceVersion } = await import("../rules-push.js");
        const { signRules, signatureHeaderValue } = await import("../../signing/rules-signing.js");
        let signed: Buffer = bytes;
        if (!opts.verbatim) {
          const doc = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
          if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw usageError(`${file}: a rules document must be a JSON object`);
          doc.version = (await serviceVersion(opts.to, opts.timeout)) + 1;
          signed = Buffer.from(JSON.stringify(doc), "utf8");
        }
        const sig = signRules(signed, signer.key, signer.keyId);
        const res = await pushRules(opts.to, signed, opts.timeout, { verbatim: true, signature: signatureHeaderValue(sig) });
        process.stdout.write(`published ${file} to ${res.url}: version ${res.version ?? "(not reported)"}, signed by key ${signer.keyId} (${signed.length} bytes)\n`);
        process.exitCode = EXIT.OK;
        return;
      }
      const res = await pushRules(opts.to, bytes, opts.timeout, { verbatim: opts.verbatim });
      process.stdout.write(`published ${file} to ${res.url}: version ${res.version ?? "(not reported)"}\n`);
      process.exitCode = EXIT.OK;
    });
}

function registerRulesServe(rules: Command): void {
  rules
    .command("serve")
    .description("run a local rules service (the rules-service fixture: long-poll / conditional GET) with an HTTP publish endpoint for `rules push`")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port the filter fetches rules from", parseIntOption("--port", 0, 65535), 8081)
    .option("--publish-port <port>", "port of the publish endpoint (POST /publish, GET /status)", parseIntOption("--publish-port", 0, 65535), 8082)
    .option("--path <path>", "rules path", "/rules")
    .option("--file <file>", "publish this document at start")
    .option("--signature <file>", "detached signature of --file ({key_id, sig} from `rules sign`): the file is served byte for byte with an x-edgewatch-signature header")
    .option("--wasm <path>", "filter module that builds the rules snapshots served to fetchers asking for them", DEFAULT_WASM)
    .option("--no-snapshots", "serve the JSON document only")
    .addHelpText(
      "after",
      `
Point the filter at it with a cluster for --host:--port and
  "rules_service": {"cluster": "<that cluster>", "path": "/rules"}
in the plugin configuration; publish with \`edgewatch rules push FILE --to http://HOST:PUBLISH_PORT\`.
Exit codes: 0 stopped by SIGINT/SIGTERM, 2 bad option / port in use / bad --file.`,
    )
    .action(async (opts: { host: string; port: number; publishPort: number; path: string; file?: string; signature?: string; wasm: string; snapshots: boolean }) => {
      if (opts.signature && !opts.file) throw usageError("--signature signs --file: give both");
      const { startRulesServer } = await import("../rules-server.js");
      const { readRulesText } = await import("../config-file.js");
      if (opts.snapshots) await checkWasm(resolve(opts.wasm));
      let srv;
      try {
        srv = await startRulesServer({
          host: opts.host, port: opts.port, publishPort: opts.publishPort, path: opts.path,
          snapshotWasm: opts.snapshots ? resolve(opts.wasm) : undefined,
        });
      } catch (err) {
        throw usageError(`cannot listen: ${(err as Error).message}`, "choose other ports (0 picks a free one)");
      }
      if (opts.file && opts.signature) {
        const { readFileSync } = await import("node:fs");
        const { readSignatureFile } = await import("./rules-signing.js");
        const { signatureHeaderValue } = await import("../../signing/rules-signing.js");
        let sig;
        try {
          sig = readSignatureFile(opts.signature);
        } catch (err) {
          await srv.close();
          throw err;
        }
        srv.service.publish(readFileSync(opts.file, "utf8"), { signature: signatureHeaderValue(sig) });
        srv.setSignedBy(sig.key_id);
      } else if (opts.file) {
        const r = readRulesText(opts.file);
        if ("error" in r) {
          await srv.close();
          throw usageError(`${opts.file}: ${r.error}`);
        }
        srv.service.publish(r.parsed as object);
      }
      process.stdout.write(
        `edgewatch rules serve\n  rules    ${srv.rulesUrl} (version ${srv.service.version})\n  publish  POST ${srv.publishUrl}/publish, GET ${srv.publishUrl}/status\n  Ctrl-C to stop\n`,
      );
      await new Promise<void>((r) => {
        process.once("SIGINT", () => r());
        process.once("SIGTERM", () => r());
      });
      await srv.close();
      process.exitCode = EXIT.OK;
    });
}

function registerRulesSnapshot(rules: Command): void {
  rules
    .command("snapshot")
    .description(
      "build the rules snapshot of a document with the filter's own .wasm (what a rules service serves instead of the JSON), or with --plugin a snapshot configuration to push; or check either",
    )
    .argument("<file>", "rules document (JSON), or with --check a snapshot or snapshot configuration")
    .option("--out <file>", "where to write the snapshot (default: <file>.snapshot; with --plugin <file>.plugin.bin)")
    .option("--plugin <settings>", "write a snapshot configuration: the plugin configuration's settings from this JSON file (without \"rules\") and the snapshot, in one binary configuration to push")
    .option("--sign", "with --plugin: sign the snapshot bytes (Ed25519) with the key from --key-file or $EDGEWATCH_SIGNING_KEY into the settings' rules_signature")
    .option("--key-file <file>", "private key (PEM) from `rules keygen`; implies --sign")
    .option("--key-id <id>", "key id as configured in rules_signing (default: derived from the public key); implies --sign")
    .option("--check", "check and describe an existing snapshot (the way the fetcher does) or snapshot configuration (the way the filter does)")
    .option("--wasm <path>", "filter module", DEFAULT_WASM)
    .option("--max-bytes <n>", "max_rules_bytes applied to the document", parseIntOption("--max-bytes", 1, 0x7fffffff), 64 << 20)
    .addHelpText(
      "after",
      `
The snapshot is the built rule set in binary form (format in assembly/rules/README.md, "Snapshot
format"): the filter loads it without parsing JSON or sorting CIDRs. Its header records the
document's sha256; sign the snapshot's bytes if the filter checks signatures.

With --plugin, the output is a snapshot configuration: a binary plugin configuration ("EWPC"
frame: the settings JSON, then the snapshot) that a push delivers instead of a JSON configuration
with "rules", so no VM parses a rules document. The settings must not contain "rules" or
"rules_text"; with --sign/--key-file/--key-id the snapshot's bytes are signed and the signature is
put into the settings as "rules_signature" (the filter verifies it against rules_signing). The
whole configuration is loaded into the filter before it is written. Envoy takes it as a
BytesValue, whose bytes reach the filter unchanged (ECDS resource or static bootstrap):
  configuration:
    "@type": type.googleapis.com/google.protobuf.BytesValue
    value: <base64 -w0 rules.json.plugin.bin>
Istio's WasmPlugin pluginConfig is JSON and cannot carry it: there, push JSON or use a rules service.

Exit codes: 0 built (or valid with --check), 1 the document, snapshot or configuration is rejected
(the filter's reason is printed), 2 usage or I/O error, 3 the filter build is missing.

Examples:
  edgewatch rules snapshot rules.json --out rules.snapshot
  edgewatch rules snapshot --check rules.snapshot
  edgewatch rules snapshot rules.json --plugin settings.json --key-file ops.pem   # → rules.json.plugin.bin
  edgewatch rules snapshot --check rules.json.plugin.bin`,
    )
    .action(async (file: string, opts: { out?: string; check?: boolean; wasm: string; maxBytes: number; plugin?: string; sign?: boolean; keyFile?: string; keyId?: string }) => {
      if (!existsSync(file)) throw usageError(`file not found: ${file}`);
      const signs = opts.sign === true || opts.keyFile !== undefined || opts.keyId !== undefined;
      if (opts.check && (opts.plugin || signs)) throw usageError("--check reads FILE as it is: it takes no --plugin, --sign, --key-file or --key-id");
      if (signs && !opts.plugin) {
        throw usageError("--sign, --key-file and --key-id sign the snapshot of a snapshot configuration: give --plugin SETTINGS", "to sign a bare snapshot: edgewatch rules sign FILE.snapshot --no-validate");
      }
      const signer = signs ? loadSigningKey(opts) : null;
      const { runSnapshot } = await import("../rules-snapshot.js");
      process.exitCode = await runSnapshot(file, { ...opts, signer });
    });
}

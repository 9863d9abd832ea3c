/**
 * The `edgewatch` command line (commander). Run it as `npx edgewatch …` (package bin → bin.mjs),
 * `npm run edgewatch -- …`, or `npx tsx harness/cli/main.ts …`.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { REPO_ROOT } from "./env.js";
import { CliError, EXIT, EXIT_CODES_HELP } from "./exit-codes.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerReport } from "./commands/report.js";
import { registerRules } from "./commands/rules.js";
import { registerBench } from "./commands/bench.js";
import { registerCheck } from "./commands/check.js";
import { registerServe } from "./commands/serve.js";
import { registerDemo } from "./commands/demo.js";
import { registerPackage } from "./commands/package.js";

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(resolve(REPO_ROOT, "package.json"), "utf8")) as { version?: string }).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

export function buildProgram(): Command {
  const program = new Command("edgewatch");
  program
    .description(
      "edgewatch: an Envoy proxy-wasm edge filter (per-route telemetry, trace sampling, hot-reloaded IP rules) — " +
        "local dev proxy, rules tooling, benches, conformance checks and a proxy doctor",
    )
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help for a command")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .addHelpText(
      "after",
      `${EXIT_CODES_HELP}

Examples:
  edgewatch demo                                   # the end-to-end demo (what npm start runs)
  edgewatch serve --config proxy.yaml --rules rules.json
  edgewatch rules validate rules.json
  edgewatch rules push rules.json --to http://127.0.0.1:8082
  edgewatch bench --quick --compare old.json
  edgewatch check --target envoy
  edgewatch doctor --admin http://127.0.0.1:9901
  edgewatch package --out dist/image`,
    );
  registerServe(program);
  registerRules(program);
  registerBench(program);
  registerCheck(program);
  registerDoctor(program);
  registerReport(program);
  registerDemo(program);
  registerPackage(program);
  return program;
}

/** Parse argv (as process.argv: node, script, …args), run the command, return the exit code. */
export async function runCli(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT.OK;
      if (err.code === "commander.help") return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return EXIT.USAGE; // commander already printed the message
    }
    if (err instanceof CliError) {
      process.stderr.write(`edgewatch: error: ${err.message}\n`);
      if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    process.stderr.write(`edgewatch: unexpected error: ${e?.stack ?? String(err)}\n`);
    return EXIT.USAGE;
  }
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  // Exit explicitly: keep-alive sockets or timers left by a library must not hold the CLI open
  // (stdout/stderr are synchronous for files and pipes on Linux, so nothing is lost).
  runCli().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`edgewatch: ${String(err)}\n`);
      process.exit(EXIT.USAGE);
    },
  );
}

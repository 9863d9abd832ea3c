/**
 * `tsx bench/run.ts [--quick] [--only reload,overhead] [--target T] [--compare OLD] [--tolerance 0.15]`
 * is `edgewatch bench …`: the runner lives in harness/bench/runner.ts (bench/ imports harness/,
 * never the reverse). Exit codes: 0 ok, 1 a bench failed or got worse, 2 usage, 3 environment.
 */
import { runCli } from "../harness/cli/main.js";

runCli([process.argv[0], "edgewatch", "bench", ...process.argv.slice(2)]).then((code) => process.exit(code));

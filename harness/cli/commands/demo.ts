import type { Command } from "commander";
import { parseIntOption } from "../args.js";
import { DEFAULT_WASM } from "../env.js";
import { usageError } from "../exit-codes.js";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "end-to-end demo on the embedded host (what `npm start` runs after the build): traffic over four routes, a rules reload that denies one client network " +
        "(reload latency measured), an invalid document rejected while the old rules hold, then requests, statuses, p50/p99 from the proxy's histogram and a /stats/prometheus sample",
    )
    .option("--requests <n>", "requests to drive (split 60/40 before/after the reload)", parseIntOption("--requests", 10, 1_000_000), 2000)
    .option("--concurrency <n>", "concurrent requests", parseIntOption("--concurrency", 1, 1024), 16)
    .option("--workers <n>", "worker VMs", parseIntOption("--workers", 1, 16), 2)
    .option("--mode <mode>", "rules delivery: pull (rules service, long-poll) or push (plugin configuration, ECDS-style)", "pull")
    .option("--wasm <path>", "filter module", DEFAULT_WASM)
    .option("--max-seconds <s>", "hard time bound for the whole demo", parseIntOption("--max-seconds", 10, 3600), 120)
    .option("--keep-running", "keep the proxy and fixtures up after the demo (Ctrl-C to stop)")
    .addHelpText(
      "after",
      `
Exit codes: 0 demo OK, 1 something did not behave (the message says what), 2 bad option or module
(e.g. a .wasm without a proxy_abi_version_* export), 3 the filter build is missing (run npm run build).`,
    )
    .action(async (opts: { requests: number; concurrency: number; workers: number; mode: string; wasm: string; maxSeconds: number; keepRunning?: boolean }) => {
      if (opts.mode !== "pull" && opts.mode !== "push") throw usageError(`--mode must be pull or push, got '${opts.mode}'`);
      const { runDemo } = await import("../demo.js");
      process.exitCode = await runDemo({
        wasm: opts.wasm,
        requests: opts.requests,
        concurrency: opts.concurrency,
        workers: opts.workers,
        mode: opts.mode,
        keepRunning: Boolean(opts.keepRunning),
        maxSeconds: opts.maxSeconds,
      });
    });
}

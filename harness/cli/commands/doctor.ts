import { Option, type Command } from "commander";
import { parseDuration, parseHttpUrl, parseIntOption } from "../args.js";
import { collect, evaluate, formatResults } from "../doctor.js";
import { EXIT } from "../exit-codes.js";
import { Progress } from "../progress.js";

export interface DoctorOptions {
  admin: string;
  duration: number;
  scrapes: number;
  rulesMaxAge: number;
  heartbeatMaxAge: number;
  probe?: string;
  json?: boolean;
}

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description(
      "diagnose a running proxy (Envoy or embedded) against silent failure: scrapes /stats/prometheus a few times and checks " +
        "series presence and counting, histogram completeness, heartbeat, rules version/freshness, reload failures, trace-export drops, route overflow",
    )
    .requiredOption("--admin <url>", "admin URL of the proxy, e.g. http://127.0.0.1:9901", parseHttpUrl("--admin"))
    .addOption(new Option("--duration <time>", "observation window (e.g. 30s, 2m)").argParser(parseDuration).default(30_000, "30s"))
    .option("--scrapes <n>", "number of scrapes spread over the window (≥ 2)", parseIntOption("--scrapes", 2, 100), 3)
    .option("--rules-max-age <seconds>", "maximum age of the last successful rules check (edgewatch_rules_last_check_seconds: any valid answer of the rules service, unchanged ones included); 0 disables", parseIntOption("--rules-max-age", 0, 10_000_000), 300)
    .option("--heartbeat-max-age <seconds>", "maximum age of edgewatch_heartbeat_seconds when it is a timestamp", parseIntOption("--heartbeat-max-age", 1, 86_400), 30)
    .option("--probe <url>", "send a request to this listener URL every 250 ms during the window, so 'traffic flows' is known", parseHttpUrl("--probe"))
    .option("--json", "print the results as JSON")
    .addHelpText(
      "after",
      `
Output: one line per check, "PASS|WARN|FAIL  <check>  <detail>  → fix: <what to try>".
Exit codes: 0 no FAIL (WARNs allowed), 1 at least one FAIL (including an unreachable admin URL), 2 usage error.

Example:
  edgewatch doctor --admin http://127.0.0.1:9901 --duration 30s --probe http://127.0.0.1:10000/`,
    )
    .action(async (opts: DoctorOptions) => {
      process.exitCode = await runDoctorCommand(opts);
    });
}

export async function runDoctorCommand(opts: DoctorOptions): Promise<number> {
  const progress = new Progress("doctor");
  progress.update(`scraping ${opts.admin} for ${(opts.duration / 1000).toFixed(0)}s`, 0, opts.scrapes);
  const data = await collect({
    adminUrl: opts.admin,
    durationMs: opts.duration,
    scrapes: opts.scrapes,
    probeUrl: opts.probe,
    onScrape: (i, n) => progress.update(`scraped ${opts.admin}`, i, n),
  });
  progress.done();
  const results = evaluate({
    adminUrl: opts.admin,
    ...data,
    rulesMaxAgeS: opts.rulesMaxAge,
    heartbeatMaxAgeS: opts.heartbeatMaxAge,
  });
  if (opts.json) process.stdout.write(`${JSON.stringify({ admin: opts.admin, results }, null, 2)}\n`);
  else process.stdout.write(`${formatResults(results)}\n`);
  return results.some((r) => r.verdict === "FAIL") ? EXIT.CHECK_FAILED : EXIT.OK;
}

/**
 * The vitest reporter `edgewatch check` runs the conformance suite with: one line per scenario as
 * it finishes, the failures' messages, and a closing `N passed, N failed, N skipped` line. The
 * counts are also written as JSON to EDGEWATCH_CHECK_SUMMARY (when set) so the command can refuse a
 * run in which no test ran.
 *
 * A scenario reads as `[target] file › block › scenario`; errors outside tests (a beforeAll that
 * could not start a stack, an unhandled rejection) count as failures, so they cannot hide.
 */
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import type { Reporter, TestCase, TestModule } from "vitest/node";

export interface CheckSummary {
  passed: number;
  failed: number;
  skipped: number;
  /** Errors outside any test (hooks, imports, unhandled). */
  errors: number;
}

export const CHECK_SUMMARY_ENV = "EDGEWATCH_CHECK_SUMMARY";

/** The closing line: the plain `N passed, N failed` form (", N skipped" after it). */
export function summaryLine(s: CheckSummary): string {
  return `${s.passed} passed, ${s.failed + s.errors} failed, ${s.skipped} skipped`;
}

function firstLine(text: string | undefined): string {
  return (text ?? "").split("\n")[0]!.slice(0, 300);
}

export default class CheckReporter implements Reporter {
  private readonly counts: CheckSummary = { passed: 0, failed: 0, skipped: 0, errors: 0 };
  private readonly failures: string[] = [];
  private root = process.cwd();

  onInit(ctx: { config: { root: string } }): void {
    this.root = ctx.config.root;
  }

  private label(t: TestCase): string {
    return `${relative(this.root, t.module.moduleId)} › ${t.fullName.replaceAll(" > ", " › ")}`;
  }

  onTestCaseResult(t: TestCase): void {
    const r = t.result();
    const ms = t.diagnostic()?.duration;
    const time = ms === undefined ? "" : ` (${Math.round(ms)} ms)`;
    if (r.state === "passed") {
      this.counts.passed++;
      process.stdout.write(`✓ ${this.label(t)}${time}\n`);
    } else if (r.state === "failed") {
      this.counts.failed++;
      process.stdout.write(`✗ ${this.label(t)}${time}\n`);
      const msgs = r.errors.map((e) => `    ${(e.stack ?? e.message ?? String(e)).split("\n").slice(0, 8).join("\n    ")}`);
      this.failures.push(`✗ ${this.label(t)}\n${msgs.join("\n")}`);
    } else if (r.state === "skipped") {
      this.counts.skipped++;
      process.stdout.write(`- ${this.label(t)} (skipped${r.note ? `: ${r.note}` : ""})\n`);
    }
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<{ message?: string; stack?: string }>): void {
    for (const m of modules) {
      for (const e of m.errors()) {
        this.counts.errors++;
        this.failures.push(`✗ ${relative(this.root, m.moduleId)}: ${firstLine(e.stack ?? e.message)}`);
      }
      for (const suite of m.children.allSuites()) {
        for (const e of suite.errors()) {
          this.counts.errors++;
          this.failures.push(`✗ ${relative(this.root, m.moduleId)} › ${suite.fullName}: ${firstLine(e.stack ?? e.message)}`);
        }
      }
    }
    for (const e of unhandled) {
      this.counts.errors++;
      this.failures.push(`✗ unhandled error: ${firstLine(e.stack ?? e.message)}`);
    }
    if (this.failures.length > 0) process.stdout.write(`\nFailures:\n${this.failures.join("\n")}\n`);
    process.stdout.write(`\n${summaryLine(this.counts)}\n`);
    const out = process.env[CHECK_SUMMARY_ENV];
    if (out) writeFileSync(out, JSON.stringify(this.counts));
  }
}

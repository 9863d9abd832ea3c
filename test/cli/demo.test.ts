// `edgewatch demo` (npm start) as a user runs it, shortened; and its bad-input exits.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runEdgewatch } from "./helpers.js";

describe.concurrent("edgewatch demo", () => {
  it("runs end to end: reload enforced, invalid document rejected, results printed (exit 0)", async () => {
    const r = await runEdgewatch(["demo", "--requests", "200", "--concurrency", "8"], { timeoutMs: 90_000 });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    // Timed as bench:reload does: a probe pinned to each worker; the reload is the slowest worker's
    // first enforcing answer (the publish request's own answer may come before or after it).
    const reload = /enforced on every worker ([\d.]+) ms after publishing \(worker 0 ([\d.]+) ms, worker 1 ([\d.]+) ms: each pinned probe's first enforcing answer; the publish request returned after ([\d.]+) ms\)/.exec(r.stdout);
    expect(reload, r.stdout).not.toBeNull();
    const [total, w0, w1] = reload!.slice(1).map(Number);
    expect(total).toBe(Math.max(w0, w1));
    expect(r.stdout).toMatch(new RegExp(`reload latency  ${reload![1].replace(".", "\\.")} ms`));
    expect(r.stdout).toMatch(/(\d+) from 203\.0\.113\.0\/24: \1 × 403 with x-edgewatch-rule: deny-bad-client/);
    expect(r.stdout).toMatch(/rejected by the filter: \[cidr\] .*bad CIDR "203\.0\.113\.0\/33"/);
    // Histogram quantiles come with the bucket that holds them, and lie inside it.
    const lat = /latency\s+p50 ([\d.]+) ms \(bucket ([\d.]+)–([\d.]+|\+Inf) ms\), p99 ([\d.]+) ms \(bucket ([\d.]+)–([\d.]+|\+Inf) ms\)/.exec(r.stdout);
    expect(lat, r.stdout).not.toBeNull();
    for (const [v, lo, hi] of [[lat![1], lat![2], lat![3]], [lat![4], lat![5], lat![6]]]) {
      expect(Number(v)).toBeGreaterThanOrEqual(Number(lo));
      if (hi !== "+Inf") expect(Number(v)).toBeLessThanOrEqual(Number(hi));
    }
    expect(r.stdout).toMatch(/interpolated inside the bucket that holds the quantile/);
    expect(r.stdout).toMatch(/^\s+edgewatch_requests_total\{route="api",code="200",source="upstream"\} \d+$/m);
    // Every request the demo makes (the probes' worker pinning included) is on one of its four routes.
    expect(r.stdout).not.toMatch(/route="unknown"/);
    expect(r.stdout).toMatch(/^demo OK$/m);
  }, 120_000);

  it("a module without a proxy_abi_version export is exit 2 naming the cause; a missing build is exit 3", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ew-demo-"));
    const empty = join(dir, "empty.wasm");
    writeFileSync(empty, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])); // a valid, empty module
    const noAbi = await runEdgewatch(["demo", "--wasm", empty]);
    expect(noAbi.code).toBe(2);
    expect(noAbi.stderr).toMatch(/not a proxy-wasm filter: it exports no proxy_abi_version_\* function/);
    const missing = await runEdgewatch(["demo"], { env: { EDGEWATCH_WASM: join(dir, "build/edgewatch.wasm") } });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/filter build missing/);
  });
});

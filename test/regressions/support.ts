/**
 * Regression tests of issue #8 (reliability campaign): one file per bug found, named
 * issue-8-<short-name>.test.ts. Each drives the real product filter (build/edgewatch.wasm) through
 * the embedded proxy-wasm host (call level, harness/fuzz/host-driver.ts) or the embedded proxy,
 * and FAILS while the bug is present.
 */
export { FuzzHost, settle } from "../../harness/fuzz/host-driver.js";

/** Plugin configuration with tracing off and the given rule document (text, spliced verbatim). */
export function withRules(rulesText: string, extra = ""): string {
  return `{"tracing":{"enabled":false}${extra ? "," + extra : ""},"rules":${rulesText}}`;
}

export const peer = (ip: string) => ({ source: { ip, port: 40000 } });

// Builds the product filter and the host's test filters once per test run when they are missing
// (`npm test` already runs `npm run build`; this covers `npx vitest run <file>` on a fresh tree).
import { existsSync } from "node:fs";
import { execSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export default function setup(): void {
  const missing = ["build/edgewatch.wasm", "build/edgewatch.debug.wasm"].filter((p) => !existsSync(resolve(root, p)));
  if (missing.length > 0) {
    process.stderr.write(`[edgewatch] building the filter (missing: ${missing.join(", ")})\n`);
    execSync("npm run build:filter", { cwd: root, stdio: "inherit" });
  }
  // Incremental: recompiles only test filters whose sources changed.
  execSync("npm run -s build:test-filters", { cwd: root, stdio: "inherit" });
}

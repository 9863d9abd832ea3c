// Brings the product filter and the host's test filters up to date once per test run (`npm test`
// already ran `npm run build`; this covers `npx vitest run <file>` on a fresh tree or after an edit
// under assembly/). Both builds are incremental and print nothing when nothing changed.
import { execSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export default function setup(): void {
  execSync("npm run -s build:filter", { cwd: root, stdio: "inherit" });
  execSync("npm run -s build:test-filters", { cwd: root, stdio: "inherit" });
}

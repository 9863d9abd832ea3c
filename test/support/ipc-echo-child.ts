// A child for test/bench/ipc-child.test.ts: echoes, fails on request, or exits mid-request.
import { exitWithParent } from "../../harness/process/child-lifetime.js";
import { serveRequests } from "../../harness/process/ipc-child.js";

exitWithParent();
serveRequests(
  async (m) => {
    if (m.cmd === "echo") return { value: m.value };
    if (m.cmd === "event") {
      process.send!({ note: "unsolicited" });
      return {};
    }
    if (m.cmd === "fail") throw Object.assign(new Error("refused on purpose"), { code: "ON_PURPOSE" });
    if (m.cmd === "die") process.exit(3);
    if (m.cmd === "stop") setTimeout(() => process.exit(0), 20);
    return {};
  },
  { hello: "ready" },
);

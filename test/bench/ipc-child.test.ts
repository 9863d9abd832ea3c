// IpcChild: requests matched to answers by id, a child's error as ok: false (ask throws), messages
// without an id as events, and a child that exits failing what was pending instead of hanging.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { IpcChild } from "../../harness/process/ipc-child.js";

const CHILD = fileURLToPath(new URL("../support/ipc-echo-child.ts", import.meta.url));

describe("IpcChild", () => {
  it("answers each request, passes events, reports errors, and stops", async () => {
    const events: unknown[] = [];
    const c = await IpcChild.start(CHILD, [], { name: "echo", execArgv: ["--import", "tsx"], onEvent: (m) => events.push(m) });
    try {
      expect(c.first.hello).toBe("ready");
      const answers = await Promise.all([1, 2, 3].map((v) => c.ask({ cmd: "echo", value: v })));
      expect(answers.map((a) => a.value)).toEqual([1, 2, 3]);
      await c.ask({ cmd: "event" });
      expect(events).toContainEqual({ note: "unsolicited" });
      const failed = await c.request({ cmd: "fail" });
      expect([failed.ok, failed.code, failed.message]).toEqual([false, "ON_PURPOSE", "refused on purpose"]);
      await expect(c.ask({ cmd: "fail" })).rejects.toThrow(/echo: Error: refused on purpose/);
    } finally {
      await c.stop();
    }
    expect(c.proc.exitCode).toBe(0);
  });

  it("fails a pending request when the child exits", async () => {
    const c = await IpcChild.start(CHILD, [], { name: "echo", execArgv: ["--import", "tsx"] });
    await expect(c.request({ cmd: "die" })).rejects.toThrow(/echo exited \(3\)/);
    await expect(c.request({ cmd: "echo", value: 1 })).rejects.toThrow(/exited/);
  });
});

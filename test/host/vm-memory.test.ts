// The VM memory reading bench:reload records after each case: the linear memory's size and the 4 KiB
// pages holding data (what a VM keeps resident after many reloads).
import { describe, expect, it } from "vitest";
import { vmMemory } from "../../harness/host/vm-memory.js";

describe("vmMemory", () => {
  it("counts the 4 KiB pages holding a non-zero byte, whatever their position in the page", () => {
    const m = new WebAssembly.Memory({ initial: 2 }); // 128 KiB = 32 pages
    expect(vmMemory("main", m.buffer)).toEqual({ label: "main", memoryBytes: 131072, writtenBytes: 0 });
    const b = new Uint8Array(m.buffer);
    b[0] = 1; // page 0, first byte
    b[4096 * 5 + 4095] = 7; // page 5, last byte
    b[4096 * 31 + 2048] = 255; // last page
    b[4096 * 5 + 10] = 3; // page 5 again
    expect(vmMemory("w", m.buffer).writtenBytes).toBe(3 * 4096);
    m.grow(1); // grown pages are committed but unwritten
    expect(vmMemory("w", m.buffer)).toMatchObject({ memoryBytes: 196608, writtenBytes: 3 * 4096 });
  });
});

// Instruction counts of the parse/index phases inside wasm, under callgrind (repeatable within ~1 %
// on a loaded machine, unlike wall or CPU time): 100,000 (or argv[2]) random /24s in cidrs_text, the
// document bench/rules/phases.mts uses. One callgrind run per phase depth (0 = instantiate only,
// 1 = + JSON, 2 = + CIDR scan, 3 = + sort/index), each doing `reps` loads; a phase's figure is the
// difference of consecutive depths divided by reps. V8 runs with --no-liftoff (every function
// compiled by TurboFan up front, no tier-up during the runs) and --single-threaded. With
// --branch-sim=yes callgrind also counts mispredicted conditional branches (its own simple
// predictor: a proxy for the data-dependent branches of a parser, not the CPU's figure).
// `npx tsx bench/rules/instructions.mts [cidrs] [reps] [--install]` (needs valgrind); --install adds
// the snapshot-load indexing pass (installTables on the loaded set's region).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileUnit } from "../../test/rules/unit-module.js";
import { randomSlash24Document } from "./random-cidrs.mjs";

const n = Number(process.argv[2] ?? 100_000);
const reps = Number(process.argv[3] ?? 10);
const dir = mkdtempSync(join(tmpdir(), "edgewatch-instr-"));
writeFileSync(join(dir, "doc.json"), randomSlash24Document(n));
writeFileSync(join(dir, "unit.wasm"), await compileUnit("test/filters-unit/rules-unit.ts"));
// Plain JS runner (no tsx loader under valgrind): stub imports as test/rules/unit-module.ts.
writeFileSync(join(dir, "run.mjs"), `
import { readFileSync } from "node:fs";
const [wasmPath, docPath, phase, reps, want] = process.argv.slice(2);
const module = new WebAssembly.Module(readFileSync(wasmPath));
const imports = {};
for (const imp of WebAssembly.Module.imports(module)) {
  if (imp.kind !== "function") continue;
  (imports[imp.module] ??= {})[imp.name] = () => (imp.module === "env" ? 1 : 0);
}
const ex = new WebAssembly.Instance(module, imports).exports;
ex._start();
const doc = readFileSync(docPath);
const ptr = ex.scratch(doc.length) >>> 0;
new Uint8Array(ex.memory.buffer, ptr, doc.length).set(doc);
if (phase.startsWith("install")) {
  // Snapshot-load indexing (installTables) on the loaded set's region: install0 loads only.
  if (ex.loadRules(doc.length, 256 << 20) !== 1) throw new Error("load failed");
  if (phase === "install1") for (let i = 0; i < Number(reps); i++) { ex.heapBytes(); ex.benchInstall(); }
  else for (let i = 0; i < Number(reps); i++) ex.heapBytes();
} else for (let i = 0; i < Number(reps); i++) {
  ex.heapBytes();
  if (Number(phase) > 0) {
    const got = ex.benchUpTo(doc.length, Number(phase));
    if (Number(phase) >= 2 && got !== Number(want)) throw new Error("phase " + phase + ": " + got);
  }
}
`);
const totals: number[] = [];
const mispredicts: number[] = [];
// --install: also the snapshot-load indexing pass (installTables), per load.
const phases: Array<number | string> = [0, 1, 2, 3, ...(process.argv.includes("--install") ? ["install0", "install1"] : [])];
for (const phase of phases) {
  const out = join(dir, `cg.${phase}`);
  const r = spawnSync("valgrind", ["--tool=callgrind", "--dump-instr=no", "--branch-sim=yes", `--callgrind-out-file=${out}`,
    process.execPath, "--no-liftoff", "--single-threaded", join(dir, "run.mjs"), join(dir, "unit.wasm"), join(dir, "doc.json"), String(phase), String(reps), String(n)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`callgrind phase ${phase}: ${r.stderr.slice(-2000)}`);
  const text = readFileSync(out, "utf8");
  const events = /^events: (.*)$/m.exec(text)?.[1]?.split(" ") ?? [];
  const m = /^(?:summary|totals): ([\d ]+)$/m.exec(text);
  if (!m) throw new Error(`no totals in ${out}`);
  const v = m[1]!.split(" ").map(Number);
  totals.push(v[events.indexOf("Ir")]!);
  mispredicts.push(v[events.indexOf("Bcm")]!);
}
rmSync(dir, { recursive: true, force: true });
const fmt = (a: number, b: number) => {
  const ir = (totals[b]! - totals[a]!) / reps, bm = (mispredicts[b]! - mispredicts[a]!) / reps;
  return `${(ir / 1e6).toFixed(2).padStart(8)} M instructions ${(ir / n).toFixed(1).padStart(6)} per CIDR   mispredicted branches ${(bm / n).toFixed(2).padStart(5)} per CIDR`;
};
console.log(`${n} CIDRs, ${reps} loads per run, callgrind per load:`);
console.log(`json     ${fmt(0, 1)}`);
console.log(`scan     ${fmt(1, 2)}`);
console.log(`sort/idx ${fmt(2, 3)}`);
console.log(`total    ${fmt(0, 3)}`);
if (phases.length > 4) console.log(`install  ${fmt(4, 5)}   (snapshot-load indexing, installTables)`);

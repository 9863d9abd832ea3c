/**
 * Cost of the rule-delivery safety rails (issue 15) against the parse they guard, in one run:
 * parse + index of a rule document, Ed25519 verification of its signature (SHA-512 over every byte
 * plus a fixed curve cost), SHA-512 alone, and the blast-radius guard (whole-space sweep + a
 * 1,024-client sample) — at 10,000 and 100,000 CIDRs (cidrs_text of random /24s, like bench/reload).
 *
 * The code is the filter's own AssemblyScript, compiled with the filter's settings into the unit
 * module test/filters-unit/safety-unit.ts and called directly (no host). Timing is process CPU time
 * (process.cpuUsage) over interleaved rounds (parse, verify, hash, guard, parse, …), so a loaded
 * machine inflates all four alike and the ratios stay meaningful; medians over rounds are reported.
 *
 * With --instructions the same operations are also counted in CPU instructions under
 * valgrind --tool=callgrind (one child process per operation and size, minus a baseline child that
 * does the same set-up and warm-up): repeatable within ~1 % on a loaded machine.
 *
 *   npx tsx bench/signature.ts [--quick] [--instructions] [--out DIR]   → <results>/signature.json
 */
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RunRecord, benchArgs, writeResultFile } from "../harness/bench/results.js";
import { COMMON_OPTIONS, checkUsage } from "../harness/bench/usage.js";
import { withParentDeath } from "../harness/process/child-lifetime.js";
import { compileUnit, instantiateUnit } from "../test/rules/unit-module.js";

checkUsage(`usage: npx tsx bench/signature.ts [options]

Cost of the rule-delivery safety rails (Ed25519 verification, SHA-512, blast-radius guard) against the
parse + index of the same document, 10k and 100k CIDRs, process CPU time over interleaved rounds.
→ signature.json in the results directory.

options:
  --instructions    also count CPU instructions per operation under valgrind --tool=callgrind
${COMMON_OPTIONS}`, undefined, ["--child"]); // --child: one operation under callgrind (the --instructions children)

const ARGS = benchArgs();
const QUICK = ARGS.quick;
const CHILD_OP = (() => { const i = process.argv.indexOf("--child"); return i >= 0 ? process.argv[i + 1] : null; })();
const INSTRUCTIONS = process.argv.includes("--instructions");
const RUN = CHILD_OP ? null : new RunRecord("signature", { quick: QUICK, target: "embedded" });

function bulkList(n: number, seed: number): string {
  const seen = new Set<number>();
  let x = seed >>> 0;
  while (seen.size < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    seen.add((x & 0xffffff00) >>> 0);
  }
  const out: string[] = [];
  for (const a of seen) out.push(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`);
  return out.join("\n");
}

function docText(n: number): string {
  return JSON.stringify({ version: 1, access: [{ id: "probe", cidrs: ["192.0.2.0/24"] }, { id: "bulk", cidrs_text: bulkList(n - 1, 0x5eed + n) }] });
}

function cpuUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const SIZES = [10_000, 100_000];
const ROUNDS = QUICK ? 5 : 21;

type Op = "parse" | "verify" | "hash" | "guard";
const OPS: Op[] = ["parse", "verify", "hash", "guard"];

/** Child process: set up one document, warm every operation up, then run `op` `reps` times. */
async function child(spec: string): Promise<void> {
  const [op, n, reps] = spec.split(":");
  const u = await instantiateUnit("test/filters-unit/safety-unit.ts");
  const call = (name: string, ...a: number[]) => (u.exports[name] as unknown as (...x: number[]) => number)(...a);
  call("resetSample");
  for (let i = 0; i < 1024; i += 16) {
    for (let j = i; j < i + 16; j++) call("offer", u.put(j % 2 ? `10.${j >> 8}.${j & 255}.1` : `2001:db8::${j.toString(16)}`));
    call("flush", 1024);
  }
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const doc = Buffer.from(docText(Number(n)));
  call("benchSetup", u.put(Buffer.concat([publicKey.export({ format: "der", type: "spki" }).subarray(12), sign(null, doc, privateKey), doc])));
  // Warm-up: every operation a few times in every child (the baseline too), so V8's tier-up
  // compilation is mostly paid before the measured calls.
  for (let k = 0; k < 3; k++) for (const o of OPS) call(`bench${o[0].toUpperCase()}${o.slice(1)}`);
  if (op === "none") return;
  const fn = `bench${op[0].toUpperCase()}${op.slice(1)}`;
  for (let i = 0; i < Number(reps); i++) call(fn);
}

/**
 * Instructions per operation: callgrind totals of an `op` child minus a baseline child. The
 * baseline runs twice: the difference between the two is the run-to-run noise of a whole Node
 * process (V8's background compilation and GC), reported with the counts. The guard (about 20 µs)
 * is below that noise and is not counted.
 */
function instructionCounts(n: number, reps: number): { perOp: Record<"parse" | "verify" | "hash", number>; noisePerOp: number } {
  const dir = mkdtempSync(join(tmpdir(), "ew-callgrind-"));
  const script = fileURLToPath(import.meta.url);
  const total = (spec: string): number => {
    const out = join(dir, `${spec.replace(/:/g, "_")}.out`);
    // Dies with this process (setpriv --pdeathsig): valgrind runs for minutes.
    const [cmd, argv] = withParentDeath("valgrind", ["--tool=callgrind", `--callgrind-out-file=${out}`, process.execPath, "--import", "tsx", script, "--child", spec]);
    execFileSync(cmd, argv, { stdio: ["ignore", "ignore", "ignore"], timeout: 1_800_000 });
    const m = /^(?:summary|totals):\s+(\d+)/m.exec(readFileSync(out, "utf8"));
    if (!m) throw new Error(`no callgrind totals for ${spec}`);
    return Number(m[1]);
  };
  try {
    const base = total(`none:${n}:0`);
    const base2 = total(`none:${n}:0`);
    const perOp = {} as Record<"parse" | "verify" | "hash", number>;
    for (const op of ["parse", "verify", "hash"] as const) perOp[op] = Math.round((total(`${op}:${n}:${reps}`) - (base + base2) / 2) / reps);
    return { perOp, noisePerOp: Math.round(Math.abs(base - base2) / reps) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (CHILD_OP) return child(CHILD_OP);
  const unitWasm = await compileUnit("test/filters-unit/safety-unit.ts");
  const u = await instantiateUnit("test/filters-unit/safety-unit.ts");
  const call = (name: string, ...a: number[]) => (u.exports[name] as unknown as (...x: number[]) => number)(...a);
  // A sample of 1,024 distinct client addresses (the default sample_size), outside the documents' CIDRs half the time.
  call("resetSample");
  for (let i = 0; i < 1024; i += 16) {
    for (let j = i; j < i + 16; j++) call("offer", u.put(j % 2 ? `10.${j >> 8}.${j & 255}.1` : `2001:db8::${j.toString(16)}`));
    call("flush", 1024);
  }
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const rawKey = publicKey.export({ format: "der", type: "spki" }).subarray(12);
  const cases = [];
  for (const n of SIZES) {
    const doc = Buffer.from(docText(n));
    const sig = sign(null, doc, privateKey);
    call("benchSetup", u.put(Buffer.concat([rawKey, sig, doc])));
    if (call("benchParse") !== n) throw new Error(`parse of the ${n}-CIDR document failed`);
    if (call("benchVerify") !== 0) throw new Error(`signature of the ${n}-CIDR document did not verify`);
    const reps = n >= 100_000 ? (QUICK ? 2 : 5) : QUICK ? 10 : 40;
    const t: Record<"parse" | "verify" | "hash" | "guard", number[]> = { parse: [], verify: [], hash: [], guard: [] };
    const time = (k: keyof typeof t, f: () => void, r: number) => {
      const a = cpuUs();
      for (let i = 0; i < r; i++) f();
      t[k].push((cpuUs() - a) / r);
    };
    for (let round = 0; round < ROUNDS; round++) {
      time("parse", () => call("benchParse"), reps);
      time("verify", () => call("benchVerify"), reps);
      time("hash", () => call("benchHash"), reps);
      time("guard", () => call("benchGuard"), reps * 4);
    }
    const parse = median(t.parse), verify = median(t.verify), hash = median(t.hash), guard = median(t.guard);
    cases.push({
      cidrs: n,
      document_bytes: doc.length,
      rounds: ROUNDS,
      reps_per_round: reps,
      parse_index_cpu_ms: +(parse / 1000).toFixed(3),
      verify_cpu_ms: +(verify / 1000).toFixed(3),
      sha512_cpu_ms: +(hash / 1000).toFixed(3),
      curve_cpu_ms: +((verify - hash) / 1000).toFixed(3),
      verify_over_parse: +(verify / parse).toFixed(3),
      sha512_mb_per_s: +(doc.length / hash).toFixed(1),
      blast_radius_guard_cpu_ms: +(guard / 1000).toFixed(4),
      guard_sample_clients: 1024,
      guard_denied_clients: call("benchGuard"),
      ...(INSTRUCTIONS ? (() => {
        const ins = instructionCounts(n, n >= 100_000 ? 10 : 40);
        return {
          instructions: { parse_index: ins.perOp.parse, verify: ins.perOp.verify, sha512: ins.perOp.hash, baseline_noise_per_op: ins.noisePerOp },
          instructions_verify_over_parse: +(ins.perOp.verify / ins.perOp.parse).toFixed(3),
        };
      })() : {}),
    });
  }
  const result = {
    bench: "signature",
    description: "CPU time of Ed25519 verification (SHA-512 + curve) and of the blast-radius guard against the parse + index of the same rule document, filter code compiled as the unit module, medians of interleaved rounds",
    unit_module: "test/filters-unit/safety-unit.ts",
    unit_wasm_sha256: createHash("sha256").update(unitWasm).digest("hex"),
    cases,
    provenance: RUN!.finish(),
  };
  const out = writeResultFile(ARGS.outDir, "signature.json", result);
  console.log("cidrs    bytes      parse+index ms  verify ms (sha512 + curve)  verify/parse  guard ms");
  for (const c of cases) {
    if ("instructions" in c) console.log(`${c.cidrs} CIDRs, instructions per operation: ${JSON.stringify(c.instructions)}; verify/parse ${c.instructions_verify_over_parse}`);
    console.log(`${String(c.cidrs).padEnd(8)} ${String(c.document_bytes).padEnd(10)} ${c.parse_index_cpu_ms.toFixed(2).padStart(14)}  ${c.verify_cpu_ms.toFixed(2).padStart(9)} (${c.sha512_cpu_ms.toFixed(2)} + ${c.curve_cpu_ms.toFixed(2)})  ${c.verify_over_parse.toFixed(2).padStart(12)}  ${c.blast_radius_guard_cpu_ms.toFixed(3).padStart(8)}`);
  }
  console.log(`load average ${JSON.stringify(result.provenance.loadavg_before)} → ${JSON.stringify(result.provenance.loadavg_after)}; written ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

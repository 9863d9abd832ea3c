// Run by test/host/wasm-engine.test.ts with --allow-natives-syntax: prints which tier V8 gave the
// filter's exports (compiled on Envoy's settings) and a function of another module compiled after
// it (as undici's llhttp is), before and after that function's first call.
import { readFileSync } from "node:fs";
import { compileForEnvoySync } from "../../harness/host/wasm-engine.js";

const [filterPath, otherPath] = process.argv.slice(2);
const stub = (m: WebAssembly.Module) => {
  const imports: Record<string, Record<string, () => number>> = {};
  for (const imp of WebAssembly.Module.imports(m)) if (imp.kind === "function") (imports[imp.module] ??= {})[imp.name] = () => 0;
  return new WebAssembly.Instance(m, imports).exports as Record<string, unknown>;
};
// The natives syntax only parses with the flag, so it is evaluated, not compiled with this file.
const tier = (f: unknown): string =>
  (new Function("f", "return %IsTurboFanFunction(f) ? 'turbofan' : %IsLiftoffFunction(f) ? 'liftoff' : %IsUncompiledWasmFunction(f) ? 'uncompiled' : 'other';") as (f: unknown) => string)(f);
const filter = stub(compileForEnvoySync(readFileSync(filterPath)));
const other = stub(new WebAssembly.Module(readFileSync(otherPath)));
const fn = other.add as (a: number, b: number) => number;
const before = tier(fn);
fn(1, 2);
console.log(JSON.stringify({ filter: ["proxy_on_request_headers", "proxy_on_log", "malloc"].map((n) => tier(filter[n])), otherBefore: before, otherAfter: tier(fn) }));

import { RulesUnit } from "../../test/rules/unit-module.js";
const u = await RulesUnit.create();
const time = (name: string, f: () => void) => { const ts: number[] = []; for (let i = 0; i < 15; i++) { const t = performance.now(); f(); ts.push(performance.now() - t); } ts.sort((a,b)=>a-b); console.log(name, "min", ts[0].toFixed(3), "med", ts[7].toFixed(3)); };
for (const size of [150_000, 1_500_000]) {
  const plain = JSON.stringify("a".repeat(size));
  const n = u.u.put(plain);
  time(`plain ${size}`, () => (u.u.exports.jsonParse as any)(n));
  const esc = JSON.stringify("abcdefghijklm\n".repeat(size / 14));
  const n2 = u.u.put(esc);
  time(`escaped ${size}`, () => (u.u.exports.jsonParse as any)(n2));
}

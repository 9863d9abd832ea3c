// The document the parse/index tuning scripts load (phases.mts, instructions.mts): `n` distinct
// random /24s (a fixed LCG seed, so every run and every script loads the same text) in one rule's
// cidrs_text.
export function randomSlash24Document(n: number): string {
  const set = new Set<number>();
  let x = 12345;
  while (set.size < n) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; set.add((x & 0xffffff00) >>> 0); }
  const lines = [...set].map((a) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`);
  return JSON.stringify({ version: 1, access: [{ id: "big", cidrs_text: lines.join("\n") }] });
}

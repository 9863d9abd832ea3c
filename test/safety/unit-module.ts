/** Typed wrapper over test/filters-unit/safety-unit.ts (compiled and instantiated like the rules unit). */
import { instantiateUnit, type UnitInstance } from "../rules/unit-module.js";

export class SafetyUnit {
  private constructor(readonly u: UnitInstance) {}

  static async create(): Promise<SafetyUnit> {
    return new SafetyUnit(await instantiateUnit("test/filters-unit/safety-unit.ts"));
  }

  call(name: string, ...args: Array<number | bigint>): number {
    return (this.u.exports[name] as unknown as (...a: Array<number | bigint>) => number)(...args);
  }

  sha512(data: Uint8Array | string): Buffer {
    this.call("hash512", this.u.put(data));
    return Buffer.from(this.u.outBytes());
  }

  /** VerifyResult code (0 valid). */
  verify(key: Uint8Array, sig: Uint8Array, msg: Uint8Array | string): number {
    const m = typeof msg === "string" ? Buffer.from(msg) : msg;
    if (key.length !== 32 || sig.length !== 64) throw new Error("verify: key must be 32 bytes and sig 64");
    return this.call("verify", this.u.put(Buffer.concat([key, sig, m])));
  }

  keyUsable(key: Uint8Array): boolean { return this.call("keyUsable", this.u.put(key)) === 1; }

  base64(text: string): Buffer | null {
    const n = this.call("b64", this.u.put(text));
    return n < 0 ? null : Buffer.from(this.u.outBytes());
  }

  load(doc: object | string): { ok: true } | { ok: false; reason: string; message: string } {
    const text = typeof doc === "string" ? doc : JSON.stringify(doc);
    if (this.call("loadRules", this.u.put(text))) return { ok: true };
    const [reason, message] = this.u.out().split("\t");
    return { ok: false, reason, message };
  }

  /** The loaded document denies every request from `addr` (null: not an address). */
  denies(addr: string): boolean | null {
    const r = this.call("denies", this.u.put(addr));
    return r < 0 ? null : r === 1;
  }

  wholeSpace(): { v4: boolean; v6: boolean } {
    const r = this.call("wholeSpace");
    return { v4: (r & 1) !== 0, v6: (r & 2) !== 0 };
  }

  /** Offer a client address (as a request does); returns the VM's pending count. */
  offer(addr: string): number { return this.call("offer", this.u.put(addr)); }
  /** Merge pending addresses into the unit's sample (as a tick does); returns the sample size. */
  flush(capacity: number): number { return this.call("flush", capacity); }
  resetSample(): void { this.call("resetSample"); }
  sampleEntries(): string[] { this.call("sampleText"); const t = this.u.out(); return t ? t.split(" ") : []; }

  measure(maxFraction = 0.5, minClients = 20): { sampled: number; denied: number; wholeV4: boolean; wholeV6: boolean; exceeds: boolean; override: boolean } {
    this.call("measure", maxFraction, minClients);
    const [sampled, denied, v4, v6, ex, ov] = this.u.out().split(" ").map(Number);
    return { sampled, denied, wholeV4: v4 === 1, wholeV6: v6 === 1, exceeds: ex === 1, override: ov === 1 };
  }

  config(text: string | object): { ok: true; summary: any } | { ok: false; reason: string; message: string } {
    const t = typeof text === "string" ? text : JSON.stringify(text);
    const n = t.length === 0 ? 0 : this.u.put(t);
    if (this.call("config", n)) return { ok: true, summary: JSON.parse(this.u.out()) };
    const [reason, message] = this.u.out().split("\t");
    return { ok: false, reason, message };
  }

  signatureHeader(v: string): { ok: boolean; text: string } {
    const ok = this.call("sigHeader", this.u.put(v)) === 1;
    return { ok, text: this.u.out() };
  }
}

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
}

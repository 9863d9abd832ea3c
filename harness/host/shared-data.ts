/**
 * Shared key/value data (proxy-wasm-cpp-host src/shared_data.cc): one key space per vm_id,
 * shared by every VM instance; one global CAS counter starting at 1 (0 skipped on wrap);
 * a set on a missing key always succeeds; no deletion through the ABI. Keys are byte strings.
 */
import { WasmResult } from "./abi/status.js";

export interface SharedValue {
  value: Buffer;
  cas: number;
}

export class SharedDataStore {
  private readonly byVmId = new Map<string, Map<string, SharedValue>>();
  private cas = 1;

  private nextCas(): number {
    const result = this.cas;
    this.cas = (this.cas + 1) >>> 0;
    if (this.cas === 0) this.cas = 1;
    return result;
  }

  get(vmId: string, key: string): SharedValue | undefined {
    return this.byVmId.get(vmId)?.get(key);
  }

  set(vmId: string, key: string, value: Buffer, cas: number): WasmResult {
    let space = this.byVmId.get(vmId);
    if (!space) {
      space = new Map();
      this.byVmId.set(vmId, space);
    }
    const cur = space.get(key);
    if (cur !== undefined && cas !== 0 && cas !== cur.cas) return WasmResult.CasMismatch;
    if (cur !== undefined && value.length > 0 && value.length === cur.value.length) {
      // Same size: overwrite the stored copy in place (cpp-host replaces the std::string; its
      // allocator hands back the block it just freed). A push re-sets megabyte values (rules text,
      // snapshot) every time; a fresh Buffer each would be external memory for the GC to chase.
      // Readers never keep a value: get copies it into the calling VM at once.
      cur.value.set(value);
      cur.cas = this.nextCas();
      return WasmResult.Ok;
    }
    space.set(key, { value: Buffer.from(value), cas: this.nextCas() });
    return WasmResult.Ok;
  }

  keys(vmId: string): string[] {
    return [...(this.byVmId.get(vmId)?.keys() ?? [])];
  }

  clear(): void {
    this.byVmId.clear();
  }
}

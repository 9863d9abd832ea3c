/**
 * Rules snapshots built by the filter's own code: the product .wasm is instantiated outside any
 * proxy (host calls answered by inert stubs) and its tool exports (assembly/rules/snapshot-exports.ts)
 * validate a rule document exactly as a pulled one and encode the snapshot the filter loads. The
 * rules service (harness/fixtures/rules-service.ts) and `edgewatch rules snapshot` use it, so a
 * served snapshot can never mean something else than the document it came from.
 *
 * Snapshot format: assembly/rules/README.md, "Snapshot format".
 */
import { createHash, randomFillSync } from "node:crypto";
import { readFileSync } from "node:fs";

export const SNAPSHOT_MEDIA_TYPE = "application/vnd.edgewatch.rules-snapshot";

export interface SnapshotBuild {
  ok: boolean;
  /** The snapshot (ok). */
  snapshot?: Buffer;
  /** The filter's rejection reason and message (not ok). */
  reason?: string;
  message?: string;
  /** sha256 of the document bytes (recorded in the snapshot header). */
  sourceSha256: string;
}

export interface SnapshotInfo {
  ok: boolean;
  version?: number;
  cidrs?: number;
  rules?: number;
  tableBytes?: number;
  allowLargeBlastRadius?: boolean;
  sourceSha256?: string | null;
  reason?: string;
  message?: string;
}

interface ToolExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  _start?: () => void;
  edgewatch_snapshot_format(): number;
  edgewatch_build_snapshot(doc: number, len: number, maxBytes: number, sha: number): number;
  edgewatch_inspect_snapshot(buf: number, len: number): number;
  edgewatch_result_ptr(): number;
  edgewatch_result_len(): number;
}

/** One instance of the filter used as a library. Not thread-safe; cheap to keep around. */
export class SnapshotBuilder {
  private constructor(private readonly ex: ToolExports, readonly logs: string[]) {}

  static async load(wasmPath: string): Promise<SnapshotBuilder> {
    const mod = await WebAssembly.compile(readFileSync(wasmPath));
    const names = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const n of ["edgewatch_build_snapshot", "edgewatch_inspect_snapshot", "edgewatch_result_ptr", "malloc"]) {
      if (!names.includes(n)) throw new Error(`${wasmPath} has no export ${n}: not an edgewatch filter that builds rules snapshots (rebuild with npm run build)`);
    }
    let memory: WebAssembly.Memory | undefined;
    const logs: string[] = [];
    const dec = new TextDecoder();
    const imports: WebAssembly.Imports = {};
    for (const imp of WebAssembly.Module.imports(mod)) {
      if (imp.kind !== "function") continue;
      imports[imp.module] ??= {};
      const ns = imports[imp.module] as Record<string, (...a: number[]) => number>;
      // Inert host: building a snapshot makes no host call; anything else answers "Ok, nothing".
      ns[imp.name] = () => 0;
    }
    const env = imports.env as Record<string, (...a: number[]) => number>;
    if (env) {
      env.proxy_log = (_level: number, ptr: number, size: number) => {
        logs.push(dec.decode(new Uint8Array(memory!.buffer, ptr >>> 0, size >>> 0)));
        return 0;
      };
    }
    const wasi = imports.wasi_snapshot_preview1 as Record<string, (...a: number[]) => number> | undefined;
    if (wasi) {
      wasi.clock_time_get = (_id: number, _prec: bigint | number, out: number) => {
        new DataView(memory!.buffer).setBigUint64(out >>> 0, process.hrtime.bigint(), true);
        return 0;
      };
      wasi.random_get = (ptr: number, len: number) => {
        randomFillSync(new Uint8Array(memory!.buffer, ptr >>> 0, len >>> 0));
        return 0;
      };
    }
    const inst = await WebAssembly.instantiate(mod, imports);
    const ex = inst.exports as unknown as ToolExports;
    memory = ex.memory;
    ex._start?.();
    return new SnapshotBuilder(ex, logs);
  }

  /** Snapshot format this build writes (and the only one it reads). */
  get format(): number {
    return this.ex.edgewatch_snapshot_format();
  }

  private put(data: Uint8Array): number {
    const p = this.ex.malloc(Math.max(1, data.length));
    new Uint8Array(this.ex.memory.buffer, p, data.length).set(data);
    return p;
  }

  private result(): Buffer {
    const p = this.ex.edgewatch_result_ptr();
    const n = this.ex.edgewatch_result_len();
    return Buffer.from(new Uint8Array(this.ex.memory.buffer, p, n));
  }

  /** Validate `doc` (the exact bytes a rules service would serve) and build its snapshot. */
  build(doc: Uint8Array | string, maxBytes = 64 << 20): SnapshotBuild {
    const bytes = typeof doc === "string" ? Buffer.from(doc, "utf8") : doc;
    const sha = createHash("sha256").update(bytes).digest();
    const d = this.put(bytes);
    const s = this.put(sha);
    const rc = this.ex.edgewatch_build_snapshot(d, bytes.length, Math.min(maxBytes, 0x7fffffff), s);
    const out = this.result();
    if (rc === 0) return { ok: true, snapshot: out, sourceSha256: sha.toString("hex") };
    const [reason, ...rest] = out.toString("utf8").split("\t");
    return { ok: false, reason, message: rest.join("\t"), sourceSha256: sha.toString("hex") };
  }

  /** Check and load a snapshot the way the fetcher does. */
  inspect(snapshot: Uint8Array): SnapshotInfo {
    const p = this.put(snapshot);
    const rc = this.ex.edgewatch_inspect_snapshot(p, snapshot.length);
    const text = this.result().toString("utf8");
    if (rc !== 0) {
      const [reason, ...rest] = text.split("\t");
      return { ok: false, reason, message: rest.join("\t") };
    }
    const [version, cidrs, rules, tableBytes, flags, sha] = text.split(" ");
    return {
      ok: true,
      version: Number(version),
      cidrs: Number(cidrs),
      rules: Number(rules),
      tableBytes: Number(tableBytes),
      allowLargeBlastRadius: flags === "1",
      sourceSha256: sha === "-" ? null : sha,
    };
  }
}

/** Does an Accept header ask for snapshots in `format`? (`application/vnd.edgewatch.rules-snapshot; format=2`) */
export function acceptsSnapshot(accept: string | undefined, format: number): boolean {
  if (!accept) return false;
  for (const part of accept.split(",")) {
    const [type, ...params] = part.split(";").map((x) => x.trim().toLowerCase());
    if (type !== SNAPSHOT_MEDIA_TYPE) continue;
    const f = params.find((p) => p.startsWith("format="));
    if (f && Number(f.slice(7)) === format) return true;
  }
  return false;
}

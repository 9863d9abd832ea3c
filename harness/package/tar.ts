/**
 * Reproducible tar and tar+gzip archives (tar-stream writes the ustar headers): fixed order, owner
 * 0:0 with empty user/group names, fixed modes and one mtime, so the same files give the same bytes.
 */
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";

export interface TarEntry {
  /** Path inside the archive; directories end with "/". */
  name: string;
  data?: Buffer;
  dir?: boolean;
}

export async function tarArchive(entries: TarEntry[], mtimeSeconds: number): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  const mtime = new Date(mtimeSeconds * 1000);
  for (const e of entries) {
    const common = { name: e.name, mtime, uid: 0, gid: 0, uname: "", gname: "" };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.dir) p.entry({ ...common, type: "directory", mode: 0o755 }, cb);
      else p.entry({ ...common, type: "file", mode: 0o644, size: e.data!.length }, e.data!, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * gzip with the header's OS byte set to 255 ("unknown", as Go's compress/gzip writes it): zlib puts
 * the build platform there (3 on Unix, 19 on macOS), which would change the digest between machines.
 * The header has no FHCRC, so the byte is not covered by a checksum. The deflate stream itself is
 * whatever this Node's zlib produces at level 9.
 */
export function gzipReproducible(data: Buffer): Buffer {
  const gz = gzipSync(data, { level: 9 });
  gz[9] = 255;
  return gz;
}

/**
 * A standalone rules service for local use: the rules-service fixture (harness/fixtures/
 * rules-service.ts: long-poll / conditional GET, what the filter's fetcher speaks) plus an HTTP
 * publish endpoint, which the fixture itself does not have (it publishes in-process only):
 *
 *   POST /publish            body: a rules document (JSON)
 *        → 200 {"version": n, "etag": "..."}; the document is served with "version" set to n
 *   POST /publish?verbatim=1 body served byte for byte, invalid UTF-8 included (to exercise the
 *                            filter's rejection path)
 *        → 200 {"version": n, ...}
 *   POST /publish with an x-edgewatch-signature header (`rules push --sign`): the body is served
 *        byte for byte (a version rewrite would break the signature) with that header
 *   GET  /status             → {"version", "etag", "fetches", "held_polls"}
 *
 * The publish endpoint listens on its own port (the fixture's port answers only the rules path).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startRulesService, type RulesService } from "../fixtures/rules-service.js";
import { parseSignatureHeaderValue } from "../signing/rules-signing.js";
import { SnapshotBuilder } from "../rules/snapshot-builder.js";

export interface RulesServer {
  /** URL the filter fetches (rules_service cluster → this host:port, path). */
  rulesUrl: string;
  rulesPort: number;
  rulesPath: string;
  /** Base URL of the publish endpoint (for `edgewatch rules push --to`). */
  publishUrl: string;
  service: RulesService;
  /** Record the key id of a document published in-process with a signature (shown by GET /status). */
  setSignedBy(keyId: string | null): void;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024 * 1024;

export async function startRulesServer(
  opts: { host?: string; port?: number; publishPort?: number; path?: string; snapshotWasm?: string } = {},
): Promise<RulesServer> {
  const host = opts.host ?? "127.0.0.1";
  // With a filter module: every published document is also served as a rules snapshot built by it.
  const snapshots = opts.snapshotWasm ? await SnapshotBuilder.load(opts.snapshotWasm) : undefined;
  const service = await startRulesService({ host, port: opts.port ?? 0, path: opts.path ?? "/rules", snapshots });
  let signedBy: string | null = null;
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    const json = (status: number, body: unknown) => {
      const text = `${JSON.stringify(body)}\n`;
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    if (u.pathname === "/status" && req.method === "GET") {
      json(200, {
        version: service.version, etag: service.etag, fetches: service.fetchCount, snapshot_fetches: service.snapshotFetchCount,
        snapshot: service.snapshotInfo, held_polls: service.heldPolls, signed_by: signedBy,
      });
      return;
    }
    if (u.pathname !== "/publish") {
      json(404, { error: "not found: POST /publish, GET /status" });
      return;
    }
    if (req.method !== "POST" && req.method !== "PUT") {
      json(405, { error: `${req.method} not allowed, POST required` });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        json(413, { error: `document larger than ${MAX_BODY} bytes` });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (res.writableEnded) return;
      const raw = Buffer.concat(chunks);
      const text = raw.toString("utf8");
      let version: number;
      const sigHeader = req.headers["x-edgewatch-signature"];
      if (typeof sigHeader === "string") {
        const sig = parseSignatureHeaderValue(sigHeader);
        if (sig === null) {
          json(400, { error: "x-edgewatch-signature must be key_id=<id>;sig=<base64>" });
          return;
        }
        version = service.publish(text, { signature: sigHeader });
        signedBy = sig.key_id;
        json(200, { version, etag: service.etag, bytes: Buffer.byteLength(text), signed_by: sig.key_id });
        return;
      }
      signedBy = null;
      if (u.searchParams.get("verbatim") === "1") {
        version = service.publish(raw); // byte for byte: invalid UTF-8 reaches the filter as sent
      } else {
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch (err) {
          json(400, { error: `not JSON: ${(err as Error).message}` });
          return;
        }
        if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
          json(400, { error: "a rules document must be a JSON object" });
          return;
        }
        version = service.publish(doc);
      }
      json(200, { version, etag: service.etag, bytes: raw.length });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.publishPort ?? 0, host, () => resolve());
  });
  const pport = (server.address() as AddressInfo).port;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    rulesUrl: service.url,
    rulesPort: service.port,
    rulesPath: opts.path ?? "/rules",
    publishUrl: `http://${hostPart}:${pport}`,
    service,
    setSignedBy: (keyId) => { signedBy = keyId; },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await service.close();
    },
  };
}

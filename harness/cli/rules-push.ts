/**
 * Publish a rules document to a rules service over HTTP: `POST <to>` (or `<to>/publish` when `to` is
 * a bare origin) with the document as the body; the answer is JSON with the new "version".
 * The rules-service fixture publishes in-process only, so `edgewatch rules serve` (rules-server.ts)
 * wraps it with this endpoint.
 */
import { describeFetchError } from "./doctor.js";
import { CliError, EXIT, envError } from "./exit-codes.js";

/** Path of the fixture's publish endpoint, used when --to is a bare origin. */
export const PUBLISH_PATH = "/publish";

export interface PushResult {
  url: string;
  status: number;
  version?: number | string;
  body: string;
}

export function publishUrl(to: string): string {
  const u = new URL(to);
  if (u.pathname === "/" || u.pathname === "") u.pathname = PUBLISH_PATH;
  return u.toString();
}

/** The version the service serves now (GET <origin>/status). */
export async function serviceVersion(to: string, timeoutMs: number): Promise<number> {
  const u = new URL(publishUrl(to));
  u.pathname = u.pathname.replace(/\/publish$/, "") + "/status";
  let res: Response;
  try {
    res = await fetch(u, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw envError(`rules service unreachable at ${u}: ${describeFetchError(err)}`, "check --to and that the rules service is running");
  }
  const j = (await res.json().catch(() => null)) as { version?: unknown } | null;
  if (res.status !== 200 || !j || typeof j.version !== "number") throw new CliError(`rules service at ${u} did not report its version (HTTP ${res.status})`, EXIT.CHECK_FAILED);
  return j.version;
}

export async function pushRules(to: string, document: string | Uint8Array, timeoutMs: number, opts: { verbatim?: boolean; signature?: string } = {}): Promise<PushResult> {
  const u = new URL(publishUrl(to));
  if (opts.verbatim) u.searchParams.set("verbatim", "1");
  const url = u.toString();
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(opts.signature ? { "x-edgewatch-signature": opts.signature } : {}) },
      body: typeof document === "string" ? document : new Blob([new Uint8Array(document)]),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw envError(`rules service unreachable at ${url}: ${describeFetchError(err)}`, "check --to and that the rules service is running");
  }
  const body = await res.text();
  if (res.status < 200 || res.status >= 300) {
    throw new CliError(`rules service refused the document: HTTP ${res.status} ${body.trim().slice(0, 300)}`, EXIT.CHECK_FAILED);
  }
  let version: number | string | undefined;
  try {
    const j = JSON.parse(body) as { version?: number | string };
    version = j.version;
  } catch {
    version = res.headers.get("etag") ?? undefined;
  }
  return { url, status: res.status, version, body };
}

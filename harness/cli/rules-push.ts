/**
 * Publish a rules document to a rules service over HTTP.
 * The publish endpoint is the rules-service fixture's (harness/fixtures/rules-service.ts).
 */
import { describeFetchError } from "./doctor.js";
import { CliError, EXIT, envError } from "./exit-codes.js";

/** Path of the fixture's publish endpoint, used when --to is a bare origin. */
export const PUBLISH_PATH = "/admin/rules";

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

export async function pushRules(to: string, documentText: string, timeoutMs: number): Promise<PushResult> {
  const url = publishUrl(to);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: documentText,
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

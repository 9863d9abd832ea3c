/**
 * Trace-context helpers for the conformance scenarios: reading the traceparent the upstream echo
 * received, random W3C ids, and the spans a collector fixture accepted, decoded with the official
 * OTLP schema (harness/fixtures/otlp-schema.ts). Target-neutral: only answers and fixtures are read.
 */
import { randomBytes } from "node:crypto";
import type { OtlpCollector, ReceivedExport } from "../../../harness/fixtures/otlp-collector.js";
import { decodeExportJson, type DecodedSpan } from "../../../harness/fixtures/otlp-schema.js";
import type { Answer } from "../../../harness/stack/http-client.js";

export type { DecodedSpan };

/** version 00 traceparent: trace id, parent (span) id, flags. */
export const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: number;
  sampled: boolean;
}

export function parseTraceparent(value: string | undefined): TraceParent | null {
  const m = TRACEPARENT_RE.exec(value ?? "");
  if (!m) return null;
  const flags = parseInt(m[3]!, 16);
  return { traceId: m[1]!, spanId: m[2]!, flags, sampled: (flags & 1) === 1 };
}

/** The single header value the upstream echo received (undefined when absent or repeated). */
export function upstreamHeader(a: Answer, name: string): string | undefined {
  const v = a.upstream?.headers[name];
  return typeof v === "string" ? v : undefined;
}

/** The traceparent the upstream received, parsed; throws when it is missing or malformed. */
export function forwardedTraceparent(a: Answer): TraceParent {
  if (!a.upstream) throw new Error(`no upstream echo (status ${a.status}): the request did not reach the upstream`);
  const raw = a.upstream.headers.traceparent;
  const tp = typeof raw === "string" ? parseTraceparent(raw) : null;
  if (!tp) throw new Error(`the upstream received no valid traceparent: ${JSON.stringify(raw)}`);
  return tp;
}

export const randomTraceId = (): string => randomBytes(16).toString("hex");

/** A random non-zero span id. */
export function randomSpanId(): string {
  for (;;) {
    const s = randomBytes(8).toString("hex");
    if (s !== "0000000000000000") return s;
  }
}

/**
 * Every span the collector accepted (2xx), each export body decoded with the official OTLP schema:
 * a body the schema rejects throws here, so a scenario reading spans also checks their encoding.
 */
export function decodedSpans(c: OtlpCollector): DecodedSpan[] {
  return c.requests.filter((r) => r.status >= 200 && r.status < 300).flatMap(decodeOnce);
}

const decoded = new WeakMap<ReceivedExport, DecodedSpan[]>();

/** A received body decoded once (polling decodes only what arrived since). */
function decodeOnce(r: ReceivedExport): DecodedSpan[] {
  let spans = decoded.get(r);
  if (!spans) decoded.set(r, (spans = decodeExportJson(r.body).spans));
  return spans;
}

/** Poll the collector until `accept(spans)` holds; returns the decoded spans. */
export async function untilSpans(c: OtlpCollector, accept: (spans: DecodedSpan[]) => boolean, opts: { timeoutMs?: number; what?: string } = {}): Promise<DecodedSpan[]> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = decodedSpans(c);
    if (accept(spans)) return spans;
    if (Date.now() > deadline) throw new Error(`collector: ${opts.what ?? "condition"} not met within ${timeoutMs} ms (${spans.length} spans accepted, ${c.requests.length} requests)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

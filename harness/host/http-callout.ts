/**
 * proxy_http_call (Envoy context.cc Context::httpCall, onHttpCallSuccess/onHttpCallFailure):
 * the call runs on the root context, goes to a named cluster over real HTTP (undici), and its
 * completion is delivered later as on_http_call_response(root, token, headers, body, trailers).
 * Envoy's async client turns a timeout into a 504 "upstream request timeout" response and a
 * connection failure into a 503; a reset after the response started is (0,0,0) with
 * proxy_get_status = (11, "reset").
 */
import type { Dispatcher } from "undici";
import { CALLOUT_INCREMENT, WasmResult } from "./abi/status.js";
import type { RootContext } from "./contexts.js";
import { HeaderMap } from "./header-map.js";
import type { Pairs } from "./pairs.js";
import type { Cluster } from "./upstream-clusters.js";
import type { WasmVm } from "./vm.js";

export interface CalloutResponse {
  headers: HeaderMap;
  body: Buffer;
  trailers: HeaderMap | null;
}

/** Envoy's router local reply for a response the async client generates itself. */
export function localResponse(status: number, body: string): CalloutResponse {
  const headers = new HeaderMap("response");
  headers.append(":status", String(status));
  headers.append("content-length", String(Buffer.byteLength(body)));
  headers.append("content-type", "text/plain");
  return { headers, body: Buffer.from(body), trailers: null };
}

/** Envoy router bodies for upstream failures before response headers. */
export function upstreamFailureBody(err: unknown): string {
  const code = (err as { code?: string })?.code ?? "";
  if (code === "ECONNREFUSED") {
    return "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: 111";
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "ETIMEDOUT") {
    return "upstream connect error or disconnect/reset before headers. reset reason: connection timeout";
  }
  return "upstream connect error or disconnect/reset before headers. reset reason: connection termination";
}

const HOP_BY_HOP_REQUEST = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "expect"]);

export function httpCall(
  vm: WasmVm, root: RootContext, clusterName: string, headerPairs: Pairs, body: Buffer, trailerPairs: Pairs, timeoutMs: number,
): { status: WasmResult; token: number } {
  if (timeoutMs < 0) return { status: WasmResult.BadArgument, token: 0 };
  const cluster = vm.env.clusters.get(clusterName);
  if (cluster === undefined) return { status: WasmResult.BadArgument, token: 0 };
  const headers = HeaderMap.fromPairs("request", headerPairs);
  // Envoy requires :path, :method and :authority (Host); :scheme is optional.
  if (!headers.has(":path") || !headers.has(":method") || !headers.has(":authority")) {
    return { status: WasmResult.BadArgument, token: 0 };
  }
  if (body.length > 0) headers.setCopy("content-length", String(body.length));
  if (trailerPairs.length > 0) vm.env.logger.debug("wasm", "proxy_http_call trailers are not sent by the emulator", vm.label);
  const token = (vm.nextHttpCallId += CALLOUT_INCREMENT) >>> 0;
  startCallout(vm, root, token, cluster, headers, body, timeoutMs);
  return { status: WasmResult.Ok, token };
}

function startCallout(vm: WasmVm, root: RootContext, token: number, cluster: Cluster, headers: HeaderMap, body: Buffer, timeoutMs: number): void {
  const out: string[] = [];
  for (let i = 0; i < headers.keys.length; i++) {
    const k = headers.keys[i];
    if (k.charCodeAt(0) === 58 || HOP_BY_HOP_REQUEST.has(k)) continue;
    out.push(k, headers.values[i]);
  }
  out.push("host", headers.get(":authority")!);
  let finished = false;
  let abortFn: ((err?: Error) => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let respHeaders: HeaderMap | null = null;
  const chunks: Buffer[] = [];

  const finish = (resp: CalloutResponse | "reset") => {
    if (finished) return;
    finished = true;
    if (timer) clearTimeout(timer);
    root.httpCalls.delete(token);
    // Never inside the hostcall: completions come from I/O callbacks (or setImmediate below).
    deliver(vm, root, token, resp);
  };

  const handler: Dispatcher.DispatchHandler = {
    onConnect(abort) {
      abortFn = abort;
      if (finished) abort(new Error("cancelled"));
    },
    onHeaders(statusCode, rawHeaders) {
      if (statusCode < 200) return true;
      const h = new HeaderMap("response");
      h.append(":status", String(statusCode));
      for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
        h.append(rawHeaders[i].toString("latin1").toLowerCase(), rawHeaders[i + 1].toString("latin1"));
      }
      respHeaders = h;
      return true;
    },
    onData(chunk) {
      chunks.push(Buffer.from(chunk));
      return true;
    },
    onComplete(rawTrailers) {
      let trailers: HeaderMap | null = null;
      if (rawTrailers && rawTrailers.length > 0) {
        trailers = new HeaderMap("response-trailers");
        for (let i = 0; i + 1 < rawTrailers.length; i += 2) {
          trailers.append(String(rawTrailers[i]).toLowerCase(), String(rawTrailers[i + 1]));
        }
      }
      finish({ headers: respHeaders ?? localResponse(503, "").headers, body: Buffer.concat(chunks), trailers });
    },
    onError(err) {
      if (finished) return;
      // Before response headers the async client answers with the router's local reply (503).
      if (respHeaders === null) finish(localResponse(503, upstreamFailureBody(err)));
      else finish("reset");
    },
  };

  root.httpCalls.set(token, {
    abort: () => {
      finished = true;
      if (timer) clearTimeout(timer);
      abortFn?.(new Error("callout cancelled"));
    },
  });
  if (timeoutMs > 0) {
    timer = setTimeout(() => {
      // Deliver first: aborting makes undici report an error synchronously.
      finish(localResponse(504, "upstream request timeout"));
      abortFn?.(new Error("timeout"));
    }, timeoutMs);
    timer.unref();
  }
  try {
    cluster.pool.dispatch(
      { origin: cluster.origin, path: headers.get(":path")!, method: headers.get(":method")! as Dispatcher.HttpMethod, headers: out, body: body.length > 0 ? body : null },
      handler,
    );
  } catch (err) {
    setImmediate(() => finish(localResponse(503, upstreamFailureBody(err))));
  }
}

function deliver(vm: WasmVm, root: RootContext, token: number, resp: CalloutResponse | "reset"): void {
  if (vm.failed || vm.closed || root.state === "deleted") return;
  if (resp === "reset") {
    root.statusCode = WasmResult.BrokenConnection;
    root.statusMessage = "reset";
    vm.addAfterCallAction(() => {
      root.statusMessage = "";
    });
    vm.onHttpCallResponse(root, token, 0, 0, 0);
  } else {
    root.httpCallResponse = resp;
    vm.addAfterCallAction(() => {
      root.httpCallResponse = null;
    });
    vm.onHttpCallResponse(root, token, resp.headers.size, resp.body.length, resp.trailers?.size ?? 0);
  }
  vm.afterCall();
}

// Stream control (Envoy context.cc continueStream / sendLocalResponse): deferred by the host until
// the current callback returns. A local reply forces Stop on the callback and then runs through
// this filter's own on_response_headers.
import { proxy_continue_stream, proxy_send_local_response, proxy_set_effective_context, proxy_done } from "../abi/imports";
import { HeaderPair, serializePairs } from "../abi/pairs";
import { GRPC_STATUS_NONE } from "../abi/status";

export function continueRequest(): u32 { return proxy_continue_stream(0); }
export function continueResponse(): u32 { return proxy_continue_stream(1); }

export function sendLocalResponse(status: u32, details: string, body: ArrayBuffer, headers: HeaderPair[]): u32 {
  const d = String.UTF8.encode(details);
  const h = serializePairs(headers);
  return proxy_send_local_response(status, changetype<usize>(d), d.byteLength, changetype<usize>(body), body.byteLength,
    changetype<usize>(h), h.byteLength, GRPC_STATUS_NONE);
}

/** Direct following host calls at another context of this VM (BadArgument if it is gone). */
export function setEffectiveContext(id: u32): u32 { return proxy_set_effective_context(id); }

/** Finish a root context whose on_done returned false. */
export function done(): u32 { return proxy_done(); }

/**
 * Local reply from pre-encoded parts (details UTF-8, body, serialized header pairs), so a deny on
 * the request path allocates nothing.
 */
export function sendLocalResponseRaw(status: u32, details: ArrayBuffer, body: ArrayBuffer, headerPairs: ArrayBuffer): u32 {
  return proxy_send_local_response(status, changetype<usize>(details), details.byteLength, changetype<usize>(body), body.byteLength,
    changetype<usize>(headerPairs), headerPairs.byteLength, GRPC_STATUS_NONE);
}

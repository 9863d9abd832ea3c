// proxy-wasm ABI v0.2.1 enumerations (proxy-wasm-cpp-sdk proxy_wasm_common.h / proxy_wasm_enums.h).

export namespace WasmResult {
  export const Ok: u32 = 0;
  export const NotFound: u32 = 1;
  export const BadArgument: u32 = 2;
  export const SerializationFailure: u32 = 3;
  export const ParseFailure: u32 = 4;
  export const InvalidMemoryAccess: u32 = 6;
  export const Empty: u32 = 7;
  export const CasMismatch: u32 = 8;
  export const InternalFailure: u32 = 10;
  export const BrokenConnection: u32 = 11;
  export const Unimplemented: u32 = 12;
}

export namespace MapType {
  export const RequestHeaders: i32 = 0;
  export const RequestTrailers: i32 = 1;
  export const ResponseHeaders: i32 = 2;
  export const ResponseTrailers: i32 = 3;
  export const HttpCallResponseHeaders: i32 = 6;
  export const HttpCallResponseTrailers: i32 = 7;
}

export namespace BufferType {
  export const HttpRequestBody: i32 = 0;
  export const HttpResponseBody: i32 = 1;
  export const HttpCallResponseBody: i32 = 4;
  export const VmConfiguration: i32 = 6;
  export const PluginConfiguration: i32 = 7;
}

export namespace StreamType {
  export const Request: i32 = 0;
  export const Response: i32 = 1;
}

export namespace LogLevel {
  export const Trace: i32 = 0;
  export const Debug: i32 = 1;
  export const Info: i32 = 2;
  export const Warn: i32 = 3;
  export const Error: i32 = 4;
  export const Critical: i32 = 5;
}

export namespace MetricType {
  export const Counter: i32 = 0;
  export const Gauge: i32 = 1;
  export const Histogram: i32 = 2;
}

/** Return values of header/body/trailer callbacks. Envoy turns headers StopIteration(1) into StopAll. */
export namespace Action {
  export const Continue: i32 = 0;
  export const Pause: i32 = 1;
}

/** gRPC status "none" for proxy_send_local_response (SDKs pass -1). */
export const GRPC_STATUS_NONE: u32 = 0xffffffff;

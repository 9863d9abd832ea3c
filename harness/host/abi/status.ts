/**
 * Proxy-Wasm ABI 0.2.1 enumerations, numbered as proxy-wasm-cpp-sdk proxy_wasm_common.h /
 * proxy_wasm_enums.h and as Envoy uses them (reference §1.2).
 */

/** proxy_status_t. Envoy also uses BadExpression (5), ResultMismatch (9) and BrokenConnection (11). */
export const enum WasmResult {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

export const WASM_RESULT_NAMES = [
  "Ok", "NotFound", "BadArgument", "SerializationFailure", "ParseFailure", "BadExpression",
  "InvalidMemoryAccess", "Empty", "CasMismatch", "ResultMismatch", "InternalFailure",
  "BrokenConnection", "Unimplemented",
] as const;

export const enum HeaderMapType {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}
export const HEADER_MAP_TYPE_MAX = 7;

export const enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
}
export const BUFFER_TYPE_MAX = 8;

export const enum StreamType {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
}
export const STREAM_TYPE_MAX = 3;

/** spdlog numbering == ABI numbering (Envoy context.cc Context::log). */
export const enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
}
export const LOG_LEVEL_MAX = 5;

export const enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}
export const METRIC_TYPE_MAX = 2;
/** Envoy wasm.h: metric ids carry the type in the low 2 bits and step by 4. */
export const METRIC_TYPE_MASK = 0x3;
export const METRIC_ID_INCREMENT = 0x4;

/** Envoy wasm.h CalloutType: the low 2 bits of a callout token. */
export const CALLOUT_TYPE_MASK = 0x3;
export const CALLOUT_INCREMENT = 0x4;
export const enum CalloutType {
  HttpCall = 0,
  GrpcCall = 1,
  GrpcStream = 2,
}

/** Envoy Http::FilterHeadersStatus values the wasm result is converted into. */
export const enum FilterHeadersStatus {
  Continue = 0,
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

export const enum FilterDataStatus {
  Continue = 0,
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
}

export const enum FilterTrailersStatus {
  Continue = 0,
  StopIteration = 1,
}

export type AbiVersion = "0_1_0" | "0_2_0" | "0_2_1";

/** WASI errno values used by cpp-host exports.cc. */
export const enum WasiErrno {
  Success = 0,
  Badf = 8,
  Fault = 21,
  Inval = 28,
  Noent = 44,
  Nosys = 52,
  Notsup = 58,
}

// Test filter: calls a non-whitelisted hostcall at top level (runs in _start) → "restricted_callback".
import * as imp from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import * as h from "./lib/hostcalls";
export { malloc } from "./lib/hostcalls";

h.info("in _start: logging is allowed");
imp.proxy_set_tick_period_milliseconds(10);

export function proxy_abi_version_0_2_1(): void {}

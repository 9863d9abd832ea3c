import { proxy_log } from "../abi/imports";
import { LogLevel } from "../abi/status";

export function log(level: i32, message: string): void {
  const buf = String.UTF8.encode(message);
  proxy_log(level, changetype<usize>(buf), buf.byteLength);
}

export function logDebug(message: string): void { log(LogLevel.Debug, message); }
export function logInfo(message: string): void { log(LogLevel.Info, message); }
export function logWarn(message: string): void { log(LogLevel.Warn, message); }
export function logError(message: string): void { log(LogLevel.Error, message); }

/**
 * Host errors with stable codes: tests assert on `code`, never on the message
 * (the pattern of undici lib/core/errors.js). Messages reuse Envoy's wording where Envoy has one.
 */
export class HostError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export const ErrorCodes = {
  WASM_FILE_NOT_FOUND: "WASM_FILE_NOT_FOUND",
  WASM_INVALID_MODULE: "WASM_INVALID_MODULE",
  WASM_ABI_VERSION_MISSING: "WASM_ABI_VERSION_MISSING",
  WASM_MISSING_IMPORT: "WASM_MISSING_IMPORT",
  WASM_IMPORT_TYPE_MISMATCH: "WASM_IMPORT_TYPE_MISMATCH",
  WASM_BAD_EXPORT_SIGNATURE: "WASM_BAD_EXPORT_SIGNATURE",
  WASM_MISSING_MALLOC: "WASM_MISSING_MALLOC",
  WASM_START_FAILED: "WASM_START_FAILED",
  WASM_RUNTIME_ERROR: "WASM_RUNTIME_ERROR",
  PLUGIN_VM_START_REJECTED: "PLUGIN_VM_START_REJECTED",
  PLUGIN_CONFIG_REJECTED: "PLUGIN_CONFIG_REJECTED",
  HOST_CLOSED: "HOST_CLOSED",
  PROXY_CONFIG_INVALID: "PROXY_CONFIG_INVALID",
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** VmConfig.code.local.filename could not be read. */
export class WasmFileNotFoundError extends HostError {
  constructor(path: string, cause?: unknown) {
    super(ErrorCodes.WASM_FILE_NOT_FOUND, `Failed to load Wasm code from ${path}: file not found or unreadable`, { cause });
  }
}

/** Bytes that are not a valid Wasm module (cpp-host wasm.cc load: "Failed to parse corrupted Wasm module"). */
export class WasmInvalidModuleError extends HostError {
  constructor(detail: string, cause?: unknown) {
    super(ErrorCodes.WASM_INVALID_MODULE, detail, { cause });
  }
}

/** cpp-host wasm.cc load: no proxy_abi_version_* export. */
export class WasmAbiVersionError extends HostError {
  constructor() {
    super(ErrorCodes.WASM_ABI_VERSION_MISSING, "Missing or unknown Proxy-Wasm ABI version");
  }
}

/** cpp-host v8.cc link: "Failed to load Wasm module due to a missing import: env.X". */
export class WasmMissingImportError extends HostError {
  readonly importName: string;
  constructor(module: string, name: string) {
    super(ErrorCodes.WASM_MISSING_IMPORT, `Failed to load Wasm module due to a missing import: ${module}.${name}`);
    this.importName = `${module}.${name}`;
  }
}

/** cpp-host v8.cc link: import signature differs from the host function. */
export class WasmImportTypeMismatchError extends HostError {
  readonly importName: string;
  constructor(module: string, name: string, want: string, has: string) {
    super(
      ErrorCodes.WASM_IMPORT_TYPE_MISMATCH,
      `Failed to load Wasm module due to an import type mismatch for function ${module}.${name}, want: ${want}, but host exports: ${has}`,
    );
    this.importName = `${module}.${name}`;
  }
}

/** cpp-host v8.cc getModuleFunctionImpl: "Bad function signature for: X". */
export class WasmBadExportSignatureError extends HostError {
  constructor(name: string) {
    super(ErrorCodes.WASM_BAD_EXPORT_SIGNATURE, `Bad function signature for: ${name}`);
  }
}

/** cpp-host wasm.cc getFunctions: neither malloc nor proxy_on_memory_allocate. */
export class WasmMissingMallocError extends HostError {
  constructor() {
    super(ErrorCodes.WASM_MISSING_MALLOC, "Wasm module is missing malloc function.");
  }
}

/** _start/_initialize trapped (includes restricted_callback traps). */
export class WasmStartError extends HostError {
  constructor(message: string) {
    super(ErrorCodes.WASM_START_FAILED, message);
  }
}

/** A guest trap while loading or reconfiguring (not during _start). */
export class WasmRuntimeError extends HostError {
  constructor(message: string) {
    super(ErrorCodes.WASM_RUNTIME_ERROR, message);
  }
}

/** proxy_on_vm_start returned false. */
export class PluginVmStartRejectedError extends HostError {
  constructor(pluginName: string) {
    super(ErrorCodes.PLUGIN_VM_START_REJECTED, `Unable to create Wasm HTTP filter ${pluginName}: proxy_on_vm_start returned false`);
  }
}

/** proxy_on_configure returned false (canary): at boot Envoy refuses to start, on update the old config stays. */
export class PluginConfigRejectedError extends HostError {
  constructor(pluginName: string, phase: "load" | "reconfigure") {
    super(
      ErrorCodes.PLUGIN_CONFIG_REJECTED,
      phase === "load"
        ? `Unable to create Wasm HTTP filter ${pluginName}: proxy_on_configure returned false`
        : `Wasm plugin ${pluginName} rejected the new configuration (proxy_on_configure returned false); the previous configuration stays active`,
    );
  }
}

export class HostClosedError extends HostError {
  constructor() {
    super(ErrorCodes.HOST_CLOSED, "plugin host is closed");
  }
}

export class ProxyConfigError extends HostError {
  constructor(message: string) {
    super(ErrorCodes.PROXY_CONFIG_INVALID, message);
  }
}

/**
 * Exit codes of the `edgewatch` command line. Stable: CI scripts may depend on them.
 */
export const EXIT = {
  /** Everything passed. */
  OK: 0,
  /**
   * A check failed: an invalid rules document or plugin configuration (malformed JSON, invalid UTF-8
   * and a BOM included: the document is what is being judged), a doctor FAIL, a bench slower than
   * the tolerance, failing tests.
   */
  CHECK_FAILED: 1,
  /** The command could not run as asked: unknown option, unreadable file, a serve config that does not parse, bad URL. */
  USAGE: 2,
  /** Something the command needs is missing: the .wasm build, Docker, an Envoy binary, a module, the rules service. */
  ENVIRONMENT: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  check failed: an invalid rules document or plugin configuration (malformed JSON included),
     a doctor FAIL, a bench slower than the tolerance, failing tests
  2  usage or input error: bad option, unreadable file, a serve --config that does not parse,
     bad URL; also an unexpected internal error, printed with its stack
  3  environment missing (no .wasm build, Docker/Envoy unavailable, module not found,
     rules service unreachable)`;

/** An error that carries the exit code the CLI should end with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, EXIT.USAGE, hint);
}

export function envError(message: string, hint?: string): CliError {
  return new CliError(message, EXIT.ENVIRONMENT, hint);
}

export function checkFailed(message: string, hint?: string): CliError {
  return new CliError(message, EXIT.CHECK_FAILED, hint);
}

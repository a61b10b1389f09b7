import { ERROR_CODES, type ErrorCode } from './error-codes.js';

export type { ErrorCode } from './error-codes.js';

/**
 * The one error type of hubapps. Every failure that can reach a user or an admin is a
 * HubappsError with a stable `code`, whose HTTP status (or, for the CLI's codes, exit
 * status) comes from the one table in error-codes.ts; the API's error middleware turns it
 * into `{status, message, code}`. Low-level errors (EACCES, sudo's refusal, SQLITE_CONSTRAINT) are
 * translated into one of these at the boundary where they happen, with a message that
 * says what to do.
 */
export class HubappsError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** May the message reach the client? Server-side faults (5xx) default to hidden. */
  readonly expose: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; expose?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = ERROR_CODES[code][0];
    this.expose = options?.expose ?? this.status < 500;
  }
}

/** A configuration or catalog file is wrong; the message names the file and the key. */
export class ConfigError extends HubappsError {
  constructor(
    readonly file: string,
    readonly key: string,
    problem: string,
  ) {
    super('config_invalid', `${file}: ${key ? `key '${key}': ` : ''}${problem}`, { expose: false });
  }
}

/** Node's system errors carry a string `code` (ENOENT, EADDRINUSE, ...). */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

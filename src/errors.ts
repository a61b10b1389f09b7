import type { ErrorCode } from './error-codes.js';

export type { ErrorCode } from './error-codes.js';

/**
 * The one error type of hubapps. Every failure that can reach a user or an admin is a
 * HubappsError with a stable `code`; the API's error middleware turns it into
 * `{status, message, code}`. Low-level errors (EACCES, sudo's refusal, SQLITE_CONSTRAINT) are
 * translated into one of these at the boundary where they happen, with a message that
 * says what to do.
 */
export class HubappsError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** May the message reach the client? Server-side faults (5xx) default to hidden. */
  readonly expose: boolean;

  constructor(code: ErrorCode, status: number, message: string, options?: { cause?: unknown; expose?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.expose = options?.expose ?? status < 500;
  }
}

/** A configuration or catalog file is wrong; the message names the file and the key. */
export class ConfigError extends HubappsError {
  constructor(
    readonly file: string,
    readonly key: string,
    problem: string,
  ) {
    super('config_invalid', 500, `${file}: ${key ? `key '${key}': ` : ''}${problem}`, { expose: false });
  }
}

export const badRequest = (code: ErrorCode, message: string) => new HubappsError(code, 400, message);
export const notFound = (code: ErrorCode, message: string) => new HubappsError(code, 404, message);
export const forbidden = (code: ErrorCode, message: string) => new HubappsError(code, 403, message);
export const conflict = (code: ErrorCode, message: string) => new HubappsError(code, 409, message);

/** Node's system errors carry a string `code` (ENOENT, EADDRINUSE, ...). */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

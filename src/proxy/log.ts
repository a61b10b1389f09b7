/**
 * The proxy's log: one line per event on stderr, which the service has pointed at the
 * per-server log file. Lines never carry the secret or a token; callers pass only paths
 * without query strings and error codes.
 */

/** Network errors that happen in normal operation (a client went away, the app is down): one line, no stack. */
const EXPECTED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOENT', 'EHOSTUNREACH', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} hubapps-proxy: ${message}\n`);
}

/** A short description of an error: the code and message for expected ones, the stack otherwise. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && EXPECTED.has(code)) return `${code} (${err.message})`;
  return err.stack ?? err.message;
}

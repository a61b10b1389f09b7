/**
 * The proxy's log: one line per event on stderr, which the service has pointed at the
 * per-server log file. Lines never carry the secret or a token; callers pass only paths
 * without query strings and error codes.
 */

/** Network errors that happen in normal operation (a client went away, the app is down): one line, no stack. */
const EXPECTED = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOENT',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

import type { LogBudget } from './log-budget.js';

/** Set once a start request says the log's budget; 'version' and 'stop' write a line or two without one. */
let budget: LogBudget | undefined;

export function useLogBudget(b: LogBudget): void {
  budget = b;
}

export function log(message: string): void {
  const line = `${new Date().toISOString()} hubapps-proxy: ${message}\n`;
  if (budget) budget.write(line);
  else process.stderr.write(line);
}

/** A short description of an error: the code and message for expected ones, the stack otherwise. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && EXPECTED.has(code)) return `${code} (${err.message})`;
  return err.stack ?? err.message;
}

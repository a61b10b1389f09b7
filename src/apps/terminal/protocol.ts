/**
 * What travels over the terminal's WebSocket. Binary frames carry bytes: keystrokes from
 * the browser to the shell, output from the shell to the browser. Text frames carry one
 * small JSON control message each. The browser acknowledges every output frame once
 * xterm.js has processed it, which is how output is flow-controlled end to end (see
 * viewer.ts).
 */

/** The WebSocket's path below the terminal's base; `?cols=C&rows=R` gives the browser's size. */
export const SOCKET_PATH = 'socket';

export type ClientControl =
  /** The browser's terminal size changed. */
  | { type: 'resize'; cols: number; rows: number }
  /** The browser has processed this many bytes of output. */
  | { type: 'ack'; bytes: number };

export type ServerControl =
  /** Sent first on every connection: the browser clears its screen; the scrollback replay follows. */
  | { type: 'attached' }
  /** The shell has ended; the server closes the connection and stops. */
  | { type: 'exit'; code: number | null; signal: string | null };

export interface TerminalSize {
  cols: number;
  rows: number;
}

const MAX_COLS = 2000;
const MAX_ROWS = 1000;
/** More than any frame can carry (the WebSocket message limit is far smaller). */
const MAX_ACK = 1 << 30;

/** A size within bounds, or null (a bad size is ignored rather than passed to the pty). */
export function checkSize(cols: unknown, rows: unknown): TerminalSize | null {
  const ok = (v: unknown, max: number): v is number =>
    typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max;
  return ok(cols, MAX_COLS) && ok(rows, MAX_ROWS) ? { cols, rows } : null;
}

/** The size in a connection URL's query (`?cols=120&rows=40`), or null. */
export function sizeFromQuery(search: string): TerminalSize | null {
  const q = new URLSearchParams(search);
  const num = (name: string) => (/^\d{1,4}$/.test(q.get(name) ?? '') ? Number(q.get(name)) : NaN);
  return checkSize(num('cols'), num('rows'));
}

/** Parse a text frame from the browser; anything malformed is null and gets ignored. */
export function parseClientControl(text: string): ClientControl | null {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof msg !== 'object' || msg === null) return null;
  const m = msg as Record<string, unknown>;
  if (m.type === 'resize') {
    const size = checkSize(m.cols, m.rows);
    return size && { type: 'resize', ...size };
  }
  if (
    m.type === 'ack' &&
    typeof m.bytes === 'number' &&
    Number.isInteger(m.bytes) &&
    m.bytes >= 0 &&
    m.bytes <= MAX_ACK
  ) {
    return { type: 'ack', bytes: m.bytes };
  }
  return null;
}

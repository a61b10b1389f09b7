/**
 * The proxy's own answers (errors, "starting", "log in"): a small HTML page for browsers
 * with a link to the launcher, JSON {status, message} for everything else. Never a
 * stack trace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { escapeHtml } from '../../http/html.js';

export interface PageOptions {
  /** Link back to the launcher, e.g. https://hub.example.org/services/hubapps/ */
  launcher: string;
  /** Reload the page after this many seconds (the 'starting' page). */
  refresh?: number;
  /** A "Try again" link, e.g. the server's own address after a refused access code. */
  retry?: string;
  headers?: Record<string, string>;
}

export function wantsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return accept !== undefined && accept.includes('text/html');
}

export function sendPage(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
  opts: PageOptions,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const html = wantsHtml(req);
  const body = html ? htmlPage(status, message, opts) : JSON.stringify({ status, message });
  res.writeHead(status, {
    'content-type': html ? 'text/html; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...opts.headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Refuse a WebSocket upgrade with a plain HTTP answer and close the socket, before anything reaches the app. */
export function refuseUpgrade(socket: Socket, status: number, message: string): void {
  const body = JSON.stringify({ status, message });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}

function htmlPage(status: number, message: string, opts: PageOptions): string {
  const title = `${status} ${STATUS_CODES[status] ?? ''}`;
  const retry = opts.retry ? `<a href="${escapeHtml(opts.retry)}">Try again</a> · ` : '';
  const refresh = opts.refresh ? `<meta http-equiv="refresh" content="${opts.refresh}">` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">${refresh}<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}code{background:#f3f3f3;padding:0 .2em}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p>${retry}<a href="${escapeHtml(opts.launcher)}">Back to the launcher</a></p></body></html>
`;
}

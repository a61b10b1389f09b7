/**
 * A WebSocket (any HTTP upgrade) to the app. The handshake goes to the app on a fresh
 * connection and the app's answer is parsed as HTTP before anything else crosses:
 *
 * - `101`: the two connections become a byte pipe (frames are not parsed; every chunk in
 *   either direction counts as activity). Only now do the client's further bytes reach the app.
 * - anything else (a 404 for a vanished kernel, a 200 from an app without WebSockets, a
 *   redirect): the answer is relayed with `connection: close` and the client connection is
 *   closed once it is sent. Node has already taken the connection away from its HTTP parser
 *   when it emitted 'upgrade', so the proxy could not check a further request on it; a
 *   closed connection cannot carry one (issue 32: a kept pipe let unchecked requests through).
 * - the app closes, times out or answers garbage: 502/504 from the proxy, connection closed.
 */
import {
  request as httpRequest,
  type ClientRequest,
  type ClientRequestArgs,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import type { Socket } from 'node:net';
import type { AppTarget } from '../app/launch-plan.js';

/** The app could not be asked or gave no usable answer; `status` is what the client is told. */
export type UpgradeError = (
  err: Error,
  req: IncomingMessage,
  socket: Socket,
  status: 502 | 504,
) => void;

export interface UpgradeOptions {
  target: AppTarget;
  /** Counts activity. */
  touch: () => void;
  /** Changes the app's answer headers in place (framing, cookie scope), as for plain HTTP. */
  rewrite?: (headers: IncomingHttpHeaders, req: IncomingMessage) => void;
  onError: UpgradeError;
  /** How long the app may take to answer the handshake. */
  handshakeTimeoutMs?: number;
  /** Opens the connection instead of node:http (a user's port checks who accepted it). */
  connect?: ClientRequestArgs['createConnection'];
}

/** Long enough for an app busy starting a kernel; a client that waits longer has given up anyway. */
const HANDSHAKE_TIMEOUT_MS = 30_000;

/** Headers of the app's answer that describe its connection to the proxy, not the message. */
const HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'trailer',
  'upgrade',
]);
const NONE: ReadonlySet<string> = new Set();

export function pipeUpgrade(
  opts: UpgradeOptions,
  req: IncomingMessage,
  client: Socket,
  head: Buffer,
): void {
  const { target } = opts;
  const where =
    'port' in target ? { host: '127.0.0.1', port: target.port } : { socketPath: target.socket };
  // No agent: the connection to the app is this upgrade's alone and is never pooled.
  const toApp = httpRequest({
    ...where,
    method: req.method,
    path: req.url,
    headers: req.headers,
    ...(opts.connect === undefined ? { agent: false } : { createConnection: opts.connect }),
    setHost: false,
  });
  let settled = false;
  const settle = (): boolean => {
    if (settled) return false;
    settled = true;
    clearTimeout(timer);
    return true;
  };
  const timer = setTimeout(() => {
    if (settle())
      fail(
        opts,
        toApp,
        req,
        client,
        new Error(
          `no answer to the handshake within ${Math.round((opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS) / 1000)} s`,
        ),
        504,
      );
  }, opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
  // Until the app answers 101 the client's bytes stay unread in the client socket (Node leaves it paused after 'upgrade').
  client.once('close', () => {
    if (settle()) toApp.destroy();
  });
  toApp.on('upgrade', (answer: IncomingMessage, app: Socket, appHead: Buffer) => {
    if (!settle()) return void app.destroy();
    opts.rewrite?.(answer.headers, req);
    client.write(statusLine(answer) + headerLines(answer.headers, NONE) + '\r\n');
    joinPipes(opts, client, head, app, appHead);
  });
  toApp.on('response', (answer: IncomingMessage) => {
    if (!settle()) return void answer.destroy();
    relayRefusal(opts, req, answer, client);
  });
  toApp.on('error', (err) => {
    if (settle()) fail(opts, toApp, req, client, err, 502);
  });
  toApp.end();
}

/** 101: bytes flow both ways from now on, the client's early bytes (`head`) first. */
function joinPipes(
  opts: UpgradeOptions,
  client: Socket,
  head: Buffer,
  app: Socket,
  appHead: Buffer,
): void {
  app.setNoDelay(true);
  client.setNoDelay(true);
  client.setTimeout(0);
  app.setTimeout(0);
  if (appHead.length > 0) client.write(appHead);
  if (head.length > 0) app.write(head);
  client.on('data', opts.touch);
  app.on('data', opts.touch);
  client.on('error', () => app.destroy());
  app.on('error', () => client.destroy());
  app.on('close', () => client.destroy());
  client.on('close', () => app.destroy());
  client.pipe(app);
  app.pipe(client);
}

/** Not 101: the answer goes to the client with `connection: close`, then both connections close. */
function relayRefusal(
  opts: UpgradeOptions,
  req: IncomingMessage,
  answer: IncomingMessage,
  client: Socket,
): void {
  const done = (): void => {
    answer.socket?.destroy();
    client.destroySoon();
  };
  opts.rewrite?.(answer.headers, req);
  // The body is framed by its length or, without one (a chunked answer), by the close that follows it.
  client.write(
    statusLine(answer) + headerLines(answer.headers, HOP_HEADERS) + 'connection: close\r\n\r\n',
  );
  const status = answer.statusCode ?? 0;
  if (status === 204 || status === 304 || req.method === 'HEAD') {
    answer.resume();
    return done();
  }
  answer.on('end', done);
  answer.on('error', () => client.destroy());
  client.once('close', () => answer.destroy());
  answer.pipe(client, { end: false });
}

function fail(
  opts: UpgradeOptions,
  toApp: ClientRequest,
  req: IncomingMessage,
  client: Socket,
  err: Error,
  status: 502 | 504,
): void {
  toApp.destroy();
  opts.onError(err, req, client, status);
}

function statusLine(answer: IncomingMessage): string {
  return `HTTP/1.1 ${answer.statusCode} ${answer.statusMessage ?? ''}\r\n`;
}

/** The answer's headers, one line per value, without those named in `drop`. */
function headerLines(headers: IncomingHttpHeaders, drop: ReadonlySet<string>): string {
  let text = '';
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || drop.has(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) text += `${name}: ${v}\r\n`;
  }
  return text;
}

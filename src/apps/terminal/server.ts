/**
 * The terminal's own HTTP and WebSocket server. It listens on a unix socket in the
 * user's private (0700) runtime directory and is reached only through the proxy's
 * forwarder, exactly like a catalog app: the proxy has already checked the path, the
 * credential and the Origin of everything that arrives here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { Assets } from './assets.js';
import type { PageInfo } from './page.js';
import { SOCKET_PATH, sizeFromQuery } from './protocol.js';
import type { TerminalSession } from './session.js';

export interface TerminalServerOptions {
  /** Path prefix of the requests that arrive: '/' when the proxy strips the server's prefix. */
  base: string;
  page: PageInfo;
  session: TerminalSession;
  log: (message: string) => void;
}

/** One keystroke batch or a big paste; anything larger is refused by closing the connection. */
const MAX_MESSAGE = 1024 * 1024;

export function createTerminalServer(opts: TerminalServerOptions): Server {
  const assets = new Assets(opts.page);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE,
    perMessageDeflate: false,
    clientTracking: false,
  });
  const server = createServer((req, res) => {
    try {
      serve(req, res, opts.base, assets);
    } catch (err) {
      opts.log(`terminal: ${req.method} ${pathOf(req)} failed: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error of the terminal');
    }
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => undefined);
    if (pathOf(req) !== opts.base + SOCKET_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const query = (req.url ?? '').split('?')[1] ?? '';
    wss.handleUpgrade(req, socket, head, (ws) => opts.session.attach(ws, sizeFromQuery(query)));
  });
  return server;
}

function serve(req: IncomingMessage, res: ServerResponse, base: string, assets: Assets): void {
  const path = pathOf(req);
  const name = path.startsWith(base) ? path.slice(base.length) : null;
  if (name === null || !assets.has(name)) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    return void res.end('not found');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
    return void res.end('method not allowed');
  }
  assets.send(name, req, res);
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0]!;
}

/** Listen on the unix socket `path`. */
export function listenSocket(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

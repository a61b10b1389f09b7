/**
 * The app every hop benchmark talks to: `node tiny-app.js PORT [PORT2]` answers any GET with
 * 1 KiB and echoes every WebSocket message, on 127.0.0.1. Its own cost stays the same on
 * every path, so differences between paths are the hops in front of it. PORT2: the same
 * answers on a second port (a user's own port inside the server, the ports section). A GET
 * of a path ending in /close is answered with `connection: close`, so every hop in front of
 * it has to open a new connection for the next request.
 */
import { createServer, type RequestListener } from 'node:http';
import { WebSocketServer } from 'ws';

const BODY = Buffer.alloc(1024, 'x');
const ports = process.argv.slice(2).map(Number);
if (ports.length < 1 || ports.length > 2 || !ports.every((p) => Number.isInteger(p) && p > 0)) {
  process.stderr.write('usage: tiny-app.js PORT [PORT2]\n');
  process.exit(2);
}

const answer: RequestListener = (req, res) => {
  req.resume();
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain',
    'content-length': BODY.length,
  };
  if (req.url?.endsWith('/close')) headers.connection = 'close';
  res.writeHead(200, headers);
  res.end(BODY);
};

for (const port of ports) {
  const server = createServer(answer);
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) =>
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
  );
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');
}

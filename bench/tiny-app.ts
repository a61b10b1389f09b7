/**
 * The app every hop benchmark talks to: `node tiny-app.js PORT` answers any GET with
 * 1 KiB and echoes every WebSocket message, on 127.0.0.1. Its own cost stays the same on
 * every path, so differences between paths are the hops in front of it.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const BODY = Buffer.alloc(1024, 'x');
const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: tiny-app.js PORT\n');
  process.exit(2);
}

const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  res.end(BODY);
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) =>
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
);
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');

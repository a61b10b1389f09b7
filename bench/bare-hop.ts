/**
 * The reference hop: `node bare-hop.js LISTEN_PORT TARGET_PORT` is http-proxy-3 over a
 * keep-alive agent with WebSockets on, and nothing else (no access check, no activity,
 * no rewriting). What hubapps-proxy costs beyond this is what its own checks cost.
 */
import { Agent, createServer } from 'node:http';
import { createProxyServer } from 'http-proxy-3';

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
if (!listenPort || !targetPort) {
  process.stderr.write('usage: bare-hop.js LISTEN_PORT TARGET_PORT\n');
  process.exit(2);
}

const agent = new Agent({ keepAlive: true, maxFreeSockets: 64, scheduling: 'lifo' });
const proxy = createProxyServer({
  target: { host: '127.0.0.1', port: targetPort },
  agent,
  ws: true,
});
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res) {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  } else {
    res.destroy();
  }
});
const server = createServer((req, res) => proxy.web(req, res));
server.on('upgrade', (req, socket, head) => proxy.ws(req, socket, head));
server.keepAliveTimeout = 65_000;
server.listen(listenPort, '127.0.0.1');

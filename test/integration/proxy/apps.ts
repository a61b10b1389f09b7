/**
 * Small real apps for the proxy tests, written into the temp catalog as .mjs files and
 * run by the proxy as any catalog app would be.
 */
import type { Catalog } from '../../unit/proxy/harness.js';
import { NODE, WS_MODULE } from '../../unit/proxy/harness.js';

/**
 * Echo app: answers every request with JSON {url, method, headers, body}; argv[2] is a
 * port or a unix socket path. Special paths: .../login-redirect (Location: /login and
 * cookies with Path=/), .../one-cookie (a single Set-Cookie), .../abs-redirect (absolute Location on its own host),
 * .../stop-listening (closes its listener and its connections but keeps running: it can no
 * longer be reached), .../exit-N (exits with N), .../stream (1 KiB every 5 ms until the
 * client goes), .../streams (how many streams are open), .../malformed (a response with a
 * control character in a header, written on the raw socket).
 * With WS_MODULE set it also echoes WebSocket messages.
 */
const ECHO = `
import http from 'node:http';
import { createRequire } from 'node:module';
const where = process.argv[2];
let streams = 0;
const server = http.createServer((req, res) => {
  const url = req.url;
  if (url.endsWith('/login-redirect')) {
    res.writeHead(302, { location: '/login', 'set-cookie': ['app=1; Path=/', 'other=2; Path=/sub; HttpOnly', 'plain=3'] });
    return res.end();
  }
  if (url.endsWith('/one-cookie')) {
    res.writeHead(200, { 'set-cookie': 'only=1; Path=/' });
    return res.end('one');
  }
  if (url.endsWith('/abs-redirect')) {
    res.writeHead(302, { location: 'http://' + req.headers.host + '/abs?x=1' });
    return res.end();
  }
  if (url.endsWith('/stream')) {
    streams++;
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const timer = setInterval(() => res.write('x'.repeat(1024)), 5);
    res.on('close', () => { clearInterval(timer); streams--; });
    return;
  }
  if (url.endsWith('/streams')) return res.end(String(streams));
  if (url.endsWith('/malformed')) {
    req.socket.end('HTTP/1.1 200 OK\\r\\nx-bad: a\\u0001b\\r\\ncontent-length: 2\\r\\n\\r\\nok');
    return;
  }
  if (url.endsWith('/stop-listening')) {
    res.writeHead(200, { connection: 'close' });
    res.end('bye');
    server.close();
    setInterval(() => {}, 1000);
    return;
  }
  const exit = /\\/exit-(\\d+)$/.exec(url);
  if (exit) {
    res.end('exiting');
    setTimeout(() => process.exit(Number(exit[1])), 50);
    return;
  }
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url, method: req.method, headers: req.headers, body }));
  });
});
if (process.env.WS_MODULE) {
  const { WebSocketServer } = createRequire(import.meta.url)(process.env.WS_MODULE);
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    console.log('ws connection from origin ' + req.headers.origin);
    ws.send(JSON.stringify({ url: req.url, origin: req.headers.origin ?? null, host: req.headers.host, cookie: req.headers.cookie ?? null, headers: req.headers }));
    ws.on('message', (m) => ws.send('echo:' + m));
  });
}
server.listen(/^\\d+$/.test(where) ? { port: Number(where), host: '127.0.0.1' } : { path: where });
`;

/** Starts `sleep 300` in its process group and `sleep 301` in a new session, writes both pids to argv[3], then serves on port argv[2]. */
const FAMILY = `
import http from 'node:http';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const inGroup = spawn('sleep', ['300'], { stdio: 'ignore' });
const escaped = spawn('sleep', ['301'], { stdio: 'ignore', detached: true });
escaped.unref();
writeFileSync(process.argv[3], JSON.stringify({ inGroup: inGroup.pid, escaped: escaped.pid }));
http.createServer((req, res) => res.end('family')).listen(Number(process.argv[2]), '127.0.0.1');
`;

export interface EchoOptions {
  stripPrefix?: boolean;
  socket?: boolean;
  websocket?: boolean;
  extraEnv?: Record<string, string>;
}

/** Write echo.mjs (once) and an app file NAME.yaml that runs it. */
export function echoApp(catalog: Catalog, name: string, opts: EchoOptions = {}): void {
  const script = catalog.file('echo.mjs', ECHO);
  const env: Record<string, string> = {
    ...(opts.websocket ? { WS_MODULE: WS_MODULE } : {}),
    ...opts.extraEnv,
  };
  catalog.app(
    name,
    [
      `title: Echo ${name}`,
      `command: [${JSON.stringify(NODE)}, ${JSON.stringify(script)}, "${opts.socket ? '{unix_socket}' : '{port}'}"]`,
      `environment: ${JSON.stringify(env)}`,
      `strip_prefix: ${opts.stripPrefix ?? true}`,
      'ready: {path: /ready}',
      '',
    ].join('\n'),
  );
}

/** Write family.mjs and NAME.yaml; the pids of the two sleeps land in `pidFile`. */
export function familyApp(catalog: Catalog, name: string, pidFile: string): void {
  const script = catalog.file('family.mjs', FAMILY);
  catalog.app(
    name,
    `title: Family\ncommand: [${JSON.stringify(NODE)}, ${JSON.stringify(script)}, "{port}", ${JSON.stringify(pidFile)}]\n`,
  );
}

/**
 * An app that refuses WebSocket upgrades the way real ones do, on a keep-alive connection
 * it goes on reading requests from (Node without an 'upgrade' listener treats an upgrade as
 * a plain request, as Tornado answers a vanished kernel's socket with 404). The last path
 * segment picks the refusal: refuse-NNN (that status, with a length), refuse-chunked (404
 * without a length), close (drops the connection unanswered), garbage (not HTTP), stall
 * (never answers). Every request's URL is logged as "app saw URL", so a test can prove
 * what reached the app.
 */
const REFUSING = `
import http from 'node:http';
const where = process.argv[2];
const server = http.createServer((req, res) => {
  console.log('app saw ' + req.url);
  const last = req.url.split('?')[0].split('/').pop();
  const status = /^refuse-(\\d+)$/.exec(last);
  if (status) {
    res.writeHead(Number(status[1]), { 'content-type': 'text/plain', 'set-cookie': 'wide=1; Domain=example.org; Path=/' });
    return res.end('refused by the app');
  }
  if (last === 'refuse-chunked') {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.write('chunked ');
    return res.end('refusal');
  }
  if (last === 'close') return req.socket.destroy();
  if (last === 'garbage') return req.socket.write('NOT HTTP AT ALL\\r\\n\\r\\n');
  if (last === 'stall') return;
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('app content for ' + req.url);
});
server.keepAliveTimeout = 60000;
server.listen(/^\\d+$/.test(where) ? { port: Number(where), host: '127.0.0.1' } : { path: where });
`;

/** Write refusing.mjs (once) and NAME.yaml that runs it on {port} or {unix_socket}. */
export function refusingApp(catalog: Catalog, name: string, opts: { socket?: boolean } = {}): void {
  const script = catalog.file('refusing.mjs', REFUSING);
  catalog.app(
    name,
    [
      `title: Refusing ${name}`,
      `command: [${JSON.stringify(NODE)}, ${JSON.stringify(script)}, "${opts.socket ? '{unix_socket}' : '{port}'}"]`,
      'ready: {path: /ready}',
      '',
    ].join('\n'),
  );
}

/**
 * Catalog apps for the reliability suite, as small as an app can be so that a test can
 * run a hundred of them: each listens on {port} (the only placeholder they use).
 */

/** A socket server that answers every request with 200 "tiny" and closes: python3 starts in ~20 ms and needs ~9 MB. */
const TINY_LOOP = [
  'import socket, sys',
  's = socket.socket()',
  's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
  "s.bind(('127.0.0.1', int(sys.argv[1])))",
  's.listen(128)',
  'while True:',
  '    c = s.accept()[0]',
  '    try:',
  '        c.recv(65536)',
  String.raw`        c.sendall(b'HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\ntiny')`,
  '    except OSError:',
  '        pass',
  '    c.close()',
].join('\n');

const python = (prelude: string[]) => [
  '/usr/bin/python3',
  '-c',
  [...prelude, TINY_LOOP].join('\n'),
  '{port}',
];

/**
 * Answers with who it runs as, which server it is, and the request line and headers it got;
 * accepts WebSocket handshakes (no frames) and reports the Origin it saw. Logs every
 * request line to its server log, so a test can prove a request never reached it.
 */
const ECHO = String.raw`
const http = require('http'), crypto = require('crypto'), os = require('os');
const me = { user: os.userInfo().username, serverId: process.env.HUBAPPS_SERVER_ID };
const srv = http.createServer((q, s) => {
  console.error('echo saw ' + q.method + ' ' + q.url);
  s.setHeader('content-type', 'application/json');
  s.end(JSON.stringify({ ...me, method: q.method, url: q.url, headers: q.headers }));
});
srv.on('upgrade', (q, sock) => {
  console.error('echo saw upgrade ' + q.url);
  const accept = crypto.createHash('sha1').update(q.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC11B5B').digest('base64');
  sock.on('error', () => undefined);
  sock.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ' + accept +
    '\r\nx-app-user: ' + me.user + '\r\nx-seen-origin: ' + encodeURIComponent(q.headers.origin || '') + '\r\n\r\n');
});
srv.listen(+process.argv[1], '127.0.0.1');
`;

/**
 * Refuses every WebSocket upgrade with 404 on a keep-alive connection it goes on reading,
 * as Jupyter does for a kernel that is gone (Node without an 'upgrade' listener answers an
 * upgrade like any request); anything else is 200 with who it runs as. Logs every request.
 */
const KERNELS = String.raw`
const http = require('http'), os = require('os');
const srv = http.createServer((q, s) => {
  console.error('kernels saw ' + q.method + ' ' + q.url);
  if (q.headers.upgrade) {
    s.writeHead(404, { 'content-type': 'text/plain' });
    return s.end('kernel not found');
  }
  s.end('kernels app of ' + os.userInfo().username);
});
srv.keepAliveTimeout = 60000;
srv.listen(+process.argv[1], '127.0.0.1');
`;

export const RELIABILITY_APPS = {
  tiny: { title: 'Tiny', command: python([]), ready: { kind: 'tcp', timeout: 30 } },
  /** Sleeps 3 s before it listens: a start that is still in progress when something happens. */
  slow: {
    title: 'Slow',
    command: python(['import time', 'time.sleep(3)']),
    ready: { kind: 'tcp', timeout: 30 },
  },
  /** Ignores SIGTERM: its stop takes the whole grace period before SIGKILL. */
  stubborn: {
    title: 'Stubborn',
    command: python(['import signal', 'signal.signal(signal.SIGTERM, signal.SIG_IGN)']),
    ready: { kind: 'tcp', timeout: 30 },
  },
  // Braces are doubled: a single one is placeholder syntax in the catalog.
  echo: {
    title: 'Echo',
    command: [process.execPath, '-e', ECHO.replace(/[{}]/g, '$&$&'), '{port}'],
    ready: { timeout: 30 },
  },
  kernels: {
    title: 'Kernels',
    command: [process.execPath, '-e', KERNELS.replace(/[{}]/g, '$&$&'), '{port}'],
    ready: { timeout: 30 },
  },
};

/** What the echo app answers. */
export interface Echo {
  user: string;
  serverId: string;
  method: string;
  url: string;
  headers: Record<string, string>;
}

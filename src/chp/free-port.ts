import { createServer } from 'node:net';

/**
 * A loopback port that was free a moment ago: bind port 0, read the port the kernel chose,
 * close. For programs that cannot listen on port 0 and report the port (CHP falls back to
 * 8000 when given 0). Another process may take the port before the caller binds it, so
 * callers retry on EADDRINUSE.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('the kernel assigned no port'))));
    });
  });
}

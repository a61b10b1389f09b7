/** Loopback ports: one the kernel picks (bind 0), and one from a configured range. */
import { createServer } from 'node:net';
import { HubappsError } from '../errors.js';
import { loopbackListeners } from '../procfs/listeners.js';

/**
 * A loopback port that was free a moment ago: bind port 0, read the port the kernel chose,
 * close. For programs that cannot listen on port 0 and report the port (CHP falls back to
 * 8000 when given 0, apps take a port on their command line). Another process may take the
 * port before the caller binds it (the usual small race, as in JupyterHub), so callers that
 * can retry on EADDRINUSE do.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() =>
        port > 0 ? resolve(port) : reject(new Error('the kernel assigned no port')),
      );
    });
  });
}

/**
 * Can we bind this loopback port right now? (Another local user may hold it.) Under the
 * port guard's bind half (docs/security.md, Local users) a bind to the range is refused
 * (EPERM) to everyone but root and the port's registered owner, the service included, so
 * whether someone else holds it is read from /proc: the guard leaves only root's programs
 * and earlier owners' left-over processes able to hold a port, and those listen.
 */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPERM' && err.code !== 'EACCES') return resolve(false);
      loopbackListeners(port).then(
        (listeners) => resolve(listeners.length === 0),
        () => resolve(false),
      );
    });
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A port from the range that no active server holds and that binds now. Random picks,
 * so concurrent starts rarely collide; the database's unique index settles the rest.
 */
export async function pickPort(
  range: { min: number; max: number },
  used: Set<number>,
  attempts = 50,
): Promise<number> {
  const size = range.max - range.min + 1;
  for (let i = 0; i < Math.min(attempts, size * 2); i++) {
    const port = range.min + Math.floor(Math.random() * size);
    if (used.has(port)) continue;
    if (await portFree(port)) return port;
  }
  throw new HubappsError(
    'no_free_port',
    `no free port in port_range ${range.min}-${range.max}: widen it or stop some servers`,
  );
}

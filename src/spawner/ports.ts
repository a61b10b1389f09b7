import net from 'node:net';
import { HubappsError } from '../errors.js';

/** Can we bind this loopback port right now? (Another local user may hold it.) */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A port from the range that no active server holds and that binds now. Random picks,
 * so concurrent starts rarely collide; the database's unique index settles the rest.
 */
export async function pickPort(range: { min: number; max: number }, used: Set<number>, attempts = 50): Promise<number> {
  const size = range.max - range.min + 1;
  for (let i = 0; i < Math.min(attempts, size * 2); i++) {
    const port = range.min + Math.floor(Math.random() * size);
    if (used.has(port)) continue;
    if (await portFree(port)) return port;
  }
  throw new HubappsError('no_free_port', 503, `no free port in port_range ${range.min}-${range.max}: widen it or stop some servers`);
}

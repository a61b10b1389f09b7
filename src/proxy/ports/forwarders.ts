/**
 * One Forwarder (http/forward.ts) per port address in use, made on first use: each has its
 * own keep-alive pool to 127.0.0.1:PORT, its own prefix (stripped or kept), and confines
 * redirects and cookies to the port's address as a server's forwarder does for the server.
 * At most MAX_LIVE are kept; the least recently used one is closed for a new one (its
 * connections go, a later request makes a fresh one), so a visitor naming thousands of
 * ports cannot hold thousands of pools.
 */
import type { Forwarder, ForwardOptions } from '../http/forward.js';
import type { PortRoute } from './route.js';

export const MAX_LIVE = 32;

type PortForwarder = Pick<Forwarder, 'web' | 'ws' | 'close'>;

export class PortForwarders {
  private readonly live = new Map<string, PortForwarder>();

  constructor(private readonly max = MAX_LIVE) {}

  /** The forwarder for this route (`make` makes a missing one), most recently used from now on. */
  get(route: PortRoute, make: () => PortForwarder): PortForwarder {
    const key = `${route.origin ?? ''} ${route.kind} ${route.port} ${route.prefix}`;
    let fwd = this.live.get(key);
    if (fwd !== undefined) {
      this.live.delete(key);
    } else {
      for (const [oldest, old] of this.live) {
        if (this.live.size < this.max) break;
        this.live.delete(oldest);
        old.close();
      }
      fwd = make();
    }
    this.live.set(key, fwd);
    return fwd;
  }

  get size(): number {
    return this.live.size;
  }

  close(): void {
    for (const fwd of this.live.values()) fwd.close();
    this.live.clear();
  }
}

/** ForwardOptions for a port, from the server's own (framing, activity, error reporting). */
export function portForwardOptions(
  route: PortRoute,
  server: Pick<ForwardOptions, 'publicOrigin' | 'framing' | 'activity' | 'onError'>,
  connectors: ForwardOptions['connectors'],
): ForwardOptions {
  return {
    target: { port: route.port },
    prefix: route.prefix,
    stripPrefix: route.stripPrefix,
    publicOrigin: route.origin ?? server.publicOrigin,
    ownOrigin: route.origin !== undefined,
    framing: server.framing,
    activity: server.activity,
    onError: server.onError,
    ...(connectors === undefined ? {} : { connectors }),
  };
}

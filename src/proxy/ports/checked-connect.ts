/**
 * Connections to a user's port that prove, once connected, whose listener accepted them
 * (procfs/connections.ts). The listener check before a request (listener-check.ts) reads
 * /proc a moment before the proxy connects; a local account that binds the port in that
 * moment (the owner's program has just exited) would still be refused here, since the
 * accepted socket carries its listener's uid. Used for every new connection of a port's
 * keep-alive pool and for every WebSocket handshake.
 */
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptedBy } from '../../procfs/connections.js';

/** A connection refused because the wrong account accepted it; its message is for the visitor. */
export class PortHijacked extends Error {}

export type AcceptedBy = (port: number, localPort: number) => number | null;
type Done = (...args: [null, Socket] | [Error, null]) => void;

export interface CheckedConnectOptions {
  port: number;
  uid: number;
  acceptedBy?: AcceptedBy;
}

/** Connect to 127.0.0.1:port and hand over the socket only when `uid` accepted it. */
export function connectChecked(opts: CheckedConnectOptions, done: Done): void {
  const socket = connect({ host: '127.0.0.1', port: opts.port });
  const onError = (err: Error): void => done(err, null);
  socket.once('error', onError);
  socket.once('connect', () => {
    socket.off('error', onError);
    const uid = (opts.acceptedBy ?? acceptedBy)(opts.port, socket.localPort ?? 0);
    if (uid === opts.uid) return done(null, socket);
    socket.destroy();
    done(
      new PortHijacked(
        uid === null
          ? `nothing listens on port ${opts.port} any more`
          : `port ${opts.port} is held by another account`,
      ),
      null,
    );
  });
}

/** The same for undici's `connect` option (an HTTP pool's new connections). */
export function undiciConnector(
  opts: CheckedConnectOptions,
): (options: unknown, done: Done) => void {
  return (_options, done) => connectChecked(opts, done);
}

/** The same for node:http's `createConnection` option (a WebSocket handshake's connection). */
export function httpConnector(
  opts: CheckedConnectOptions,
): (options: unknown, oncreate: (err: Error | null, socket: Duplex) => void) => undefined {
  return (_options, oncreate) => {
    connectChecked(opts, (err, socket) => oncreate(err, socket as unknown as Duplex));
    return undefined;
  };
}

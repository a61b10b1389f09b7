/**
 * The address of the client behind a request, for limits kept per client. The TCP peer is
 * the client unless it is one of `trusted` (the proxies in front: configurable-http-proxy,
 * nginx); then X-Forwarded-For, which each of those proxies appends to, is read from the
 * right, and the first address that is not a trusted proxy is the client. Whatever the
 * client wrote into the header itself sits further left and is never reached, and a peer
 * that is not a trusted proxy is believed for nothing it says.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface PeerRequest {
  socket: { remoteAddress?: string | undefined };
  headers: IncomingHttpHeaders;
}

export function clientAddress(req: PeerRequest, trusted: ReadonlySet<string>): string {
  const peer = plain(req.socket.remoteAddress ?? '');
  if (!trusted.has(peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((h) => plain(h.trim()))
    .filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted.has(hops[i]!)) return hops[i]!;
  return peer;
}

/** IPv4 peers of a dual-stack socket arrive as ::ffff:a.b.c.d. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

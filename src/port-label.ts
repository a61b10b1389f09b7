import { MAX_LABEL, PLAIN_PART, digest, squeeze } from './host-label.js';

/**
 * The DNS label of a user's own port in the per-server origin layout (docs/apps.md, "Your
 * own ports"): `PORT--p--SERVER--USER` reaches PORT inside alice's server (a program started
 * from its terminal or notebook), `PORT--h--SERVER--USER` a port alice opened elsewhere on
 * this host, reached through that server's proxy.
 *
 * Why not `PORT-p--SERVER--USER`: a server named "8787-p" is a valid plain server name, so
 * that form could not be told from a server's label by its shape. Server labels contain
 * "--" once (plain) or twice (hashed, host-label.ts); port labels three times (plain) or four
 * (hashed), so the count alone says which kind a label is, and no port label can ever equal
 * a server label:
 * - plain: `PORT--K--SERVER--USER` when the server's own label is plain and the whole fits
 *   in 63 characters. It splits back into one (port, kind, server, user).
 * - hashed: `PORT--K--S--U--H` with S and U the names squeezed to 15 characters and H the
 *   same 80-bit digest over the exact (user, server) pair as the server's hashed label.
 * PORT is canonical decimal (1-65535, no leading zero), so one port has one label.
 */
export type PortKind = 'server' | 'host';

const KIND_LETTER: Record<PortKind, string> = { server: 'p', host: 'h' };
const HASHED_PART_MAX = 15;

export function portLabel(user: string, server: string, port: number, kind: PortKind): string {
  if (!isPortNumber(port)) throw new RangeError(`not a port number: ${port}`);
  const head = `${port}--${KIND_LETTER[kind]}--`;
  const plain = `${head}${server}--${user}`;
  if (PLAIN_PART.test(server) && PLAIN_PART.test(user) && plain.length <= MAX_LABEL) return plain;
  const s = squeeze(server, 's', HASHED_PART_MAX);
  const u = squeeze(user, 'u', HASHED_PART_MAX);
  return `${head}${s}--${u}--${digest(user, server)}`;
}

/** The port and kind a label names, or null when it is not a port label's shape (a server label, anything else). */
export function parsePortLabel(label: string): { port: number; kind: PortKind } | null {
  const m = PORT_LABEL.exec(label);
  if (m === null || label.length > MAX_LABEL) return null;
  const port = Number(m[1]);
  if (!isPortNumber(port)) return null;
  return { port, kind: m[2] === 'p' ? 'server' : 'host' };
}

export function isPortNumber(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** PORT--K-- followed by three or four "--"-separated parts of a-z0-9 with single inner hyphens. */
const PORT_LABEL =
  /^([1-9][0-9]{0,4})--([ph])--[a-z0-9]+(?:-[a-z0-9]+)*(?:--[a-z0-9]+(?:-[a-z0-9]+)*){1,2}$/;

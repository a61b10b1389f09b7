import crypto from 'node:crypto';

/**
 * The DNS label of a server in the per-server origin layout: `SERVER--USER`, so alice's
 * server "lab" lives at lab--alice.APPS_DOMAIN.
 *
 * A label must be a valid host-name label (a-z 0-9 and '-', no '-' at either end, at most
 * 63 characters), lower case (browsers lower-case host names and CHP matches exactly), and
 * must never start with "xn--", which browsers decode as punycode. Two different servers
 * must never share a label, or one user's cookies and pages would be another's.
 *
 * Two forms, told apart by how often "--" occurs:
 * - plain: `SERVER--USER` when both names are already lower-case letters, digits and single
 *   inner hyphens, and the label fits. It contains "--" exactly once, so it splits back
 *   into one (server, user) pair: two different pairs cannot meet here.
 * - hashed: everything else (upper case, '.', '_', "--" inside a name, too long):
 *   `S--U--H` with S and U the names squeezed to a-z0-9 and single hyphens (20 characters
 *   at most each) and H 16 base32 characters (80 bits) of SHA-256 over the exact pair.
 *   It contains "--" exactly twice, so it never equals a plain label; two hashed labels
 *   meet only if SHA-256 collides on 80 bits, and starting a server whose label an active
 *   server of another pair already holds is refused anyway (lifecycle/start.ts).
 */
export function hostLabel(user: string, server: string): string {
  const plain = `${server}--${user}`;
  if (
    PLAIN_PART.test(server) &&
    PLAIN_PART.test(user) &&
    plain.length <= MAX_LABEL &&
    !plain.startsWith('xn--')
  )
    return plain;
  const s = squeeze(server, 's');
  return `${s === 'xn' ? 'x' : s}--${squeeze(user, 'u')}--${digest(user, server)}`;
}

/** Is `label` a well-formed label of either form (what the service accepts from a Host header)? */
export function isHostLabel(label: string): boolean {
  return label.length <= MAX_LABEL && LABEL.test(label) && !label.startsWith('xn--');
}

export const MAX_LABEL = 63;
export const PLAIN_PART = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const LABEL = /^[a-z0-9]+(?:--?[a-z0-9]+)*$/;
const PART_MAX = 20;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** a-z0-9 with single inner hyphens, cut to `max` characters; `empty` when nothing is left. */
export function squeeze(name: string, empty: string, max = PART_MAX): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return s || empty;
}

/** 16 base32 characters of SHA-256 over "user NUL server" (NUL cannot occur in either name). */
export function digest(user: string, server: string): string {
  const bytes = crypto.createHash('sha256').update(`${user}\0${server}`).digest();
  let out = '';
  for (let i = 0; i < 16; i++) {
    const bit = i * 5;
    const byte = bit >> 3;
    const word = (bytes[byte]! << 8) | bytes[byte + 1]!;
    out += BASE32[(word >> (11 - (bit & 7))) & 31];
  }
  return out;
}

/**
 * Small, allocation-shy helpers for request URLs on the hot path: refusing '..' segments
 * (also when percent-encoded) and taking the `token` parameter out of a query string
 * while leaving every other parameter byte for byte as the client sent it.
 */

export type PathCheck = 'ok' | 'dotdot' | 'bad-encoding';

/** Does the path of `url` (query ignored) contain a '..' segment, after percent-decoding? */
export function checkPath(url: string): PathCheck {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.includes('%') && !path.includes('..')) return 'ok';
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return 'bad-encoding';
  }
  for (const segment of decoded.split(/[/\\]/)) {
    if (segment === '..') return 'dotdot';
  }
  return 'ok';
}

/** The value of the `token` query parameter and the URL without it; token null when absent. */
export function takeTokenParam(url: string): { url: string; token: string | null } {
  const q = url.indexOf('?');
  if (q < 0 || !url.includes('token=', q)) return { url, token: null };
  let token: string | null = null;
  const kept: string[] = [];
  for (const param of url.slice(q + 1).split('&')) {
    if (param.startsWith('token=')) {
      try {
        token = decodeURIComponent(param.slice(6).replace(/\+/g, ' '));
      } catch {
        token = param.slice(6);
      }
    } else if (param !== '') {
      kept.push(param);
    }
  }
  const path = url.slice(0, q);
  return { url: kept.length ? `${path}?${kept.join('&')}` : path, token: token || null };
}

const UNSAFE_TARGET = /[\\\u0000-\u001f\u007f]/;

/** Where to send a browser after it signed in: `next` only when it stays below `prefix` (it is data from the browser), else the prefix. */
export function targetBelow(next: string, prefix: string): string {
  if (!next.startsWith(prefix) || UNSAFE_TARGET.test(next) || checkPath(next) !== 'ok')
    return prefix;
  return next;
}

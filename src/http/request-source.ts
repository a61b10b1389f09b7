/**
 * Where did a browser request come from? On the shared origin every server's pages and
 * the launcher are same-origin with each other, so Origin alone cannot tell alice's page
 * from bob's. Browsers say more: Sec-Fetch-Site/-Mode/-Dest (fetch metadata, sent to
 * https and localhost origins) and Referer, whose path names the page. A request that is
 * not a plain top-level GET navigation (a fetch, an iframe, a form POST) must come from a
 * page below `own` (the server's prefix, or the launcher's); a same-origin one without a
 * Referer (`referrerpolicy=no-referrer`) is refused too, since the sender chose to hide.
 * Requests without any of these headers are not from a browser that says where it is, and
 * are judged by their credential alone. WebSocket handshakes carry only Origin (browsers
 * send no Referer and no fetch metadata there), so this check cannot place them on a path.
 */
import type { IncomingHttpHeaders } from 'node:http';

export type RequestSource =
  /** A top-level GET/HEAD navigation: a link, a bookmark, a typed address. */
  | 'navigation'
  /** A sub-request, framed page or state change from a page below `own`. */
  | 'own-page'
  /** From a page outside `own`, another site, or one that hid where it is. */
  | 'foreign'
  /** No header says where it comes from: a script or an old browser. */
  | 'unknown';

const SAFE = new Set(['GET', 'HEAD']);

export interface SourceRequest {
  method?: string;
  headers: IncomingHttpHeaders;
}

/**
 * @param own path prefix whose pages count as "ours", e.g. /apps/alice/lab/ or /services/hubapps/
 * @param origins the public origins (lower case) that are this site
 * @param upgrade a WebSocket handshake
 */
export function requestSource(
  req: SourceRequest,
  own: string,
  origins: ReadonlySet<string>,
  upgrade = false,
): RequestSource {
  const h = req.headers;
  const site = one(h['sec-fetch-site']);
  const mode = one(h['sec-fetch-mode']);
  const dest = one(h['sec-fetch-dest']);
  const safe = !upgrade && SAFE.has(req.method ?? 'GET');
  if (safe && mode === 'navigate' && (dest === undefined || dest === 'document'))
    return 'navigation';
  const referer = one(h.referer);
  if (site !== undefined) {
    if (site !== 'same-origin') return 'foreign';
    return referer !== undefined && under(referer, own, origins) ? 'own-page' : 'foreign';
  }
  const origin = one(h.origin);
  if (origin !== undefined && !origins.has(origin.toLowerCase())) return 'foreign';
  if (referer !== undefined) return under(referer, own, origins) ? 'own-page' : 'foreign';
  // Same-origin Origin without a Referer: a WebSocket (never has one) or a page that hid it.
  return origin === undefined || upgrade ? 'unknown' : 'foreign';
}

/**
 * A page load inside a frame of another site (fetch metadata only: browsers without it are
 * never taken for one). Such a load carries only cookies partitioned to the frame's top-level site.
 */
export function crossSiteFrameLoad(req: SourceRequest): boolean {
  return framedLoad(req) && one(req.headers['sec-fetch-site']) === 'cross-site';
}

/** A GET page load into a frame (an iframe's src, or a frame navigating itself). */
export function framedLoad(req: SourceRequest): boolean {
  const dest = one(req.headers['sec-fetch-dest']);
  return (
    SAFE.has(req.method ?? 'GET') &&
    one(req.headers['sec-fetch-mode']) === 'navigate' &&
    (dest === 'iframe' || dest === 'frame')
  );
}

/** Is `url` a page of one of `origins` whose path is below `own`? */
export function under(url: string, own: string, origins: ReadonlySet<string>): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return origins.has(parsed.origin.toLowerCase()) && parsed.pathname.startsWith(own);
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

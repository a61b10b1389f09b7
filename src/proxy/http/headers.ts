/**
 * The headers the proxy owns on the way to and from the app. Towards the app: the
 * forwarding headers say what the proxy saw, whatever the client claimed (a client's own
 * X-Forwarded-*, Forwarded or X-Real-IP is dropped, not appended to). Back to the
 * browser: Set-Cookie paths stay inside the server's prefix, the framing policy
 * (protocol/wire.ts FramingPolicy) is added to every answer, and Referrer-Policy is
 * `same-origin`, so the app's pages name themselves to the proxy and to nobody else.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FramingPolicy } from '../../protocol/wire.js';
import type { PrefixRewriter } from './rewrite.js';
import { withOnePath } from './cookie-scope.js';

const CLIENT_FORWARDING = /^(x-forwarded-|x-real-ip$|forwarded$)/;
const HUBAPPS_OWNED = /^x-hubapps-/;

/**
 * A header name as apps read it: WSGI, CGI, PHP and Rack turn `-` into `_` and fold case,
 * so `X_Hubapps_User` reaches them as the same variable as `X-Hubapps-User` (and both
 * values joined). Node keeps `_` in names, so every check on a name it owns compares this form.
 */
export function normalHeaderName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/** Remove every header that names itself after one of the proxy's own (X-Hubapps-*), in any spelling. */
export function dropHubappsHeaders(h: IncomingHttpHeaders): void {
  for (const name of Object.keys(h)) if (HUBAPPS_OWNED.test(normalHeaderName(name))) delete h[name];
}

/** Replace every forwarding header, in any spelling, with the proxy's own view: the peer it saw, the public scheme and host. */
export function setForwardedHeaders(
  h: IncomingHttpHeaders,
  peer: string,
  proto: string,
  publicHost: string | null,
): void {
  for (const name of Object.keys(h))
    if (CLIENT_FORWARDING.test(normalHeaderName(name))) delete h[name];
  h['x-forwarded-for'] = peer;
  h['x-forwarded-proto'] = proto;
  if (publicHost !== null) h['x-forwarded-host'] = publicHost;
}

/**
 * The CSP directive for the framing policy. 'self' is the whole shared origin in the path
 * layout; the proxy itself refuses frames from pages outside the prefix
 * (http/request-source.ts). Embedding sites are named one by one, never by wildcard.
 */
export function frameAncestors(framing: FramingPolicy): string {
  const sources = [
    ...(framing.frames === 'server' ? ["'self'"] : []),
    ...(framing.embedders ?? []),
  ];
  return `frame-ancestors ${sources.length === 0 ? "'none'" : sources.join(' ')}`;
}

export class ResponseHeaders {
  private readonly frameAncestors: string;
  private readonly frameOptions: string;

  /**
   * @param prefix e.g. /apps/alice/lab/
   * @param rewriter set for strip_prefix apps, whose Location and cookie paths move under the prefix
   */
  constructor(
    private readonly prefix: string,
    private readonly framing: FramingPolicy,
    private readonly rewriter: PrefixRewriter | null,
  ) {
    this.frameAncestors = frameAncestors(framing);
    // Browsers that know frame-ancestors ignore X-Frame-Options; older ones get the stricter of the two.
    this.frameOptions = framing.frames === 'none' ? 'DENY' : 'SAMEORIGIN';
  }

  apply(headers: IncomingHttpHeaders, requestHost: string | undefined): void {
    if (this.rewriter !== null && headers.location !== undefined)
      headers.location = this.rewriter.location(headers.location, requestHost);
    const cookies = headers['set-cookie'];
    if (cookies !== undefined) headers['set-cookie'] = cookies.map((c) => this.confineCookie(c));
    const csp = headers['content-security-policy'];
    // A second policy can only narrow the app's own (browsers enforce every policy in the list).
    headers['content-security-policy'] = csp
      ? `${csp}, ${this.frameAncestors}`
      : this.frameAncestors;
    headers['x-frame-options'] = this.frameOptions;
    // The page's own sub-requests must name it in Referer (http/request-source.ts); other sites still get none.
    headers['referrer-policy'] = 'same-origin';
    if (this.framing.popups === 'isolate')
      headers['cross-origin-opener-policy'] = 'noopener-allow-popups';
  }

  /** A cookie path outside the prefix (apps that see the full path may still say Path=/) becomes the prefix. */
  private confineCookie(value: string): string {
    if (this.rewriter !== null) return this.rewriter.setCookie(value);
    return withOnePath(value, (path) => (path.startsWith(this.prefix) ? path : this.prefix));
  }
}

/**
 * On the hub's shared origin every server's pages are same-origin with each other, and a
 * WebSocket handshake carries nothing (no Referer, no fetch metadata) that tells a page of
 * bob's server from one of alice's. So when alice visits bob's server (as a hub admin, or
 * through a role), his pages reach her browser as a sandbox without allow-same-origin: they
 * run in an opaque origin, their requests are cross-site (her Lax cookies stay home, her
 * proxies refuse their Origin "null"), and they cannot script her other tabs.
 */
export const VISITOR_SANDBOX =
  'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads allow-top-navigation-by-user-activation';

/** Add VISITOR_SANDBOX to an answer's policies (a further policy can only narrow the app's own). */
export function sandboxForVisitor(headers: IncomingHttpHeaders): void {
  const csp = headers['content-security-policy'];
  headers['content-security-policy'] = csp ? `${csp}, ${VISITOR_SANDBOX}` : VISITOR_SANDBOX;
}

/**
 * Cross-site use of a port (config user_ports.cors): a page of an origin the admin listed
 * for the port's range may call it with `Authorization: token T`. Such requests carry no
 * cookies to the port (the proxy removes them, and never answers with
 * Access-Control-Allow-Credentials, so a browser does not expose a cookie-bearing answer);
 * the token is the only credential. The answer names the calling origin, never `*`, with
 * `Vary: Origin` so a cache does not hand it to another origin. Preflights are answered
 * by the proxy: the app never sees an OPTIONS it did not ask for.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PortPolicy } from '../../protocol/wire.js';

const PREFLIGHT_MAX_AGE_S = 600;
const TOKEN_HEADER = /^(?:token|bearer)\s+\S+\s*$/i;

/** The request's Origin when the admin allows it for `port` (as the admin wrote it), else null. */
export function allowedCorsOrigin(
  req: IncomingMessage,
  port: number,
  policy: PortPolicy,
): string | null {
  const origin = req.headers.origin?.toLowerCase();
  if (origin === undefined) return null;
  for (const rule of policy.cors) {
    if (port < rule.ports[0] || port > rule.ports[1]) continue;
    const hit = rule.origins.find((o) => o.toLowerCase() === origin);
    if (hit !== undefined) return hit;
  }
  return null;
}

export function isPreflight(req: IncomingMessage): boolean {
  return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
}

/** The headers that let `origin` read an answer. */
export function corsHeaders(origin: string): Record<string, string> {
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

/** Answer a preflight from an allowed origin: any method, the headers it asked for. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, origin: string): void {
  const headers: Record<string, string | number> = {
    ...corsHeaders(origin),
    'access-control-allow-methods': String(req.headers['access-control-request-method']).slice(
      0,
      200,
    ),
    'access-control-max-age': PREFLIGHT_MAX_AGE_S,
    'content-length': 0,
  };
  const asked = req.headers['access-control-request-headers'];
  if (asked !== undefined) headers['access-control-allow-headers'] = asked.slice(0, 1000);
  res.writeHead(204, headers);
  res.end();
}

/**
 * Make a cross-site request token-only: its cookies go (they are the visitor's, sent by a
 * page of another site), and without a token it is refused rather than sent to log in.
 */
export function tokenOnly(req: IncomingMessage): { ok: true } | { ok: false; message: string } {
  delete req.headers.cookie;
  if (TOKEN_HEADER.test(req.headers.authorization ?? '')) return { ok: true };
  return {
    ok: false,
    message:
      "a cross-site request to a port needs the header 'Authorization: token YOUR_API_TOKEN' (cookies are not used for it)",
  };
}

/**
 * Who may use this server: every proxied request and upgrade carries a credential, in
 * this order: the proxy's session cookie, `Authorization: token|Bearer T`, or `?token=T`.
 * Tokens are checked with the service (TokenChecker); a browser that logs in with
 * ?token= gets a session cookie and is redirected to the URL without the token. A browser
 * that navigates here with no credential at all is sent to the service's authorize page,
 * which comes back with a one-time code (grant.ts) that also ends in a session cookie. The
 * proxy's cookie, and an Authorization header that carried our token, never reach the app.
 */
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { TokenChecker, TokenVerdict } from './token-check.js';
import { takeTokenParam } from './url-path.js';
import { wantsHtml } from './pages.js';

export type Decision =
  | { ok: true; setCookie?: string; redirect?: string }
  | { ok: false; status: 401 | 403 | 503; message: string }
  /** Not allowed yet: a browser goes to `location` (the service's authorize page) to get in. */
  | { ok: false; status: 302; message: string; location: string };

/** Sessions live in memory only; a restarted proxy asks for the token again. */
const SESSION_TTL_MS = 12 * 3600 * 1000;
const MAX_SESSIONS = 1000;
const ALLOWED: Decision = { ok: true };
const AUTH_SCHEME = /^(?:token|bearer)\s+(\S+)\s*$/i;

export interface AccessOptions {
  serverId: number;
  prefix: string;
  /** Send the cookie with Secure (the public origin is https). */
  secureCookie: boolean;
  /**
   * The server has its own origin: the cookie is `__Host-hubapps-ID; Path=/; Secure` (no
   * Domain), which a sibling host on the apps domain can neither set nor overwrite, and it
   * is the only cookie name trusted for access. Browsers accept Secure cookies from https
   * origins and from http://*.localhost (the demo).
   */
  hostCookie?: boolean;
  /** The service's authorize page for this server, e.g. https://hub.example.org/services/hubapps/authorize?user=alice&server=lab (`&next=` is appended). */
  authorizeUrl: string;
}

export class Access {
  readonly cookieName: string;
  private readonly sessions = new Map<string, number>();
  private readonly cookieAttributes: string;
  private readonly loginHint: string;
  private readonly authorizeUrl: string;

  constructor(
    private readonly tokens: TokenChecker,
    opts: AccessOptions,
  ) {
    this.authorizeUrl = `${opts.authorizeUrl}&next=`;
    this.cookieName = opts.hostCookie ? `__Host-hubapps-${opts.serverId}` : `hubapps-proxy-${opts.serverId}`;
    this.cookieAttributes = opts.hostCookie
      ? '; Path=/; Secure; HttpOnly; SameSite=Lax'
      : `; Path=${opts.prefix}; HttpOnly; SameSite=Lax${opts.secureCookie ? '; Secure' : ''}`;
    this.loginHint = `log in: open this URL with ?token=YOUR_API_TOKEN, or send the header 'Authorization: token YOUR_API_TOKEN'`;
  }

  /** Decide about a request; synchronous for a valid session cookie or a freshly checked token (the common cases). */
  authorize(req: IncomingMessage, upgrade: boolean): Decision | Promise<Decision> {
    const cookie = req.headers.cookie;
    if (cookie !== undefined && cookie.includes(this.cookieName)) {
      const { rest, value } = takeCookie(cookie, this.cookieName);
      if (rest) req.headers.cookie = rest;
      else delete req.headers.cookie;
      if (value !== null && this.validSession(value)) return dropTokenParam(req);
    }
    const header = req.headers.authorization;
    const fromHeader = header === undefined ? null : AUTH_SCHEME.exec(header);
    if (fromHeader) {
      const onVerdict = (verdict: TokenVerdict): Decision => {
        if (verdict !== 'allowed') return this.verdictDecision(verdict);
        delete req.headers.authorization;
        return dropTokenParam(req);
      };
      const verdict = this.tokens.check(fromHeader[1]!);
      return typeof verdict === 'string' ? onVerdict(verdict) : verdict.then(onVerdict);
    }
    const { url, token } = takeTokenParam(req.url ?? '/');
    if (token === null) return this.noCredential(req, upgrade);
    const onVerdict = (verdict: TokenVerdict): Decision => {
      if (verdict !== 'allowed') return this.verdictDecision(verdict);
      req.url = url;
      if (upgrade || (req.method !== 'GET' && req.method !== 'HEAD')) return ALLOWED;
      return { ok: true, setCookie: this.sessionCookie(), redirect: url };
    };
    const verdict = this.tokens.check(token);
    return typeof verdict === 'string' ? onVerdict(verdict) : verdict.then(onVerdict);
  }

  /** A Set-Cookie value for a fresh session: the ?token= login and a redeemed grant end here. */
  sessionCookie(): string {
    return `${this.cookieName}=${this.newSession()}${this.cookieAttributes}`;
  }

  /**
   * Browser navigations go through the service's authorize page, which knows the launcher
   * session; anything else (API clients, uploads, WebSockets, sub-resources) gets 401, as
   * a redirect to an HTML login would only confuse it.
   */
  private noCredential(req: IncomingMessage, upgrade: boolean): Decision {
    const message = `authentication required: ${this.loginHint}`;
    if (upgrade || (req.method !== 'GET' && req.method !== 'HEAD') || !wantsHtml(req)) return { ok: false, status: 401, message };
    return { ok: false, status: 302, message, location: this.authorizeUrl + encodeURIComponent(req.url ?? '/') };
  }

  private verdictDecision(verdict: TokenVerdict): Decision {
    if (verdict === 'allowed') return ALLOWED;
    if (verdict === 'denied') return { ok: false, status: 403, message: 'this token may not use this server: it belongs to another user or is not valid' };
    return { ok: false, status: 503, message: 'cannot check the token right now: the hubapps service does not answer; try again shortly' };
  }

  private validSession(value: string): boolean {
    const until = this.sessions.get(value);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.sessions.delete(value);
    return false;
  }

  private newSession(): string {
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const value = randomBytes(32).toString('base64url');
    this.sessions.set(value, Date.now() + SESSION_TTL_MS);
    return value;
  }
}

/**
 * A `token` query parameter never reaches the app, whichever credential let the request
 * in: an admin's token in the URL must not be readable by the user's app.
 */
function dropTokenParam(req: IncomingMessage): Decision {
  const url = req.url!;
  if (url.includes('token=')) req.url = takeTokenParam(url).url;
  return ALLOWED;
}

/** Split our cookie out of a Cookie header: its value (null if absent) and the header without it. */
export function takeCookie(header: string, name: string): { value: string | null; rest: string } {
  let value: string | null = null;
  const kept: string[] = [];
  for (const part of header.split(';')) {
    const p = part.trim();
    if (p.startsWith(name) && p.charCodeAt(name.length) === 61 /* = */) value = p.slice(name.length + 1);
    else if (p !== '') kept.push(p);
  }
  return { value, rest: kept.join('; ') };
}

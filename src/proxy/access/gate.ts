/**
 * Who may use this server: every proxied request and upgrade carries a credential, either
 * the proxy's session cookie or `Authorization: token|Bearer T` (checked with the service,
 * TokenChecker). A credential in the URL (`?token=`) is no credential: it is taken out of
 * the URL and ignored, so a link can never log one browser in as someone else. A browser
 * that navigates here without the cookie is sent to the service's authorize page with a
 * fresh grant cookie whose hash goes along: the one-time code that comes back (grant.ts)
 * works only in the browser holding that cookie. Session cookies name the launcher
 * session that granted them and are re-validated with the service (SessionChecker) at
 * least every REVALIDATE_MS (config session_revalidate); WebSockets opened with a session
 * are re-validated on the same schedule and closed when the answer is no (a revoked share,
 * a logout). The proxy's cookies, and an Authorization header that carried our token, never
 * reach the app; USER_HEADER names the browser session's user to the app and is never
 * taken from the client.
 */
import { SessionSockets } from './session-sockets.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import type { TokenChecker, TokenIdentity, TokenVerdict } from './token-check.js';
import type { PortKind } from '../../port-label.js';
import { REVALIDATE_MS, type SessionChecker } from './session-check.js';
import { AccessCookies, type CookieOptions } from './access-cookies.js';
import { takeTokenParam } from '../http/url-path.js';
import { wantsHtml, type PageOptions } from '../http/pages.js';
import { framedLoad } from '../../http/request-source.js';
import { dropHubappsHeaders } from '../http/headers.js';

/** Who is visiting, for the app: set from the proxy's session; every X-Hubapps-* a client sends is removed, however spelled. */
export const USER_HEADER = 'x-hubapps-user';
/** Whose server this is, for the app: on every request it gets, set by the proxy as USER_HEADER is. */
export const OWNER_HEADER = 'x-hubapps-owner';

export type Decision =
  /** Let in: `user` is who the session or token belongs to. */
  | { ok: true; user: string }
  | { ok: false; status: 401 | 403 | 503; message: string }
  /** Not allowed yet: a browser goes to `location` (the service's or the hub's authorize page) with `setCookie` (its grant or state cookie) to get in. */
  | { ok: false; status: 302; message: string; location: string; setCookie: string | string[] }
  /** Not allowed yet, inside a frame: the sign-in page opens `authorizeUrl` in a popup and sets `setCookie` (a partitioned grant cookie). */
  | {
      ok: false;
      status: 401;
      message: string;
      signIn: { authorizeUrl: string; setCookie: string };
    };

/**
 * What the listener asks of an access policy for the server's own paths: the service's
 * (Access) or, for a server JupyterHub started, the hub's (HubAccess in hub-gate.ts).
 */
export interface AccessGate {
  authorize(req: IncomingMessage, upgrade: boolean, port?: PortScope): Decision | Promise<Decision>;
  /** An upgraded connection let in by a browser session: closed when that session's access ends. */
  track(req: IncomingMessage, socket: Duplex): void;
}

/**
 * Where a browser brings back what it got from its sign-in (a one-time code), below the
 * server prefix: the service's grant endpoint (grant.ts) or the hub's OAuth callback
 * (hub-oauth.ts). The listener answers it only to top-level page loads.
 */
export interface SignInEndpoint {
  /** The full path, e.g. /apps/alice/lab/_hubapps/grant or /user/alice/lab/oauth_callback. */
  readonly path: string;
  /** Is this request URL (path and query) the endpoint? */
  matches(url: string): boolean;
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    url: string,
    page: PageOptions,
    port?: PortScope,
  ): Promise<void>;
}

/** Sessions live in memory only; a restarted proxy sends the browser through authorize again. */
const SESSION_TTL_MS = 12 * 3600 * 1000;
/**
 * One user's browsers, tabs and repeated grants: a new session beyond this pushes out that
 * user's own oldest, so one visitor looping through authorize cannot evict anyone else.
 */
const MAX_SESSIONS_PER_USER = 20;
/** A backstop for the whole table, far above what the owner and the visitors of one server hold. */
const MAX_SESSIONS = 10_000;
/** A grant cookie outlives the round trip through authorize (and a login on the way) by a margin. */
const GRANT_COOKIE_MAX_AGE_S = 600;
const AUTH_SCHEME = /^(?:token|bearer)\s+(\S+)\s*$/i;
const LOGIN_HINT =
  "log in through the launcher, or send the header 'Authorization: token YOUR_API_TOKEN' (tokens in the URL are not accepted)";

export interface AccessOptions extends CookieOptions {
  /** The service's authorize page for this server, e.g. https://hub.example.org/services/hubapps/authorize?user=alice&server=lab (`&binding=…&next=` is appended). */
  authorizeUrl: string;
  /** How long a checked session is trusted (REVALIDATE_MS; shorter in tests). */
  revalidateMs?: number;
  /**
   * Other sites may frame the server (config app_embedding.allow): a framed page load
   * without a cookie gets the sign-in page instead of a redirect, and the cookies set for
   * a frame are partitioned to its top-level site (access-cookies.ts).
   */
  embedding?: boolean;
  /** The server's owner, named to the app in OWNER_HEADER. */
  owner?: string;
}

/**
 * A user's own port on its own host (per-server origins): its session cookies are its own,
 * granted for that port, and a browser without one asks authorize for that port.
 */
export interface PortScope {
  port: number;
  kind: PortKind;
}

interface Session {
  until: number;
  /** '' for the server itself, 'PORT/KIND' for a port host: a session is accepted only where it was granted. */
  scope: string;
  /** Who the service granted access to (owner, admin or visitor). */
  user: string;
  /** The launcher session behind it, as the service named it. */
  launcherSession: string;
  checkedAt: number;
}

export class Access implements AccessGate {
  readonly cookies: AccessCookies;
  private readonly sessions = new Map<string, Session>();
  /** Each user's session cookie values, oldest first. */
  private readonly byUser = new Map<string, Set<string>>();
  private readonly embedding: boolean;
  private readonly authorizeUrl: string;
  private readonly revalidateMs: number;
  private readonly owner: string | undefined;
  /** Open WebSockets by the session cookie that let them in. */
  private readonly sockets: SessionSockets;
  /** The session cookie value that let a request in, for track(). */
  private readonly sessionOf = new WeakMap<IncomingMessage, string>();

  constructor(
    private readonly tokens: TokenChecker,
    private readonly sessionChecker: SessionChecker,
    opts: AccessOptions,
  ) {
    this.authorizeUrl = opts.authorizeUrl;
    this.revalidateMs = opts.revalidateMs ?? REVALIDATE_MS;
    this.sockets = new SessionSockets(this.revalidateMs, () => this.sweep());
    this.cookies = new AccessCookies(opts);
    this.embedding = opts.embedding === true;
    this.owner = opts.owner;
  }

  /**
   * Decide about a request; synchronous for a recently checked session cookie or a cached
   * token (the common cases). `port`: the request is for a port's own host.
   */
  authorize(
    req: IncomingMessage,
    upgrade: boolean,
    port?: PortScope,
  ): Decision | Promise<Decision> {
    if (req.url !== undefined && req.url.includes('token=')) req.url = takeTokenParam(req.url).url;
    dropHubappsHeaders(req.headers);
    if (this.owner !== undefined) req.headers[OWNER_HEADER] = this.owner;
    const cookie = req.headers.cookie;
    let stale: string | null = null;
    const name = this.cookies.sessionName;
    if (cookie !== undefined && cookie.includes(name)) {
      const { rest, value } = takeCookie(cookie, name);
      if (rest) req.headers.cookie = rest;
      else delete req.headers.cookie;
      let session = value === null ? undefined : this.session(value);
      if (session !== undefined && session.scope !== scopeOf(port)) session = undefined;
      if (session && Date.now() - session.checkedAt < this.revalidateMs)
        return this.letIn(req, value!, session);
      if (session) stale = value;
    }
    const header = req.headers.authorization;
    const fromHeader = header === undefined ? null : AUTH_SCHEME.exec(header);
    if (fromHeader && stale === null) {
      const onVerdict = (who: TokenIdentity): Decision => {
        if (who.verdict !== 'allowed' || who.user === null)
          return this.verdictDecision(who.verdict);
        delete req.headers.authorization;
        return { ok: true, user: who.user };
      };
      const who = this.tokens.identify(fromHeader[1]!);
      return 'verdict' in who ? onVerdict(who) : who.then(onVerdict);
    }
    if (stale !== null) return this.revalidate(stale, req, upgrade, port);
    return this.noCredential(req, upgrade, port);
  }

  /**
   * A Set-Cookie value for a fresh session granted by `launcherSession`: a redeemed grant
   * ends here. `framed`: redeemed inside another site's frame, so the cookie is partitioned.
   * `port`: redeemed on that port's own host, where alone the session is accepted.
   */
  sessionCookie(launcherSession: string, user: string, framed = false, port?: PortScope): string {
    let own = this.byUser.get(user);
    if (own !== undefined && own.size >= MAX_SESSIONS_PER_USER)
      this.end(own.values().next().value!);
    if (this.sessions.size >= MAX_SESSIONS) this.end(this.sessions.keys().next().value!);
    const value = randomBytes(32).toString('base64url');
    const now = Date.now();
    this.sessions.set(value, {
      until: now + SESSION_TTL_MS,
      scope: scopeOf(port),
      user,
      launcherSession,
      checkedAt: now,
    });
    own = this.byUser.get(user);
    if (own === undefined) this.byUser.set(user, (own = new Set()));
    own.add(value);
    return `${this.cookies.sessionName}=${value}${this.cookies.sessionAttributes(framed)}`;
  }

  /** Do cookies set in answer to this request go to a frame's partition? Only when embedding is on. */
  framed(req: IncomingMessage): boolean {
    return this.embedding && framedLoad(req);
  }

  /** The grant cookie's value in a request (null if absent), and the Set-Cookie that removes it. */
  takeGrantCookie(req: IncomingMessage, framed = false): { value: string | null; clear: string } {
    const header = req.headers.cookie;
    const name = this.cookies.grantName;
    const value = header === undefined ? null : takeCookie(header, name).value;
    return { value, clear: `${name}=${this.cookies.grantAttributes(framed)}; Max-Age=0` };
  }

  private async revalidate(
    value: string,
    req: IncomingMessage,
    upgrade: boolean,
    port: PortScope | undefined,
  ): Promise<Decision> {
    const session = this.sessions.get(value);
    if (!session) return this.noCredential(req, upgrade, port);
    const verdict = await this.sessionChecker.check(session.launcherSession);
    // The service being down revokes nothing: the session keeps working and is checked again on the next request.
    if (verdict !== 'ended') {
      if (verdict === 'valid') session.checkedAt = Date.now();
      return this.letIn(req, value, session);
    }
    this.end(value);
    return this.noCredential(req, upgrade, port);
  }

  /**
   * An upgraded connection that `authorize` let in with a session cookie: it is closed
   * when a later re-validation of that session says no. Requests let in by a token are
   * not tracked (a token is checked again on each new connection).
   */
  track(req: IncomingMessage, socket: Duplex): void {
    const value = this.sessionOf.get(req);
    if (value === undefined || !this.sessions.has(value)) return;
    this.sockets.add(value, socket);
  }

  /** Ask the service about every session that holds open WebSockets, once per interval, so a revoked one loses them in time. */
  private async sweep(): Promise<void> {
    await Promise.all(
      this.sockets.sessions().map(async (value) => {
        const session = this.session(value);
        const verdict = session
          ? await this.sessionChecker.check(session.launcherSession)
          : 'ended';
        if (verdict === 'valid' && session) session.checkedAt = Date.now();
        if (verdict === 'ended') this.end(value);
      }),
    );
  }

  /** The session may no longer be used: forget it and close its WebSockets. */
  private end(value: string): void {
    const user = this.sessions.get(value)?.user;
    this.forget(value);
    this.sockets.close(value, user, 'access ended');
  }

  private letIn(req: IncomingMessage, value: string, session: Session): Decision {
    req.headers[USER_HEADER] = session.user;
    this.sessionOf.set(req, value);
    dropOurToken(req);
    return { ok: true, user: session.user };
  }

  /**
   * Browser navigations go through the service's authorize page, which knows the launcher
   * session; anything else (API clients, uploads, WebSockets, sub-resources) gets 401, as
   * a redirect to an HTML login would only confuse it.
   */
  private noCredential(req: IncomingMessage, upgrade: boolean, port?: PortScope): Decision {
    const message = `authentication required: ${LOGIN_HINT}`;
    if (upgrade || (req.method !== 'GET' && req.method !== 'HEAD') || !wantsHtml(req))
      return { ok: false, status: 401, message };
    const nonce = randomBytes(32).toString('base64url');
    const binding = createHash('sha256').update(nonce).digest('base64url');
    const forPort = port === undefined ? '' : `&port=${port.port}&port_kind=${port.kind}`;
    const location = `${this.authorizeUrl}${forPort}&binding=${binding}&next=${encodeURIComponent(req.url ?? '/')}`;
    const framed = this.framed(req);
    const setCookie = `${this.cookies.grantName}=${nonce}${this.cookies.grantAttributes(framed)}; Max-Age=${GRANT_COOKIE_MAX_AGE_S}`;
    // A frame cannot go through authorize itself (no top-level cookies, no grant in a frame): a popup does.
    if (framed)
      return {
        ok: false,
        status: 401,
        message,
        signIn: { authorizeUrl: `${location}&embed=1`, setCookie },
      };
    return { ok: false, status: 302, message, location, setCookie };
  }

  private verdictDecision(verdict: TokenVerdict): Decision {
    if (verdict === 'allowed' || verdict === 'denied')
      return {
        ok: false,
        status: 403,
        message: 'this token may not use this server: it belongs to another user or is not valid',
      };
    return {
      ok: false,
      status: 503,
      message:
        'cannot check the token right now: the hubapps service does not answer; try again shortly',
    };
  }

  private session(value: string): Session | undefined {
    const session = this.sessions.get(value);
    if (session === undefined) return undefined;
    if (session.until > Date.now()) return session;
    this.forget(value);
    return undefined;
  }

  private forget(value: string): void {
    const session = this.sessions.get(value);
    if (session === undefined) return;
    this.sessions.delete(value);
    const own = this.byUser.get(session.user);
    own?.delete(value);
    if (own?.size === 0) this.byUser.delete(session.user);
  }
}

/** A request let in by its cookie may still carry a hubapps token in Authorization: it is not the app's to see. */
function dropOurToken(req: IncomingMessage): void {
  const header = req.headers.authorization;
  if (header !== undefined && AUTH_SCHEME.exec(header)?.[1]?.startsWith('ha_'))
    delete req.headers.authorization;
}

function scopeOf(port: PortScope | undefined): string {
  return port === undefined ? '' : `${port.port}/${port.kind}`;
}

/** Split our cookie out of a Cookie header: its value (null if absent) and the header without it. */
export function takeCookie(header: string, name: string): { value: string | null; rest: string } {
  let value: string | null = null;
  const kept: string[] = [];
  for (const part of header.split(';')) {
    const p = part.trim();
    if (p.startsWith(name) && p.charCodeAt(name.length) === 61 /* = */)
      value = p.slice(name.length + 1);
    else if (p !== '') kept.push(p);
  }
  return { value, rest: kept.join('; ') };
}

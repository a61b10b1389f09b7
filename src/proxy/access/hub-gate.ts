/**
 * Who may use a server JupyterHub started (StartRequest.hub): the hub decides, as it does
 * for its own single-user servers. A browser without the proxy's cookie that navigates
 * here is sent through the hub's OAuth flow for this server (hub-state.ts binds it to the
 * browser, hub-oauth.ts takes the code); the session cookie it gets holds nothing but a
 * random name for the hub user and their access token, kept in this proxy's memory. That
 * token is shown to the hub again (GET {apiUrl}user) at least every re-validation
 * interval: a revoked token or a lost access scope ends the session and closes its
 * WebSockets. While the hub does not answer, a session keeps its last answer for one more
 * interval and is refused after that (503): a hub that is down never leaves a server open
 * to whoever held a cookie. Scripts send a JupyterHub token in Authorization (hub-token.ts).
 * Nothing of hubapps' own (its sessions, grants, shares or API tokens) opens such a server;
 * `?token=` in a URL is no credential; the proxy's cookies never reach the app.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HubBinding } from '../../protocol/wire.js';
import { OWNER_HEADER, USER_HEADER, takeCookie, type AccessGate, type Decision } from './gate.js';
import { AccessCookies } from './access-cookies.js';
import { hubAllows, type HubClient } from './hub-client.js';
import type { HubTokenChecker } from './hub-token.js';
import { HubStates } from './hub-state.js';
import { HubSessions, type HubSession } from './hub-sessions.js';
import { SessionSockets } from './session-sockets.js';
import { REVALIDATE_MS } from './session-check.js';
import { takeTokenParam } from '../http/url-path.js';
import { wantsHtml } from '../http/pages.js';
import { dropHubappsHeaders } from '../http/headers.js';
import { log } from '../log.js';

const AUTH_SCHEME = /^(?:token|bearer)\s+(\S+)\s*$/i;
/** The names of a hub server proxy's cookies (access-cookies.ts, hub-state.ts), whichever server's. */
const PROXY_COOKIE_NAME = /^(?:hubapps-proxy-\d+|hubapps-hub-state-\d+(?:-[\w-]+)?)$/;
const PROXY_COOKIE = /hubapps-(?:proxy|hub-state)-\d/;
const LOGIN_HINT =
  "open this server from JupyterHub, or send the header 'Authorization: token YOUR_JUPYTERHUB_TOKEN' (tokens in the URL are not accepted)";

export interface HubAccessOptions {
  serverId: number;
  prefix: string;
  secureCookie: boolean;
  hub: HubBinding;
  /** How long a checked session is trusted before the hub is asked again. */
  revalidateMs?: number;
  /** The server's owner (the Unix account), named to the app in OWNER_HEADER. */
  owner: string;
}

type Verdict = 'valid' | 'ended' | 'unavailable';

export class HubAccess implements AccessGate {
  readonly cookies: AccessCookies;
  readonly states: HubStates;
  private readonly revalidateMs: number;
  private readonly hub: HubBinding;
  private readonly owner: string;
  private readonly sessions = new HubSessions();
  private readonly inFlight = new Map<string, Promise<Verdict>>();
  private readonly sessionOf = new WeakMap<IncomingMessage, string>();
  /** Open WebSockets by the session cookie that let them in. */
  private readonly sockets: SessionSockets;

  constructor(
    private readonly client: HubClient,
    private readonly tokens: HubTokenChecker,
    opts: HubAccessOptions,
  ) {
    this.hub = opts.hub;
    this.owner = opts.owner;
    this.revalidateMs = opts.revalidateMs ?? REVALIDATE_MS;
    this.sockets = new SessionSockets(this.revalidateMs, () => this.sweep());
    this.cookies = new AccessCookies({
      serverId: opts.serverId,
      prefix: opts.prefix,
      secureCookie: opts.secureCookie,
    });
    this.states = new HubStates(opts.serverId, opts.hub.callbackPath, opts.secureCookie);
  }

  authorize(req: IncomingMessage, upgrade: boolean): Decision | Promise<Decision> {
    if (req.url !== undefined && req.url.includes('token=')) req.url = takeTokenParam(req.url).url;
    dropHubappsHeaders(req.headers);
    req.headers[OWNER_HEADER] = this.owner;
    const value = this.takeOurCookies(req);
    const session = value === null ? undefined : this.sessions.get(value);
    if (value !== null && session !== undefined) {
      if (Date.now() - session.checkedAt < this.revalidateMs)
        return this.letIn(req, value, session);
      return this.revalidate(value, session, req, upgrade);
    }
    const header = req.headers.authorization;
    const token = header === undefined ? undefined : AUTH_SCHEME.exec(header)?.[1];
    if (token !== undefined) {
      const onVerdict = (who: { verdict: string; user: string | null }): Decision => {
        if (who.verdict === 'allowed' && who.user !== null) {
          delete req.headers.authorization;
          req.headers[USER_HEADER] = who.user;
          return { ok: true, user: who.user };
        }
        return who.verdict === 'unavailable'
          ? unavailable('the token')
          : {
              ok: false,
              status: 403,
              message: `this token may not use the server ${this.serverName()}: it is not a JupyterHub token with access to it`,
            };
      };
      const who = this.tokens.identify(token);
      return 'verdict' in who ? onVerdict(who) : who.then(onVerdict);
    }
    return this.noCredential(req, upgrade, value !== null);
  }

  /** A Set-Cookie value for a fresh session of `user`, who signed in at the hub and holds `token`. */
  sessionCookie(user: string, token: string): string {
    const value = this.sessions.add(user, token, (old) => this.end(old));
    return `${this.cookies.sessionName}=${value}${this.cookies.sessionAttributes(false)}`;
  }

  /** The value of the cookie of the sign-in with `state` (null if absent). */
  stateCookie(req: IncomingMessage, state: string): string | null {
    const header = req.headers.cookie;
    const name = this.states.cookieName(state);
    return header === undefined || name === null ? null : takeCookie(header, name).value;
  }

  /** "alice/lab", or "alice/" for the default server, as the hub names it. */
  serverName(): string {
    return `${this.hub.user}/${this.hub.server}`;
  }

  track(req: IncomingMessage, socket: Duplex): void {
    const value = this.sessionOf.get(req);
    if (value === undefined || !this.sessions.has(value)) return;
    this.sockets.add(value, socket);
  }

  /**
   * Every proxy's session and state cookies out of the Cookie header (the app never sees
   * them), and our session cookie's value. Every proxy's, not only ours: the hub nests
   * prefixes (the default server's /user/alice/ holds /user/alice/lab/), so a browser sends
   * the default server's cookies to the named server's app too.
   */
  private takeOurCookies(req: IncomingMessage): string | null {
    const cookie = req.headers.cookie;
    if (cookie === undefined || !PROXY_COOKIE.test(cookie)) return null;
    const name = this.cookies.sessionName;
    let value: string | null = null;
    const kept: string[] = [];
    for (const part of cookie.split(';')) {
      const p = part.trim();
      const eq = p.indexOf('=');
      const key = eq < 0 ? p : p.slice(0, eq);
      if (key === name) value = p.slice(eq + 1);
      else if (p !== '' && !PROXY_COOKIE_NAME.test(key)) kept.push(p);
    }
    if (kept.length > 0) req.headers.cookie = kept.join('; ');
    else delete req.headers.cookie;
    return value;
  }

  private async revalidate(
    value: string,
    session: HubSession,
    req: IncomingMessage,
    upgrade: boolean,
  ): Promise<Decision> {
    const verdict = await this.check(value, session);
    if (verdict === 'valid') return this.letIn(req, value, session);
    if (verdict === 'ended') return this.noCredential(req, upgrade, true);
    // The last answer holds for one more interval at most; after that the hub must speak.
    if (Date.now() - session.checkedAt < 2 * this.revalidateMs)
      return this.letIn(req, value, session);
    return unavailable('your access');
  }

  /** Ask the hub about a session (one call per session at a time); 'ended' forgets it and closes its WebSockets. */
  private check(value: string, session: HubSession): Promise<Verdict> {
    let pending = this.inFlight.get(value);
    if (!pending) {
      pending = this.ask(session)
        .then((verdict) => {
          if (verdict === 'valid') session.checkedAt = Date.now();
          if (verdict === 'ended') this.end(value);
          return verdict;
        })
        .finally(() => this.inFlight.delete(value));
      this.inFlight.set(value, pending);
    }
    return pending;
  }

  private async ask(session: HubSession): Promise<Verdict> {
    const answer = await this.client.user(session.token);
    if (answer.kind === 'unavailable') return 'unavailable';
    if (answer.kind === 'denied') {
      log(`access of hub user ${session.user} ended: JupyterHub no longer accepts their token`);
      return 'ended';
    }
    if (
      answer.user.name !== session.user ||
      !hubAllows(answer.user.scopes, this.hub.accessScopes)
    ) {
      log(
        `access of hub user ${session.user} ended: their token no longer carries this server's access scope`,
      );
      return 'ended';
    }
    return 'valid';
  }

  /** Every interval, the sessions that hold open WebSockets are checked; past the grace of an unreachable hub their sockets close. */
  private async sweep(): Promise<void> {
    await Promise.all(
      this.sockets.sessions().map(async (value) => {
        const session = this.sessions.get(value);
        if (session === undefined) return this.end(value);
        const verdict = await this.check(value, session);
        if (verdict === 'unavailable' && Date.now() - session.checkedAt >= 2 * this.revalidateMs)
          this.sockets.close(value, session.user, 'JupyterHub does not answer');
      }),
    );
  }

  private end(value: string): void {
    this.sockets.close(value, this.sessions.forget(value), 'access ended');
  }

  private letIn(req: IncomingMessage, value: string, session: HubSession): Decision {
    req.headers[USER_HEADER] = session.user;
    this.sessionOf.set(req, value);
    return { ok: true, user: session.user };
  }

  /**
   * Browser navigations go to the hub's authorize page for this server; anything else
   * gets 401. `clear`: the browser sent a session cookie we no longer honour.
   */
  private noCredential(req: IncomingMessage, upgrade: boolean, clear: boolean): Decision {
    const message = `authentication required: ${LOGIN_HINT}`;
    if (upgrade || (req.method !== 'GET' && req.method !== 'HEAD') || !wantsHtml(req))
      return { ok: false, status: 401, message };
    const { state, setCookie } = this.states.issue(req.url ?? '/');
    const query = new URLSearchParams({
      client_id: this.hub.clientId,
      redirect_uri: this.hub.callbackPath,
      response_type: 'code',
      state,
    });
    const cookies = [setCookie];
    if (clear)
      cookies.push(
        `${this.cookies.sessionName}=${this.cookies.sessionAttributes(false)}; Max-Age=0`,
      );
    return {
      ok: false,
      status: 302,
      message,
      location: `${this.hub.authorizePath}?${query}`,
      setCookie: cookies,
    };
  }
}

function unavailable(what: string): Decision {
  return {
    ok: false,
    status: 503,
    message: `cannot check ${what} right now: JupyterHub does not answer; try again shortly`,
  };
}

/**
 * The OAuth callback of a server JupyterHub started: GET {callbackPath}?code=C&state=S (the
 * redirect_uri the hub registered for this server, `{prefix}oauth_callback`). The state
 * must be the one sealed in this browser's state cookie (hub-state.ts); the code is
 * traded at the hub for the user's access token with the server's api token as client
 * secret (so a code the hub issued to another server's client is refused by the hub), and
 * the token's user and scopes are read from the hub. Holding `access:servers` or one of
 * the server's access scopes sets the proxy's session cookie and sends the browser on to
 * the page it wanted, if that is below the prefix.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HubBinding } from '../../protocol/wire.js';
import type { PageOptions } from '../http/pages.js';
import { sendPage } from '../http/pages.js';
import { targetBelow } from '../http/url-path.js';
import type { SignInEndpoint } from './gate.js';
import { hubAllows, type HubClient } from './hub-client.js';
import type { HubAccess } from './hub-gate.js';
import { log } from '../log.js';

/** JupyterHub's codes are 32 random url-safe characters; anything unlike a code is refused without asking. */
const CODE = /^[A-Za-z0-9_-]{8,256}$/;

export class HubOAuth implements SignInEndpoint {
  readonly path: string;

  constructor(
    private readonly client: HubClient,
    private readonly access: HubAccess,
    private readonly hub: HubBinding,
    private readonly prefix: string,
  ) {
    this.path = hub.callbackPath;
  }

  matches(url: string): boolean {
    return (
      url.startsWith(this.path) &&
      (url.length === this.path.length || url.charCodeAt(this.path.length) === 63) /* ? */
    );
  }

  async serve(
    req: IncomingMessage,
    res: ServerResponse,
    url: string,
    page: PageOptions,
  ): Promise<void> {
    if (req.method !== 'GET')
      return sendPage(req, res, 405, 'the sign-in callback only answers GET', {
        ...page,
        headers: { allow: 'GET' },
      });
    const q = url.indexOf('?');
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const state = query.get('state') ?? '';
    const name = this.access.states.cookieName(state);
    const clear = name === null ? null : this.access.states.clear(name);
    const refuse = (status: number, message: string) =>
      sendPage(req, res, status, message, {
        ...page,
        retry: this.prefix,
        ...(clear === null ? {} : { headers: { 'set-cookie': clear } }),
      });
    const cookie = this.access.stateCookie(req, state);
    const next = cookie === null ? null : this.access.states.check(cookie, state);
    if (next === null)
      return refuse(
        403,
        'this sign-in did not start in this browser, or took too long — reload the server to try again',
      );
    const code = query.get('code');
    if (code === null || !CODE.test(code))
      return refuse(403, 'JupyterHub sent no valid sign-in code — reload the server to try again');
    const exchanged = await this.client.exchangeCode(code);
    if (exchanged.kind === 'unavailable') return refuse(503, hubDown);
    if (exchanged.kind === 'refused')
      return refuse(
        403,
        'JupyterHub refused the sign-in code (used, expired or issued for another server) — reload the server to try again',
      );
    const who = await this.client.user(exchanged.token);
    if (who.kind === 'unavailable') return refuse(503, hubDown);
    if (who.kind === 'denied')
      return refuse(403, 'JupyterHub does not accept the token it just issued — try again');
    const hubUser = who.user.name;
    if (!hubAllows(who.user.scopes, this.hub.accessScopes)) {
      log(`hub user ${hubUser} signed in but may not use this server: refused`);
      return refuse(
        403,
        `JupyterHub user ${hubUser} may not use the server ${this.access.serverName()}: ask its owner or an admin for access`,
      );
    }
    log(`access granted to hub user ${hubUser} by JupyterHub`);
    res.writeHead(302, {
      location: targetBelow(next, this.prefix),
      'set-cookie': [
        this.access.sessionCookie(hubUser, exchanged.token),
        ...(clear === null ? [] : [clear]),
      ],
      'cache-control': 'no-store',
      'content-length': 0,
    });
    res.end();
  }
}

const hubDown =
  'cannot complete the sign-in right now: JupyterHub does not answer; try again shortly';

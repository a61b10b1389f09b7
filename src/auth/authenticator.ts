import type { Context } from 'koa';
import type { Config } from '../config/schema.js';
import { HubappsError } from '../errors.js';
import type { AuthStore } from '../store/auth.js';
import type { AdminPolicy } from './admins.js';
import type { Urls } from '../lifecycle/urls.js';
import type { HubClient } from './hub-client.js';
import { bearer, sameSecret, type Identity } from './identity.js';

export const SESSION_COOKIE = 'hubapps-session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Turns a request's credential into an Identity: the admin token from the config, a
 * hubapps API token, a JupyterHub token (asked of the hub, cached briefly) or the
 * launcher's session cookie. Cookie-authenticated state changes must also prove they come
 * from our own pages (same-origin Origin/Referer, or the session's XSRF token in a header).
 */
export class Authenticator {
  constructor(
    private readonly config: Pick<Config, 'admin_token' | 'public_url'>,
    private readonly store: AuthStore,
    private readonly admins: AdminPolicy,
    private readonly hub: HubClient | undefined,
    /** In the host layout: tells pages on the apps domain, whose requests never carry the launcher's session. */
    private readonly urls?: Pick<Urls, 'isAppsOrigin'>,
  ) {}

  /** Identity for a bare token (API header, or a proxy asking on a user's behalf). */
  async fromToken(token: string | undefined): Promise<Identity | undefined> {
    if (!token) return undefined;
    if (this.config.admin_token && sameSecret(token, this.config.admin_token)) return { name: 'admin', admin: true, via: 'admin_token' };
    const row = this.store.token(token);
    if (row) return { name: row.user, admin: await this.admins.isAdmin(row.user), via: 'token' };
    if (this.hub && !token.startsWith('ha_')) {
      const user = await this.hub.userForToken(token);
      if (user) return { name: user.name, admin: await this.admins.isAdmin(user.name, user.admin), via: 'hub_token' };
    }
    return undefined;
  }

  async identify(ctx: Context): Promise<Identity | undefined> {
    const header = ctx.get('authorization');
    if (header) return this.fromToken(bearer(header));
    // A page on an app's host is same-site with the hub when both share a registrable domain,
    // so the browser may attach the launcher's Lax cookie: such a request acts for nobody.
    if (this.urls?.isAppsOrigin(ctx.get('origin'))) return undefined;
    const cookie = ctx.cookies.get(SESSION_COOKIE);
    const session = cookie ? this.store.session(cookie) : undefined;
    if (!session) return undefined;
    return { name: session.user, admin: session.admin === 1, via: 'session', session };
  }

  /** The caller's identity, or 401; with `owner`, 403 unless the caller is that user or an admin. */
  async require(ctx: Context, opts: { owner?: string; admin?: boolean } = {}): Promise<Identity> {
    const who = await this.identify(ctx);
    if (!who) {
      ctx.set('WWW-Authenticate', 'token');
      throw new HubappsError('unauthenticated', 401, 'authentication required: log in, or send "Authorization: token <API token>"');
    }
    if (who.session && !SAFE_METHODS.has(ctx.method)) this.checkSameOrigin(ctx, who);
    if (opts.admin && !who.admin) throw new HubappsError('admin_only', 403, 'this needs an admin');
    if (opts.owner !== undefined && !who.admin && who.name !== opts.owner) {
      throw new HubappsError('not_owner', 403, `${who.name} may not act for ${opts.owner}`);
    }
    return who;
  }

  private checkSameOrigin(ctx: Context, who: Identity): void {
    const xsrf = ctx.get('x-xsrf-token');
    if (xsrf && who.session && sameSecret(xsrf, who.session.xsrf)) return;
    const origin = ctx.get('origin') || originOf(ctx.get('referer'));
    if (origin && origin === new URL(this.config.public_url).origin) return;
    throw new HubappsError('csrf', 403, 'cross-site request refused: send the X-XSRF-Token header or use the launcher page');
  }
}

function originOf(url: string): string {
  try {
    return url ? new URL(url).origin : '';
  } catch {
    return '';
  }
}

import type { Context } from 'koa';
import type { Config } from '../config/schema.js';
import { HubappsError } from '../errors.js';
import type { AuthStore, ServerTokenOwner } from '../store/auth.js';
import type { AdminPolicy } from './admins.js';
import type { Urls } from '../config/urls.js';
import type { HubClient } from './hub-client.js';
import type { UserChecker } from '../users/account.js';
import { bearer, sameSecret, type Identity, type ServerTokenRule } from './identity.js';
import { requestSource, under } from '../http/request-source.js';
import { clientAddress } from '../http/client-address.js';
import { cookieValues } from '../http/cookies.js';

export const SESSION_COOKIE = 'hubapps-session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Turns a request's credential into an Identity: the admin token from the config, a
 * hubapps API token, a JupyterHub token (asked of the hub, cached briefly) or the
 * launcher's session cookie. Every cookie-authenticated request must come from the
 * launcher's own pages: on the shared origin, another server's page is same-origin with
 * the launcher, so Origin alone proves nothing; fetch metadata and the Referer's path do
 * (http/request-source.ts). State changes must also carry the session's XSRF token or a
 * same-origin Origin/Referer.
 */
export class Authenticator {
  private readonly origins: ReadonlySet<string>;
  /**
   * Server tokens wait for the start-up reconcile: a server that ended while the service was
   * down still has an active row until then, and its token must not work meanwhile.
   */
  private serversChecked = false;
  private readonly trusted: ReadonlySet<string>;

  /** @param launcherPrefix where the launcher's pages live, e.g. /services/hubapps/ */
  constructor(
    private readonly config: Pick<Config, 'admin_token' | 'public_url' | 'trusted_proxies'> &
      Partial<Pick<Config, 'extra_origins'>> & {
        jupyterhub?: Pick<Config['jupyterhub'], 'spawner_token'>;
      },
    private readonly store: AuthStore,
    private readonly admins: AdminPolicy,
    /** Tokens outlive a user's membership of the allowed group; each use asks again. */
    private readonly users: Pick<UserChecker, 'check'>,
    private readonly hub: HubClient | undefined,
    private readonly launcherPrefix: string,
    /** In the host layout: tells pages on the apps domain, whose requests never carry the launcher's session. */
    private readonly urls?: Pick<Urls, 'isAppsOrigin'>,
  ) {
    this.origins = new Set(
      [new URL(config.public_url).origin, ...(config.extra_origins ?? [])].map((o) =>
        o.toLowerCase(),
      ),
    );
    this.trusted = new Set(config.trusted_proxies);
  }

  /**
   * Identity for a bare token (API header, or a proxy asking on a user's behalf). A token
   * of a user who may no longer use hubapps (left the allowed group, account gone) is
   * refused with 403, as a login of theirs would be. `client` is whom the hub look-ups of
   * unknown tokens are counted against (a client address, or a server's proxy).
   */
  async fromToken(token: string | undefined, client: string): Promise<Identity | undefined> {
    if (!token) return undefined;
    // The spawner's token is nobody's: not a user here, and never shown to the hub as one.
    if (this.isSpawnerToken(token)) return undefined;
    if (this.config.admin_token && sameSecret(token, this.config.admin_token))
      return { name: 'admin', admin: true, via: 'admin_token' };
    const row = this.store.token(token);
    if (row)
      return this.member({
        name: row.user,
        admin: await this.admins.isAdmin(row.user),
        via: 'token',
      });
    const server = this.store.serverToken(token);
    if (server) {
      if (!this.serversChecked)
        throw new HubappsError(
          'service_starting',
          "the service has just started and is still checking which servers survived: try this server's token again in a few seconds",
        );
      return this.member({ name: server.user, admin: false, via: 'server_token', server });
    }
    if (this.hub && !token.startsWith('ha_')) {
      const user = await this.hub.userForToken(token, client);
      if (user)
        return this.member({
          name: user.name,
          admin: await this.admins.isAdmin(user.name, user.admin),
          via: 'hub_token',
        });
    }
    return undefined;
  }

  private isSpawnerToken(token: string): boolean {
    const spawner = this.config.jupyterhub?.spawner_token;
    return spawner !== undefined && sameSecret(token, spawner);
  }

  /** The start-up reconcile has settled every row: rows still active are servers that run. */
  serversSettled(): void {
    this.serversChecked = true;
  }

  private async member(who: Identity): Promise<Identity> {
    try {
      await this.users.check(who.name);
    } catch (err) {
      if (err instanceof HubappsError && err.status < 500)
        throw new HubappsError(
          'user_not_allowed',
          `${who.name} may not use hubapps: ${err.message}`,
        );
      throw err;
    }
    return who;
  }

  async identify(ctx: Context): Promise<Identity | undefined> {
    const header = ctx.get('authorization');
    if (header) {
      const token = bearer(header);
      if (token && this.isSpawnerToken(token))
        return { name: 'jupyterhub', admin: false, via: 'hub_spawner' };
      return this.fromToken(token, clientAddress(ctx.req, this.trusted));
    }
    // A page on an app's host is same-site with the hub when both share a registrable domain,
    // so the browser may attach the launcher's Lax cookie: such a request acts for nobody.
    if (this.urls?.isAppsOrigin(ctx.get('origin'))) return undefined;
    const cookies = cookieValues(ctx.get('cookie'), SESSION_COOKIE);
    if (cookies.length > 1) {
      throw new HubappsError(
        'bad_request',
        `this browser sends ${cookies.length} ${SESSION_COOKIE} cookies, so another site set one of them; clear this site's cookies in the browser and log in again`,
      );
    }
    const cookie = cookies[0];
    const session = cookie ? this.store.session(cookie) : undefined;
    if (!session) return undefined;
    return { name: session.user, admin: session.admin === 1, via: 'session', session };
  }

  /**
   * The caller's identity, or 401; with `owner`, 403 unless the caller is that user or an
   * admin. A server's own token is refused (403) unless `serverToken` names its server: a
   * route accepts it only by saying so. The spawner's token works only where `spawner` is
   * set, and such a route takes nothing else.
   */
  async require(
    ctx: Context,
    opts: { owner?: string; admin?: boolean; serverToken?: ServerTokenRule; spawner?: true } = {},
  ): Promise<Identity> {
    const who = await this.identify(ctx);
    if (!who) {
      ctx.set('WWW-Authenticate', 'token');
      throw new HubappsError(
        'unauthenticated',
        'authentication required: log in, or send "Authorization: token <API token>"',
      );
    }
    if ((who.via === 'hub_spawner') !== (opts.spawner === true))
      throw new HubappsError(
        'spawner_only',
        opts.spawner
          ? "only JupyterHub's HubappsSpawner (jupyterhub.spawner_token) may use api/hub/"
          : "the spawner's token (jupyterhub.spawner_token) is accepted on api/hub/ only",
      );
    if (who.server) checkServerToken(who.server, opts.serverToken);
    if (who.session) this.checkLauncherPage(ctx);
    if (who.session && !SAFE_METHODS.has(ctx.method)) this.checkSameOrigin(ctx, who);
    if (opts.admin && !who.admin) throw new HubappsError('admin_only', 'this needs an admin');
    if (opts.owner !== undefined && !who.admin && who.name !== opts.owner) {
      throw new HubappsError('not_owner', `${who.name} may not act for ${opts.owner}`);
    }
    return who;
  }

  /**
   * Scripts, frames and form posts must come from a launcher page; a page load is fine
   * from a link on another site or a typed address, but not from another page on this
   * origin (another user's app could open it in a window it scripts).
   */
  private checkLauncherPage(ctx: Context): void {
    const source = requestSource(ctx.req, this.launcherPrefix, this.origins);
    if (source === 'own-page' || source === 'unknown') return;
    if (
      source === 'navigation' &&
      (ctx.get('sec-fetch-site') !== 'same-origin' ||
        under(ctx.get('referer'), this.launcherPrefix, this.origins))
    )
      return;
    throw new HubappsError(
      'foreign_page',
      'refused: the hubapps API answers browser requests only from the launcher page (this one came from another page on this site)',
    );
  }

  private checkSameOrigin(ctx: Context, who: Identity): void {
    const xsrf = ctx.get('x-xsrf-token');
    if (xsrf && who.session && sameSecret(xsrf, who.session.xsrf)) return;
    const origin = ctx.get('origin') || originOf(ctx.get('referer'));
    if (origin && this.origins.has(origin.toLowerCase())) return;
    throw new HubappsError(
      'csrf',
      'cross-site request refused: send the X-XSRF-Token header or use the launcher page',
    );
  }
}

function originOf(url: string): string {
  try {
    return url ? new URL(url).origin : '';
  } catch {
    return '';
  }
}

function checkServerToken(server: ServerTokenOwner, rule: ServerTokenRule | undefined): void {
  if (
    rule === 'any' ||
    (rule && rule.user === server.user && (rule.name === undefined || rule.name === server.name))
  )
    return;
  throw new HubappsError(
    'server_token_scope',
    `this token belongs to server ${server.name} of ${server.user}: it may only read that server, stop it and report its activity`,
  );
}

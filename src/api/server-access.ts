import { bearer, sameSecret, type Identity } from '../auth/identity.js';
import { hubStarted } from '../lifecycle/hub-start.js';
import type { RouterContext } from '@koa/router';
import { HubappsError } from '../errors.js';
import { checkServerName, checkUserName } from '../names.js';
import type { ServerRow } from '../model/server.js';
import type { Account } from '../users/account.js';
import { sameSite } from '../http/site.js';
import { requireJson } from './body.js';
import type { ApiDeps } from './deps.js';
import { ownerOrAdmin, whoOf } from './guards.js';

/** How a user gets into a server: as its owner, as an admin (admin_access), or through a share. */
export type AccessVia = 'owner' | 'admin' | 'share';

/** Owners use their servers; admins only when admin_access is on (they can always stop them through the API). */
export function mayUseServer(
  deps: ApiDeps,
  who: Pick<Identity, 'name' | 'admin'>,
  owner: string,
): boolean {
  return who.name === owner || (who.admin && deps.config.admin_access);
}

/**
 * Why `who` may use `row`, or null. A share counts only while sharing is possible for
 * this server (sharingRefusal) and the visitor still passes the user policy (allowed group,
 * no system account) and the app's own rule (allowed_groups), as if they started it
 * themselves; group shares are matched against the visitor's groups now.
 */
export async function accessVia(
  deps: ApiDeps,
  who: Pick<Identity, 'name' | 'admin'>,
  row: ServerRow,
): Promise<AccessVia | null> {
  // The hub lets people into the servers it started (its OAuth and scopes), never hubapps.
  if (hubStarted(row)) return null;
  if (who.name === row.user) return 'owner';
  if (who.admin && deps.config.admin_access) return 'admin';
  if (sharingRefusal(deps, row) !== null) return null;
  const account = await visitorAccount(deps, who.name, row);
  return account && deps.shares.grants(row.id, who.name, account.groups) ? 'share' : null;
}

/** The visitor's account if they pass the user policy and the server's app is open to them, else null. */
async function visitorAccount(
  deps: ApiDeps,
  user: string,
  row: Pick<ServerRow, 'app'>,
): Promise<Account | null> {
  let account: Account;
  try {
    account = await deps.users.check(user);
  } catch (err) {
    if (err instanceof HubappsError && err.status < 500) return null;
    throw err;
  }
  const app = deps.catalog().get(row.app);
  return app && deps.users.appAllowed(account, app) ? account : null;
}

/** Why this server cannot be shared (an error to throw), or null when it can. */
export function sharingRefusal(
  deps: ApiDeps,
  row: { app: string; user: string; name: string; hub_user?: string | null },
): HubappsError | null {
  if (hubStarted(row))
    return new HubappsError(
      'sharing_disabled',
      "this server was started through JupyterHub, which decides who may open it: share it there (the hub's access:servers scopes), not in hubapps",
    );
  if (!deps.urls.hostLayout) {
    return new HubappsError(
      'sharing_needs_origins',
      "sharing needs per-server origins: on the shared path layout a shared app's pages could act on the visitor's own servers and launcher. An admin can set apps_domain (docs/install.md, 'Per-server origins') to enable it.",
    );
  }
  if (!deps.config.sharing)
    return new HubappsError(
      'sharing_disabled',
      'sharing is turned off on this host (config key sharing)',
    );
  const appsDomain = deps.config.apps_domain;
  if (
    appsDomain !== undefined &&
    !deps.config.sharing_same_site &&
    sameSite(new URL(deps.urls.publicOrigin).hostname, appsDomain)
  ) {
    return new HubappsError(
      'sharing_disabled',
      `sharing is refused because the hub and the apps (${appsDomain}) share a registrable domain, so a shared app's pages could plant cookies on the hub; an admin can give the apps their own domain, or accept this with sharing_same_site: true`,
    );
  }
  if (deps.catalog().get(row.app)?.shareable === false) {
    return new HubappsError(
      'app_not_shareable',
      `servers of app '${row.app}' cannot be shared (shareable: false in its catalog file)`,
    );
  }
  return null;
}

/** The server a proxy speaks for, proven by that server's secret. */
export function proxyRow(deps: ApiDeps, serverId: unknown, authorization: string): ServerRow {
  const row = typeof serverId === 'number' ? deps.queries.byId(serverId) : undefined;
  const secret = bearer(authorization);
  if (!row || !row.secret || !secret || !sameSecret(secret, row.secret)) {
    throw new HubappsError('proxy_unknown', 'unknown server or wrong server secret');
  }
  return row;
}

/** Router middleware for a user's own resources (`:user`, and `:name` where the route has it): the owner or an admin (ctx.state.who), JSON bodies only; `servers` as for ownerOrAdmin. */
export function ownerOnly(deps: ApiDeps, servers?: 'server' | 'user') {
  const owner = ownerOrAdmin(deps, servers);
  return async (ctx: RouterContext, next: () => Promise<unknown>): Promise<unknown> => {
    checkUserName(ctx.params.user!);
    if (ctx.params.name !== undefined) checkServerName(ctx.params.name);
    return owner(ctx, async () => {
      requireJson(ctx);
      return next();
    });
  };
}

/**
 * Who may give others a way into a server: its owner alone. An admin (or the operator's
 * admin_token) may start servers for any user and revoke shares, so letting them add shares
 * or share links would open every user's server to them whatever admin_access says.
 */
export function shareCreator(ctx: RouterContext, row: Pick<ServerRow, 'user' | 'name'>): Identity {
  const who = whoOf(ctx);
  if (who.via === 'admin_token' || who.name !== row.user) {
    throw new HubappsError(
      'not_owner',
      `only ${row.user} may share ${row.user}/${row.name}; admins may list and revoke its shares`,
    );
  }
  return who;
}

/** The server a route's `:user` and `:name` name, or 404. */
export function namedServer(deps: ApiDeps, ctx: RouterContext): ServerRow {
  return deps.queries.get(ctx.params.user!, ctx.params.name!);
}

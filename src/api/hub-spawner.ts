import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { HubNames } from '../auth/hub-names.js';
import { HubappsError } from '../errors.js';
import type { Actor } from '../lifecycle/start.js';
import { StreamSlots } from '../limits/streams.js';
import { checkServerName, checkUserName, type ServerName, type UserName } from '../names.js';
import type { ServerRow } from '../model/server.js';
import { listApps } from './app-list.js';
import type { ApiDeps } from './deps.js';
import { spawnerOnly } from './guards.js';
import { requireJson } from './body.js';
import { checkHubUser, parseHubStartBody } from './hub-body.js';
import { presentHubServer } from './present.js';
import { streamProgress } from './progress.js';

const JSON_BODY = { enableTypes: ['json' as const], jsonLimit: '16kb', encoding: 'utf-8' };

/** Who the spawner acts as: no admin, and (lifecycle/start.ts mayActOn) only on the hub's servers. */
const SPAWNER: Actor = { name: 'jupyterhub', admin: false, spawner: true };

/**
 * The API JupyterHub's HubappsSpawner drives (docs/api.md, "Spawner API"): list the apps a
 * hub user may start, start, read, follow and stop that user's hub-started servers. Only
 * the spawner's token is accepted here (guards.ts spawnerOnly), and it nowhere else. The
 * hub names a user its own way; HubNames (jupyterhub.usernames) gives the Unix account,
 * and every start is admitted as any other (allowed_group, the app's groups, limits).
 */
export function hubSpawnerRoutes(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/hub' });
  const names = new HubNames(deps.config.jupyterhub);
  const streams = new StreamSlots(deps.config.limits.streams_per_user);
  const spawner = spawnerOnly(deps);

  /** The route's hub user and its Unix account. */
  const account = (ctx: Context & { params: Record<string, string> }) => {
    const hubUser = checkHubUser(ctx.params.hubuser ?? '');
    const user: UserName = checkUserName(names.account(hubUser));
    return { hubUser, user };
  };
  /** The same, and the hubapps server name. */
  const target = (ctx: Context & { params: Record<string, string> }) => {
    const name: ServerName = checkServerName(ctx.params.name ?? '');
    return { ...account(ctx), name };
  };

  /** The hub's server of that name, or 404; a server started from the launcher is not the hub's (409). */
  const hubServer = (user: UserName, name: ServerName, hubUser: string): ServerRow => {
    const row = deps.queries.get(user, name);
    if (row.hub_user === null)
      throw new HubappsError(
        'not_hub_server',
        `${user}'s server '${name}' was started from the hubapps launcher: JupyterHub may not act on it`,
      );
    if (row.hub_user !== hubUser)
      throw new HubappsError(
        'not_hub_server',
        `${user}'s server '${name}' was started for the hub user ${row.hub_user}, not ${hubUser}`,
      );
    return row;
  };

  router.get('/users/:hubuser/apps', spawner, async (ctx) => {
    const { user } = account(ctx);
    // Outside allowed_group (or unknown): refused, as the start would be.
    await deps.users.check(user);
    ctx.body = { apps: await listApps(deps, { name: user, admin: false }) };
  });

  router.post('/users/:hubuser/servers/:name', spawner, bodyParser(JSON_BODY), async (ctx) => {
    const { hubUser, user, name } = target(ctx);
    requireJson(ctx);
    const input = parseHubStartBody(ctx.request.body, hubUser);
    const row = await deps.manager.start(SPAWNER, user, name, input);
    ctx.status = 202;
    ctx.body = presentHubServer(row, deps.urls, hubUser);
  });

  router.get('/users/:hubuser/servers/:name', spawner, async (ctx) => {
    const { hubUser, user, name } = target(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = presentHubServer(hubServer(user, name, hubUser), deps.urls, hubUser);
  });

  router.get('/users/:hubuser/servers/:name/progress', spawner, async (ctx) => {
    const { hubUser, user, name } = target(ctx);
    const row = hubServer(user, name, hubUser);
    streamProgress(ctx, deps, row, streams.take(user));
  });

  router.delete('/users/:hubuser/servers/:name', spawner, async (ctx) => {
    const { hubUser, user, name } = target(ctx);
    hubServer(user, name, hubUser);
    const row = await deps.manager.stop(SPAWNER, user, name, `stopped by JupyterHub (${hubUser})`);
    ctx.body = presentHubServer(row, deps.urls, hubUser);
  });

  return router;
}

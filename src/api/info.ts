import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { HubappsError } from '../errors.js';
import { printable } from '../names.js';
import type { ApiDeps } from './deps.js';
import { adminOnly, signedIn, signedInOrServer, whoOf } from './guards.js';
import { presentServer } from './present.js';
import { listApps } from './app-list.js';

export function infoRoutes(deps: ApiDeps): Router {
  const router = new Router();

  router.get('/', async (ctx) => {
    ctx.body = { name: 'hubapps', version: deps.version };
  });

  /** Unauthenticated on purpose (load balancers, systemd checks); says nothing private. */
  router.get('/health', async (ctx) => {
    const { chp, appsChp, launcher } = await deps.queries.health();
    const ok = chp === 'ok' && (appsChp ?? 'ok') === 'ok';
    ctx.status = ok ? 200 : 503;
    ctx.body = {
      status: ok ? 'ok' : 'degraded',
      chp,
      ...(appsChp ? { apps_chp: appsChp } : {}),
      launcher,
    };
  });

  /** Who am I: the launcher page reads its user, admin flag and the XSRF token for its state changes here. */
  router.get('/user', signedInOrServer(deps), async (ctx) => {
    const who = whoOf(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      name: who.name,
      admin: who.admin,
      admin_access: deps.config.admin_access,
      via: who.via,
      ...(who.server ? { server: who.server.name } : {}),
      xsrf: who.session?.xsrf ?? null,
      autostart_app: deps.config.autostart_app ?? null,
      hub_login: deps.hub !== undefined,
    };
  });

  // Each caller sees the apps allowed_groups lets them use; admins see every app, to name other users' servers.
  router.get('/apps', signedIn(deps), async (ctx) => {
    ctx.body = { apps: await listApps(deps, whoOf(ctx)) };
  });

  router.get('/apps/:name/icon', signedIn(deps), async (ctx) => {
    const app = deps.catalog().get(ctx.params.name!);
    if (!app?.icon)
      throw new HubappsError('no_icon', `app '${printable(ctx.params.name!)}' has no icon`);
    ctx.type = app.icon.endsWith('.svg') ? 'image/svg+xml' : 'image/png';
    ctx.set('Cache-Control', 'private, max-age=300');
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    ctx.body = fs.createReadStream(path.join(deps.config.catalog_dir, app.icon));
  });

  router.get('/users', adminOnly(deps), async (ctx) => {
    const users = new Map<string, Record<string, unknown>>();
    for (const row of deps.queries.list()) {
      const servers = users.get(row.user) ?? {};
      servers[row.name] = presentServer(row, deps.urls);
      users.set(row.user, servers);
    }
    ctx.body = { users: [...users].map(([name, servers]) => ({ name, servers })) };
  });

  return router;
}

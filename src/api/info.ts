import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { runsOnSlurm, startOptions } from '../catalog/slurm.js';
import type { CatalogApp } from '../catalog/types.js';
import { HubappsError } from '../errors.js';
import { limitOptions } from '../limits/resources.js';
import { settingsFor } from '../limits/group-settings.js';
import { printable } from '../names.js';
import type { ApiDeps } from './deps.js';
import { adminOnly, signedIn, signedInOrServer, whoOf } from './guards.js';
import { presentServer } from './present.js';
import { presentForm, rememberedValues } from './present-form.js';

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
    const who = whoOf(ctx);
    // Whoever the user policy refuses (the admin_token's caller, a user who left the group) may start none of them.
    const account = await deps.users.check(who.name).then(
      (a) => a,
      () => undefined,
    );
    const usable = (a: CatalogApp) => account !== undefined && deps.users.appAllowed(account, a);
    const last = deps.queries.lastForms(who.name);
    // The caps a user's dialog offers are those of the user's groups (group_settings).
    const limits = settingsFor(deps.config, account?.groups ?? []).server_limits;
    ctx.body = {
      apps: deps
        .catalog()
        .list()
        .filter((a) => who.admin || usable(a))
        .map((a) => ({
          name: a.name,
          title: a.title,
          description: a.description,
          hidden: a.hidden,
          category: a.category ?? null,
          usable: usable(a),
          icon: a.icon ? `${deps.urls.servicePrefix()}api/apps/${a.name}/icon` : null,
          runs_on: runsOnSlurm(deps.config.slurm.apps, a) ? 'slurm' : 'host',
          options: runsOnSlurm(deps.config.slurm.apps, a)
            ? startOptions(deps.config.slurm.apps, a)
            : limitOptions(limits, a),
          form: presentForm(a, account),
          form_values: rememberedValues(a, account, last.get(a.name)),
        })),
    };
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

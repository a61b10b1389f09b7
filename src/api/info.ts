import Router from '@koa/router';
import type { ApiDeps } from './deps.js';
import { presentServer } from './present.js';

export function infoRoutes(deps: ApiDeps): Router {
  const router = new Router();

  router.get('/', async (ctx) => {
    ctx.body = { name: 'hubapps', version: deps.version };
  });

  /** Unauthenticated on purpose (load balancers, systemd checks); says nothing private. */
  router.get('/health', async (ctx) => {
    let chp = 'ok';
    try {
      await deps.routes.list();
    } catch {
      chp = 'unreachable';
    }
    ctx.status = chp === 'ok' ? 200 : 503;
    ctx.body = { status: chp === 'ok' ? 'ok' : 'degraded', chp, launcher: deps.launcher.kind };
  });

  router.get('/apps', async (ctx) => {
    await deps.auth.require(ctx);
    ctx.body = {
      apps: deps.catalog().list().map((a) => ({
        name: a.name,
        title: a.title,
        description: a.description,
        icon: a.icon ? `${deps.urls.servicePrefix()}api/apps/${a.name}/icon` : null,
      })),
    };
  });

  router.get('/users', async (ctx) => {
    await deps.auth.require(ctx, { admin: true });
    const users = new Map<string, Record<string, unknown>>();
    for (const row of deps.store.list()) {
      const servers = users.get(row.user) ?? {};
      servers[row.name] = presentServer(row, deps.urls);
      users.set(row.user, servers);
    }
    ctx.body = { users: [...users].map(([name, servers]) => ({ name, servers })) };
  });

  return router;
}

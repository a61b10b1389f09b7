import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { notFound } from '../errors.js';
import { StreamSlots } from '../limits/streams.js';
import { checkServerName, checkUserName } from '../names.js';
import { currentAttemptStart, tailLog } from '../spawner/logs.js';
import type { ApiDeps } from './deps.js';
import { parseStartBody, requireJson } from './body.js';
import { presentServer } from './present.js';
import { streamProgress } from './progress.js';

const MAX_TAIL = 5000;

export function serverRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '16kb', encoding: 'utf-8' });
  const streams = new StreamSlots(deps.config.limits.streams_per_user);

  router.param('user', async (user, _ctx, next) => {
    checkUserName(user);
    return next();
  });
  router.param('name', async (name, _ctx, next) => {
    checkServerName(name);
    return next();
  });

  router.get('/users/:user', async (ctx) => {
    await deps.auth.require(ctx, { owner: ctx.params.user });
    const servers = deps.store.list({ user: ctx.params.user });
    ctx.body = { name: ctx.params.user, servers: Object.fromEntries(servers.map((s) => [s.name, presentServer(s, deps.urls)])) };
  });

  router.get('/users/:user/servers/:name', async (ctx) => {
    await deps.auth.require(ctx, { owner: ctx.params.user });
    ctx.body = presentServer(findServer(deps, ctx.params.user!, ctx.params.name!), deps.urls);
  });

  router.post(
    '/users/:user/servers/:name',
    async (ctx, next) => {
      await deps.auth.require(ctx, { owner: ctx.params.user });
      requireJson(ctx);
      return next();
    },
    json,
    async (ctx) => {
      const who = await deps.auth.require(ctx, { owner: ctx.params.user });
      const row = await deps.manager.start(who, ctx.params.user!, ctx.params.name!, parseStartBody(ctx.request.body));
      ctx.status = 202;
      ctx.body = presentServer(row, deps.urls);
    },
  );

  router.delete('/users/:user/servers/:name', async (ctx) => {
    const who = await deps.auth.require(ctx, { owner: ctx.params.user });
    const row = await deps.manager.stop(who, ctx.params.user!, ctx.params.name!);
    ctx.body = presentServer(row, deps.urls);
  });

  router.get('/users/:user/servers/:name/progress', async (ctx) => {
    const who = await deps.auth.require(ctx, { owner: ctx.params.user });
    const row = findServer(deps, ctx.params.user!, ctx.params.name!);
    const release = streams.take(who.name);
    streamProgress(ctx, deps, row, release);
  });

  router.get('/users/:user/servers/:name/logs', async (ctx) => {
    await deps.auth.require(ctx, { owner: ctx.params.user });
    const row = findServer(deps, ctx.params.user!, ctx.params.name!);
    const tail = parseTail(ctx.query.tail);
    const lines = tailLog(row.log_file, tail);
    ctx.body = { name: row.name, user: row.user, lines, current_attempt: currentAttemptStart(lines) };
  });

  return router;
}

function findServer(deps: ApiDeps, user: string, name: string) {
  const row = deps.store.get(user, name);
  if (!row) throw notFound('no_such_server', `${user} has no server '${name}'`);
  return row;
}

function parseTail(q: unknown): number {
  if (q === undefined) return 200;
  const n = Number(q);
  if (!Number.isInteger(n) || n < 1) throw Object.assign(new Error('tail must be a positive whole number'), { status: 400, expose: true });
  return Math.min(n, MAX_TAIL);
}

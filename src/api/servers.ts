import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { HubappsError } from '../errors.js';
import { StreamSlots } from '../limits/streams.js';
import { checkServerName, checkUserName, type ServerName, type UserName } from '../names.js';
import { ownerOrAdmin, whoOf } from './guards.js';
import type { ApiDeps } from './deps.js';
import { parseStartBody, parseStopBody } from './body.js';
import { ownerOnly } from './server-access.js';
import { presentServer } from './present.js';
import { streamProgress } from './progress.js';

const MAX_TAIL = 5000;

const JSON_BODY = { enableTypes: ['json' as const], jsonLimit: '16kb', encoding: 'utf-8' };

export function serverRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const json = bodyParser(JSON_BODY);
  const streams = new StreamSlots(deps.config.limits.streams_per_user);
  const owner = ownerOrAdmin(deps);

  router.param('user', async (user, _ctx, next) => {
    checkUserName(user);
    return next();
  });
  router.param('name', async (name, _ctx, next) => {
    checkServerName(name);
    return next();
  });

  router.get('/users/:user', owner, async (ctx) => {
    const servers = deps.queries.list({ user: ctx.params.user });
    ctx.body = {
      name: ctx.params.user,
      servers: Object.fromEntries(servers.map((s) => [s.name, presentServer(s, deps.urls)])),
    };
  });

  router.get('/users/:user/servers/:name', ownerOrAdmin(deps, 'server'), async (ctx) => {
    ctx.body = presentServer(deps.queries.get(ctx.params.user!, ctx.params.name!), deps.urls);
  });

  router.post('/users/:user/servers/:name', ownerOnly(deps), json, async (ctx) => {
    const { user, name } = namedServer(ctx.params);
    const row = await deps.manager.start(whoOf(ctx), user, name, parseStartBody(ctx.request.body));
    ctx.status = 202;
    ctx.body = presentServer(row, deps.urls);
  });

  // JupyterHub's DELETE: no body (or {"remove": false}) stops; {"remove": true} also forgets the server.
  router.delete(
    '/users/:user/servers/:name',
    ownerOnly(deps, 'server'),
    bodyParser({ ...JSON_BODY, parsedMethods: ['DELETE'] }),
    async (ctx) => {
      const { user, name } = namedServer(ctx.params);
      if (parseStopBody(ctx.request.body).remove) {
        if (whoOf(ctx).server)
          throw new HubappsError(
            'server_token_scope',
            "a server's own token may stop its server but not remove it",
          );
        await deps.manager.remove(whoOf(ctx), user, name);
        ctx.status = 204;
        return;
      }
      const row = await deps.manager.stop(whoOf(ctx), user, name);
      ctx.body = presentServer(row, deps.urls);
    },
  );

  router.get('/users/:user/servers/:name/progress', owner, async (ctx) => {
    const row = deps.queries.get(ctx.params.user!, ctx.params.name!);
    const release = streams.take(whoOf(ctx).name);
    streamProgress(ctx, deps, row, release);
  });

  router.get('/users/:user/servers/:name/logs', owner, async (ctx) => {
    const row = deps.queries.get(ctx.params.user!, ctx.params.name!);
    const tail = parseTail(ctx.query.tail);
    const { lines, currentAttempt } = deps.queries.logTail(row, tail);
    ctx.body = { name: row.name, user: row.user, lines, current_attempt: currentAttempt };
  });

  return router;
}

/** The route's `:user` and `:name` in the types the lifecycle takes (router.param refused bad ones before the guard ran). */
function namedServer(params: Record<string, string>): { user: UserName; name: ServerName } {
  return { user: checkUserName(params.user ?? ''), name: checkServerName(params.name ?? '') };
}

function parseTail(q: unknown): number {
  if (q === undefined) return 200;
  const n = Number(q);
  if (!Number.isInteger(n) || n < 1)
    throw new HubappsError('invalid_query', 'tail must be a positive whole number');
  return Math.min(n, MAX_TAIL);
}

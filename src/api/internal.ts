import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { HubappsError } from '../errors.js';
import type { AnnounceRequest, ProxyAuthRequest, ProxyAuthResponse } from '../proxy/protocol.js';
import type { ApiDeps } from './deps.js';
import { mayUseServer, proxyRow } from './access.js';

const CACHE_SECONDS = 30;

/**
 * Loopback endpoint for the per-user proxies: "may this credential use my server?". The
 * proxy proves which server it is with that server's secret, so one user's proxy cannot
 * use this to test credentials against another user's server.
 */
export function internalRoutes(deps: ApiDeps): Router {
  const router = new Router();
  router.post('/internal/proxy-auth', bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }), async (ctx) => {
    const body = ctx.request.body as Partial<ProxyAuthRequest>;
    const row = proxyRow(deps, body.serverId, ctx.get('authorization'));
    const who = await deps.auth.fromToken(typeof body.token === 'string' ? body.token : undefined);
    if (!who) throw new HubappsError('unauthenticated', 401, 'invalid token');
    if (!mayUseServer(deps, who, row.user)) throw new HubappsError('not_owner', 403, `${who.name} may not use ${row.user}'s server`);
    const answer: ProxyAuthResponse = { user: who.name, admin: who.admin, ttl: CACHE_SECONDS };
    ctx.body = answer;
  });
  // A proxy in a Slurm job says where it listens; the lifecycle checks it before CHP routes there.
  router.post('/internal/announce', bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }), async (ctx) => {
    const body = ctx.request.body as Partial<AnnounceRequest>;
    const row = proxyRow(deps, body.serverId, ctx.get('authorization'));
    if (typeof body.host !== 'string' || typeof body.port !== 'number' || typeof body.runId !== 'string') {
      throw new HubappsError('bad_announce', 400, 'announce needs host (string), port (number) and runId (string)');
    }
    await deps.manager.announce(row, { host: body.host, port: body.port, runId: body.runId });
    ctx.body = { ok: true };
  });
  return router;
}

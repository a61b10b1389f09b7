import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { bearer, sameSecret } from '../auth/identity.js';
import { HubappsError } from '../errors.js';
import type { ProxyAuthRequest, ProxyAuthResponse } from '../proxy/protocol.js';
import type { ApiDeps } from './deps.js';

const CACHE_SECONDS = 30;

/**
 * Loopback endpoint for the per-user proxies: "may this credential use my server?". The
 * proxy proves which server it is with that server's secret, so one user's proxy cannot
 * use this to test credentials against another user's server.
 */
export function internalRoutes(deps: ApiDeps): Router {
  const router = new Router();
  router.post('/internal/proxy-auth', bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }), (ctx) => {
    const body = ctx.request.body as Partial<ProxyAuthRequest>;
    const row = typeof body.serverId === 'number' ? deps.store.byId(body.serverId) : undefined;
    const secret = bearer(ctx.get('authorization'));
    if (!row || !row.secret || !secret || !sameSecret(secret, row.secret)) {
      throw new HubappsError('proxy_unknown', 401, 'unknown server or wrong server secret');
    }
    const who = deps.auth.identify(typeof body.token === 'string' ? body.token : undefined);
    if (!who) throw new HubappsError('unauthenticated', 401, 'invalid token');
    if (who.name !== row.user && !who.admin) throw new HubappsError('not_owner', 403, `${who.name} may not use ${row.user}'s server`);
    const answer: ProxyAuthResponse = { user: who.name, admin: who.admin, ttl: CACHE_SECONDS };
    ctx.body = answer;
  });
  return router;
}

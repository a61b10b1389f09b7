import Router from '@koa/router';
import { HubappsError } from '../errors.js';
import { checkServerName, checkUserName } from '../names.js';
import type { ApiDeps } from './deps.js';
import { adminOnly } from './guards.js';
import { presentEvent } from './present.js';

const MAX_EVENTS = 1000;

/** Admin-only views: the audit trail and Prometheus metrics. */
export function adminRoutes(deps: ApiDeps): { api: Router; metrics: Router } {
  const api = new Router();
  api.get('/events', adminOnly(deps), async (ctx) => {
    const q = ctx.query;
    const user = typeof q.user === 'string' ? checkUserName(q.user) : undefined;
    const server = typeof q.server === 'string' ? checkServerName(q.server) : undefined;
    const kind = typeof q.kind === 'string' ? q.kind : undefined;
    if (kind && !['state', 'progress', 'audit'].includes(kind))
      throw new HubappsError('invalid_query', 'kind must be state, progress or audit');
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new HubappsError('invalid_query', 'limit must be a positive whole number');
    const before = q.before === undefined ? undefined : Number(q.before);
    if (before !== undefined && !Number.isInteger(before))
      throw new HubappsError('invalid_query', 'before must be an event id');
    const events = deps.queries.searchEvents({
      user,
      server,
      kind,
      before,
      limit: Math.min(limit, MAX_EVENTS),
    });
    ctx.body = {
      events: events.map((e) => ({
        ...presentEvent(e),
        user: e.user,
        server: e.server,
        actor: e.actor,
      })),
    };
  });

  const metrics = new Router();
  metrics.get('/metrics', adminOnly(deps), async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  return { api, metrics };
}

import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { HubappsError } from '../errors.js';
import { checkServerName, checkUserName, printable } from '../names.js';
import { objectBody } from './body.js';
import type { ApiDeps } from './deps.js';
import { whoOf } from './guards.js';
import { ownerOnly } from './server-access.js';

/** How far ahead of the service's clock a reported time may be (clocks of Slurm nodes drift). */
export const MAX_ACTIVITY_SKEW_MS = 60_000;

/**
 * JupyterHub's activity endpoint, where an app reports use the proxy cannot see (a kernel
 * computing, a download in progress): POST users/NAME/activity with
 * `{"last_activity": ISO, "servers": {SERVER: {"last_activity": ISO}}}`, authenticated with
 * the app's JUPYTERHUB_API_TOKEN (which may name its own server only) or as the owner or
 * an admin. Each running server named moves its last activity forward, so the idle culler
 * spares it; nothing moves unless every server named may be updated.
 */
export function activityRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '16kb', encoding: 'utf-8' });
  router.post('/users/:user/activity', ownerOnly(deps, 'user'), json, async (ctx) => {
    const own = whoOf(ctx).server?.name;
    const user = checkUserName(ctx.params.user ?? '');
    const reported = parseActivity(ctx.request.body, own, Date.now());
    const rows = [...reported].map(([name, at]) => {
      if (own !== undefined && name !== own)
        throw new HubappsError(
          'server_token_scope',
          `this token belongs to server ${own}; it may not report activity of ${name}`,
        );
      const row = deps.queries.get(user, name);
      if (row.state !== 'running')
        throw new HubappsError(
          'server_not_running',
          `${user}/${name} is ${row.state}: only a running server records activity`,
        );
      return { row, at };
    });
    for (const { row, at } of rows) deps.manager.recordActivity(row, at);
    ctx.body = {
      servers: Object.fromEntries(
        rows.map(({ row }) => [
          row.name,
          { last_activity: deps.queries.get(user, row.name).last_activity },
        ]),
      ),
    };
  });
  return router;
}

/**
 * The servers and times a body reports. The top-level `last_activity` stands for the
 * server of a server token when `servers` is absent (what a simple app sends).
 */
export function parseActivity(
  body: unknown,
  ownServer: string | undefined,
  now: number,
): Map<string, string> {
  const { last_activity: top, servers } = objectBody(body ?? null, ['last_activity', 'servers']);
  const topAt = top === undefined ? undefined : activityTime(top, 'last_activity', now);
  const out = new Map<string, string>();
  if (servers !== undefined) {
    if (servers === null || typeof servers !== 'object' || Array.isArray(servers))
      throw new HubappsError('invalid_body', '"servers" must be an object of server names');
    for (const [name, entry] of Object.entries(servers)) {
      checkServerName(name);
      const { last_activity: at } = objectBody(entry, ['last_activity']);
      out.set(name, activityTime(at, `servers.${printable(name)}.last_activity`, now));
    }
  } else if (topAt !== undefined && ownServer !== undefined) {
    out.set(ownServer, topAt);
  }
  if (out.size === 0)
    throw new HubappsError(
      'invalid_body',
      'name the servers: {"servers": {"SERVER": {"last_activity": "2026-01-01T12:00:00Z"}}}',
    );
  return out;
}

/** An ISO 8601 time with its zone, not ahead of now by more than MAX_ACTIVITY_SKEW_MS, in the service's own form. */
function activityTime(v: unknown, key: string, now: number): string {
  const ms = typeof v === 'string' && ISO_TIME.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms))
    throw new HubappsError(
      'invalid_body',
      `"${key}" must be an ISO 8601 time with a zone, e.g. 2026-01-01T12:00:00.000Z`,
    );
  if (ms > now + MAX_ACTIVITY_SKEW_MS)
    throw new HubappsError(
      'invalid_body',
      `"${key}" is in the future (${printable(v as string)}); report the time the activity happened`,
    );
  return new Date(ms).toISOString();
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

import Router from '@koa/router';
import { hubStarted } from '../lifecycle/hub-start.js';
import type { Middleware } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { HubappsError } from '../errors.js';
import { CallVerifier } from '../protocol/challenge.js';
import type {
  AnnounceRequest,
  PortAccessAnswer,
  ProxyAuthRequest,
  ProxyAuthResponse,
  SessionCheckRequest,
} from '../protocol/wire.js';
import type { ServerRow } from '../model/server.js';
import type { ApiDeps } from './deps.js';
import { accessVia, mayUseServer, proxyRow } from './server-access.js';
import { decidePortAccess, parsePortAccess, PORT_ACCESS_TTL_S } from './port-access.js';

const CACHE_SECONDS = 30;

/** Headers a forwarding proxy adds: CHP (its default --x-forward) and nginx or Apache in front of it. */
const FORWARDED = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded'];

/**
 * `api/internal/*` is for the proxies, which call the service directly (on loopback, or
 * from a Slurm node at slurm.service_url); CHP routes the service prefix to the same
 * listener. A request that came through CHP carries the forwarding headers CHP adds, and is
 * answered as if the route did not exist, so nothing of this protocol is on the public side.
 * One listener keeps the address that running proxies were started with valid across
 * upgrades and restarts.
 */
export function internalOnlyDirect(internalPrefix: string): Middleware {
  return async (ctx, next) => {
    if (ctx.path.startsWith(internalPrefix) && FORWARDED.some((h) => ctx.get(h) !== '')) {
      throw new HubappsError(
        'not_found',
        `no such endpoint: ${ctx.method} ${ctx.path.slice(0, 200)}`,
      );
    }
    return next();
  };
}

/**
 * Loopback endpoint for the per-user proxies: "may this credential use my server?". The
 * proxy proves which server it is with that server's secret, so one user's proxy cannot
 * use this to test credentials against another user's server.
 */
export function internalRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const verifiers = new Map<number, { secret: string; verifier: CallVerifier }>();
  router.post(
    '/internal/proxy-auth',
    bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }),
    async (ctx) => {
      const body = ctx.request.body as Partial<ProxyAuthRequest>;
      const row = proxyRow(deps, body.serverId, ctx.get('authorization'));
      if (hubStarted(row))
        throw new HubappsError(
          'not_allowed',
          'this server was started through JupyterHub: only hub credentials open it, never a hubapps one',
        );
      // Counted per server: a flood of made-up tokens at one server's proxy exhausts only that proxy's look-ups.
      const who = await deps.auth.fromToken(
        typeof body.token === 'string' ? body.token : undefined,
        `proxy of server ${row.id}`,
      );
      if (!who) throw new HubappsError('unauthenticated', 'invalid token');
      // A server's token opens that server alone (an app calling its own public URL), never its owner's others.
      if (who.server && who.server.id !== row.id)
        throw new HubappsError(
          'server_token_scope',
          `this token belongs to server ${who.server.name} of ${who.server.user}, not to this one`,
        );
      if (!mayUseServer(deps, who, row.user))
        throw new HubappsError('not_owner', `${who.name} may not use ${row.user}'s server`);
      const answer: ProxyAuthResponse = { user: who.name, admin: who.admin, ttl: CACHE_SECONDS };
      ctx.body = answer;
    },
  );
  // A proxy in a Slurm job says where it listens; the lifecycle checks it before CHP routes there.
  router.post(
    '/internal/announce',
    bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }),
    async (ctx) => {
      const body = ctx.request.body as Partial<AnnounceRequest>;
      const row = signedProxyRow(deps, verifiers, body.serverId, ctx);
      if (
        typeof body.host !== 'string' ||
        typeof body.port !== 'number' ||
        typeof body.runId !== 'string'
      ) {
        throw new HubappsError(
          'bad_announce',
          'announce needs host (string), port (number) and runId (string)',
        );
      }
      await deps.manager.announce(row, { host: body.host, port: body.port, runId: body.runId });
      ctx.body = { ok: true };
    },
  );

  // A proxy asks whether a user it identified may use one of the owner's own ports (wire.ts, PortAccessRequest).
  router.post(
    '/internal/port-access',
    bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }),
    async (ctx) => {
      const row = signedProxyRow(
        deps,
        verifiers,
        (ctx.request.body as { serverId?: unknown })?.serverId,
        ctx,
      );
      const body = parsePortAccess(ctx.request.body);
      const admin = body.user !== row.user && (await deps.admins.isAdmin(body.user));
      await decidePortAccess(deps, row, { name: body.user, admin }, body);
      // Whoever asked, the forward is the owner's: from now on only the owner's sockets reach the port directly.
      await deps.forwards?.openFor(row.user, body.port);
      const answer: PortAccessAnswer = { ttl: PORT_ACCESS_TTL_S };
      ctx.body = answer;
    },
  );

  /**
   * "Is the launcher session behind my cookie still allowed on my server?", asked by a
   * proxy at least once a minute per browser session. No: the session ended (logout,
   * expiry), the user left the allowed group, lost the admin right that let them in, or
   * the server is no longer running, or the share that let them in was revoked.
   */
  router.post(
    '/internal/session-check',
    bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }),
    async (ctx) => {
      const body = ctx.request.body as Partial<SessionCheckRequest>;
      const row = proxyRow(deps, body.serverId, ctx.get('authorization'));
      const session =
        typeof body.session === 'string' && body.session !== ''
          ? deps.sessions.sessionByHash(body.session)
          : undefined;
      if (!session) throw new HubappsError('session_ended', 'this browser session has ended');
      if (row.state !== 'running')
        throw new HubappsError('server_not_running', `${row.user}/${row.name} is ${row.state}`);
      try {
        await deps.users.check(session.user);
      } catch (err) {
        if (err instanceof HubappsError && err.status < 500)
          throw new HubappsError('user_not_allowed', err.message);
        throw err;
      }
      const admin =
        session.admin === 1 && (await deps.admins.isAdmin(session.user, session.hub_admin === 1));
      if ((await accessVia(deps, { name: session.user, admin }, row)) === null) {
        throw new HubappsError(
          'not_owner',
          `${session.user} may no longer use ${row.user}'s server`,
        );
      }
      ctx.body = { user: session.user, admin };
    },
  );
  return router;
}

/**
 * A call from a proxy on a compute node crosses the cluster network, so it carries a
 * challenge signed with the server's secret (protocol/challenge.ts), never the secret itself; each
 * server's verifier remembers nonces, so a captured call cannot be replayed.
 */
function signedProxyRow(
  deps: ApiDeps,
  verifiers: Map<number, { secret: string; verifier: CallVerifier }>,
  serverId: unknown,
  ctx: { method: string; path: string; get(h: string): string },
): ServerRow {
  const row = typeof serverId === 'number' ? deps.queries.byId(serverId) : undefined;
  if (row?.secret) {
    let v = verifiers.get(row.id);
    if (!v || v.secret !== row.secret) {
      v = { secret: row.secret, verifier: new CallVerifier(row.secret) };
      verifiers.set(row.id, v);
    }
    if (v.verifier.verify(ctx.method, ctx.path, ctx.get('authorization'))) return row;
  }
  throw new HubappsError(
    'proxy_unknown',
    'unknown server, or the call is not signed with its secret',
  );
}

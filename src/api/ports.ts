import Router, { type RouterContext } from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { HubappsError } from '../errors.js';
import type { PortRef } from '../model/auth.js';
import type { ServerRow } from '../model/server.js';
import type { PortKind } from '../port-label.js';
import type { ListeningPort } from '../protocol/wire.js';
import type { ApiDeps } from './deps.js';
import { objectBody } from './body.js';
import { whoOf } from './guards.js';
import { namedServer, ownerOnly, shareCreator, sharingRefusal } from './server-access.js';
import { checkPortPolicy, openForward, parsePortRef, serverPortPolicy } from './port-access.js';

/**
 * One of a user's own ports as the API lists it. state: 'listening' (a process of the
 * server listens on it now), 'closed' (a recorded forward nothing listens on), 'unknown'
 * (the proxy could not say: an older proxy, or a port elsewhere on the host, which the
 * server's listing does not cover).
 */
export interface PresentedPort {
  port: number;
  kind: PortKind;
  state: 'listening' | 'closed' | 'unknown';
  command: string | null;
  url: string;
  shared: boolean;
}

/**
 * The ports of one server (docs/api.md, "Users' own ports"): the owner or an admin lists
 * them and forgets a forward; only the owner shares one with the server's visitors.
 */
export function portRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '1kb' });
  const owner = ownerOnly(deps);

  router.get('/users/:user/servers/:name/ports', owner, async (ctx) => {
    const row = namedServer(deps, ctx);
    ctx.body = { ports: await listPorts(deps, row) };
  });

  router.patch('/users/:user/servers/:name/ports/:port', owner, json, async (ctx) => {
    const row = namedServer(deps, ctx);
    shareCreator(ctx, row);
    const p = portOf(ctx);
    const { shared } = objectBody(ctx.request.body, ['shared']);
    if (typeof shared !== 'boolean')
      throw new HubappsError('invalid_body', 'field "shared" must be true or false');
    if (shared) {
      const refusal = sharingRefusal(deps, row);
      if (refusal) throw refusal;
      checkPortPolicy(deps, row, p);
      // Sharing a port nobody opened yet opens its forward, within the owner's cap.
      await openForward(deps, row, p, row.user);
    }
    if (!deps.ports.setShared(row.id, p, shared)) throw noSuchPort(row, p);
    deps.manager.audit(
      row,
      `${row.user} ${shared ? 'shared' : 'unshared'} port ${p.port} of server '${row.name}'`,
      row.user,
    );
    const listed = (await listPorts(deps, row)).find((e) => e.port === p.port && e.kind === p.kind);
    ctx.body = listed ?? present(deps, row, p, 'unknown', null, shared);
  });

  router.delete('/users/:user/servers/:name/ports/:port', owner, async (ctx) => {
    const row = namedServer(deps, ctx);
    const p = portOf(ctx);
    if (!(await deps.manager.ports.forget(row, p))) throw noSuchPort(row, p);
    deps.manager.audit(row, `port ${p.port} of server '${row.name}' forgotten`, whoOf(ctx).name);
    ctx.status = 204;
  });
  return router;
}

/**
 * The proxy's listing (ports a process of the server listens on, inside the policy) merged
 * with the recorded forwards; without a listing, the recorded forwards alone.
 */
export async function listPorts(deps: ApiDeps, row: ServerRow): Promise<PresentedPort[]> {
  const recorded = deps.ports.forServer(row.id);
  const { policy } = serverPortPolicy(deps, row);
  const listening: ListeningPort[] | null =
    policy === undefined ? [] : await deps.manager.ports.listening(row);
  const inPolicy = (port: number) => policy?.ranges.some(([a, b]) => a <= port && port <= b);
  const out: PresentedPort[] = [];
  const seen = new Set<number>();
  for (const l of listening ?? []) {
    if (!inPolicy(l.port) || seen.has(l.port)) continue;
    seen.add(l.port);
    const rec = recorded.find((r) => r.kind === 'server' && r.port === l.port);
    out.push(
      present(
        deps,
        row,
        { port: l.port, kind: 'server' },
        'listening',
        l.command,
        rec?.shared === 1,
      ),
    );
  }
  for (const r of recorded) {
    if (r.kind === 'server' && seen.has(r.port)) continue;
    const state = listening === null || r.kind === 'host' ? 'unknown' : 'closed';
    out.push(present(deps, row, r, state, null, r.shared === 1));
  }
  return out.sort((a, b) => a.port - b.port || a.kind.localeCompare(b.kind));
}

function present(
  deps: ApiDeps,
  row: ServerRow,
  p: PortRef,
  state: PresentedPort['state'],
  command: string | null,
  shared: boolean,
): PresentedPort {
  return {
    port: p.port,
    kind: p.kind,
    state,
    command,
    url: deps.urls.portUrl(row.user, row.name, p.port, p.kind),
    shared,
  };
}

/** `:port` of the route and `?kind=` (server when absent). */
function portOf(ctx: RouterContext): PortRef {
  return parsePortRef(ctx.params.port, ctx.query.kind, 'kind', 'server', 'invalid_query');
}

function noSuchPort(row: ServerRow, p: PortRef): HubappsError {
  return new HubappsError(
    'no_such_port',
    `${row.user}'s server '${row.name}' has no recorded forward of port ${p.port} (kind ${p.kind})`,
  );
}

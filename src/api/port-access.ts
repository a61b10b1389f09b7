import { HubappsError } from '../errors.js';
import { portPolicy, portRefusal } from '../catalog/port-policy.js';
import { isPortNumber, type PortKind } from '../port-label.js';
import { USER_NAME } from '../names.js';
import type { PortRef } from '../model/auth.js';
import type { ServerRow } from '../model/server.js';
import type { Identity } from '../auth/identity.js';
import type { PortAccessRequest } from '../protocol/wire.js';
import type { ApiDeps } from './deps.js';
import { accessVia, type AccessVia } from './server-access.js';

/** Seconds a proxy may reuse a yes (it caches for the least of this and session_revalidate). */
export const PORT_ACCESS_TTL_S = 30;
/**
 * At the cap, a forward not used for this long may be dropped for a new one. A forward in
 * use is asked about at least every PORT_ACCESS_TTL_S, so an older last_seen means nobody
 * has used it for a while, most likely because nothing listens on it any more.
 */
export const IDLE_FORWARD_MS = 10 * 60_000;

/** The port policy the server runs with: the config's user_ports narrowed by its app's `ports`. */
export function serverPortPolicy(deps: Pick<ApiDeps, 'config' | 'catalog'>, row: ServerRow) {
  const app = deps.catalog().get(row.app);
  try {
    return {
      app,
      policy: portPolicy(
        deps.config.user_ports,
        app ?? { name: row.app, file: '', ports: undefined },
      ),
    };
  } catch (err) {
    throw new HubappsError('port_not_allowed', (err as Error).message);
  }
}

/** The refusal for `p` under the server's policy, thrown; returns quietly when the policy allows it. */
export function checkPortPolicy(
  deps: Pick<ApiDeps, 'config' | 'catalog'>,
  row: ServerRow,
  p: PortRef,
): void {
  const { app, policy } = serverPortPolicy(deps, row);
  const refusal = portRefusal(policy, app, p.port, p.kind);
  if (refusal) throw refusal;
}

/**
 * May `who` use port `p` of `row`? The server must run; the port must be in its policy; the
 * owner may, an admin only with admin_access, a visitor let in by a share only when the
 * owner shared this port. The owner's and an admin's use opens (or refreshes) the forward
 * within the owner's cap (user_ports.max_open_per_user); a visitor's use only refreshes the
 * one the owner shared, since a port that is not recorded cannot be shared.
 * Throws the refusal, whose message says what to do.
 */
export async function decidePortAccess(
  deps: ApiDeps,
  row: ServerRow,
  who: Pick<Identity, 'name' | 'admin'>,
  p: PortRef,
): Promise<AccessVia> {
  if (row.state !== 'running')
    throw new HubappsError(
      'server_not_running',
      `${row.user}'s server '${row.name}' is ${row.state}: start it to reach its ports`,
    );
  checkPortPolicy(deps, row, p);
  const via = await accessVia(deps, who, row);
  if (via === null)
    throw new HubappsError(
      'not_owner',
      who.admin
        ? `${who.name} is an admin, but admins may open other users' ports only with admin_access on`
        : `${who.name} may not use ${row.user}'s server '${row.name}' or its ports`,
    );
  const what = portName(row, p);
  if (via === 'share') {
    if (deps.ports.get(row.id, p)?.shared !== 1)
      throw new HubappsError(
        'port_not_shared',
        `${row.user} has shared the server '${row.name}' but not ${what}; ask them to share that port in the launcher`,
      );
  }
  await openForward(deps, row, p, who.name);
  return via;
}

/**
 * Open (or refresh) the forward of `p` within the owner's cap (user_ports.max_open_per_user):
 * at the cap, the owner's least recently used unshared forward idle for IDLE_FORWARD_MS is
 * dropped (its host's route too) to make room; with none, 409 port_cap_reached. Audited.
 */
export async function openForward(
  deps: ApiDeps,
  row: ServerRow,
  p: PortRef,
  actor: string,
): Promise<void> {
  const what = portName(row, p);
  const idleBefore = new Date(Date.now() - IDLE_FORWARD_MS).toISOString();
  const cap = deps.config.user_ports.max_open_per_user;
  const opened = deps.ports.open(row.id, row.user, p, cap, idleBefore);
  if (opened.outcome === 'cap')
    throw new HubappsError(
      'port_cap_reached',
      `${row.user} has ${opened.open} ports open, the most allowed (user_ports.max_open_per_user: ${cap}), and all were used in the last ${IDLE_FORWARD_MS / 60_000} minutes: close one in the launcher (My servers) to open ${what}`,
    );
  if (opened.outcome !== 'opened') return;
  deps.manager.audit(row, `${actor} opened ${what}`, actor);
  if (!opened.dropped) return;
  const d = opened.dropped;
  deps.manager.audit(
    row,
    `port ${d.port} of ${d.user}'s server '${d.name}' was closed to make room (user_ports.max_open_per_user)`,
    actor,
  );
  await deps.manager.ports.dropped(d);
}

/** The body of a port-access call, checked field by field. */
export function parsePortAccess(body: unknown): PortAccessRequest {
  const b = (body ?? {}) as Partial<Record<keyof PortAccessRequest, unknown>>;
  if (typeof b.serverId !== 'number') throw invalid('serverId must be a number');
  if (typeof b.user !== 'string' || !USER_NAME.test(b.user))
    throw invalid('user must be a user name');
  const p = parsePortRef(b.port, b.kind, 'kind');
  return { serverId: b.serverId, user: b.user, port: p.port, kind: p.kind };
}

/** A port and its kind from untrusted input ('server' when `kind` is absent and `kindKey` allows it). */
export function parsePortRef(
  port: unknown,
  kind: unknown,
  kindKey: string,
  kindDefault?: PortKind,
  code: 'invalid_body' | 'invalid_query' = 'invalid_body',
): PortRef {
  const n = typeof port === 'string' && /^[0-9]{1,5}$/.test(port) ? Number(port) : port;
  if (typeof n !== 'number' || !isPortNumber(n))
    throw invalid(
      `port must be a whole number from 1 to 65535, not ${String(JSON.stringify(port)).slice(0, 20)}`,
      code,
    );
  const k = kind === undefined ? kindDefault : kind;
  if (k !== 'server' && k !== 'host')
    throw invalid(
      `${kindKey} must be "server" (a port inside the server) or "host" (a port elsewhere on the host)`,
      code,
    );
  return { port: n, kind: k };
}

/** "port 8787 of alice's server 'lab'", as messages and the audit trail say it. */
function portName(row: Pick<ServerRow, 'user' | 'name'>, p: PortRef): string {
  return `port ${p.port}${p.kind === 'host' ? ' (on the host)' : ''} of ${row.user}'s server '${row.name}'`;
}

function invalid(
  message: string,
  code: 'invalid_body' | 'invalid_query' = 'invalid_body',
): HubappsError {
  return new HubappsError(code, message);
}

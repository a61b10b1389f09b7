import type { Context } from 'koa';
import { HubappsError } from '../errors.js';
import { parsePortLabel, portLabel } from '../port-label.js';
import { SERVER_NAME, USER_NAME } from '../names.js';
import type { PortRef } from '../model/auth.js';
import type { ServerRow } from '../model/server.js';
import type { ApiDeps } from './deps.js';
import { checkPortPolicy } from './port-access.js';

/**
 * The server and port a port label names: a plain label splits into its names (checked by
 * rebuilding it); a hashed one is compared with the label of each candidate server, since
 * its squeezed names cannot be read back. Undefined when no server has that label.
 */
export function serverOfPortLabel(
  label: string,
  candidates: () => Iterable<{ user: string; name: string }>,
): { user: string; name: string; port: PortRef } | undefined {
  const port = parsePortLabel(label);
  if (!port) return undefined;
  const parts = label.split('--');
  if (parts.length === 4) {
    const [, , name, user] = parts as [string, string, string, string];
    if (
      USER_NAME.test(user) &&
      SERVER_NAME.test(name) &&
      portLabel(user, name, port.port, port.kind) === label
    )
      return { user, name, port };
  }
  for (const c of candidates())
    if (portLabel(c.user, c.name, port.port, port.kind) === label)
      return { user: c.user, name: c.name, port };
  return undefined;
}

/**
 * A request for a port's own host that reached the service: the apps CHP has no route for
 * that host yet. For a running server whose policy allows the port, the route to its proxy
 * is added and the browser sent to the same address again (307 keeps the method and body),
 * where the proxy checks who asks. False when `label` is not a port label at all.
 */
export async function portHostPage(
  deps: ApiDeps,
  ctx: Context,
  label: string,
  notRunning: (user: string, name: string, row: ServerRow | undefined, next: string) => void,
): Promise<boolean> {
  if (!parsePortLabel(label)) return false;
  const found = serverOfPortLabel(label, () => deps.queries.list());
  const row = found ? deps.queries.find(found.user, found.name) : undefined;
  if (!found || !row) {
    ctx.set('Cache-Control', 'no-store');
    throw new HubappsError('not_found', 'there is no server for this port address');
  }
  const { port } = found;
  const here = `${deps.urls.portOrigin(row.user, row.name, port.port, port.kind)}${ctx.originalUrl}`;
  if (row.state !== 'running') {
    notRunning(row.user, row.name, row, here);
    return true;
  }
  // Refused here already, so a port outside the policy never gets a route.
  checkPortPolicy(deps, row, port);
  await deps.manager.ports.openRoute(row, port);
  ctx.set('Cache-Control', 'no-store');
  ctx.status = 307;
  ctx.redirect(here);
  return true;
}

import { portRouteData, type HubappsRouteData } from '../chp/route-table.js';
import { HubappsError } from '../errors.js';
import type { PortRef } from '../model/auth.js';
import type { ServerRow } from '../store/servers.js';
import { bestEffort } from './best-effort.js';
import type { LifecycleDeps } from './deps.js';
import type { Launches } from './launches.js';

/**
 * Per-server origins give each of a user's own ports a host of its own (port-label.ts); the
 * apps CHP routes it to the proxy of the server the port belongs to. The route is added when
 * the first request for the host reaches the service (the apps CHP's default target), kept by
 * reconcile while the server runs and its forward is recorded (server_ports), and removed
 * with the server's own route.
 */
export async function addPortRoute(
  deps: LifecycleDeps,
  launches: Launches,
  row: ServerRow,
  p: PortRef,
): Promise<void> {
  const target = launches.of(row).routeTarget();
  if (!target || row.state !== 'running')
    throw new HubappsError('server_not_running', `${row.user}/${row.name} is ${row.state}`);
  await deps.serverRoutes.add(
    deps.urls.portRoute(row.user, row.name, p.port, p.kind),
    target,
    portRouteData(row, p.port, p.kind),
  );
}

/** Drop the routes of the server's ports (host layout); a failure is left to reconcile. */
export async function removePortRoutes(
  deps: LifecycleDeps,
  row: { id: number; user: string; name: string },
  ports: PortRef[] = deps.ports?.forServer(row.id) ?? [],
): Promise<void> {
  if (!deps.urls.hostLayout) return;
  await Promise.all(
    ports.map((p) => {
      const route = deps.urls.portRoute(row.user, row.name, p.port, p.kind);
      return bestEffort(
        deps.log,
        "removing a port's route",
        { server: row.id, route },
        deps.serverRoutes.remove(route),
      );
    }),
  );
}

/** The port routes reconcile keeps: one per recorded forward of a running server (host layout). */
export function wantedPortRoutes(
  deps: LifecycleDeps,
  launches: Launches,
  verified: Set<number>,
): Map<string, { target: string; data: HubappsRouteData; verified: boolean }> {
  const want = new Map<string, { target: string; data: HubappsRouteData; verified: boolean }>();
  if (!deps.urls.hostLayout || !deps.ports) return want;
  for (const f of deps.ports.running()) {
    const row = { id: f.server_id, user: f.user, name: f.name };
    const server = deps.store.byId(f.server_id);
    const target = server ? launches.of(server).routeTarget() : null;
    if (!target) continue;
    want.set(deps.urls.portRoute(f.user, f.name, f.port, f.kind), {
      target,
      data: portRouteData(row, f.port, f.kind),
      verified: verified.has(f.server_id),
    });
  }
  return want;
}

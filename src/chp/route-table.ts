import type { PortKind } from '../port-label.js';

/** Data hubapps attaches to each of its CHP routes; routes without `hubapps: true` are never touched. */
export interface HubappsRouteData {
  hubapps: true;
  /**
   * 'server': a per-user server; 'port': a user's own port's host, routed to its server's
   * proxy (per-server origins); 'catchall': the /apps fallback to the service; 'service':
   * the service's own prefix.
   */
  kind: 'server' | 'port' | 'catchall' | 'service';
  user?: string;
  server?: string;
  serverId?: number;
  /** Routes of kind 'port': the port and whether it is inside the server or elsewhere on the host. */
  port?: number;
  portKind?: PortKind;
}

/** The data of a per-user server's route; reconcile compares it with what CHP holds. */
export function serverRouteData(server: {
  id: number;
  user: string;
  name: string;
}): HubappsRouteData {
  return {
    hubapps: true,
    kind: 'server',
    user: server.user,
    server: server.name,
    serverId: server.id,
  };
}

/** The data of a user's own port's route (per-server origins). */
export function portRouteData(
  server: { id: number; user: string; name: string },
  port: number,
  portKind: PortKind,
): HubappsRouteData {
  return { ...serverRouteData(server), kind: 'port', port, portKind };
}

export interface RouteEntry {
  path: string;
  target: string;
  data: HubappsRouteData;
}

/** The only code that talks to configurable-http-proxy. */
export interface RouteTable {
  add(path: string, target: string, data: HubappsRouteData): Promise<void>;
  /**
   * Add the route only when CHP has none at `path`, whoever's: for a route another program
   * (JupyterHub) owns and re-adds on its own schedule, which hubapps only fills in meanwhile.
   * Resolves true when it added the route.
   */
  addIfAbsent(path: string, target: string, data: HubappsRouteData): Promise<boolean>;
  remove(path: string): Promise<void>;
  /** Resolves when CHP's API answers with our token, without reading the whole table; throws chp_unreachable, chp_auth or chp_error. */
  reachable(): Promise<void>;
  /** Only routes whose data has hubapps: true, keyed by path (CHP's form: no trailing slash). */
  list(): Promise<Map<string, RouteEntry>>;
}

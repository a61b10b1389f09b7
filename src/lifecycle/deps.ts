import type { Logger } from 'pino';
import type { CatalogApp } from '../catalog/types.js';
import type { Config } from '../config/schema.js';
import type { RouteTable } from '../chp/route-table.js';
import type { Launcher } from '../launchers/launcher.js';
import type { ServerStore } from '../store/servers.js';
import type { PortStore } from '../store/server-ports.js';
import type { UserChecker } from '../users/account.js';
import type { Metrics } from './metrics.js';
import type { Urls } from '../config/urls.js';
import type { HubServerTokens } from './hub-tokens.js';
import type { ForwardGuard } from '../limits/forward-guard.js';

export interface CatalogView {
  get(name: string): CatalogApp | undefined;
  list(): CatalogApp[];
}

/** Everything the lifecycle code works with, built once by `serve`'s wiring. */
export interface LifecycleDeps {
  config: Config;
  store: ServerStore;
  /** Users' own ports: the forwards servers' proxies opened (absent: no port routes are kept). */
  ports?: PortStore;
  launcher: Launcher;
  /** JupyterHub's CHP: the catch-all for /apps and, when configured, the service's own route. */
  routes: RouteTable;
  /** Where server routes live: the apps CHP (host routing) in the host layout, else the same table as `routes`. */
  serverRoutes: RouteTable;
  catalog: () => CatalogView;
  users: UserChecker;
  urls: Urls;
  log: Logger;
  metrics: Metrics;
  /** Set when JupyterHub is configured and forward_activity is on: activity goes to the hub's culler too. */
  activitySink?: (
    user: string,
    lastActivity: string,
    hubServer?: { user: string; server: string },
  ) => Promise<void>;
  /** Set when jupyterhub.server_tokens_from_hub is on: servers' tokens come from the hub and are deleted there. */
  hubTokens?: HubServerTokens;
  /** Set with the port guard: users' forwarded ports answer their owners only (src/limits/forward-guard.ts). */
  forwards?: Pick<ForwardGuard, 'openFor' | 'sweep'>;
}

import type { AdminPolicy } from '../auth/admins.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { HubClient } from '../auth/hub-client.js';
import type { AuthRecords } from '../auth/records.js';
import type { LifecycleDeps } from '../lifecycle/deps.js';
import type { ServerManager } from '../lifecycle/manager.js';
import type { ServerQueries } from '../lifecycle/queries.js';

/**
 * What API handlers may use: the lifecycle's read-only surroundings (configuration, catalog,
 * users, URLs, log, metrics), never its store, launcher or route tables, which only the
 * manager and the queries touch. The compiler holds handlers to it: a wider object (serve.ts
 * passes the lifecycle's) is accepted, but `deps.store` does not type-check here.
 */
export interface ApiDeps
  extends
    Pick<LifecycleDeps, 'config' | 'catalog' | 'users' | 'urls' | 'log' | 'metrics' | 'forwards'>,
    AuthRecords {
  /** Every change to a server, and the audit trail. */
  manager: ServerManager;
  /** Every read of servers, events and the routing layer's health. */
  queries: ServerQueries;
  auth: Authenticator;
  admins: AdminPolicy;
  /** Set when JupyterHub login is configured. */
  hub: HubClient | undefined;
  version: string;
}

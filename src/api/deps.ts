import type { AdminPolicy } from '../auth/admins.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { HubClient } from '../auth/hub-client.js';
import type { AuthRecords } from '../auth/records.js';
import type { LifecycleDeps } from '../lifecycle/deps.js';
import type { ServerManager } from '../lifecycle/manager.js';
import type { ServerQueries } from '../lifecycle/queries.js';

export interface ApiDeps extends LifecycleDeps, AuthRecords {
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

import type { AdminPolicy } from '../auth/admins.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { HubClient } from '../auth/hub-client.js';
import type { AuthRecords } from '../auth/records.js';
import type { LifecycleDeps } from '../lifecycle/deps.js';
import type { ServerManager } from '../lifecycle/manager.js';

export interface ApiDeps extends LifecycleDeps, AuthRecords {
  manager: ServerManager;
  auth: Authenticator;
  admins: AdminPolicy;
  /** Set when JupyterHub login is configured. */
  hub: HubClient | undefined;
  version: string;
}

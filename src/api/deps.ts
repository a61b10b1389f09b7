import type { AdminPolicy } from '../auth/admins.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { HubClient } from '../auth/hub-client.js';
import type { LifecycleDeps } from '../lifecycle/deps.js';
import type { ServerManager } from '../lifecycle/manager.js';
import type { AuthStore } from '../store/auth.js';
import type { ShareStore } from '../store/shares.js';

export interface ApiDeps extends LifecycleDeps {
  manager: ServerManager;
  auth: Authenticator;
  authStore: AuthStore;
  shares: ShareStore;
  admins: AdminPolicy;
  /** Set when JupyterHub login is configured. */
  hub: HubClient | undefined;
  version: string;
}

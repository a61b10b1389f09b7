import type { Authenticator } from '../auth/identity.js';
import type { LifecycleDeps } from '../lifecycle/deps.js';
import type { ServerManager } from '../lifecycle/manager.js';

export interface ApiDeps extends LifecycleDeps {
  manager: ServerManager;
  auth: Authenticator;
  version: string;
}

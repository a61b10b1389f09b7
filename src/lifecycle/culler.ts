import type { CatalogApp } from '../catalog/types.js';
import type { Config } from '../config/schema.js';
import type { ServerRow } from '../store/servers.js';
import { settingsFor } from '../limits/group-settings.js';
import type { LifecycleDeps } from './deps.js';

/**
 * Why a running server should be stopped now, or null. Idle time counts from the last
 * real request or WebSocket frame the proxy saw (never from health checks), or from the
 * moment it became ready if nobody has used it yet.
 */
export function cullReason(
  row: ServerRow,
  app: CatalogApp | undefined,
  culler: Config['culler'],
  now = Date.now(),
): string | null {
  const idleLimit = app?.idle_timeout ?? culler.idle_timeout;
  const since = Date.parse(row.last_activity ?? row.ready_at ?? row.started_at ?? row.created_at);
  if (idleLimit > 0 && now - since > idleLimit * 1000) {
    return `idle for more than ${idleLimit} s`;
  }
  const started = Date.parse(row.ready_at ?? row.started_at ?? row.created_at);
  if (culler.max_age > 0 && now - started > culler.max_age * 1000) {
    return `older than max_age ${culler.max_age} s`;
  }
  return null;
}

/**
 * The culler settings for `user`'s servers: the global ones, or what the user's groups set
 * in group_settings, read at every pass so a change of membership or config applies to
 * running servers. A user the policy no longer accepts gets the global ones.
 */
export async function cullerFor(
  deps: Pick<LifecycleDeps, 'config' | 'users'>,
  user: string,
): Promise<Config['culler']> {
  if (Object.keys(deps.config.group_settings).length === 0) return deps.config.culler;
  // A refused user (left the group, account deleted) is not an error here: the global culler applies.
  const account = await deps.users.check(user).then(
    (a) => a,
    () => undefined,
  );
  return account ? settingsFor(deps.config, account.groups).culler : deps.config.culler;
}

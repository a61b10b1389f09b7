import type { CatalogApp } from '../catalog/types.js';
import type { Config } from '../config/schema.js';
import type { ServerRow } from '../store/servers.js';

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

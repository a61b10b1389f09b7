import type { ServerRow } from '../model/server.js';
import type { LifecycleDeps } from './deps.js';

type ActivityDeps = Pick<LifecycleDeps, 'store' | 'activitySink' | 'log'>;

/**
 * Move a server's last activity forward to `at` (never back) and, when it moved, tell
 * JupyterHub (forward_activity). Both the proxy's report and the app's own
 * (JUPYTERHUB_ACTIVITY_URL) arrive here; the culler reads the result.
 */
export function recordActivity(
  deps: ActivityDeps,
  row: Pick<ServerRow, 'id' | 'user'> & Partial<Pick<ServerRow, 'hub_user' | 'hub_server'>>,
  at: string,
): boolean {
  if (!deps.store.touchActivity(row.id, at)) return false;
  // A server the hub started is the hub's server too: its own last_activity moves with it.
  const hubServer =
    row.hub_user != null && row.hub_server != null
      ? { user: row.hub_user, server: row.hub_server }
      : undefined;
  deps
    .activitySink?.(row.user, at, hubServer)
    .catch((err: unknown) =>
      deps.log.warn({ err: (err as Error).message }, 'activity not forwarded to JupyterHub'),
    );
  return true;
}

/** The later of two ISO times, either of which may be missing. */
export function latest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

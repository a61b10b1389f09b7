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
  row: Pick<ServerRow, 'id' | 'user'>,
  at: string,
): boolean {
  if (!deps.store.touchActivity(row.id, at)) return false;
  deps
    .activitySink?.(row.user, at)
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

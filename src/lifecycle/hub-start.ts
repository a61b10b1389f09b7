import { HubappsError } from '../errors.js';
import type { CatalogApp } from '../catalog/types.js';
import type { HubBinding, StartRequest } from '../protocol/wire.js';
import type { ServerRow } from '../store/servers.js';
import type { LifecycleDeps } from './deps.js';

/** What the hub's spawner sends for a server the hub owns (its route, its sign-in, its timeout). */
export interface HubStart {
  binding: HubBinding;
  /** The hub's prefix of the server, e.g. /user/alice/lab/. */
  prefix: string;
  /** The hub's Spawner.start_timeout: readiness waits no longer than this. */
  startTimeoutS: number | undefined;
}

/** The part of a start request that says where the server is reached. */
export type StartAddress = Pick<
  StartRequest,
  | 'port'
  | 'appPort'
  | 'publicOrigin'
  | 'ownOrigin'
  | 'launcherOrigin'
  | 'allowedOrigins'
  | 'prefix'
  | 'ports'
  | 'hub'
>;

/** The readiness timeout of a start: the app's (else spawn_timeout), never beyond the hub's start_timeout. */
export function readyTimeout(
  deps: Pick<LifecycleDeps, 'config'>,
  app: Pick<CatalogApp, 'ready'>,
  hub: HubStart | undefined,
): number | undefined {
  if (hub?.startTimeoutS === undefined) return app.ready.timeout;
  return Math.min(app.ready.timeout ?? deps.config.spawn_timeout, hub.startTimeoutS);
}

/**
 * Where a server the hub routes to lives (docs/api.md, "Spawner API"): its proxy on
 * loopback TCP `port`, where the hub's route points, and its app on `appPort`, both from
 * its row; the hub's prefix; the site's own origin (the hub's pages are there); no users'
 * ports, as the hub knows nothing of them.
 */
export function hubAddress(
  deps: Pick<LifecycleDeps, 'urls' | 'config'>,
  row: ServerRow,
  hub: HubBinding,
): StartAddress {
  if (row.hub_prefix === null || row.app_port === null || row.port === null)
    throw new HubappsError(
      'internal',
      `server ${row.id} was started for the hub without its ports`,
    );
  return {
    port: row.port,
    appPort: row.app_port,
    publicOrigin: deps.urls.publicOrigin,
    allowedOrigins: deps.config.extra_origins,
    prefix: row.hub_prefix,
    hub,
  };
}

/** The server was started by the hub (api/hub/): the hub routes it, and its spawner alone acts on it for the hub. */
export function hubStarted(row: { hub_user?: string | null }): boolean {
  // Loose on purpose: a row from before migration 014 (or a test's) has no such column at all.
  return row.hub_user != null;
}

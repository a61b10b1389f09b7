import type { Urls } from '../config/urls.js';
import type { EventRow } from '../model/event.js';
import type { ServerRow } from '../model/server.js';

/** The API's view of a server: no secret, no pids of other users' processes. */
export function presentServer(row: ServerRow, urls: Urls) {
  return {
    name: row.name,
    user: row.user,
    app: row.app,
    state: row.state,
    ready: row.state === 'running',
    pending:
      row.state === 'pending' || row.state === 'starting'
        ? 'spawn'
        : row.state === 'stopping'
          ? 'stop'
          : null,
    reason: row.reason,
    // A server the hub started lives at the hub's prefix (the hub routes it).
    url: row.hub_prefix ?? urls.serverLink(row.user, row.name),
    public_url:
      row.hub_prefix === null
        ? urls.publicServerUrl(row.user, row.name)
        : `${urls.publicOrigin}${row.hub_prefix}`,
    progress_url: `${urls.servicePrefix()}api/users/${row.user}/servers/${row.name}/progress`,
    started: row.started_at,
    ready_at: row.ready_at,
    stopped: row.stopped_at,
    last_activity: row.last_activity,
  };
}

/**
 * A hub-started server as HubappsSpawner sees it: its progress stream under api/hub/, and
 * `hub_target`, where the hub routes it, once it runs (the spawner's start returns it).
 */
export function presentHubServer(row: ServerRow, urls: Urls, hubUser: string) {
  return {
    ...presentServer(row, urls),
    progress_url: `${urls.servicePrefix()}api/hub/users/${encodeURIComponent(hubUser)}/servers/${row.name}/progress`,
    hub_target:
      row.state === 'running' && row.port !== null ? `http://127.0.0.1:${row.port}` : null,
  };
}

export function presentEvent(ev: EventRow) {
  return { id: ev.id, at: ev.at, kind: ev.kind, state: ev.state, message: ev.message };
}

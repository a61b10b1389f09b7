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
    url: urls.serverLink(row.user, row.name),
    public_url: urls.publicServerUrl(row.user, row.name),
    progress_url: `${urls.servicePrefix()}api/users/${row.user}/servers/${row.name}/progress`,
    started: row.started_at,
    ready_at: row.ready_at,
    stopped: row.stopped_at,
    last_activity: row.last_activity,
  };
}

export function presentEvent(ev: EventRow) {
  return { id: ev.id, at: ev.at, kind: ev.kind, state: ev.state, message: ev.message };
}

import type { ProcessHandle } from '../spawner/launcher.js';
import type { ServerRow } from '../store/servers.js';

/** The launcher's view of a server row. */
export function handleOf(row: ServerRow): ProcessHandle {
  return {
    serverId: row.id,
    user: row.user,
    port: row.port ?? 0,
    secret: row.secret ?? '',
    launcherPid: row.launcher_pid,
    proxyPid: row.proxy_pid,
  };
}

export function routeTarget(row: Pick<ServerRow, 'port'>): string {
  return `http://127.0.0.1:${row.port}`;
}

import type { Launcher, LaunchHandle, LauncherKind } from '../launchers/launcher.js';
import type { ServerFields, ServerRow } from '../store/servers.js';

/** The launcher's handle for a server row: the row's identity plus the state the launcher saved. */
export function handleOf(launcher: Launcher, row: ServerRow): LaunchHandle {
  const ref = {
    serverId: row.id,
    user: row.user,
    port: row.port ?? 0,
    secret: row.secret ?? '',
    kind: row.launcher as LauncherKind | null,
  };
  return launcher.load(ref, row.launcher_state);
}

/** The columns that keep a handle across service restarts. */
export function savedHandle(launcher: Launcher, handle: LaunchHandle): ServerFields {
  return { launcher: handle.kind, launcher_state: launcher.save(handle), launcher_pid: handle.pid };
}

/** The server's proxy listens on loopback TCP (a server from before proxies moved to unix sockets); a row not spawned yet has no saved state, and its proxy will be on a socket. */
export function proxyOnTcp(launcher: Launcher, row: ServerRow): boolean {
  return (
    row.launcher_state !== null &&
    launcher.routeTarget(handleOf(launcher, row))?.startsWith('http://') === true
  );
}

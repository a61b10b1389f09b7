import type { Launch, Launcher, LauncherKind } from '../launchers/launcher.js';
import type { ServerFields, ServerRow } from '../store/servers.js';

/** The launch of a server row, restored from the row's identity and the state its launcher saved. */
export function restoreLaunch(launcher: Launcher, row: ServerRow): Launch {
  const ref = {
    serverId: row.id,
    user: row.user,
    port: row.port ?? 0,
    secret: row.secret ?? '',
    kind: row.launcher as LauncherKind | null,
    ...(row.app_port ? { appPort: row.app_port } : {}),
  };
  return launcher.restore(ref, row.launcher_state);
}

/** The columns that keep a launch across service restarts. */
export function savedLaunch(launch: Launch): ServerFields {
  return { launcher: launch.kind, launcher_state: launch.save(), launcher_pid: launch.pid };
}

/** The server's proxy listens on loopback TCP (a server from before proxies moved to unix sockets); a row not spawned yet has no saved state, and its proxy will be on a socket. */
export function proxyOnTcp(launcher: Launcher, row: ServerRow): boolean {
  return (
    row.launcher_state !== null &&
    restoreLaunch(launcher, row).routeTarget()?.startsWith('http://') === true
  );
}

/**
 * The launches of this process, by server id: each one started here is kept until its
 * server has ended; any other server (started by an earlier service instance) is restored
 * from its row when asked for.
 */
export class Launches {
  private readonly live = new Map<number, Launch>();

  constructor(private readonly launcher: Launcher) {}

  /** A launch this process started, once its row records it. */
  add(launch: Launch): void {
    this.live.set(launch.serverId, launch);
  }

  /** The server has ended: its launch is no longer kept. */
  drop(serverId: number): void {
    this.live.delete(serverId);
  }

  /**
   * The launch of a row: the live one while its state is the one the row saved (the row
   * stays the truth: a later start of the same server, or a start that never got recorded,
   * gives way to it), else one restored from the row.
   */
  of(row: ServerRow): Launch {
    const live = this.live.get(row.id);
    if (live && live.save() === row.launcher_state) return live;
    return restoreLaunch(this.launcher, row);
  }

  /** How many launches are kept (for tests). */
  get size(): number {
    return this.live.size;
  }
}

import type { StartRequest } from '../protocol/wire.js';
import type { ExitInfo, Launch, Launcher, LauncherKind, ServerRef } from './launcher.js';

/**
 * Several launchers behind one: `pick` says which one starts an app (the Slurm launcher for
 * the apps listed in slurm.apps, the host's launcher for the rest); a server started earlier
 * is restored by the launcher that started it, named in its row. Its launch then needs no
 * routing: it is that launcher's.
 */
export class LauncherSet implements Launcher {
  readonly kind: LauncherKind;
  private readonly byKind = new Map<LauncherKind, Launcher>();

  constructor(
    private readonly host: Launcher,
    others: Launcher[],
    private readonly pick: (app: string) => LauncherKind,
  ) {
    this.kind = host.kind;
    for (const l of [host, ...others]) this.byKind.set(l.kind, l);
  }

  private of(kind: LauncherKind | null): Launcher {
    return (kind && this.byKind.get(kind)) || this.host;
  }

  start(spec: StartRequest, logFile: string): Promise<Launch> {
    return this.of(this.pick(spec.app)).start(spec, logFile);
  }

  restore(ref: ServerRef, saved: string | null): Launch {
    return this.of(ref.kind).restore(ref, saved);
  }

  onExit(listener: (serverId: number, info: ExitInfo) => void): void {
    for (const l of this.byKind.values()) l.onExit?.(listener);
  }
}

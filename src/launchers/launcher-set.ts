import type { HealthReport, StartRequest } from '../protocol/wire.js';
import type { ProxyTarget } from './proxy-client.js';
import type {
  Announcement,
  ExitInfo,
  Launcher,
  LaunchHandle,
  LauncherKind,
  ProbeResult,
  ServerRef,
  StopOptions,
} from './launcher.js';

/**
 * Several launchers behind one: `pick` says which one starts an app (the Slurm launcher for
 * the apps listed in slurm.apps, the host's launcher for the rest); every later call goes to
 * the launcher that started the server, named in its saved handle.
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

  start(spec: StartRequest, logFile: string): Promise<LaunchHandle> {
    return this.of(this.pick(spec.app)).start(spec, logFile);
  }

  load(ref: ServerRef, saved: string | null): LaunchHandle {
    return this.of(ref.kind).load(ref, saved);
  }

  save(h: LaunchHandle): string {
    return this.of(h.kind).save(h);
  }

  target(h: LaunchHandle): Promise<ProxyTarget | null> {
    return this.of(h.kind).target(h);
  }

  probe(h: LaunchHandle, since?: number): Promise<ProbeResult> {
    return this.of(h.kind).probe(h, since);
  }

  observe(h: LaunchHandle, report: HealthReport): boolean {
    return this.of(h.kind).observe(h, report);
  }

  announce(h: LaunchHandle, where: Announcement): Promise<void> {
    return this.of(h.kind).announce(h, where);
  }

  routeTarget(h: LaunchHandle): string | null {
    return this.of(h.kind).routeTarget(h);
  }

  exitOf(h: LaunchHandle): ExitInfo | undefined {
    return this.of(h.kind).exitOf(h);
  }

  stop(h: LaunchHandle, opts?: StopOptions): Promise<void> {
    return this.of(h.kind).stop(h, opts);
  }

  forceKill(h: LaunchHandle): Promise<void> {
    return this.of(h.kind).forceKill(h);
  }

  onExit(listener: (serverId: number, info: ExitInfo) => void): void {
    for (const l of this.byKind.values()) l.onExit(listener);
  }
}

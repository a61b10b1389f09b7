import type { HealthReport, StartRequest } from '../protocol/wire.js';
import type { ProxyTarget } from './proxy-client.js';
import type {
  Announcement,
  ExitInfo,
  Launcher,
  LaunchHandle,
  ProbeResult,
  ServerRef,
  StopOptions,
} from './launcher.js';

/**
 * A launcher around another that passes every call through: the host's additions
 * (cgroups, the port guard) override only the calls they add to.
 */
export abstract class DelegatingLauncher implements Launcher {
  readonly kind: Launcher['kind'];

  constructor(protected readonly inner: Launcher) {
    this.kind = inner.kind;
  }

  start(spec: StartRequest, logFile: string): Promise<LaunchHandle> {
    return this.inner.start(spec, logFile);
  }

  probe(h: LaunchHandle, since?: number): Promise<ProbeResult> {
    return this.inner.probe(h, since);
  }

  stop(h: LaunchHandle, opts?: StopOptions): Promise<void> {
    return this.inner.stop(h, opts);
  }

  forceKill(h: LaunchHandle): Promise<void> {
    return this.inner.forceKill(h);
  }

  onExit(listener: (serverId: number, info: ExitInfo) => void): void {
    this.inner.onExit(listener);
  }

  load(ref: ServerRef, saved: string | null): LaunchHandle {
    return this.inner.load(ref, saved);
  }

  save(h: LaunchHandle): string {
    return this.inner.save(h);
  }

  target(h: LaunchHandle): Promise<ProxyTarget | null> {
    return this.inner.target(h);
  }

  observe(h: LaunchHandle, report: HealthReport): boolean {
    return this.inner.observe(h, report);
  }

  announce(h: LaunchHandle, where: Announcement): Promise<void> {
    return this.inner.announce(h, where);
  }

  routeTarget(h: LaunchHandle): string | null {
    return this.inner.routeTarget(h);
  }

  exitOf(h: LaunchHandle): ExitInfo | undefined {
    return this.inner.exitOf(h);
  }
}

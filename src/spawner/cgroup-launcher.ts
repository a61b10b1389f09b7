import type { HealthReport, StartRequest } from '../protocol/wire.js';
import type { ProcessLauncher } from './process-launcher.js';
import type { ProxyTarget } from './proxy-client.js';
import type { Announcement, ExitInfo, Launcher, LaunchHandle, ProbeResult, ServerRef } from './launcher.js';
import type { HostLimits } from '../limits/host-limits.js';

/**
 * The host's launcher with per-server cgroups around it: each start gets its cgroup before
 * anything runs, and every way a server can end (its exit, a probe finding it gone, a stop,
 * the last-resort kill) reads the kernel's verdict and removes the cgroup. The launcher
 * itself learns only to run its command through `enter`.
 */
export class CgroupLauncher implements Launcher {
  readonly kind: ProcessLauncher['kind'];
  /** Servers being spawned now whose cgroup is ready. */
  private readonly placed = new Set<number>();
  private readonly inner: Launcher;

  constructor(
    host: ProcessLauncher,
    private readonly limits: HostLimits,
  ) {
    this.inner = host;
    this.kind = host.kind;
    host.wrapCommand = (id, cmd) => (this.placed.has(id) ? limits.enter(id, cmd) : cmd);
  }

  async start(spec: StartRequest, logFile: string): Promise<LaunchHandle> {
    const id = spec.server.id;
    if (this.limits.prepare(spec)) this.placed.add(id);
    try {
      return await this.inner.start(spec, logFile);
    } catch (err) {
      this.limits.tree.remove(id);
      throw err;
    } finally {
      this.placed.delete(id);
    }
  }

  async probe(h: LaunchHandle, since?: number): Promise<ProbeResult> {
    const p = await this.inner.probe(h, since);
    if (p.ended) return p;
    // A proxy answers for a moment after its app ended; a start being followed must learn why now.
    const reason = p.report?.state === 'exited' ? this.limits.killedReason(h.serverId) : p.alive ? null : this.limits.ended(h.serverId);
    return reason ? { ...p, ended: { code: 'out_of_memory', reason } } : p;
  }

  async stop(h: LaunchHandle, opts?: { graceMs?: number }): Promise<void> {
    await this.inner.stop(h, opts);
    this.limits.ended(h.serverId);
  }

  async forceKill(h: LaunchHandle): Promise<void> {
    await this.inner.forceKill(h);
    this.limits.ended(h.serverId);
  }

  onExit(listener: (serverId: number, info: ExitInfo) => void): void {
    this.inner.onExit((id, info) => {
      const reason = this.limits.ended(id);
      listener(id, reason ? { ...info, reason } : info);
    });
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
